/**
 * A normalised event as a STIX observation (STIX 2.1 §9 evaluates patterns over observed-data
 * `objects`): the cyber-observable objects (SCOs, STIX 2.1 §6) the event shows, keyed '0', '1', …
 * with `*_ref` properties pointing at those keys, as in observed-data.
 *
 * ECS → SCO:
 * - `source.ip` / `destination.ip` / `dns.resolved_ip` → ipv4-addr / ipv6-addr {value};
 * - the 5-tuple → network-traffic {src_ref, dst_ref, src_port, dst_port, protocols[]}, with an
 *   `http-request-ext` {request_method, request_value, request_header{Host, User-Agent}} for HTTP;
 * - `dns.question.name`, `url.domain`, `destination.domain`, `tls.client.server_name` →
 *   domain-name {value} (the question also gets `resolves_to_refs` to the resolved addresses);
 * - `url.full` → url {value}; `file.*` → file {name, size, hashes{MD5, SHA-1, SHA-256, SHA-512,
 *   SSDEEP, TLSH}, extensions.'windows-pebinary-ext'.imphash};
 * - `process.*` → process {pid, command_line, image_ref → file, parent_ref → process};
 * - `user.name` → user-account {account_login}; `registry.path` → windows-registry-key {key};
 * - `tls.server.hash.*` → x509-certificate {hashes}.
 * Hash values are lower-case hex as the normaliser writes them; STIX string comparison is
 * case-sensitive, so indicators should carry lower-case hashes (see docs/detection.md).
 */
import type { Observation, ScoLike } from '../../stix/pattern/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import { eventTimeMs } from '../normalise/index.js';

type Sco = { type: string; [k: string]: unknown };

const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * ECS hash fields (`<prefix>.hash.<ecs>`) and the STIX hash-algorithm-ov name each is keyed by:
 * every digest a normaliser writes (CEF and Zeek store SHA-512 by length, ECS documents any ECS
 * hash) is one an indicator can name. ECS's sha384 and cdhash have no STIX name.
 */
export const HASH_FIELDS: readonly (readonly [ecs: string, stix: string])[] = [
  ['md5', 'MD5'], ['sha1', 'SHA-1'], ['sha256', 'SHA-256'], ['sha512', 'SHA-512'], ['ssdeep', 'SSDEEP'], ['tlsh', 'TLSH'],
];

/** Per prefix, the event fields of HASH_FIELDS (built once, not per event). */
const HASH_KEYS = new Map<string, readonly (readonly [field: string, stix: string])[]>(
  ['file', 'process', 'tls.server'].map((p) => [p, HASH_FIELDS.map(([ecs, stix]) => [`${p}.hash.${ecs}`, stix] as const)]),
);

function hashes(e: NormalisedEvent, prefix: string): Record<string, string> | undefined {
  let h: Record<string, string> | undefined;
  for (const [field, stix] of HASH_KEYS.get(prefix) ?? []) {
    const v = s(e[field]);
    if (v !== undefined) (h ??= {})[stix] = v;
  }
  return h;
}

/** The `windows-pebinary-ext` of a PE image whose import hash the event gives (Sysmon `IMPHASH=`). */
function peExtension(e: NormalisedEvent, prefix: string): Record<string, unknown> | undefined {
  const imphash = s(e[`${prefix}.pe.imphash`]);
  return imphash === undefined ? undefined : { 'windows-pebinary-ext': { imphash } };
}

const ENDS = ['source.ip', 'destination.ip'] as const;

class Builder {
  readonly objects: Record<string, ScoLike> = {};
  private next = 0;
  private readonly ips = new Map<string, string>();

  add(sco: Sco): string {
    const key = String(this.next++);
    this.objects[key] = sco;
    return key;
  }

  /** One SCO per distinct address. */
  ip(value: string): string {
    let key = this.ips.get(value);
    if (key === undefined) {
      key = this.add({ type: value.includes(':') ? 'ipv6-addr' : 'ipv4-addr', value });
      this.ips.set(value, key);
    }
    return key;
  }
}

function network(b: Builder, e: NormalisedEvent): void {
  const src = s(e['source.ip']);
  const dst = s(e['destination.ip']);
  const srcRef = src === undefined ? undefined : b.ip(src);
  const dstRef = dst === undefined ? undefined : b.ip(dst);
  if (srcRef === undefined && dstRef === undefined) return;
  const nt: Sco = { type: 'network-traffic' };
  if (srcRef !== undefined) nt['src_ref'] = srcRef;
  if (dstRef !== undefined) nt['dst_ref'] = dstRef;
  const sp = n(e['source.port']);
  const dp = n(e['destination.port']);
  if (sp !== undefined) nt['src_port'] = sp;
  if (dp !== undefined) nt['dst_port'] = dp;
  const protocols: string[] = [];
  const t = s(e['network.transport']);
  const p = s(e['network.protocol']);
  if (t !== undefined) protocols.push(t);
  if (p !== undefined && p !== t) protocols.push(p);
  if (protocols.length > 0) nt['protocols'] = protocols;
  const method = s(e['http.request.method']);
  if (method !== undefined) {
    const header: Record<string, string> = {};
    const host = s(e['url.domain']);
    const ua = s(e['user_agent.original']);
    if (host !== undefined) header['Host'] = host;
    if (ua !== undefined) header['User-Agent'] = ua;
    const ext: Record<string, unknown> = { request_method: method, request_header: header };
    const target = s(e['url.original']);
    if (target !== undefined) ext['request_value'] = target;
    nt['extensions'] = { 'http-request-ext': ext };
  }
  b.add(nt);
}

