/**
 * The indicator index: STIX indicators compiled into hash tables (exact comparisons), binary
 * tries (ISSUBSET), and evaluator fallbacks (see compile.ts), matched against normalised events.
 *
 * - Every matching indicator is reported, not only the most specific (Zeek intel semantics: an
 *   address hits its /32 and every covering subnet).
 * - Visibility: each indicator carries the organisations it is released to (a set, or a
 *   predicate); `match` only returns indicators released to the event's `organization.id`.
 * - Validity: an indicator matches an event whose time t has valid_from ≤ t < valid_until
 *   (STIX 2.1 §4.5 Indicator); revoked indicators are refused.
 * - Incremental: add / remove / replace touch only the indicator's own keys.
 * - Sequences (patterns over several observations) are evaluated when an event takes part in
 *   them, over that organisation's window; a reported match consumes its observations for that
 *   indicator (reported once, not again on every later event).
 */
import { parseTimestampMicros } from '../../core/time.js';
import type { Observation, PatternAst, PathStep } from '../../stix/pattern/index.js';
import { evaluatePattern, parsePattern, printObjectPath } from '../../stix/pattern/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import type { Compiled, Key, Leaf, Needle, PatternClass, Primitive } from './compile.js';
import { compilePattern, compileSimple, stepsKey } from './compile.js';
import type { Block } from './ip.js';
import { blockWithin, parseBlock, PrefixTrie } from './ip.js';
import { observationOf } from './observe.js';
import type { Probe } from './probe.js';
import { PROBES, typesOf } from './probe.js';
import { eventTimeMs } from '../normalise/index.js';
import { resolveValues } from './resolve.js';
import type { WindowOptions } from './window.js';
import { OrgWindows } from './window.js';

/** The indicator fields the index reads (STIX 2.1 §4.5). */
export interface IndicatorInput {
  readonly id: string;
  readonly pattern: string;
  readonly pattern_type: string;
  readonly valid_from: string;
  readonly valid_until?: string;
  readonly revoked?: boolean;
}

/** Organisations an indicator is released to: a set/list of organisation ids, or a predicate. */
export type Release = ReadonlySet<string> | readonly string[] | ((orgId: string) => boolean);

export type AddResult = { readonly ok: true; readonly cls: PatternClass } | { readonly ok: false; readonly reason: string };

export interface IndicatorMatch {
  readonly indicatorId: string;
  /** exact: hash-table hit; cidr: trie hit; pattern: evaluated on this event; sequence: over the window. */
  readonly via: 'exact' | 'cidr' | 'pattern' | 'sequence';
  /** For exact / cidr hits: the object path and the observed value that hit. */
  readonly path?: string;
  readonly value?: unknown;
}

export interface IndexStats {
  readonly indicators: number;
  readonly byClass: Readonly<Record<PatternClass, number>>;
  readonly exact: { readonly tables: number; readonly keys: number };
  readonly cidr: { readonly tables: number; readonly blocks: number; readonly trieNodes: number };
  readonly window: { readonly organisations: number; readonly observations: number };
}

export interface IndexOptions {
  readonly window?: WindowOptions;
}

/** A windowed observation with the sequence indicators one of whose observation expressions it matched. */
interface WindowItem {
  readonly time: number;
  readonly obs: Observation;
  /** Mutable: a reported match consumes the observation for that pattern. */
  readonly hits: Set<Entry>;
}

interface Entry {
  readonly id: string;
  readonly cls: PatternClass;
  readonly visible: (orgId: string) => boolean;
  readonly from: number;
  readonly until: number;
  /** Needed for keyed / scan / sequence evaluation; dropped for pure patterns to save memory. */
  readonly ast: PatternAst | null;
  readonly leaves: readonly Leaf[];
  readonly types: readonly string[];
  readonly needle: Needle | null;
  /** The entry's keys, flat: table, value, table, value… (one array per entry, for memory). */
  readonly refs: readonly (ExactTable | CidrTable | Primitive | Block)[];
  stamp: number;
}

type Posting = Entry | Entry[];

interface Matching {
  readonly admit: (e: Entry) => boolean;
  readonly hit: (e: Entry, via: 'exact' | 'cidr', path: string, value: unknown) => void;
  readonly out: IndicatorMatch[];
}

