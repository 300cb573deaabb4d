/**
 * ECS JSON (Elastic Common Schema documents, nested `{"source": {"ip": …}}` or dotted
 * `{"source.ip": …}`) → the flat event: nested objects are flattened to dotted keys; arrays
 * are kept as values. Tenant fields are never taken from the document: `organization.id` and
 * `observer.id` come from the caller's context (a sensor must not claim another organisation).
 */
import type { EventLogsource } from './types.js';
import type { Draft, Obj } from './util.js';
import { canonicalIp, hexHash, isObj, str } from './util.js';

const RESERVED = new Set(['@timestamp', 'organization.id', 'observer.id', 'original', 'logsource']);
const IP_FIELDS = ['source.ip', 'destination.ip', 'dns.resolved_ip'] as const;
// Host and domain names the indicator index reads, folded as the other formats write them (nameStr).
const NAME_FIELDS = ['dns.question.name', 'url.domain', 'destination.domain', 'tls.client.server_name', 'tls.server.sni'] as const;
const KINDS = new Set(['alert', 'event', 'metric', 'enrichment', 'signal']);
// Hex digests the indicator index keys (observe.ts HASH_FIELDS), lower case as the other formats
// write them; a value that is not a hex digest is dropped. SSDEEP and TLSH are kept as written.
const HEX_FIELDS = ['file', 'process', 'tls.server'].flatMap((p) => [`${p}.hash.md5`, `${p}.hash.sha1`, `${p}.hash.sha256`, `${p}.hash.sha512`])
  .concat(['file.pe.imphash', 'process.pe.imphash']);

function flattenInto(out: Draft, prefix: string, v: Obj): void {
  // Depth is bounded by the caller's tooDeep check.
  for (const k in v) {
    const x = v[k];
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (isObj(x)) flattenInto(out, key, x);
    else if (x !== undefined && x !== null) out[key] = x;
  }
}

function asList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The distinct canonical addresses of a field's value (a text or a list of texts). */
function addressList(v: unknown): string[] {
  const out: string[] = [];
  for (const x of Array.isArray(v) ? v : [v]) {
    if (typeof x !== 'string' || x === '') continue;
    const ip = canonicalIp(x);
    if (!out.includes(ip)) out.push(ip);
  }
  return out;
}

/** Fills `d` from an ECS document; returns an error or null. */
export function normaliseEcs(d: Draft, doc: Obj): string | null {
  const flat: Draft = {};
  flattenInto(flat, '', doc);
  for (const [k, v] of Object.entries(flat)) {
    if (!RESERVED.has(k)) d[k] = v;
  }
  const kind = str(flat['event.kind']);
  d['event.kind'] = kind !== undefined && KINDS.has(kind) ? kind : 'event';
  d['event.category'] = asList(flat['event.category']);
  d['event.type'] = asList(flat['event.type']);
  const module = str(flat['event.module']);
  d['event.module'] = module ?? 'ecs';
  d['event.dataset'] = str(flat['event.dataset']) ?? (module !== undefined ? module : 'ecs');
  for (const key of HEX_FIELDS) {
    if (key in flat) {
      const h = hexHash(flat[key]);
      if (h === undefined) delete d[key];
      else d[key] = h;
    }
  }
  // Addresses the indicator index and the baselines read, in one text per address (canonicalIp).
  // Elasticsearch takes a list for any field (`"source.ip": ["10.0.0.5"]`): a list of one is
  // its value, a longer list is each address (the index reads every one, but it is no end of a
  // connection); `dns.resolved_ip` is always a list.
  for (const key of IP_FIELDS) {
    const v = d[key];
    if (v === undefined) continue;
    const list = addressList(v);
    if (list.length === 0) delete d[key];
    else d[key] = key === 'dns.resolved_ip' ? list : list.length === 1 ? list[0] : list;
  }
  for (const key of NAME_FIELDS) {
    const v = d[key];
    if (typeof v === 'string') d[key] = v.toLowerCase();
    else if (Array.isArray(v)) {
      const names = v.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.toLowerCase());
      if (names.length === 0) delete d[key];
      else d[key] = names.length === 1 ? names[0] : names;
    }
  }
  if (d['tls.client.server_name'] !== undefined && d['tls.server.sni'] === undefined) d['tls.server.sni'] = d['tls.client.server_name'];
  const ls: { product?: string; category?: string; service?: string } = {};
  const os = str(flat['host.os.type']) ?? (str(flat['winlog.channel']) !== undefined ? 'windows' : undefined);
  if (os !== undefined) ls.product = os.toLowerCase();
  else if (module !== undefined) ls.product = module.toLowerCase();
  const dataset = str(flat['event.dataset']);
  if (dataset !== undefined) ls.service = dataset.slice(dataset.indexOf('.') + 1).toLowerCase();
  d['logsource'] = ls as EventLogsource;
  return null;
}
