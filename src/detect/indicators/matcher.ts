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
import { eventTimeMs } from '../normalise/index.js';
import type { Compiled, Key, Needle, PatternClass, Primitive } from './compile.js';
import type { Probe } from './probe.js';
import { compilePattern, compileSimple, stepsKey } from './compile.js';
import type { CidrTable, Entry, ExactTable, Indexed, LightEntry, Posting, Table, Target } from './entry.js';
import { isLight, LeafRef, needleValues, postingAdd, postingRemove, takesPart } from './entry.js';
import type { Block } from './ip.js';
import { parseBlock, PrefixTrie } from './ip.js';
import { ipv4Value } from '../../stix/pattern/cidr.js';
import { observationOf } from './observe.js';
import { PROBES, typesOf } from './probe.js';
import { resolvePath as resolveValues } from '../../stix/pattern/index.js';
import { Matching } from './matching.js';
import type { AddResult, IndexOptions, IndexStats, IndicatorInput, IndicatorMatch, Release } from './types.js';
import { OrgWindows } from './window.js';
import { WordTable } from './words.js';
import { traceRule } from '../trace.js';

/**
 * A windowed observation with the sequence indicators it takes part in, each with the mask of
 * the observation expressions (leaves) it matched.
 */
interface WindowItem {
  readonly time: number;
  readonly obs: Observation;
  /** Mutable: a reported match consumes the observation for that pattern. */
  readonly hits: Map<Entry, number>;
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

const NO_LEAVES: readonly number[] = Object.freeze([]);

/** A conjunction whose every path has a probe, with the probes; null otherwise. */
function probed(conj: Compiled['conjunction']): Entry['conjunction'] {
  if (conj === null) return null;
  const out: { probe: Probe; keys: readonly Key[] }[] = [];
  for (const keys of conj) {
    const k = keys[0];
    const probe = k === undefined ? undefined : PROBES.get(stepsKey(k.objectType, k.steps));
    if (probe === undefined) return null;
    out.push({ probe, keys });
  }
  return out;
}

export class IndicatorIndex {
  private readonly entries = new Map<string, Indexed>();
  private readonly exact = new Map<string, ExactTable[]>();
  private readonly cidr = new Map<string, CidrTable[]>();
  private readonly tables = new Map<string, Table>();
  /** The same tables as flat arrays, for the per-event loop (no Map iterators). */
  private readonly exactList: ExactTable[] = [];
  private readonly cidrList: CidrTable[] = [];
  /** Scan indicators by the object types they compare. */
  private readonly scan = new Map<string, Entry[]>();
  /** Sequence indicators with keyless leaves, by object type (keyed leaves sit in the tables). */
  private readonly sequence = new Map<string, Entry[]>();
  /**
   * LIKE needles per object path, with one regular expression of all of them (rebuilt lazily
   * after a change): one test per path and event rules out every needle on it at once.
   */
  private readonly needles = new Map<string, { texts: Map<string, number>; re: RegExp | null }>();
  private readonly audiences = new Map<string, (orgId: string) => boolean>();
  /** The same release object (set or list) passed again skips the sort-and-join. */
  private readonly audienceOf = new WeakMap<object, (orgId: string) => boolean>();
  /** Tables by path-steps identity: the parser-free path shares its steps arrays. */
  private readonly tableOf = new WeakMap<readonly PathStep[], Map<string, Table>>();
  private readonly windows: OrgWindows<WindowItem>;
  private readonly counts: Record<PatternClass, number> = { pure: 0, keyed: 0, scan: 0, sequence: 0 };
  private exactKeys = 0;
  private stamp = 0;
  /** Tables whose values have no direct probe (probe.ts): events then go through observationOf. */
  private unprobed = 0;
  /** Scratch for the IPv4 trie walk: the posting lists of the covering blocks, first n used. */
  private readonly lists: (readonly Target[])[] = [];
  private readonly readProbes: Probe[] = [];
  private readonly readValues: unknown[][] = [];
  /**
   * Dotted quads already turned into words during this match (the exact pass reads the same
   * addresses as the CIDR pass): [0, ipMemoN) of the scratch pairs.
   */
  private readonly ipMemoStr: string[] = [];
  private readonly ipMemoWord: (number | null)[] = [];
  private ipMemoN = 0;

