/**
 * Suricata EVE JSON → ECS (OISF/suricata etc/schema.json; field mapping as in Elastic's Suricata
 * integration, see docs/detection.md). One EVE record per line; `event_type` selects the
 * payload, and alerts/fileinfo embed the app-layer objects (http, tls, dns) of their flow.
 *
 * DNS logging comes in three shapes, all accepted:
 * - v1 (Suricata ≤ 4): one record per query or per answer: `dns.{type: query|answer, rrname, rrtype, rdata, rcode}`;
 * - v2 (Suricata 5-7): `dns.{version: 2, type, rrname, rrtype, rcode, answers[{rrname,rrtype,ttl,rdata}], grouped{A:[…]}}`;
 * - v3 (Suricata 8): `dns.{version: 3, type: request|response, queries[{rrname,rrtype}], answers[…], grouped}`.
 */
import type { DnsAnswer } from './types.js';
import type { Draft, Obj } from './util.js';
import { baseName, hexHash, int, isObj, looksLikeIp, push, put, str } from './util.js';

function putHttp(d: Draft, h: Obj): void {
  const host = str(h['hostname']);
  const url = str(h['url']);
  put(d, 'url.domain', host);
  if (url !== undefined) {
    d['url.original'] = url;
    const q = url.indexOf('?');
    d['url.path'] = q >= 0 ? url.slice(0, q) : url;
    if (q >= 0) d['url.query'] = url.slice(q + 1);
    // EVE `http.url` is the request target; a full URL needs the Host header (absolute-form
    // targets, as sent to proxies, are already full).
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) d['url.full'] = url;
    else if (host !== undefined) d['url.full'] = `http://${host}${url.startsWith('/') ? '' : '/'}${url}`;
  }
  put(d, 'http.request.method', str(h['http_method']));
  put(d, 'http.response.status_code', int(h['status']));
  put(d, 'user_agent.original', str(h['http_user_agent']));
  put(d, 'http.request.referrer', str(h['http_refer']));
  put(d, 'http.response.mime_type', str(h['http_content_type']));
  put(d, 'http.response.body.bytes', int(h['length']));
  const proto = str(h['protocol']);
  if (proto !== undefined && proto.startsWith('HTTP/')) d['http.version'] = proto.slice(5);
}

