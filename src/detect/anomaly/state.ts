/**
 * Per-organisation state and its JSON form. The JSON is validated field by field on load (it may
 * come from disk or another version): anything malformed is a BAD_REQUEST, never a half-loaded
 * detector.
 */
import { AppError } from '../../core/errors.js';
import { KnownSet } from './known.js';
import { RareTable } from './rare.js';
import type { RareKey } from './rare.js';
import { SLOT_FIELDS, slotCount } from './rate.js';
import type { RateStream } from './rate.js';
import type { ResolvedOptions } from './types.js';

export const KINDS = ['ip', 'domain', 'process', 'parent-child'] as const;
export type EntityKind = (typeof KINDS)[number];
export const RARE_FIELDS = ['user_agent', 'process.name', 'dns.tld', 'destination.port'] as const;
export type RareField = (typeof RARE_FIELDS)[number];

/**
 * The last event folded into an organisation's state, by its position in the event source that
 * delivered it (`source` names the source: the SQL spool, or one telemetry stream). Events at or
 * before it are already in the state: a replay after a crash or a takeover learns only what came
 * after, and an event delivered twice is learned once.
 */
export interface Through {
  readonly source: string;
  readonly seq: number;
}

export interface OrgState {
  readonly id: string;
  readonly streams: Map<string, RateStream>;
  readonly known: Map<EntityKind, KnownSet>;
  readonly rare: Map<RareField, RareTable>;
  through: Through | null;
}

export function newOrg(id: string): OrgState {
  return { id, streams: new Map(), known: new Map(), rare: new Map(), through: null };
}

const FORMAT = 'shieldwall-anomaly';
const VERSION = 1;

function jsonTime(t: number): number | null {
  return Number.isFinite(t) ? t : null;
}

export function orgsToJSON(orgs: ReadonlyMap<string, OrgState>, o: ResolvedOptions): unknown {
  return {
    format: FORMAT,
    version: VERSION,
    config: { bucketMinutes: o.bucketMinutes, seasonality: o.seasonality, utcOffsetMinutes: o.offsetMs / 60_000 },
    orgs: Array.from(orgs.values(), (org) => ({
      id: org.id,
      ...(org.through ? { through: { source: org.through.source, seq: org.through.seq } } : {}),
      streams: Array.from(org.streams.values(), (s) => ({
        sensor: s.sensorId,
        bucket: s.bucket,
        count: s.count,
        spike: s.spike,
        drop: s.drop,
        silentStart: s.silentStart,
        silentExpected: s.silentExpected,
        silentAlerted: s.silentAlerted,
        slots: Array.from(s.slots),
      })),
      known: Array.from(org.known, ([kind, k]) => ({
        kind,
        since: k.since,
        observations: k.observations,
        evicted: k.evicted,
        hourStart: k.hourStart,
        hourCount: k.hourCount,
        previous: Array.from(k.previous),
        current: Array.from(k.current),
      })),
      rare: Array.from(org.rare, ([field, r]) => ({
        field,
        ref: r.ref,
        total: r.total,
        hourStart: r.hourStart,
        hourCount: r.hourCount,
        values: Array.from(r.values, ([v, e]) => [v, e.c, jsonTime(e.alertAt)]),
      })),
    })),
  };
}

// ---- validation ----

function bad(path: string, what: string): never {
  throw new AppError('BAD_REQUEST', `anomaly state: ${path} ${what}`);
}

function obj(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad(path, 'must be an object');
  return x as Record<string, unknown>;
}

function arr(x: unknown, path: string): unknown[] {
  if (!Array.isArray(x)) bad(path, 'must be an array');
  return x;
}

function fin(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) bad(path, 'must be a finite number');
  return x;
}

function nonNeg(x: unknown, path: string): number {
  const v = fin(x, path);
  if (v < 0) bad(path, 'must not be negative');
  return v;
}

function int(x: unknown, path: string): number {
  const v = fin(x, path);
  if (!Number.isInteger(v)) bad(path, 'must be an integer');
  return v;
}