  constructor(options: IndexOptions = {}) {
    this.windows = new OrgWindows(options.window);
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  private visibility(r: Release): (orgId: string) => boolean {
    if (typeof r === 'function') return r;
    const known = this.audienceOf.get(r);
    if (known !== undefined) return known;
    // Identical audiences share one set (a million indicators usually have a handful of audiences).
    const list = [...(r as Iterable<string>)].sort();
    const key = list.join('\u0000');
    let f = this.audiences.get(key);
    if (f === undefined) {
      const set = new Set(list);
      f = (org) => set.has(org);
      this.audiences.set(key, f);
    }
    this.audienceOf.set(r, f);
    return f;
  }

  private table<T extends Table>(kind: T['kind'], objectType: string, steps: readonly PathStep[]): T {
    const tag = kind === 'exact' ? objectType : `\u0001${objectType}`;
    let byType = this.tableOf.get(steps);
    const hit = byType?.get(tag);
    if (hit !== undefined) return hit as T;
    const key = `${kind}|${stepsKey(objectType, steps)}`;
    let t = this.tables.get(key);
    if (t === undefined) {
      const direct = steps.length === 1 && typeof steps[0] === 'string' && steps[0] !== '*' ? steps[0] : null;
      const label = printObjectPath({ objectType, steps });
      const probe = PROBES.get(stepsKey(objectType, steps)) ?? null;
      if (probe === null) this.unprobed++;
      t = kind === 'exact'
        ? { kind, steps, probe, direct, label, map: new Map(), words: new WordTable() }
        : { kind, steps, probe, direct, label, v4: new PrefixTrie<Target>(), v6: new PrefixTrie<Target>() };
      this.tables.set(key, t);
      if (t.kind === 'exact') this.exactList.push(t);
      else this.cidrList.push(t);
      if (t.kind === 'exact') {
        const list = this.exact.get(objectType);
        if (list === undefined) this.exact.set(objectType, [t]);
        else list.push(t);
      } else {
        const list = this.cidr.get(objectType);
        if (list === undefined) this.cidr.set(objectType, [t]);
        else list.push(t);
      }
    }
    if (byType === undefined) { byType = new Map(); this.tableOf.set(steps, byType); }
    byType.set(tag, t);
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
      ast = c.cls === 'pure' ? null : c.ast;
    }
    const visible = this.visibility(releasedTo);
    const only = c.cls === 'pure' && c.keys.length === 1 ? c.keys[0] : undefined;
    if (only !== undefined) {
      // One key, and a hit is a match: the light entry (see LightEntry).
      const [table, key] = this.keyRef(only);
      const light: LightEntry = { id: indicator.id, cls: 'pure', visible, from, until, table, key, stamp: 0 };
      this.keyLink(table, key, light, true);
      this.entries.set(light.id, light);
      this.counts.pure++;
      return { ok: true, cls: 'pure' };
    }
    const refs: (Table | WordTable<Posting> | Primitive | Block | Target)[] = [];
    const keyless: number[] = [];
    const entry: Entry = {
      id: indicator.id, cls: c.cls, visible, from, until,
      ast, leaves: c.leaves, keyless: NO_LEAVES, feasible: c.feasible, types: c.types, needle: c.needle,
      conjunction: probed(c.conjunction),
      refs, stamp: 0,
    };
    const keys = (target: Target, list: Compiled['keys']): void => {
      for (const k of list) refs.push(...this.keyRef(k), target);
    };
    if (c.cls === 'sequence') {
      // Each observation expression with keys is found through the tables; the others are
      // checked on every event that has one of the pattern's object types.
      c.leaves.forEach((leaf, i) => {
        if (leaf.keys === null) keyless.push(i);
        else keys(new LeafRef(entry, i), leaf.keys);
      });
      if (keyless.length > 0) (entry as { keyless: readonly number[] }).keyless = keyless;
    } else keys(entry, c.keys);
    this.link(entry);
    this.entries.set(entry.id, entry);
    this.counts[c.cls]++;
    return { ok: true, cls: c.cls };
  }

  /** Where a key is kept: its table (the word table for a dotted quad) and its value there. */
  private keyRef(k: Key): [Table | WordTable<Posting>, Primitive | Block] {
    if (k.kind === 'cidr') return [this.table<CidrTable>('cidr', k.objectType, k.steps), k.block];
    const t = this.table<ExactTable>('exact', k.objectType, k.steps);
    const word = typeof k.value === 'string' ? ipv4Value(k.value) : null;
    return word === null ? [t, k.value] : [t.words, word | 0];
  }