interface ExactTable {
  readonly kind: 'exact';
  readonly steps: readonly PathStep[];
  readonly probe: Probe | null;
  /** The single property of one-step paths (`value`), for a direct read. */
  readonly direct: string | null;
  readonly label: string;
  readonly map: Map<Primitive, Posting>;
}

interface CidrTable {
  readonly kind: 'cidr';
  readonly steps: readonly PathStep[];
  readonly probe: Probe | null;
  readonly direct: string | null;
  readonly label: string;
  readonly v4: PrefixTrie<Entry>;
  readonly v6: PrefixTrie<Entry>;
}

let lastTs = '';
let lastMs: number | null = null;

/**
 * A STIX timestamp as the smallest whole millisecond at or after it: event times are whole
 * milliseconds, so `t ≥ ceil(from)` ⇔ `t ≥ from` and `t < ceil(until)` ⇔ `t < until`.
 * Feeds repeat the same valid_from across many indicators; the last one is remembered.
 */
function toMs(ts: string | undefined, fallback: number): number | null {
  if (ts === undefined) return fallback;
  if (ts !== lastTs) {
    const us = parseTimestampMicros(ts);
    lastTs = ts;
    lastMs = us === null ? null : Math.ceil(us / 1000);
  }
  return lastMs;
}

function postingAdd(map: Map<Primitive, Posting>, k: Primitive, e: Entry): void {
  const p = map.get(k);
  if (p === undefined) map.set(k, e);
  else if (Array.isArray(p)) { if (!p.includes(e)) p.push(e); }
  else if (p !== e) map.set(k, [p, e]);
}

function postingRemove(map: Map<Primitive, Posting>, k: Primitive, e: Entry): void {
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
      for (const v of resolveValues(sco, k.steps, objects)) {
        if (k.kind === 'exact') {
          if (v === k.value) return true;
        } else if (typeof v === 'string') {
          const b = parseBlock(v);
          if (b !== null && blockWithin(b, k.block)) return true;
        }
      }
    }
  }
  return false;
}

/** Whether `obs` matches one observation expression of a sequence pattern (see compile.ts Leaf). */
function takesPart(leaf: Leaf, obs: Observation): boolean {
  if (leaf.keys !== null && !keyHit(leaf.keys, obs)) return false;
  return (leaf.keys !== null && leaf.pure) || evaluatePattern(leaf.ast, [obs]) !== null;
}

/** True when some value at the needle's path contains its text (see compile.ts). */
function hasNeedle(n: Needle, obs: Observation): boolean {
  const objects = obs.objects;
  for (const key in objects) {
    const sco = objects[key];
    if (sco === undefined || sco.type !== n.objectType) continue;
    for (const v of resolveValues(sco, n.steps, objects)) if (typeof v === 'string' && v.includes(n.text)) return true;
  }
  return false;
}

