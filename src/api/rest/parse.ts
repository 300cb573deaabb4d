/**
 * Query-string parsing of the REST API at the edge: every handler receives typed values,
 * and every malformed or unknown parameter is a 400 with `{error: {code, message}}` — never
 * a 500, never a value the domain has to second-guess (STYLE habit 5).
 */
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import { isStixTypeName } from '../../stix/index.js';

export type RawQuery = Record<string, unknown>;

/** STIX 2.1 §2.9 identifier: `type--UUID`. */
export const STIX_ID = /^[a-z0-9][a-z0-9-]*[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** STIX 2.1 §3.1 type names: 3-250 characters of a-z, 0-9 and hyphen. */
const COLLECTION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function badParam(param: string, msg: string): AppError {
  return new AppError('INVALID_FILTER', `${param}: ${msg}`, { details: { parameter: param } });
}

/** The query as a plain record; unknown parameters are refused so that typos do not silently widen a search. */
export function queryOf(raw: unknown, allowed: readonly string[]): RawQuery {
  const q = (raw && typeof raw === 'object' ? raw : {}) as RawQuery;
  for (const key of Object.keys(q)) {
    if (!allowed.includes(key)) throw badParam(key, `unknown parameter; allowed: ${allowed.join(', ') || 'none'}`);
  }
  return q;
}

/** A parameter given at most once; empty means absent (the web client drops empty fields, hand-written URLs may not). */
export function one(q: RawQuery, key: string, maxLen = 1024): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badParam(key, 'must be given at most once');
  if (v.length > maxLen) throw badParam(key, `longer than ${maxLen} characters`);
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** A parameter that may be repeated and, when `comma` is set, also given as a comma list. */
export function many(q: RawQuery, key: string, opts: { comma: boolean; max?: number }): string[] | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  const given = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const g of given) {
    if (typeof g !== 'string' || g.length > 4096) throw badParam(key, 'malformed value');
    for (const part of opts.comma ? g.split(',') : [g]) {
      const t = part.trim();
      if (t !== '' && !out.includes(t)) out.push(t);
    }
  }
  if (out.length > (opts.max ?? 50)) throw badParam(key, `at most ${opts.max ?? 50} values`);
  return out.length ? out : undefined;
}

/**
 * A TLP 2.0 level. `amber strict` is accepted for `amber+strict` because a literal `+` in a
 * query string decodes to a space (WHATWG URL, application/x-www-form-urlencoded).
 */
export function parseTlp(param: string, v: string): Tlp {
  const s = v.toLowerCase().replace(/^tlp:/, '').replace(' ', '+');
  const hit = TLP_LEVELS.find((t) => t === s);
  if (!hit) throw badParam(param, `unknown TLP "${v.slice(0, 40)}"; use one of ${TLP_LEVELS.join(', ')}`);
  return hit;
}

export function parseLimit(q: RawQuery, def: number, max: number): number {
  const v = one(q, 'limit', 12);
  if (v === undefined) return Math.min(def, max);
  if (!/^[1-9]\d{0,8}$/.test(v)) throw badParam('limit', 'must be an integer greater than 0');
  return Math.min(Number(v), max);
}

export function parseCursor(q: RawQuery): string | undefined {
  const v = one(q, 'cursor', 2048);
  if (v !== undefined && !/^[A-Za-z0-9_.-]+$/.test(v)) throw new AppError('INVALID_CURSOR', 'malformed cursor', { details: { parameter: 'cursor' } });
  return v;
}

export function parseStixId(param: string, v: string): string {
  if (!STIX_ID.test(v)) throw badParam(param, `"${v.slice(0, 100)}" is not a STIX identifier (type--uuid)`);
  return v;
}

export function parseCollectionId(param: string, v: string): string {
  if (!COLLECTION_ID.test(v)) throw badParam(param, 'malformed collection id');
  return v;
}

/** Filters of `GET /intel` and `GET /intel/export`, parsed. `creators` may still hold short names (resolved by the handler). */
export interface IntelFilter {
  types?: string[];
  text?: string;
  labels?: string[];
  tlps?: (Tlp | 'none')[];
  creators?: string[];
  collection?: string;
}

export const FILTER_PARAMS = ['type', 'q', 'label', 'tlp', 'creator', 'collection'] as const;

export function parseIntelFilter(q: RawQuery): IntelFilter {
  const f: IntelFilter = {};
  const types = many(q, 'type', { comma: true });
  if (types) {
    for (const t of types) if (!isStixTypeName(t)) throw badParam('type', `"${t.slice(0, 60)}" is not a STIX type name`);
    f.types = types;
  }
  const text = one(q, 'q', 200);
  if (text !== undefined) f.text = text;
  const labels = many(q, 'label', { comma: false, max: 20 });
  if (labels) {
    for (const l of labels) if (l.length > 250) throw badParam('label', 'longer than 250 characters');
    f.labels = labels;
  }
  const tlps = many(q, 'tlp', { comma: true, max: 6 });
  if (tlps) f.tlps = tlps.map((t) => (t.toLowerCase() === 'none' ? 'none' : parseTlp('tlp', t)));
  const creators = many(q, 'creator', { comma: true, max: 50 });
  if (creators) {
    for (const c of creators) if (!STIX_ID.test(c) && !/^[A-Z0-9][A-Z0-9-]{0,15}$/.test(c)) throw badParam('creator', `"${c.slice(0, 60)}" is neither an identity id nor an organisation short name`);
    f.creators = creators;
  }
  const collection = one(q, 'collection', 128);
  if (collection !== undefined) f.collection = parseCollectionId('collection', collection);
  return f;
}
