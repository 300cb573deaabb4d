/**
 * The index's internal records: an indexed indicator (`Entry`), the targets a table key points
 * at (a whole indicator, or one observation expression of a sequence indicator), the tables,
 * and the cheap checks run before the pattern evaluator.
 */
import type { Observation, PatternAst, PathStep } from '../../stix/pattern/index.js';
import { evaluatePattern } from '../../stix/pattern/index.js';
import type { Key, Leaf, Needle, PatternClass, Primitive } from './compile.js';
import type { Block, PrefixTrie } from './ip.js';
import { blockWithin, parseBlock } from './ip.js';
import type { Probe } from './probe.js';
import type { WordTable } from './words.js';
import { resolvePath as resolveValues } from '../../stix/pattern/index.js';

export interface Entry {
  readonly id: string;
  readonly cls: PatternClass;
  readonly visible: (orgId: string) => boolean;
  readonly from: number;
  readonly until: number;
  /** Needed for keyed / scan / sequence evaluation; dropped for pure patterns to save memory. */
  readonly ast: PatternAst | null;
  readonly leaves: readonly Leaf[];
  /** Sequence leaves without keys, checked per event by object type. */
  readonly keyless: readonly number[];
  readonly feasible: (mask: number) => boolean;
  readonly types: readonly string[];
  readonly needle: Needle | null;
  /** See compile.ts Compiled.conjunction, with the probe of each comparison's path. */
  readonly conjunction: readonly { readonly probe: Probe; readonly keys: readonly Key[] }[] | null;
  /** Keys, flat: table, value, target, table, value, target… (one array per entry, for memory). */
  readonly refs: readonly (Table | WordTable<Posting> | Primitive | Block | Target)[];
  stamp: number;
}

/**
 * A pure indicator with one key (nearly every feed IOC): the fields matching reads and its one
 * key, without the evaluator fields and the `refs` array of `Entry` (about 130 bytes less per
 * indicator; a million-indicator index is mostly these).
 */
export interface LightEntry {
  readonly id: string;
  readonly cls: 'pure';
  readonly visible: (orgId: string) => boolean;
  readonly from: number;
  readonly until: number;
  /** The key: its table (a word table for dotted quads) and its value or block. */
  readonly table: Table | WordTable<Posting>;
  readonly key: Primitive | Block;
  stamp: number;
}

/** What the index holds per indicator. */
export type Indexed = Entry | LightEntry;

export const isLight = (e: Indexed): e is LightEntry => (e as Partial<Entry>).refs === undefined;

/** A table key of a sequence indicator's observation expression (leaf `leaf` of `entry`). */
export class LeafRef {
  constructor(readonly entry: Entry, readonly leaf: number) {}
}

export type Target = Indexed | LeafRef;
export type Posting = Target | Target[];

export interface ExactTable {
  readonly kind: 'exact';
  readonly steps: readonly PathStep[];
  readonly probe: Probe | null;
  /** The single property of one-step paths (`value`), for a direct read. */
  readonly direct: string | null;
  readonly label: string;
  readonly map: Map<Primitive, Posting>;
  /** Keys that are dotted quads, by their 32-bit word (as `word | 0`); never also in `map`. */
  readonly words: WordTable<Posting>;
}

export interface CidrTable {
  readonly kind: 'cidr';
  readonly steps: readonly PathStep[];
  readonly probe: Probe | null;
  readonly direct: string | null;
  readonly label: string;
  readonly v4: PrefixTrie<Target>;
  readonly v6: PrefixTrie<Target>;
}

export type Table = ExactTable | CidrTable;

/** What postings are kept in: a Map of primitives, or a WordTable of dotted quads. */
interface PostingMap<K> {
  get(k: K): Posting | undefined;
  set(k: K, p: Posting): unknown;
  delete(k: K): unknown;
}

/** Does an observed value satisfy a compiled key: equal to it, or an address / block inside its CIDR block? */
export function keyHolds(k: Key, v: unknown): boolean {
  if (k.kind === 'exact') return v === k.value;
  if (typeof v !== 'string') return false;
  const b = parseBlock(v);
  return b !== null && blockWithin(b, k.block);
}

export function postingAdd<K>(map: PostingMap<K>, k: K, e: Target): void {
  const p = map.get(k);
  if (p === undefined) map.set(k, e);
  else if (Array.isArray(p)) { if (!p.includes(e)) p.push(e); }
  else if (p !== e) map.set(k, [p, e]);
}

export function postingRemove<K>(map: PostingMap<K>, k: K, e: Target): void {
  const p = map.get(k);
  if (p === e) map.delete(k);
  else if (Array.isArray(p)) {
    const i = p.indexOf(e);
    if (i >= 0) p.splice(i, 1);
    if (p.length === 1 && p[0] !== undefined) map.set(k, p[0]);
    else if (p.length === 0) map.delete(k);
  }
}

/** True when some value at a key's path equals the key's value or lies in its block. */
function keyHit(keys: readonly Key[], obs: Observation): boolean {
  const objects = obs.objects;
  for (const k of keys) {
    for (const name in objects) {
      const sco = objects[name];
      if (sco === undefined || sco.type !== k.objectType) continue;
      for (const v of resolveValues(sco, k.steps, objects)) if (keyHolds(k, v)) return true;
    }
  }
  return false;
}

/** Whether `obs` matches one observation expression of a sequence pattern (see compile.ts Leaf). */
export function takesPart(leaf: Leaf, obs: Observation): boolean {
  if (leaf.keys !== null && !keyHit(leaf.keys, obs)) return false;
  return (leaf.keys !== null && leaf.pure) || evaluatePattern(leaf.ast, [obs]) !== null;
}

/** The string values at a needle's path in an observation. */
export function needleValues(n: Needle, obs: Observation): string[] {
  const out: string[] = [];
  const objects = obs.objects;
  for (const key in objects) {
    const sco = objects[key];
    if (sco === undefined || sco.type !== n.objectType) continue;
    for (const v of resolveValues(sco, n.steps, objects)) if (typeof v === 'string') out.push(v);
  }
  return out;
}
