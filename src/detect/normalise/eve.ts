/**
 * Suricata EVE JSON → ECS (OISF/suricata etc/schema.json; field mapping as in Elastic's Suricata
 * integration, see docs/detection.md). One EVE record per line; `event_type` selects the
 * payload, and alerts/fileinfo embed the app-layer objects (http, tls, dns) of their flow.
 *
 * DNS logging comes in three shapes, all accepted:
 * - v1 (Suricata ≤ 4): one record per query or per answer: `dns.{type: query|answer, rrname, rrtype, rdata, rcode}`;
 * - v2 (Suricata 5-7): `dns.{version: 2, type, rrname, rrtype, rcode, answers[{rrname,rrtype,ttl,rdata}], grouped{A:[…]}}`;
 * - v3 (Suricata 8): `dns.{version: 3, type: request|response, queries[{rrname,rrtype}], answers[…], grouped}`.
 *
 * Stores are written inline (`if (v !== undefined) d['key'] = v`) rather than through a helper:
 * one shared helper makes every store megamorphic, which cost a fifth of the normalising time.
 */
import type { DnsAnswer, EventLogsource } from './types.js';
import type { Draft, Obj } from './util.js';
import { baseName, canonicalIp, hexHash, int, ipStr, isObj, logsource, looksLikeIp, nameStr, str } from './util.js';

function putHttp(d: Draft, h: Obj): void {
  const host = nameStr(h['hostname']);
  const url = str(h['url']);
  // `http_port` is logged only when the Host header names a port.
  const p = int(h['http_port']);
  const port = p !== undefined && p > 0 && p < 65536 ? p : undefined;
  { const v = host; if (v !== undefined) d['url.domain'] = v; }
  if (port !== undefined) d['url.port'] = port;
  if (url !== undefined) {
    d['url.original'] = url;
    const q = url.indexOf('?');
    d['url.path'] = q >= 0 ? url.slice(0, q) : url;
    if (q >= 0) d['url.query'] = url.slice(q + 1);
    // EVE `http.url` is the request target; a full URL needs the Host header (absolute-form
    // targets, as sent to proxies, are already full) and its port as a browser writes it: http's
    // default port 80 omitted, any other kept (WHATWG URL, "port").
    // Most targets are origin-form (`/path`): the scheme test is needed only for the others.
    if (url.charCodeAt(0) !== 47 && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) d['url.full'] = url;
    else if (host !== undefined) d['url.full'] = `http://${host}${port === undefined || port === 80 ? '' : `:${port}`}${url.startsWith('/') ? '' : '/'}${url}`;
  }
  { const v = str(h['http_method']); if (v !== undefined) d['http.request.method'] = v; }
  { const v = int(h['status']); if (v !== undefined) d['http.response.status_code'] = v; }
  { const v = str(h['http_user_agent']); if (v !== undefined) d['user_agent.original'] = v; }
  { const v = str(h['http_refer']); if (v !== undefined) d['http.request.referrer'] = v; }
  { const v = str(h['http_content_type']); if (v !== undefined) d['http.response.mime_type'] = v; }
  { const v = int(h['length']); if (v !== undefined) d['http.response.body.bytes'] = v; }
  const proto = str(h['protocol']);
  if (proto !== undefined && proto.startsWith('HTTP/')) d['http.version'] = proto.slice(5);
}

function putTls(d: Draft, t: Obj): void {
  const sni = nameStr(t['sni']);
  if (sni !== undefined) {
    d['tls.client.server_name'] = sni;
    d['tls.server.sni'] = sni;
    d['destination.domain'] = sni;
  }
  { const v = str(t['subject']); if (v !== undefined) d['tls.server.subject'] = v; }
  { const v = str(t['issuerdn']); if (v !== undefined) d['tls.server.issuer'] = v; }
  { const v = str(t['serial']); if (v !== undefined) d['tls.server.x509.serial_number'] = v; }
  { const v = hexHash(t['fingerprint']); if (v !== undefined) d['tls.server.hash.sha1'] = v; }
  { const v = str(t['notbefore']); if (v !== undefined) d['tls.server.not_before'] = v; }
  { const v = str(t['notafter']); if (v !== undefined) d['tls.server.not_after'] = v; }
  const version = str(t['version']);
  if (version !== undefined) {
    const m = /^(TLS|SSL)v?\s*([\d.]+)$/i.exec(version);
    if (m !== null) { d['tls.version_protocol'] = m[1]?.toLowerCase(); d['tls.version'] = m[2]; }
  }
  const ja3 = t['ja3'];
  if (isObj(ja3)) { const v = str(ja3['hash']); if (v !== undefined) d['tls.client.ja3'] = v; }
  const ja3s = t['ja3s'];
  if (isObj(ja3s)) { const v = str(ja3s['hash']); if (v !== undefined) d['tls.server.ja3s'] = v; }
}