  /** Adds (or removes) one key's posting of `target`. */
  private keyLink(t: Table | WordTable<Posting>, k: Primitive | Block, target: Target, add: boolean): void {
    if (t.kind === 'words') {
      const before = t.size;
      if (add) postingAdd(t, k as number, target);
      else postingRemove(t, k as number, target);
      this.exactKeys += t.size - before;
    } else if (t.kind === 'exact') {
      const before = t.map.size;
      if (add) postingAdd(t.map, k as Primitive, target);
      else postingRemove(t.map, k as Primitive, target);
      this.exactKeys += t.map.size - before;
    } else {
      const b = k as Block;
      const trie = b.version === 4 ? t.v4 : t.v6;
      if (add) trie.insert(b, target);
      else trie.delete(b, target);
    }
  }

  private byType(e: Entry): Map<string, Entry[]> | null {
    if (e.cls === 'scan') return this.scan;
    if (e.cls === 'sequence' && e.keyless.length > 0) return this.sequence;
    return null;
  }

  private needle(e: Entry, delta: 1 | -1): void {
    const n = e.needle;
    if (n === null) return;
    let g = this.needles.get(n.pathKey);
    if (g === undefined) {
      g = { texts: new Map(), re: null };
      this.needles.set(n.pathKey, g);
    }
    const count = (g.texts.get(n.text) ?? 0) + delta;
    if (count > 0) g.texts.set(n.text, count);
    else g.texts.delete(n.text);
    g.re = null;
  }

  private needleTest(pathKey: string): RegExp | null {
    const g = this.needles.get(pathKey);
    if (g === undefined || g.texts.size === 0) return null;
    g.re ??= new RegExp([...g.texts.keys()].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
    return g.re;
  }

  private link(e: Entry): void {
    this.needle(e, 1);
    const byType = this.byType(e);
    if (byType !== null) {
      for (const t of e.types) {
        const list = byType.get(t);
        if (list === undefined) byType.set(t, [e]);
        else list.push(e);
      }
    }
    for (let i = 0; i < e.refs.length; i += 3) {
      this.keyLink(e.refs[i] as Table | WordTable<Posting>, e.refs[i + 1] as Primitive | Block, e.refs[i + 2] as Target, true);
    }
  }

  /** Removes an indicator; false when it was not indexed. */
  remove(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined) return false;
    this.entries.delete(id);
    this.counts[e.cls]--;
    if (isLight(e)) {
      this.keyLink(e.table, e.key, e, false);
      return true;
    }
    this.needle(e, -1);
    const byType = this.byType(e);
    if (byType !== null) {
      for (const t of e.types) {
        const list = byType.get(t);
        if (list === undefined) continue;
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) byType.delete(t);
      }
    }
    for (let i = 0; i < e.refs.length; i += 3) {
      this.keyLink(e.refs[i] as Table | WordTable<Posting>, e.refs[i + 1] as Primitive | Block, e.refs[i + 2] as Target, false);
    }
    return true;
  }

  /**
   * Replaces the indexed version of an indicator (a new STIX version, or a new audience). The
   * old version is removed first; when the new one is refused (revoked, invalid pattern...) the
   * indicator is no longer indexed, which is what a revocation must do.
   */
  replace(indicator: IndicatorInput, releasedTo: Release): AddResult {
    this.remove(indicator.id);
    return this.add(indicator, releasedTo);
  }