function domains(b: Builder, e: NormalisedEvent): void {
  const q = s(e['dns.question.name']);
  const resolved = e['dns.resolved_ip'];
  const seen = new Set<string>();
  if (q !== undefined) {
    const sco: Sco = { type: 'domain-name', value: q };
    if (Array.isArray(resolved) && resolved.length > 0) {
      sco['resolves_to_refs'] = resolved.filter((x): x is string => typeof x === 'string').map((ip) => b.ip(ip));
    }
    b.add(sco);
    seen.add(q);
  }
  for (const f of ['url.domain', 'destination.domain', 'tls.client.server_name']) {
    const d = s(e[f]);
    if (d !== undefined && !seen.has(d)) {
      seen.add(d);
      b.add({ type: 'domain-name', value: d });
    }
  }
}

function fileOf(e: NormalisedEvent): Sco | undefined {
  const h = hashes(e, 'file');
  const name = s(e['file.name']);
  const pe = peExtension(e, 'file');
  if (h === undefined && name === undefined && pe === undefined) return undefined;
  const f: Sco = { type: 'file' };
  if (name !== undefined) f['name'] = name;
  const size = n(e['file.size']);
  if (size !== undefined) f['size'] = size;
  if (h !== undefined) f['hashes'] = h;
  if (pe !== undefined) f['extensions'] = pe;
  return f;
}

function processes(b: Builder, e: NormalisedEvent): void {
  const exe = s(e['process.executable']);
  const cmd = s(e['process.command_line']);
  const pid = n(e['process.pid']);
  if (exe === undefined && cmd === undefined && pid === undefined) return;
  const p: Sco = { type: 'process' };
  if (pid !== undefined) p['pid'] = pid;
  if (cmd !== undefined) p['command_line'] = cmd;
  const h = hashes(e, 'process');
  const name = s(e['process.name']);
  const pe = peExtension(e, 'process');
  if (name !== undefined || h !== undefined || pe !== undefined) {
    const img: Sco = { type: 'file' };
    if (name !== undefined) img['name'] = name;
    if (h !== undefined) img['hashes'] = h;
    if (pe !== undefined) img['extensions'] = pe;
    p['image_ref'] = b.add(img);
  }
  const pexe = s(e['process.parent.executable']);
  const pcmd = s(e['process.parent.command_line']);
  if (pexe !== undefined || pcmd !== undefined) {
    const parent: Sco = { type: 'process' };
    if (pcmd !== undefined) parent['command_line'] = pcmd;
    const ppid = n(e['process.parent.pid']);
    if (ppid !== undefined) parent['pid'] = ppid;
    const pname = s(e['process.parent.name']);
    if (pname !== undefined) parent['image_ref'] = b.add({ type: 'file', name: pname });
    p['parent_ref'] = b.add(parent);
  }
  b.add(p);
}

/** The observation of one event; `time` is its `@timestamp` in ms (NaN when unparsable). */
export function observationOf(e: NormalisedEvent): Observation {
  const b = new Builder();
  network(b, e);
  const resolved = e['dns.resolved_ip'];
  domains(b, e);
  if (Array.isArray(resolved)) for (const ip of resolved) if (typeof ip === 'string') b.ip(ip);
  // A list of addresses (ECS `source.ip: [a, b]`) is each address, not an end of the connection.
  for (const f of ENDS) {
    const v = e[f];
    if (Array.isArray(v)) for (const ip of v) if (typeof ip === 'string' && ip !== '') b.ip(ip);
  }
  const url = s(e['url.full']);
  if (url !== undefined) b.add({ type: 'url', value: url });
  const f = fileOf(e);
  if (f !== undefined) b.add(f);
  processes(b, e);
  const user = s(e['user.name']);
  if (user !== undefined) b.add({ type: 'user-account', account_login: user });
  const key = s(e['registry.path']);
  if (key !== undefined) b.add({ type: 'windows-registry-key', key });
  const cert = hashes(e, 'tls.server');
  if (cert !== undefined) b.add({ type: 'x509-certificate', hashes: cert });
  return { objects: b.objects, time: eventTimeMs(e) };
}