function str(x: unknown, path: string): string {
  if (typeof x !== 'string' || x === '') bad(path, 'must be a non-empty string');
  return x;
}

function bool(x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') bad(path, 'must be a boolean');
  return x;
}

function streamFrom(x: unknown, path: string, o: ResolvedOptions): RateStream {
  const s = obj(x, path);
  const slotsIn = arr(s['slots'], `${path}.slots`);
  const n = slotCount(o.seasonality) * SLOT_FIELDS;
  if (slotsIn.length !== n) bad(`${path}.slots`, `must hold ${n} numbers`);
  const slots = new Float64Array(n);
  for (let i = 0; i < n; i++) slots[i] = nonNeg(slotsIn[i], `${path}.slots[${i}]`);
  const silentStart = int(s['silentStart'], `${path}.silentStart`);
  if (silentStart < -1) bad(`${path}.silentStart`, 'must be -1 or a bucket index');
  return {
    sensorId: str(s['sensor'], `${path}.sensor`),
    bucket: int(s['bucket'], `${path}.bucket`),
    count: int(nonNeg(s['count'], `${path}.count`), `${path}.count`),
    spike: bool(s['spike'], `${path}.spike`),
    drop: bool(s['drop'], `${path}.drop`),
    silentStart,
    silentExpected: nonNeg(s['silentExpected'], `${path}.silentExpected`),
    silentAlerted: bool(s['silentAlerted'], `${path}.silentAlerted`),
    slots,
  };
}

function knownFrom(x: unknown, path: string, o: ResolvedOptions): [EntityKind, KnownSet] {
  const k = obj(x, path);
  const kind = k['kind'];
  if (!KINDS.includes(kind as EntityKind)) bad(`${path}.kind`, `must be one of ${KINDS.join(', ')}`);
  const set = new KnownSet(fin(k['since'], `${path}.since`));
  set.observations = int(nonNeg(k['observations'], `${path}.observations`), `${path}.observations`);
  set.evicted = int(nonNeg(k['evicted'], `${path}.evicted`), `${path}.evicted`);
  set.hourStart = fin(k['hourStart'], `${path}.hourStart`);
  set.hourCount = int(nonNeg(k['hourCount'], `${path}.hourCount`), `${path}.hourCount`);
  const seen = new Set<string>();
  const gen = (key: 'previous' | 'current'): string[] =>
    arr(k[key], `${path}.${key}`).map((v, i) => {
      const s = str(v, `${path}.${key}[${i}]`);
      if (seen.has(s)) bad(`${path}.${key}[${i}]`, 'repeats a value');
      seen.add(s);
      return s;
    });
  const previous = gen('previous');
  const current = gen('current');
  const half = Math.max(1, Math.floor(o.maxValuesPerKind / 2));
  if (previous.length <= half && current.length <= half) {
    set.previous = new Set(previous);
    set.current = new Set(current);
  } else {
    // Saved with a larger cap: replay oldest → newest into the smaller generations.
    const evicted = set.evicted;
    for (const v of [...previous, ...current]) set.insert(v, o.maxValuesPerKind);
    set.evicted = evicted + previous.length + current.length - set.size;
  }
  return [kind as EntityKind, set];
}