function answersOf(v: unknown, out: DnsAnswer[]): void {
  if (!Array.isArray(v)) return;
  for (const a of v) {
    if (!isObj(a)) continue;
    out.push({ name: str(a['rrname']), type: str(a['rrtype']), data: str(a['rdata']), ttl: int(a['ttl']) });
  }
}

function putDns(d: Draft, dns: Obj): void {
  const type = str(dns['type']);
  const version = int(dns['version']) ?? 1;
  const answers: DnsAnswer[] = [];
  let qname = nameStr(dns['rrname']);
  let qtype = str(dns['rrtype']);
  const queries = dns['queries'];
  if (Array.isArray(queries) && isObj(queries[0])) {
    qname = nameStr(queries[0]['rrname']) ?? qname;
    qtype = str(queries[0]['rrtype']) ?? qtype;
  }
  if (version === 1 && type === 'answer') {
    // v1 logs each answer record on its own line; the record's name is all we have of the question.
    answers.push({ name: qname, type: qtype, data: str(dns['rdata']), ttl: int(dns['ttl']) });
  }
  answersOf(dns['answers'], answers);
  const grouped = dns['grouped'];
  if (answers.length === 0 && isObj(grouped)) {
    for (const [rrtype, list] of Object.entries(grouped)) {
      if (!Array.isArray(list)) continue;
      for (const x of list) answers.push({ name: qname, type: rrtype, data: isObj(x) ? str(x['rdata']) ?? str(x['name']) : str(x) });
    }
  }
  { const v = qname; if (v !== undefined) d['dns.question.name'] = v; }
  { const v = qtype; if (v !== undefined) d['dns.question.type'] = v; }
  { const v = str(dns['id']); if (v !== undefined) d['dns.id'] = v; }
  { const v = str(dns['rcode']); if (v !== undefined) d['dns.response_code'] = v; }
  if (type !== undefined) d['dns.type'] = type === 'query' || type === 'request' ? 'query' : 'answer';
  if (answers.length > 0) {
    d['dns.answers'] = answers;
    const ips: string[] = [];
    for (const a of answers) {
      if (a.data === undefined || (a.type !== 'A' && a.type !== 'AAAA') || !looksLikeIp(a.data)) continue;
      const ip = canonicalIp(a.data);
      if (!ips.includes(ip)) ips.push(ip);
    }
    if (ips.length > 0) d['dns.resolved_ip'] = ips;
  }
}

function putFile(d: Draft, f: Obj): void {
  const name = str(f['filename']);
  if (name !== undefined) {
    d['file.path'] = name;
    d['file.name'] = baseName(name);
  }
  { const v = int(f['size']); if (v !== undefined) d['file.size'] = v; }
  { const v = hexHash(f['md5']); if (v !== undefined) d['file.hash.md5'] = v; }
  { const v = hexHash(f['sha1']); if (v !== undefined) d['file.hash.sha1'] = v; }
  { const v = hexHash(f['sha256']); if (v !== undefined) d['file.hash.sha256'] = v; }
  { const v = str(f['mimetype']); if (v !== undefined) d['file.mime_type'] = v; }
}

function putFlow(d: Draft, f: Obj): void {
  { const v = int(f['pkts_toserver']); if (v !== undefined) d['source.packets'] = v; }
  { const v = int(f['pkts_toclient']); if (v !== undefined) d['destination.packets'] = v; }
  { const v = int(f['bytes_toserver']); if (v !== undefined) d['source.bytes'] = v; }
  { const v = int(f['bytes_toclient']); if (v !== undefined) d['destination.bytes'] = v; }
  { const v = str(f['start']); if (v !== undefined) d['event.start'] = v; }
  { const v = str(f['end']); if (v !== undefined) d['event.end'] = v; }
}