export class IndicatorIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly exact = new Map<string, ExactTable[]>();
  private readonly cidr = new Map<string, CidrTable[]>();
  private readonly tables = new Map<string, ExactTable | CidrTable>();
  private readonly scan = new Map<string, Entry[]>();
  private readonly sequence = new Map<string, Entry[]>();
  private readonly audiences = new Map<string, (orgId: string) => boolean>();
  /** The same release object (set or list) passed again skips the sort-and-join. */
  private readonly audienceOf = new WeakMap<object, (orgId: string) => boolean>();
  /** Tables by path-steps identity: the parser-free path shares its steps arrays. */
  private readonly tableOf = new WeakMap<readonly PathStep[], Map<string, ExactTable | CidrTable>>();
  private readonly windows: OrgWindows<WindowItem>;
  private readonly counts: Record<PatternClass, number> = { pure: 0, keyed: 0, scan: 0, sequence: 0 };
  private exactKeys = 0;
  private stamp = 0;
  /** Tables whose values have no direct probe (probe.ts): events then go through observationOf. */
  private unprobed = 0;

  constructor(options: IndexOptions = {}) {
    this.windows = new OrgWindows(options.window);
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Identical audiences share one set (a million indicators usually have a handful of audiences). */
  private visibility(r: Release): (orgId: string) => boolean {
    if (typeof r === 'function') return r;
    const known = this.audienceOf.get(r);
    if (known !== undefined) return known;
    const f = this.audience(r);
    this.audienceOf.set(r, f);
    return f;
  }

  private audience(r: ReadonlySet<string> | readonly string[]): (orgId: string) => boolean {
    const list = [...(r as Iterable<string>)].sort();
    const key = list.join('\u0000');
    let f = this.audiences.get(key);
    if (f === undefined) {
      const set = new Set(list);
      f = (org) => set.has(org);
      this.audiences.set(key, f);
    }
    return f;
  }

  private table<T extends ExactTable | CidrTable>(kind: T['kind'], objectType: string, steps: readonly PathStep[]): T {
    let byType = this.tableOf.get(steps);
    const hit = byType?.get(kind === 'exact' ? objectType : `\u0001${objectType}`);
    if (hit !== undefined) return hit as T;
    const t = this.tableFor<T>(kind, objectType, steps);
    if (byType === undefined) { byType = new Map(); this.tableOf.set(steps, byType); }
    byType.set(kind === 'exact' ? objectType : `\u0001${objectType}`, t);
    return t;
  }

  private tableFor<T extends ExactTable | CidrTable>(kind: T['kind'], objectType: string, steps: readonly PathStep[]): T {
    const key = `${kind}|${stepsKey(objectType, steps)}`;
    let t = this.tables.get(key);
    if (t === undefined) {
      const direct = steps.length === 1 && typeof steps[0] === 'string' && steps[0] !== '*' ? steps[0] : null;
      const label = printObjectPath({ objectType, steps });
      const probe = PROBES.get(stepsKey(objectType, steps)) ?? null;
      if (probe === null) this.unprobed++;
      t = kind === 'exact'
        ? { kind, steps, probe, direct, label, map: new Map() }
        : { kind, steps, probe, direct, label, v4: new PrefixTrie<Entry>(), v6: new PrefixTrie<Entry>() };
      this.tables.set(key, t);
      const byType = kind === 'exact' ? this.exact : this.cidr;
      const list = (byType.get(objectType) ?? []) as (ExactTable | CidrTable)[];
      list.push(t);
      byType.set(objectType, list as never);
    }
    return t as T;
  }

  /** Adds an indicator; refuses duplicates (use `replace`), revoked ones, and non-STIX or invalid patterns. */
  add(indicator: IndicatorInput, releasedTo: Release): AddResult {
    if (this.entries.has(indicator.id)) return { ok: false, reason: `indicator ${indicator.id} is already indexed (use replace)` };
    if (indicator.revoked === true) return { ok: false, reason: 'revoked' };
    if (indicator.pattern_type !== 'stix') return { ok: false, reason: `pattern_type "${indicator.pattern_type}" is not stix` };
    const from = toMs(indicator.valid_from, -Infinity);
    const until = toMs(indicator.valid_until, Infinity);
    if (from === null || until === null) return { ok: false, reason: 'valid_from / valid_until is not a STIX timestamp' };
    if (until <= from) return { ok: false, reason: 'valid_until is not after valid_from' };
    // Nearly every feed indicator is `[type:value = '…']`: compiled without the parser.
    let c: Compiled | null = compileSimple(indicator.pattern);
    let ast: PatternAst | null = null;
    if (c === null) {
      const parsed = parsePattern(indicator.pattern);
      if (!parsed.ok) return { ok: false, reason: `pattern: ${parsed.error.message}` };
      c = compilePattern(parsed.ast);
      ast = c.cls === 'pure' ? null : parsed.ast;
    }
    const refs: (ExactTable | CidrTable | Primitive | Block)[] = [];
    for (const k of c.keys) {
      if (k.kind === 'exact') refs.push(this.table<ExactTable>('exact', k.objectType, k.steps), k.value);
      else refs.push(this.table<CidrTable>('cidr', k.objectType, k.steps), k.block);
    }
    const entry: Entry = {
      id: indicator.id, cls: c.cls, visible: this.visibility(releasedTo), from, until,
      ast, leaves: c.leaves, types: c.types, needle: c.needle, refs, stamp: 0,
    };
    this.link(entry);
    this.entries.set(entry.id, entry);
    this.counts[c.cls]++;
    return { ok: true, cls: c.cls };
  }

  private link(e: Entry): void {
    if (e.cls === 'scan' || e.cls === 'sequence') {
      const byType = e.cls === 'scan' ? this.scan : this.sequence;
      for (const t of e.types) {
        const list = byType.get(t);
        if (list === undefined) byType.set(t, [e]);
        else list.push(e);
      }
      return;
    }
    for (let i = 0; i < e.refs.length; i += 2) {
      const t = e.refs[i] as ExactTable | CidrTable;
      const k = e.refs[i + 1];
      if (t.kind === 'exact') {
        const before = t.map.size;
        postingAdd(t.map, k as Primitive, e);
        this.exactKeys += t.map.size - before;
      } else {
        const b = k as Block;
        (b.version === 4 ? t.v4 : t.v6).insert(b, e);
      }
    }
  }

  /** Removes an indicator; false when it was not indexed. */
  remove(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined) return false;
    this.entries.delete(id);
    this.counts[e.cls]--;
    if (e.cls === 'scan' || e.cls === 'sequence') {
      const byType = e.cls === 'scan' ? this.scan : this.sequence;
      for (const t of e.types) {
        const list = byType.get(t);
        if (list === undefined) continue;
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) byType.delete(t);
      }
      return true;
    }
    for (let i = 0; i < e.refs.length; i += 2) {
      const t = e.refs[i] as ExactTable | CidrTable;
      const k = e.refs[i + 1];
      if (t.kind === 'exact') {
        const before = t.map.size;
        postingRemove(t.map, k as Primitive, e);
        this.exactKeys += t.map.size - before;
      } else {
        const b = k as Block;
        (b.version === 4 ? t.v4 : t.v6).delete(b, e);
      }
    }
    return true;
  }

  /**
   * Replaces the indexed version of an indicator (a new STIX version, or a new audience). The
   * old version is removed first; when the new one is refused (revoked, expired pattern...) the
   * indicator is no longer indexed, which is what a revocation must do.
   */
  replace(indicator: IndicatorInput, releasedTo: Release): AddResult {
    this.remove(indicator.id);
    return this.add(indicator, releasedTo);
  }

  /** Indicators released to the event's organisation that match it. */
  match(event: NormalisedEvent): IndicatorMatch[] {
    const orgId = event['organization.id'];
    if (this.unprobed > 0) return this.matchObservation(observationOf(event), orgId);
    // Fast path: table values are read from the event's fields; the observation is built only
    // when a keyed, scan or sequence pattern needs evaluating.
    let obs: Observation | undefined;
    const observation = (): Observation => (obs ??= observationOf(event));
    const m = this.matching(eventTimeMs(event), orgId, observation);
    const values: unknown[] = [];
    for (const list of this.exact.values()) {
      for (const table of list) {
        if (table.map.size === 0 || table.probe === null) continue;
        values.length = 0;
        table.probe(event, values);
        for (const v of values) this.probeExact(table, v as Primitive, m);
      }
    }
    for (const list of this.cidr.values()) {
      for (const table of list) {
        if (table.probe === null) continue;
        values.length = 0;
        table.probe(event, values);
        for (const v of values) this.probeCidr(table, v, m);
      }
    }
    if (this.scan.size > 0 || this.sequence.size > 0) {
      const types = typesOf(event);
      let needed = false;
      for (const t of types) if (this.scan.has(t) || this.sequence.has(t)) { needed = true; break; }
      if (needed) this.evaluateRest(observation(), orgId, types, m);
    }
    return m.out;
  }

  /** As `match`, for an observation already built (see `observationOf`). */
  matchObservation(obs: Observation, orgId: string): IndicatorMatch[] {
    const m = this.matching(obs.time, orgId, () => obs);
    const objects = obs.objects;
    let types: Set<string> | undefined;
    for (const key in objects) {
      const sco = objects[key];
      if (sco === undefined) continue;
      (types ??= new Set()).add(sco.type);
      const ex = this.exact.get(sco.type);
      if (ex !== undefined) {
        for (const table of ex) {
          if (table.map.size === 0) continue;
          const values = table.direct !== null ? [sco[table.direct]] : resolveValues(sco, table.steps, objects);
          for (const v of values) this.probeExact(table, v as Primitive, m);
        }
      }
      const ci = this.cidr.get(sco.type);
      if (ci !== undefined) {
        for (const table of ci) {
          const values = table.direct !== null ? [sco[table.direct]] : resolveValues(sco, table.steps, objects);
          for (const v of values) this.probeCidr(table, v, m);
        }
      }
    }
    if (types !== undefined && (this.scan.size > 0 || this.sequence.size > 0)) this.evaluateRest(obs, orgId, types, m);
    return m.out;
  }

  /** Per-call state: a fresh stamp (each indicator is considered once per event) and the output. */
  private matching(time: number, orgId: string, observation: () => Observation): Matching {
    const stamp = ++this.stamp;
    const out: IndicatorMatch[] = [];
    const admit = (e: Entry): boolean => {
      if (e.stamp === stamp) return false;
      e.stamp = stamp;
      return time >= e.from && time < e.until && e.visible(orgId);
    };
    const hit = (e: Entry, via: 'exact' | 'cidr', path: string, value: unknown): void => {
      if (!admit(e)) return;
      if (e.cls === 'keyed' && (e.ast === null || evaluatePattern(e.ast, [observation()]) === null)) return;
      out.push({ indicatorId: e.id, via: e.cls === 'keyed' ? 'pattern' : via, path, value });
    };
    return { admit, hit, out };
  }

  private probeExact(table: ExactTable, v: Primitive, m: Matching): void {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return;
    const p = table.map.get(v);
    if (p === undefined) return;
    if (Array.isArray(p)) for (const e of p) m.hit(e, 'exact', table.label, v);
    else m.hit(p, 'exact', table.label, v);
  }

  private probeCidr(table: CidrTable, v: unknown, m: Matching): void {
    const b = typeof v === 'string' ? parseBlock(v) : null;
    if (b === null) return;
    (b.version === 4 ? table.v4 : table.v6).covering(b, (items) => {
      for (const e of items) m.hit(e, 'cidr', table.label, v);
    });
  }

  private evaluateRest(
    obs: Observation,
    orgId: string,
    types: ReadonlySet<string>,
    sink: Matching,
  ): void {
    for (const type of types) {
      const list = this.scan.get(type);
      if (list === undefined) continue;
      for (const e of list) {
        if (e.needle !== null && !hasNeedle(e.needle, obs)) continue;
        if (sink.admit(e) && e.ast !== null && evaluatePattern(e.ast, [obs]) !== null) sink.out.push({ indicatorId: e.id, via: 'pattern' });
      }
    }
    if (this.sequence.size === 0) return;
    // Each observation notes, once, which sequence patterns it takes part in (matches one of
    // their observation expressions). A pattern is then evaluated over just those observations
    // of the window: the others cannot be part of a match, so the answer is the same as over the
    // whole window, at a fraction of the cost.
    const hits = new Set<Entry>();
    for (const type of types) {
      const list = this.sequence.get(type);
      if (list === undefined) continue;
      for (const e of list) {
        if (!hits.has(e) && e.leaves.some((leaf) => takesPart(leaf, obs))) hits.add(e);
      }
    }
    // Observations that take part in no sequence pattern are not kept: they could not be part of
    // a match, and the window's bound then counts only observations that matter.
    if (hits.size === 0) return;
    const window = this.windows.push(orgId, { time: obs.time, obs, hits });
    // Only an event that takes part in a pattern re-evaluates it, so a completed sequence is
    // reported when a piece of it arrives, not on every unrelated event after it.
    for (const e of hits) {
      if (!sink.admit(e) || e.ast === null) continue;
      const mine: Observation[] = [];
      for (const w of window) if (w.hits.has(e)) mine.push(w.obs);
      if (evaluatePattern(e.ast, mine) !== null) {
        sink.out.push({ indicatorId: e.id, via: 'sequence' });
        // Consume: the observations in the window no longer count for this pattern, so one
        // completed sequence is reported once, and the next report needs new observations.
        for (const w of window) w.hits.delete(e);
      }
    }
  }

  stats(): IndexStats {
    let cidrTables = 0;
    let blocks = 0;
    let nodes = 0;
    let exactTables = 0;
    for (const t of this.tables.values()) {
      if (t.kind === 'exact') exactTables++;
      else { cidrTables++; blocks += t.v4.blocks + t.v6.blocks; nodes += t.v4.nodes + t.v6.nodes; }
    }
    return {
      indicators: this.entries.size,
      byClass: { ...this.counts },
      exact: { tables: exactTables, keys: this.exactKeys },
      cidr: { tables: cidrTables, blocks, trieNodes: nodes },
      window: this.windows.stats(),
    };
  }
}