  /**
   * Indicators released to the event's organisation that match it. `scope`: whose sequence
   * window the event joins (default: its organisation; an exercise's events have their own, see
   * detect/scope.ts).
   */
  match(event: NormalisedEvent, scope?: string): IndicatorMatch[] {
    const orgId = event['organization.id'];
    if (this.unprobed > 0) return this.matchObservation(observationOf(event), orgId, scope);
    // Fast path: table values are read from the event's fields; the observation is built only
    // when a keyed, scan or sequence pattern needs evaluating.
    const m = new Matching(++this.stamp, eventTimeMs(event), orgId, event);
    // A new array only after a probe found something (setting `length` is a runtime call).
    // The exact tables' reads are kept for the CIDR tables, which mostly share their path
    // (ipv4-addr:value has both): readProbes / readValues [0, reads) (scratch, not truncated).
    let values: unknown[] = [];
    let reads = 0;
    this.ipMemoN = 0;
    for (let t = 0; t < this.exactList.length; t++) {
      const table = this.exactList[t] as ExactTable;
      if ((table.map.size === 0 && table.words.size === 0) || table.probe === null) continue;
      if (values.length > 0) values = [];
      table.probe(event, values);
      this.readProbes[reads] = table.probe;
      // An empty array is reused by the next probe: what was read is then "nothing".
      this.readValues[reads++] = values.length === 0 ? NO_VALUES : values;
      for (let i = 0; i < values.length; i++) this.probeExact(table, values[i] as Primitive, m);
    }
    for (let t = 0; t < this.cidrList.length; t++) {
      const table = this.cidrList[t] as CidrTable;
      if (table.probe === null || (table.v4.blocks === 0 && table.v6.blocks === 0)) continue;
      let known: unknown[] | undefined;
      for (let r = 0; r < reads; r++) if (this.readProbes[r] === table.probe) known = this.readValues[r];
      if (known === undefined) {
        if (values.length > 0) values = [];
        table.probe(event, values);
        known = values;
      }
      for (let i = 0; i < known.length; i++) this.probeCidr(table, known[i], m);
    }
    // Only the object types some scan or keyless sequence pattern compares are looked for.
    let types: ReadonlySet<string> = NO_TYPES;
    if (this.scan.size > 0) types = typesOf(event, this.scan.keys());
    if (this.sequence.size > 0) {
      const more = typesOf(event, this.sequence.keys());
      if (more.size > 0) types = types.size === 0 ? more : new Set([...types, ...more]);
    }
    if (types.size > 0 || m.leafHits !== null) this.evaluateRest(event, scope ?? orgId, types, m);
    return m.out;
  }

