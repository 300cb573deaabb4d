/**
 * Zeek JSON logs → ECS (Zeek `LogAscii::use_json`; mapping as in pySigma's zeek pipeline and
 * Elastic's Zeek integration, see docs/detection.md). The log kind comes from `_path` (JSON
 * streaming writers add it) or, when absent, from the fields that only that log carries.
 * Connection ids come flattened (`id.orig_h`) or nested (`id: {orig_h}`); both are read.
 */
import type { EventLogsource } from './types.js';
import type { Draft, Obj } from './util.js';
import { baseName, canonicalIp, int, ipStr, isObj, logsource, looksLikeIp, nameStr, push, putHashByLength, str } from './util.js';

/** Which Zeek log a record without `_path` comes from. */
export function zeekPathOf(e: Obj): string | undefined {
  const p = str(e['_path']);
  if (p !== undefined) return p;
  if ('seen.indicator' in e || isObj(e['seen'])) return 'intel';
  if ('note' in e) return 'notice';
  if ('query' in e && ('qtype_name' in e || 'trans_id' in e)) return 'dns';
  if ('method' in e || ('uri' in e && 'trans_depth' in e)) return 'http';
  if ('ssl_history' in e || 'server_name' in e || ('cipher' in e && 'version' in e && 'uid' in e)) return 'ssl';
  if ('conn_state' in e || 'history' in e) return 'conn';
  if ('fuid' in e && ('mime_type' in e || 'seen_bytes' in e || 'tx_hosts' in e)) return 'files';
  if ('certificate.subject' in e || isObj(e['certificate'])) return 'x509';
  return undefined;
}

function idField(e: Obj, key: string): unknown {
  if (`id.${key}` in e) return e[`id.${key}`];
  const id = e['id'];
  return isObj(id) ? id[key] : undefined;
}

const CATEGORY: Readonly<Record<string, readonly [string[], string[]]>> = {
  conn: [['network'], ['connection']],
  dns: [['network'], ['protocol']],
  http: [['network', 'web'], ['protocol']],
  ssl: [['network'], ['protocol']],
  files: [['file'], ['info']],
  intel: [['threat'], ['indicator']],
  notice: [['network', 'intrusion_detection'], ['info']],
  ssh: [['network', 'authentication'], ['protocol']],
  kerberos: [['network', 'authentication'], ['protocol']],
  ntlm: [['network', 'authentication'], ['protocol']],
};

function putDns(d: Draft, e: Obj): void {
  { const v = nameStr(e['query']); if (v !== undefined) d['dns.question.name'] = v; }
  { const v = str(e['qtype_name']); if (v !== undefined) d['dns.question.type'] = v; }
  { const v = str(e['rcode_name']); if (v !== undefined) d['dns.response_code'] = v; }
  { const v = str(e['trans_id']); if (v !== undefined) d['dns.id'] = v; }
  const answers = e['answers'];
  if (Array.isArray(answers)) {
    const list = answers.filter((a): a is string => typeof a === 'string');
    if (list.length > 0) {
      d['dns.answers'] = list.map((data) => ({ data }));
      for (const a of list) if (looksLikeIp(a)) push(d, 'dns.resolved_ip', canonicalIp(a));
    }
  }
}

/**
 * Zeek's http.log `host` is the Host header as sent, with its port when the client named one
 * (`example.com:8080`, `[2001:db8::1]:8080`): the name is the domain, the port goes to the URL.
 */
function splitHostPort(v: string): { host: string; port: number | undefined } {
  const m = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(v);
  const port = m === null ? undefined : Number(m[2]);
  if (m === null || port === undefined || port < 1 || port > 65535) return { host: v, port: undefined };
  return { host: m[1] ?? v, port };
}

