/**
 * TAXII 2.1 query parameters (§3.4): parsed once at the edge into a typed filter. Any
 * malformed parameter is a 400. `match[version]` defaults to `last` (§3.4.1) and
 * `match[spec_version]` to the latest spec version of each object.
 */
import { AppError } from '../core/errors.js';
import { parseTimestampMicros, versionKey } from '../core/time.js';
import type { VersionSelector } from '../store/index.js';

export interface TaxiiFilter {
  addedAfter?: number;
  limit?: number;
  next?: string;
  ids?: string[];
  types?: string[];
  version: VersionSelector;
  specVersions?: string[];
}

const ID = /^[a-z0-9][a-z0-9-]*[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TYPE = /^[a-z0-9][a-z0-9-]{1,249}$/;
const SPEC = /^\d+\.\d+$/;
const KNOWN = new Set(['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]']);

function bad(param: string, msg: string): AppError {
  return new AppError('INVALID_FILTER', `${param}: ${msg}`, { details: { parameter: param } });
}

function single(q: Record<string, unknown>, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(key, 'must be given at most once');
  return v;
}

function list(q: Record<string, unknown>, key: string, re: RegExp): string[] | undefined {
  const v = single(q, key);
  if (v === undefined) return undefined;
  const parts = v.split(',');
  if (parts.some((p) => p === '' || p !== p.trim())) throw bad(key, 'comma-separated values without spaces or empty items');
  if (new Set(parts).size !== parts.length) throw bad(key, 'duplicate values');
  for (const p of parts) if (!re.test(p)) throw bad(key, `invalid value "${p.slice(0, 100)}"`);
  return parts;
}

/**
 * @param allowed which parameters the endpoint takes; others defined by TAXII are a 400 when
 * they make no sense there (e.g. match[id] on versions), unknown ones are ignored (§3.4).
 */
export function parseTaxiiQuery(q: Record<string, unknown>, allowed: readonly string[]): TaxiiFilter {
  for (const key of Object.keys(q)) {
    if (KNOWN.has(key) && !allowed.includes(key)) throw bad(key, 'not supported on this endpoint');
  }
  const f: TaxiiFilter = { version: { kind: 'last' } };
  const aa = single(q, 'added_after');
  if (aa !== undefined) {
    const us = parseTimestampMicros(aa);
    if (us === null) throw bad('added_after', 'must be an RFC 3339 UTC timestamp');
    f.addedAfter = us;
  }
  const limit = single(q, 'limit');
  if (limit !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(limit)) throw bad('limit', 'must be an integer greater than 0');
    f.limit = Number(limit);
  }
  const next = single(q, 'next');
  if (next !== undefined) {
    if (next.length === 0 || next.length > 2048) throw bad('next', 'malformed');
    f.next = next;
  }
  const ids = list(q, 'match[id]', ID);
  if (ids) f.ids = ids;
  const types = list(q, 'match[type]', TYPE);
  if (types) f.types = types;
  const specs = list(q, 'match[spec_version]', SPEC);
  if (specs) f.specVersions = specs;
  const versions = list(q, 'match[version]', /^(first|last|all|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)$/);
  if (versions) f.version = parseVersions(versions);
  return f;
}

function parseVersions(values: string[]): VersionSelector {
  if (values.includes('all')) {
    if (values.length > 1) throw bad('match[version]', '"all" cannot be combined with other values');
    return { kind: 'all' };
  }
  const kw = values.filter((v) => v === 'first' || v === 'last');
  const ts = values.filter((v) => v !== 'first' && v !== 'last');
  for (const t of ts) if (parseTimestampMicros(t) === null) throw bad('match[version]', `invalid timestamp ${t}`);
  const keys = ts.map(versionKey);
  if (new Set(keys).size !== keys.length) throw bad('match[version]', 'duplicate timestamps');
  if (kw.length === 0) return { kind: 'exact', versions: keys };
  if (kw.length === 1 && ts.length === 0) return { kind: kw[0] as 'first' | 'last' };
  return { kind: 'union', first: kw.includes('first'), last: kw.includes('last'), versions: keys };
}

/** A stable fingerprint of the filters a cursor was issued for (limit may change between pages). */
export function filterFingerprint(f: TaxiiFilter, scope: string): string {
  return JSON.stringify([scope, f.addedAfter ?? null, f.ids ?? null, f.types ?? null, f.version, f.specVersions ?? null]);
}
