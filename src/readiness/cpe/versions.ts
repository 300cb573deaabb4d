/**
 * Version ranges: CVE JSON 5 `affected[].versions` with the schema's normative first-match
 * status algorithm, and NVD-style `versionStart*` / `versionEnd*` bounds. Versions compare
 * segment by segment (digits numerically, letters lexically, separators . - _ + space), which
 * orders semver, maven, rpm-like and vendor hotfix strings (`10.2.9-h1` after `10.2.9`).
 */

export type VersionStatus = 'affected' | 'unaffected' | 'unknown';

export interface VersionEntry {
  version: string;
  status: VersionStatus;
  versionType?: string;
  lessThan?: string;
  lessThanOrEqual?: string;
  changes?: { at: string; status: VersionStatus }[];
}

/** Split versions, memoised: inventories and records repeat a small set of version strings. */
const SEGMENTS = new Map<string, readonly (number | string)[]>();
const SEGMENTS_MAX = 200_000;

function segments(v: string): readonly (number | string)[] {
  const hit = SEGMENTS.get(v);
  if (hit) return hit;
  const out: (number | string)[] = [];
  for (const m of v.trim().toLowerCase().matchAll(/(\d+)|([a-z]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  if (SEGMENTS.size >= SEGMENTS_MAX) SEGMENTS.clear();
  SEGMENTS.set(v, out);
  return out;
}

/** -1, 0 or 1. A number sorts after letters in the same slot (1.0 > 1.0rc); a missing segment is smallest. */
export function compareVersions(a: string, b: string): number {
  const x = segments(a);
  const y = segments(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'number') return 1;
    if (typeof q === 'number') return -1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** `v < bound`, where a bound ending in `*` (`2.426.*`) covers every version with that prefix and `*` alone has no end. */
function belowLessThan(v: string, bound: string): boolean {
  const b = bound.trim();
  if (b === '*') return true;
  if (b.endsWith('*')) {
    const prefix = segments(b.slice(0, -1));
    const trunc = segments(v).slice(0, prefix.length);
    return compareSegs(trunc, prefix) <= 0;
  }
  return compareVersions(v, b) < 0;
}

function compareSegs(x: readonly (number | string)[], y: readonly (number | string)[]): number {
  return compareVersions(x.join('.'), y.join('.'));
}

/**
 * The CVE 5 status of one version (CVE_Record_Format.json, "versions" description): walk the
 * entries in order; an exact single version returns its status; a range hit starts from the
 * entry's status and applies every change at or below the version (changes re-sorted);
 * nothing matches → defaultStatus (unknown when absent).
 */
export function cve5Status(v: string, versions: readonly VersionEntry[], defaultStatus: VersionStatus = 'unknown'): VersionStatus {
  for (const e of versions) {
    const ranged = e.lessThan !== undefined || e.lessThanOrEqual !== undefined;
    if (!ranged) {
      if (compareVersions(v, e.version) === 0) return e.status;
      continue;
    }
    const lowOk = e.version === '0' || e.version === '*' || compareVersions(v, e.version) >= 0;
    const highOk = e.lessThan !== undefined ? belowLessThan(v, e.lessThan) : compareVersions(v, e.lessThanOrEqual!) <= 0;
    if (!lowOk || !highOk) continue;
    let status = e.status;
    if (e.changes?.length) {
      const changes = e.changes.length === 1 ? e.changes : [...e.changes].sort((p, q) => compareVersions(p.at, q.at));
      for (const c of changes) if (compareVersions(c.at, v) <= 0) status = c.status;
    }
    return status;
  }
  return defaultStatus;
}

export interface NvdBounds {
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

export function hasBounds(b: NvdBounds): boolean {
  return b.versionStartIncluding !== undefined || b.versionStartExcluding !== undefined || b.versionEndIncluding !== undefined || b.versionEndExcluding !== undefined;
}

/** Whether a concrete version lies within NVD's bounds (absent bounds are open). */
export function inNvdRange(v: string, b: NvdBounds): boolean {
  if (b.versionStartIncluding !== undefined && compareVersions(v, b.versionStartIncluding) < 0) return false;
  if (b.versionStartExcluding !== undefined && compareVersions(v, b.versionStartExcluding) <= 0) return false;
  if (b.versionEndIncluding !== undefined && compareVersions(v, b.versionEndIncluding) > 0) return false;
  if (b.versionEndExcluding !== undefined && compareVersions(v, b.versionEndExcluding) >= 0) return false;
  return true;
}

// ---------------------------------------------------------------- precompiled comparison keys

/**
 * A string whose code-unit order is {@link compareVersions}' order: per segment, a number is
 * `\u0002` + its digit count + its digits (leading zeros dropped), a letter run `\u0001` + the
 * letters + `\u0000`; a version that ends first is a prefix of the longer one and sorts first,
 * as a missing segment does. Null when a number has more than 15 digits (compareVersions
 * reads it as a float, which no exact key reproduces): the caller falls back to compareVersions.
 * `ends[i]` is where segment i's encoding ends (a `2.426.*` bound compares key prefixes).
 */
export interface VersionKey {
  readonly key: string;
  readonly ends: readonly number[];
}

export function versionKey(v: string): VersionKey | null {
  const hit = KEYS.get(v);
  if (hit !== undefined) return hit;
  const parts: string[] = [];
  const ends: number[] = [];
  let len = 0;
  let out: VersionKey | null = null;
  build: {
    for (const m of v.trim().toLowerCase().matchAll(/(\d+)|([a-z]+)/g)) {
      let part: string;
      if (m[1] !== undefined) {
        const d = m[1].replace(/^0+/, '') || '0';
        if (d.length > 15) break build;
        part = `\u0002${String.fromCharCode(0x30 + d.length)}${d}`;
      } else part = `\u0001${m[2]!}\u0000`;
      parts.push(part);
      ends.push((len += part.length));
    }
    // join: one flat string (a chain of += is a rope V8 flattens on the first comparison).
    out = { key: parts.join(''), ends };
  }
  // Records and inventories repeat a small set of version strings: one key object each.
  if (KEYS.size >= SEGMENTS_MAX) KEYS.clear();
  KEYS.set(v, out);
  return out;
}

const KEYS = new Map<string, VersionKey | null>();

/** The shared empty list of changes (most entries have none). */
const NO_CHANGES: readonly { at: string; status: VersionStatus }[] = [];

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One `versions[]` entry with its bounds turned into keys once (per CVE, at index time). */
interface CompiledEntry {
  readonly status: VersionStatus;
  /** A single version (no range): its key. */
  readonly exact: string | null;
  /** The range's lower bound key; null = open (`0` or `*`). */
  readonly low: string | null;
  /** lessThan `*` (no end), a `prefix*` bound (its key and segment count), lessThan, or lessThanOrEqual. */
  readonly high: { kind: 'all' } | { kind: 'prefix'; key: string; n: number } | { kind: 'lt' | 'le'; key: string } | null;
  readonly changes: readonly { at: string; status: VersionStatus }[];
}

/** The `versions[]` of a CVE 5 `affected` entry compiled for {@link compiledStatus}; null when a bound has no exact key. */
export interface CompiledVersions {
  readonly entries: readonly CompiledEntry[];
  readonly defaultStatus: VersionStatus;
}

export function compileVersions(versions: readonly VersionEntry[], defaultStatus: VersionStatus = 'unknown'): CompiledVersions | null {
  const entries: CompiledEntry[] = [];
  const k = (s: string) => versionKey(s)?.key ?? null;
  for (const e of versions) {
    const ranged = e.lessThan !== undefined || e.lessThanOrEqual !== undefined;
    if (!ranged) {
      const exact = k(e.version);
      if (exact === null) return null;
      entries.push({ status: e.status, exact, low: null, high: null, changes: NO_CHANGES });
      continue;
    }
    let low: string | null = null;
    if (!(e.version === '0' || e.version === '*')) {
      if ((low = k(e.version)) === null) return null;
    }
    let high: CompiledEntry['high'];
    if (e.lessThan !== undefined) {
      const b = e.lessThan.trim();
      if (b === '*') high = { kind: 'all' };
      else if (b.endsWith('*')) {
        const pk = versionKey(b.slice(0, -1));
        if (pk === null) return null;
        high = { kind: 'prefix', key: pk.key, n: pk.ends.length };
      } else {
        const hk = k(b);
        if (hk === null) return null;
        high = { kind: 'lt', key: hk };
      }
    } else {
      const hk = k(e.lessThanOrEqual!);
      if (hk === null) return null;
      high = { kind: 'le', key: hk };
    }
    const sorted = !e.changes?.length ? [] : e.changes.length === 1 ? e.changes : [...e.changes].sort((p, q) => compareVersions(p.at, q.at));
    const changes: { at: string; status: VersionStatus }[] = [];
    for (const c of sorted) {
      const at = k(c.at);
      if (at === null) return null;
      changes.push({ at, status: c.status });
    }
    entries.push({ status: e.status, exact: null, low, high, changes: changes.length ? changes : NO_CHANGES });
  }
  return { entries, defaultStatus };
}

/** {@link cve5Status} on precompiled entries and a version key: the same first-match walk, string comparisons only. */
export function compiledStatus(v: VersionKey, c: CompiledVersions): VersionStatus {
  for (const e of c.entries) {
    if (e.exact !== null) {
      if (v.key === e.exact) return e.status;
      continue;
    }
    if (e.low !== null && v.key < e.low) continue;
    const h = e.high!;
    let highOk: boolean;
    if (h.kind === 'all') highOk = true;
    else if (h.kind === 'prefix') {
      const trunc = h.n === 0 ? '' : h.n <= v.ends.length ? v.key.slice(0, v.ends[h.n - 1]) : v.key;
      highOk = cmp(trunc, h.key) <= 0;
    } else highOk = h.kind === 'lt' ? v.key < h.key : v.key <= h.key;
    if (!highOk) continue;
    let status = e.status;
    for (const ch of e.changes) if (ch.at <= v.key) status = ch.status;
    return status;
  }
  return c.defaultStatus;
}