function putAlert(d: Draft, a: Obj, cats: string[], types: string[]): void {
  d['event.kind'] = 'alert';
  cats.push('intrusion_detection');
  types.push('info');
  { const v = str(a['signature_id']); if (v !== undefined) d['rule.id'] = v; }
  { const v = str(a['signature']); if (v !== undefined) d['rule.name'] = v; }
  { const v = str(a['category']); if (v !== undefined) d['rule.category'] = v; }
  { const v = str(a['rev']); if (v !== undefined) d['rule.version'] = v; }
  { const v = int(a['severity']); if (v !== undefined) d['event.severity'] = v; }
  const action = str(a['action']);
  if (action !== undefined) {
    d['event.action'] = action;
    types.push(action === 'blocked' ? 'denied' : 'allowed');
  }
  { const v = str(a['category']); if (v !== undefined) d['message'] = v; }
}

/** Why an EVE record cannot be normalised, or null: what `normaliseEve` refuses, and nothing else. */
export function checkEve(e: Obj): string | null {
  const type = e['event_type'];
  if (typeof type !== 'string' || type === '') return 'EVE record without event_type';
  if (type === 'alert' && !isObj(e['alert'])) return 'EVE alert without an alert object';
  return null;
}

/** Fills `d` (already holding the common head) from an EVE record; returns an error or null. */
export function normaliseEve(d: Draft, e: Obj): string | null {
  const refused = checkEve(e);
  if (refused !== null) return refused;
  const type = e['event_type'] as string;
  d['event.module'] = 'suricata';
  d['event.dataset'] = 'suricata.eve';
  d['observer.vendor'] = 'OISF';
  d['observer.product'] = 'Suricata';
  d['observer.type'] = 'ids';
  d['suricata.eve.event_type'] = type;
  const ip = ipStr(e['src_ip']);
  if (ip !== undefined) d['source.ip'] = ip;
  { const v = int(e['src_port']); if (v !== undefined) d['source.port'] = v; }
  const ip2 = ipStr(e['dest_ip']);
  if (ip2 !== undefined) d['destination.ip'] = ip2;
  { const v = int(e['dest_port']); if (v !== undefined) d['destination.port'] = v; }
  const proto = str(e['proto']);
  if (proto !== undefined) d['network.transport'] = proto.toLowerCase();
  const app = str(e['app_proto']);
  if (app !== undefined && app !== 'failed') d['network.protocol'] = app.toLowerCase();
  { const v = str(e['community_id']); if (v !== undefined) d['network.community_id'] = v; }
  // Kept as the number JSON.parse gave (a 64-bit id already rounded beyond 2^53; text would not restore it).
  { const v = e['flow_id']; if (typeof v === 'number' || typeof v === 'string') d['suricata.eve.flow_id'] = v; }
  { const v = str(e['in_iface']); if (v !== undefined) d['observer.ingress.interface.name'] = v; }
  const cats: string[] = [];
  const types: string[] = [];
  if (type === 'stats') d['event.kind'] = 'metric';
  else cats.push('network');
  const http = e['http'];
  if (isObj(http)) { putHttp(d, http); if (type === 'http') cats.push('web'); }
  const tls = e['tls'];
  if (isObj(tls)) putTls(d, tls);
  const dns = e['dns'];
  if (isObj(dns)) putDns(d, dns);
  const fileinfo = e['fileinfo'];
  if (isObj(fileinfo)) { putFile(d, fileinfo); cats.push('file'); }
  const flow = e['flow'];
  if (isObj(flow)) putFlow(d, flow);
  if (type === 'flow') types.push('connection');
  if (type === 'dns') types.push('protocol');
  if (type === 'alert') putAlert(d, e['alert'] as Obj, cats, types);
  d['event.category'] = cats;
  d['event.type'] = types;
  if (ip !== undefined || ip2 !== undefined) d['related.ip'] = ip === undefined ? [ip2] : ip2 === undefined || ip2 === ip ? [ip] : [ip, ip2];
  d['logsource'] = type === 'dns' ? SURICATA_DNS : logsource('suricata', undefined, type);
  return null;
}

/**
 * An EVE DNS record is Sigma's generic `category: dns` (SigmaHQ `rules/network/dns`), whose rules
 * read the taxonomy's `query`, `record_type` and `answer` (written for Zeek's dns.log, where
 * `query` is a field of the record). EVE has none of them: they are read from the fields the
 * normaliser writes for all three DNS logging versions (the question of v1 answers, v2 `rrname`,
 * v3 `queries[0]`; `answer` through the `data` of each `dns.answers` element). A field map of the
 * shared logsource, so nothing is built per event.
 */
const SURICATA_DNS: EventLogsource = Object.freeze({
  product: 'suricata', service: 'dns', category: 'dns',
  fieldMap: Object.freeze({ query: 'dns.question.name', record_type: 'dns.question.type', answer: 'dns.answers.data' }),
});