  /** As `match`, for an observation already built (see `observationOf`). */
  matchObservation(obs: Observation, orgId: string, scope?: string): IndicatorMatch[] {
    const m = new Matching(++this.stamp, obs.time, orgId, null).useObservation(obs);
    this.ipMemoN = 0;
    const objects = obs.objects;
    const types = new Set<string>();
    for (const key in objects) {
      const sco = objects[key];
      if (sco === undefined) continue;
      types.add(sco.type);
      const ex = this.exact.get(sco.type);
      if (ex !== undefined) {
        for (const table of ex) {
          if (table.map.size === 0 && table.words.size === 0) continue;
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
    this.evaluateRest(null, scope ?? orgId, types, m);
    return m.out;
  }

  private probeExact(table: ExactTable, v: Primitive, m: Matching): void {
    let p: Posting | undefined;
    if (typeof v === 'string') {
      // A dotted quad can only be a key of the word table (see ExactTable.words).
      const word = table.words.size > 0 ? this.wordOf(v) : null;
      p = word === null ? table.map.get(v) : table.words.get(word | 0);
    } else if (typeof v === 'number' || typeof v === 'boolean') p = table.map.get(v);
    if (p === undefined) return;
    if (Array.isArray(p)) for (const e of p) m.hit(e, 'exact', table.label, v);
    else m.hit(p, 'exact', table.label, v);
  }

  /** ipv4Value, remembered for the rest of this match (a few addresses an event). */
  private wordOf(v: string): number | null {
    const n = this.ipMemoN;
    for (let i = 0; i < n; i++) if (this.ipMemoStr[i] === v) return this.ipMemoWord[i] as number | null;
    const word = ipv4Value(v);
    if (n < 8) {
      this.ipMemoStr[n] = v;
      this.ipMemoWord[n] = word;
      this.ipMemoN = n + 1;
    }
    return word;
  }

  private probeCidr(table: CidrTable, v: unknown, m: Matching): void {
    // A plain IPv4 address (the common case): no Block object, no callback. Anything else
    // (IPv6, a block with a prefix) is not a dotted quad.
    const word = typeof v === 'string' ? this.wordOf(v) : null;
    if (word !== null) {
      const lists = this.lists;
      const n = table.v4.coveringV4(word, lists);
      for (let i = 0; i < n; i++) {
        const items = lists[i] as readonly Target[];
        for (let j = 0; j < items.length; j++) m.hit(items[j] as Target, 'cidr', table.label, v);
      }
      return;
    }
    const b = typeof v === 'string' && (v.includes(':') || v.includes('/')) ? parseBlock(v) : null;
    if (b === null) return;
    (b.version === 4 ? table.v4 : table.v6).covering(b, (items) => {
      for (const e of items) m.hit(e, 'cidr', table.label, v);
    });
  }

  /**
   * Scan and sequence patterns. `event` is given on the fast path: LIKE needles on probed paths
   * then read the event's fields, and the observation is built only when a pattern is evaluated.
   */
  private evaluateRest(event: NormalisedEvent | null, scope: string, types: ReadonlySet<string>, m: Matching): void {
    // LIKE needles: the values of each path are read once per event, and tested once against
    // all the path's needles; only when that test passes is each needle looked for.
    let byPath: Map<string, readonly unknown[] | null> | undefined;
    const hasNeedle = (n: Needle): boolean => {
      byPath ??= new Map();
      let values = byPath.get(n.pathKey);
      if (values === undefined) {
        const probe = event === null ? undefined : PROBES.get(n.pathKey);
        let read: unknown[];
        if (probe !== undefined && event !== null) {
          read = [];
          probe(event, read);
        } else read = needleValues(n, m.observation());
        const re = this.needleTest(n.pathKey);
        values = re === null || read.some((v) => typeof v === 'string' && re.test(v)) ? read : null;
        byPath.set(n.pathKey, values);
      }
      if (values === null) return false;
      for (const v of values) if (typeof v === 'string' && v.includes(n.text)) return true;
      return false;
    };
    for (const type of types) {
      const list = this.scan.get(type);
      if (list === undefined) continue;
      for (const e of list) {
        if (e.needle !== null && !hasNeedle(e.needle)) continue;
        traceRule(e.id);
        if (m.admit(e) && e.ast !== null && evaluatePattern(e.ast, [m.observation()]) !== null) m.out.push({ indicatorId: e.id, via: 'pattern' });
      }
    }
    if (m.leafHits === null && this.sequence.size === 0) return;
    const obs = m.observation();
    // Each observation notes, once, which sequence patterns it takes part in and which of their
    // observation expressions it matched: keyed ones were found in the tables (m.leafHits), the
    // keyless ones are evaluated here.
    const hits = (m.leafHits ??= new Map());
    for (const type of types) {
      const list = this.sequence.get(type);
      if (list === undefined) continue;
      for (const e of list) {
        let mask = hits.get(e) ?? 0;
        for (const i of e.keyless) {
          const bit = i < 30 ? 1 << i : 0x3fffffff;
          const leaf = e.leaves[i];
          if ((mask & bit) !== bit && leaf !== undefined && takesPart(leaf, obs)) mask |= bit;
        }
        if (mask !== 0) hits.set(e, mask);
      }
    }
    // Observations that take part in no sequence pattern are not kept: they could not be part of
    // a match, and the window's bound then counts only observations that matter.
    if (hits.size === 0) return;
    const window = this.windows.push(scope, { time: obs.time, obs, hits });
    // Only an event that takes part in a pattern re-evaluates it, so a completed sequence is
    // reported when a piece of it arrives, not on every unrelated event after it.
    for (const e of hits.keys()) {
      if (!m.admit(e) || e.ast === null) continue;
      const mine: Observation[] = [];
      let seen = 0;
      for (const w of window) {
        const bits = w.hits.get(e);
        if (bits !== undefined) { mine.push(w.obs); seen |= bits; }
      }
      // Skip the evaluator when some piece of the pattern has no match in the window at all.
      if (!e.feasible(seen)) continue;
      if (evaluatePattern(e.ast, mine) !== null) {
        m.out.push({ indicatorId: e.id, via: 'sequence' });
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

  /**
   * Forgets the sequence windows (FOLLOWEDBY, observation AND, REPEATS) of the organisations
   * `which` selects: a scale-out worker that takes a partition back rebuilds them from the
   * warm-up replay, never on top of what it held before it gave the partition up.
   */
  forgetOrganisations(which: (orgId: string) => boolean): number {
    return this.windows.forget(which);
  }
}

const NO_TYPES: ReadonlySet<string> = new Set();
const NO_VALUES: unknown[] = [];