function putTls(d: Draft, t: Obj): void {
  const sni = str(t['sni']);
  if (sni !== undefined) {
    d['tls.client.server_name'] = sni;
    d['tls.server.sni'] = sni;
    d['destination.domain'] = sni;
  }
  put(d, 'tls.server.subject', str(t['subject']));
  put(d, 'tls.server.issuer', str(t['issuerdn']));
  put(d, 'tls.server.x509.serial_number', str(t['serial']));
  put(d, 'tls.server.hash.sha1', hexHash(t['fingerprint']));
  put(d, 'tls.server.not_before', str(t['notbefore']));
  put(d, 'tls.server.not_after', str(t['notafter']));
  const version = str(t['version']);
  if (version !== undefined) {
    const m = /^(TLS|SSL)v?\s*([\d.]+)$/i.exec(version);
    if (m !== null) { d['tls.version_protocol'] = m[1]?.toLowerCase(); d['tls.version'] = m[2]; }
  }
  const ja3 = t['ja3'];
  if (isObj(ja3)) put(d, 'tls.client.ja3', str(ja3['hash']));
  const ja3s = t['ja3s'];
  if (isObj(ja3s)) put(d, 'tls.server.ja3s', str(ja3s['hash']));
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
  let qname = str(dns['rrname']);
  let qtype = str(dns['rrtype']);
  const queries = dns['queries'];
  if (Array.isArray(queries) && isObj(queries[0])) {
    qname = str(queries[0]['rrname']) ?? qname;
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
  put(d, 'dns.question.name', qname);
  put(d, 'dns.question.type', qtype);
  put(d, 'dns.id', str(dns['id']));
  put(d, 'dns.response_code', str(dns['rcode']));
  if (type !== undefined) d['dns.type'] = type === 'query' || type === 'request' ? 'query' : 'answer';
  if (answers.length > 0) {
    d['dns.answers'] = answers;
    for (const a of answers) if (a.data !== undefined && (a.type === 'A' || a.type === 'AAAA') && looksLikeIp(a.data)) push(d, 'dns.resolved_ip', a.data);
  }
}

function putFile(d: Draft, f: Obj): void {
  const name = str(f['filename']);
  if (name !== undefined) {
    d['file.path'] = name;
    d['file.name'] = baseName(name);
  }
  put(d, 'file.size', int(f['size']));
  put(d, 'file.hash.md5', hexHash(f['md5']));
  put(d, 'file.hash.sha1', hexHash(f['sha1']));
  put(d, 'file.hash.sha256', hexHash(f['sha256']));
  put(d, 'file.mime_type', str(f['mimetype']));
}

function putFlow(d: Draft, f: Obj): void {
  put(d, 'source.packets', int(f['pkts_toserver']));
  put(d, 'destination.packets', int(f['pkts_toclient']));
  put(d, 'source.bytes', int(f['bytes_toserver']));
  put(d, 'destination.bytes', int(f['bytes_toclient']));
  put(d, 'event.start', str(f['start']));
  put(d, 'event.end', str(f['end']));
}

function putAlert(d: Draft, a: Obj): void {
  d['event.kind'] = 'alert';
  push(d, 'event.category', 'intrusion_detection');
  push(d, 'event.type', 'info');
  put(d, 'rule.id', str(a['signature_id']));
  put(d, 'rule.name', str(a['signature']));
  put(d, 'rule.category', str(a['category']));
  put(d, 'rule.version', str(a['rev']));
  put(d, 'event.severity', int(a['severity']));
  const action = str(a['action']);
  if (action !== undefined) {
    d['event.action'] = action;
    push(d, 'event.type', action === 'blocked' ? 'denied' : 'allowed');
  }
  put(d, 'message', str(a['category']));
}

/** Fills `d` (already holding the common head) from an EVE record; returns an error or null. */
export function normaliseEve(d: Draft, e: Obj): string | null {
  const type = e['event_type'];
  if (typeof type !== 'string' || type === '') return 'EVE record without event_type';
  d['event.module'] = 'suricata';
  d['event.dataset'] = 'suricata.eve';
  d['observer.vendor'] = 'OISF';
  d['observer.product'] = 'Suricata';
  d['observer.type'] = 'ids';
  d['suricata.eve.event_type'] = type;
  put(d, 'source.ip', str(e['src_ip']));
  put(d, 'source.port', int(e['src_port']));
  put(d, 'destination.ip', str(e['dest_ip']));
  put(d, 'destination.port', int(e['dest_port']));
  const proto = str(e['proto']);
  if (proto !== undefined) d['network.transport'] = proto.toLowerCase();
  const app = str(e['app_proto']);
  if (app !== undefined && app !== 'failed') d['network.protocol'] = app.toLowerCase();
  put(d, 'network.community_id', str(e['community_id']));
  put(d, 'suricata.eve.flow_id', str(e['flow_id']));
  put(d, 'observer.ingress.interface.name', str(e['in_iface']));
  if (type === 'stats') {
    d['event.kind'] = 'metric';
  } else {
    push(d, 'event.category', 'network');
  }
  const http = e['http'];
  if (isObj(http)) { putHttp(d, http); if (type === 'http') push(d, 'event.category', 'web'); }
  const tls = e['tls'];
  if (isObj(tls)) putTls(d, tls);
  const dns = e['dns'];
  if (isObj(dns)) putDns(d, dns);
  const fileinfo = e['fileinfo'];
  if (isObj(fileinfo)) { putFile(d, fileinfo); push(d, 'event.category', 'file'); }
  const flow = e['flow'];
  if (isObj(flow)) putFlow(d, flow);
  if (type === 'flow') push(d, 'event.type', 'connection');
  if (type === 'dns') push(d, 'event.type', 'protocol');
  if (type === 'alert') {
    const a = e['alert'];
    if (!isObj(a)) return 'EVE alert without an alert object';
    putAlert(d, a);
  }
  const ip = str(e['src_ip']);
  const ip2 = str(e['dest_ip']);
  push(d, 'related.ip', ip);
  push(d, 'related.ip', ip2);
  d['logsource'] = type === 'dns' ? { product: 'suricata', category: 'dns', service: type } : { product: 'suricata', service: type };
  return null;
}
