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

function segments(v: string): (number | string)[] {
  const out: (number | string)[] = [];
  for (const m of v.trim().toLowerCase().matchAll(/(\d+)|([a-z]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
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

function compareSegs(x: (number | string)[], y: (number | string)[]): number {
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
    const changes = [...(e.changes ?? [])].sort((p, q) => compareVersions(p.at, q.at));
    for (const c of changes) if (compareVersions(c.at, v) <= 0) status = c.status;
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