function putHttp(d: Draft, e: Obj): void {
  const header = nameStr(e['host']);
  const { host, port } = header === undefined ? { host: undefined, port: undefined } : splitHostPort(header);
  const uri = str(e['uri']);
  { const v = host; if (v !== undefined) d['url.domain'] = v; }
  if (port !== undefined) d['url.port'] = port;
  if (uri !== undefined) {
    d['url.original'] = uri;
    const q = uri.indexOf('?');
    d['url.path'] = q >= 0 ? uri.slice(0, q) : uri;
    // As a browser writes the URL: http's default port 80 omitted (WHATWG URL, "port").
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) d['url.full'] = uri;
    else if (host !== undefined) d['url.full'] = `http://${host}${port === undefined || port === 80 ? '' : `:${port}`}${uri.startsWith('/') ? '' : '/'}${uri}`;
  }
  { const v = str(e['method']); if (v !== undefined) d['http.request.method'] = v; }
  { const v = int(e['status_code']); if (v !== undefined) d['http.response.status_code'] = v; }
  { const v = str(e['user_agent']); if (v !== undefined) d['user_agent.original'] = v; }
  { const v = str(e['referrer']); if (v !== undefined) d['http.request.referrer'] = v; }
  { const v = str(e['version']); if (v !== undefined) d['http.version'] = v; }
}

function putSsl(d: Draft, e: Obj): void {
  const sni = nameStr(e['server_name']);
  if (sni !== undefined) {
    d['tls.client.server_name'] = sni;
    d['tls.server.sni'] = sni;
    d['destination.domain'] = sni;
  }
  { const v = str(e['cipher']); if (v !== undefined) d['tls.cipher'] = v; }
  { const v = str(e['subject']); if (v !== undefined) d['tls.server.subject'] = v; }
  { const v = str(e['issuer']); if (v !== undefined) d['tls.server.issuer'] = v; }
  { const v = str(e['ja3']); if (v !== undefined) d['tls.client.ja3'] = v; }
  { const v = str(e['ja3s']); if (v !== undefined) d['tls.server.ja3s'] = v; }
  const v = str(e['version']);
  const m = v === undefined ? null : /^(TLS|SSL)v(\d)(\d)$/i.exec(v);
  if (m !== null) { d['tls.version_protocol'] = m[1]?.toLowerCase(); d['tls.version'] = `${m[2]}.${m[3]}`; }
  const fps = e['cert_chain_fps'];
  if (Array.isArray(fps)) putHashByLength(d, 'tls.server', fps[0]);
}

function putFiles(d: Draft, e: Obj): void {
  { const v = typeof e['md5'] === 'string' ? e['md5'].toLowerCase() : undefined; if (v !== undefined) d['file.hash.md5'] = v; }
  { const v = typeof e['sha1'] === 'string' ? e['sha1'].toLowerCase() : undefined; if (v !== undefined) d['file.hash.sha1'] = v; }
  { const v = typeof e['sha256'] === 'string' ? e['sha256'].toLowerCase() : undefined; if (v !== undefined) d['file.hash.sha256'] = v; }
  { const v = str(e['mime_type']); if (v !== undefined) d['file.mime_type'] = v; }
  { const v = int(e['total_bytes']) ?? int(e['seen_bytes']); if (v !== undefined) d['file.size'] = v; }
  const name = str(e['filename']);
  if (name !== undefined) { d['file.path'] = name; d['file.name'] = baseName(name); }
  // files.log has no 5-tuple; the transferring hosts stand in for it.
  const tx = e['tx_hosts'];
  const rx = e['rx_hosts'];
  if (d['source.ip'] === undefined && Array.isArray(tx)) { const v = ipStr(tx[0]); if (v !== undefined) d['source.ip'] = v; }
  if (d['destination.ip'] === undefined && Array.isArray(rx)) { const v = ipStr(rx[0]); if (v !== undefined) d['destination.ip'] = v; }
}

function putIntel(d: Draft, e: Obj): void {
  d['event.kind'] = 'enrichment';
  const seen = isObj(e['seen']) ? e['seen'] : undefined;
  const indicator = str(seen?.['indicator'] ?? e['seen.indicator']);
  const type = str(seen?.['indicator_type'] ?? e['seen.indicator_type']);
  { const v = indicator; if (v !== undefined) d['threat.enrichments.matched.atomic'] = v; }
  { const v = type; if (v !== undefined) d['threat.indicator.type'] = v; }
  { const v = str(seen?.['where'] ?? e['seen.where']); if (v !== undefined) d['threat.enrichments.matched.field'] = v; }
  const sources = e['sources'];
  if (Array.isArray(sources)) { const v = str(sources[0]); if (v !== undefined) d['threat.indicator.provider'] = v; }
  // A seen address is also an observed IP, which lets the index match Zeek intel hits.
  if (indicator !== undefined && type === 'Intel::ADDR' && d['source.ip'] === undefined) d['source.ip'] = canonicalIp(indicator);
  if (indicator !== undefined && type === 'Intel::DOMAIN') d['dns.question.name'] = indicator.toLowerCase();
}