function rareFrom(x: unknown, path: string, o: ResolvedOptions): [RareField, RareTable] {
  const r = obj(x, path);
  const field = r['field'];
  if (!RARE_FIELDS.includes(field as RareField)) bad(`${path}.field`, `must be one of ${RARE_FIELDS.join(', ')}`);
  const t = new RareTable(fin(r['ref'], `${path}.ref`));
  t.total = nonNeg(r['total'], `${path}.total`);
  t.hourStart = fin(r['hourStart'], `${path}.hourStart`);
  t.hourCount = int(nonNeg(r['hourCount'], `${path}.hourCount`), `${path}.hourCount`);
  const rows: [RareKey, number, number][] = [];
  const seen = new Set<RareKey>();
  arr(r['values'], `${path}.values`).forEach((row, i) => {
    const p = arr(row, `${path}.values[${i}]`);
    if (p.length !== 3) bad(`${path}.values[${i}]`, 'must be [value, count, alertAt|null]');
    const key: RareKey = field === 'destination.port' ? int(p[0], `${path}.values[${i}][0]`) : str(p[0], `${path}.values[${i}][0]`);
    if (seen.has(key)) bad(`${path}.values[${i}]`, 'repeats a value');
    seen.add(key);
    const alertAt = p[2] === null ? Number.NEGATIVE_INFINITY : fin(p[2], `${path}.values[${i}][2]`);
    rows.push([key, nonNeg(p[1], `${path}.values[${i}][1]`), alertAt]);
  });
  let keep = rows;
  if (rows.length > o.rareCapacity) {
    // A lower capacity than when saved: keep the largest counts, in their saved order.
    const limit = rows.map((r2) => r2[1]).sort((a, b) => b - a)[o.rareCapacity - 1] ?? 0;
    let room = o.rareCapacity;
    const above = rows.filter((r2) => r2[1] > limit);
    room -= above.length;
    keep = rows.filter((r2) => r2[1] > limit || (r2[1] === limit && room-- > 0));
  }
  for (const [key, c, alertAt] of keep) t.values.set(key, { c, alertAt });
  return [field as RareField, t];
}

/** Rebuilds the organisations from {@link orgsToJSON} output; throws BAD_REQUEST on anything else. */
export function orgsFromJSON(x: unknown, o: ResolvedOptions): Map<string, OrgState> {
  const root = obj(x, 'state');
  if (root['format'] !== FORMAT) bad('format', `must be "${FORMAT}"`);
  if (root['version'] !== VERSION) bad('version', `must be ${VERSION}`);
  const cfg = obj(root['config'], 'config');
  const bucketMinutes = int(cfg['bucketMinutes'], 'config.bucketMinutes');
  const seasonality = cfg['seasonality'];
  if (seasonality !== 'hour' && seasonality !== 'weekpart' && seasonality !== 'weekday') bad('config.seasonality', 'is unknown');
  const offset = int(cfg['utcOffsetMinutes'], 'config.utcOffsetMinutes');
  // Baselines built with other buckets or slots mean something else: they are dropped (and
  // relearned), the first-seen and rare memories are kept.
  const sameRates = bucketMinutes === o.bucketMinutes && seasonality === o.seasonality && offset * 60_000 === o.offsetMs;
  const orgs = new Map<string, OrgState>();
  arr(root['orgs'], 'orgs').forEach((ox, i) => {
    const path = `orgs[${i}]`;
    const r = obj(ox, path);
    const id = str(r['id'], `${path}.id`);
    if (orgs.has(id)) bad(`${path}.id`, 'repeats an organisation');
    const org = newOrg(id);
    if (r['through'] !== undefined) {
      const t = obj(r['through'], `${path}.through`);
      org.through = { source: str(t['source'], `${path}.through.source`), seq: int(nonNeg(t['seq'], `${path}.through.seq`), `${path}.through.seq`) };
    }
    arr(r['streams'], `${path}.streams`).forEach((sx, j) => {
      const sensorPath = `${path}.streams[${j}]`;
      if (!sameRates) {
        str(obj(sx, sensorPath)['sensor'], `${sensorPath}.sensor`);
        return;
      }
      const s = streamFrom(sx, sensorPath, o);
      if (org.streams.has(s.sensorId)) bad(`${sensorPath}.sensor`, 'repeats a sensor');
      org.streams.set(s.sensorId, s);
    });
    arr(r['known'], `${path}.known`).forEach((kx, j) => {
      const [kind, set] = knownFrom(kx, `${path}.known[${j}]`, o);
      if (org.known.has(kind)) bad(`${path}.known[${j}].kind`, 'repeats a kind');
      org.known.set(kind, set);
    });
    arr(r['rare'], `${path}.rare`).forEach((rx, j) => {
      const [field, t] = rareFrom(rx, `${path}.rare[${j}]`, o);
      if (org.rare.has(field)) bad(`${path}.rare[${j}].field`, 'repeats a field');
      org.rare.set(field, t);
    });
    orgs.set(id, org);
  });
  return orgs;
}