/** Fills `d` from a Zeek JSON record; returns an error or null. */
export function normaliseZeek(d: Draft, e: Obj): string | null {
  const path = zeekPathOf(e);
  if (path === undefined) return 'not a recognisable Zeek log record (no _path and no known fields)';
  d['event.module'] = 'zeek';
  d['event.dataset'] = `zeek.${path}`;
  d['observer.vendor'] = 'Zeek';
  d['observer.product'] = 'Zeek';
  d['observer.type'] = 'ids';
  { const v = str(e['uid']); if (v !== undefined) d['zeek.session_id'] = v; }
  { const v = ipStr(idField(e, 'orig_h')); if (v !== undefined) d['source.ip'] = v; }
  { const v = int(idField(e, 'orig_p')); if (v !== undefined) d['source.port'] = v; }
  { const v = ipStr(idField(e, 'resp_h')); if (v !== undefined) d['destination.ip'] = v; }
  { const v = int(idField(e, 'resp_p')); if (v !== undefined) d['destination.port'] = v; }
  const proto = str(e['proto']);
  if (proto !== undefined) d['network.transport'] = proto.toLowerCase();
  const service = str(e['service']);
  if (service !== undefined && path === 'conn') d['network.protocol'] = service.toLowerCase();
  { const v = str(e['community_id']); if (v !== undefined) d['network.community_id'] = v; }
  const [cats, types] = CATEGORY[path] ?? [['network'], ['info']];
  d['event.category'] = [...cats];
  d['event.type'] = [...types];
  switch (path) {
    case 'conn':
      { const v = int(e['orig_bytes']); if (v !== undefined) d['source.bytes'] = v; }
      { const v = int(e['resp_bytes']); if (v !== undefined) d['destination.bytes'] = v; }
      { const v = typeof e['duration'] === 'number' ? Math.round(e['duration'] * 1e9) : undefined; if (v !== undefined) d['event.duration'] = v; }
      break;
    case 'dns': putDns(d, e); break;
    case 'http': putHttp(d, e); break;
    case 'ssl': putSsl(d, e); break;
    case 'files': putFiles(d, e); break;
    case 'intel': putIntel(d, e); break;
    case 'notice':
      d['event.kind'] = 'alert';
      { const v = str(e['note']); if (v !== undefined) d['rule.name'] = v; }
      { const v = str(e['msg']); if (v !== undefined) d['message'] = v; }
      { const v = ipStr(e['src']); if (v !== undefined) d['source.ip'] = v; }
      { const v = ipStr(e['dst']); if (v !== undefined) d['destination.ip'] = v; }
      break;
    case 'x509':
      putHashByLength(d, 'file', e['fingerprint']);
      { const v = str(e['certificate.subject']); if (v !== undefined) d['x509.subject.distinguished_name'] = v; }
      { const v = str(e['certificate.issuer']); if (v !== undefined) d['x509.issuer.distinguished_name'] = v; }
      break;
    case 'ftp': case 'ntlm': case 'kerberos':
      { const v = str(e['user'] ?? e['username'] ?? e['client']); if (v !== undefined) d['user.name'] = v; }
      break;
    default:
      break;
  }
  push(d, 'related.ip', d['source.ip'] as string | undefined);
  push(d, 'related.ip', d['destination.ip'] as string | undefined);
  d['logsource'] = path === 'dns' ? ZEEK_DNS : logsource('zeek', undefined, path);
  return null;
}

/**
 * Zeek's dns.log is also Sigma's generic `category: dns` (SigmaHQ `rules/network/dns`, written
 * with Zeek's `query` and the taxonomy's `record_type` / `answer`, which pySigma's Zeek mapping
 * reads from `qtype_name` / `answers`): without the category those rules never saw a DNS event.
 */
const ZEEK_DNS: EventLogsource = Object.freeze({
  product: 'zeek', service: 'dns', category: 'dns',
  fieldMap: Object.freeze({ record_type: 'qtype_name', answer: 'answers' }),
});
