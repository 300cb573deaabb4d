/**
 * Zeek JSON logs → ECS (Zeek `LogAscii::use_json`; mapping as in pySigma's zeek pipeline and
 * Elastic's Zeek integration, see docs/detection.md). The log kind comes from `_path` (JSON
 * streaming writers add it) or, when absent, from the fields that only that log carries.
 * Connection ids come flattened (`id.orig_h`) or nested (`id: {orig_h}`); both are read.
 */
import type { Draft, Obj } from './util.js';
import { baseName, int, isObj, looksLikeIp, push, put, putHashByLength, str } from './util.js';

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
  put(d, 'dns.question.name', str(e['query']));
  put(d, 'dns.question.type', str(e['qtype_name']));
  put(d, 'dns.response_code', str(e['rcode_name']));
  put(d, 'dns.id', str(e['trans_id']));
  const answers = e['answers'];
  if (Array.isArray(answers)) {
    const list = answers.filter((a): a is string => typeof a === 'string');
    if (list.length > 0) {
      d['dns.answers'] = list.map((data) => ({ data }));
      for (const a of list) if (looksLikeIp(a)) push(d, 'dns.resolved_ip', a);
    }
  }
}

function putHttp(d: Draft, e: Obj): void {
  const host = str(e['host']);
  const uri = str(e['uri']);
  put(d, 'url.domain', host);
  if (uri !== undefined) {
    d['url.original'] = uri;
    const q = uri.indexOf('?');
    d['url.path'] = q >= 0 ? uri.slice(0, q) : uri;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) d['url.full'] = uri;
    else if (host !== undefined) d['url.full'] = `http://${host}${uri.startsWith('/') ? '' : '/'}${uri}`;
  }
  put(d, 'http.request.method', str(e['method']));
  put(d, 'http.response.status_code', int(e['status_code']));
  put(d, 'user_agent.original', str(e['user_agent']));
  put(d, 'http.request.referrer', str(e['referrer']));
  put(d, 'http.version', str(e['version']));
}

function putSsl(d: Draft, e: Obj): void {
  const sni = str(e['server_name']);
  if (sni !== undefined) {
    d['tls.client.server_name'] = sni;
    d['tls.server.sni'] = sni;
    d['destination.domain'] = sni;
  }
  put(d, 'tls.cipher', str(e['cipher']));
  put(d, 'tls.server.subject', str(e['subject']));
  put(d, 'tls.server.issuer', str(e['issuer']));
  put(d, 'tls.client.ja3', str(e['ja3']));
  put(d, 'tls.server.ja3s', str(e['ja3s']));
  const v = str(e['version']);
  const m = v === undefined ? null : /^(TLS|SSL)v(\d)(\d)$/i.exec(v);
  if (m !== null) { d['tls.version_protocol'] = m[1]?.toLowerCase(); d['tls.version'] = `${m[2]}.${m[3]}`; }
  const fps = e['cert_chain_fps'];
  if (Array.isArray(fps)) putHashByLength(d, 'tls.server', fps[0]);
}

function putFiles(d: Draft, e: Obj): void {
  put(d, 'file.hash.md5', typeof e['md5'] === 'string' ? e['md5'].toLowerCase() : undefined);
  put(d, 'file.hash.sha1', typeof e['sha1'] === 'string' ? e['sha1'].toLowerCase() : undefined);
  put(d, 'file.hash.sha256', typeof e['sha256'] === 'string' ? e['sha256'].toLowerCase() : undefined);
  put(d, 'file.mime_type', str(e['mime_type']));
  put(d, 'file.size', int(e['total_bytes']) ?? int(e['seen_bytes']));
  const name = str(e['filename']);
  if (name !== undefined) { d['file.path'] = name; d['file.name'] = baseName(name); }
  // files.log has no 5-tuple; the transferring hosts stand in for it.
  const tx = e['tx_hosts'];
  const rx = e['rx_hosts'];
  if (d['source.ip'] === undefined && Array.isArray(tx)) put(d, 'source.ip', str(tx[0]));
  if (d['destination.ip'] === undefined && Array.isArray(rx)) put(d, 'destination.ip', str(rx[0]));
}

function putIntel(d: Draft, e: Obj): void {
  d['event.kind'] = 'enrichment';
  const seen = isObj(e['seen']) ? e['seen'] : undefined;
  const indicator = str(seen?.['indicator'] ?? e['seen.indicator']);
  const type = str(seen?.['indicator_type'] ?? e['seen.indicator_type']);
  put(d, 'threat.enrichments.matched.atomic', indicator);
  put(d, 'threat.indicator.type', type);
  put(d, 'threat.enrichments.matched.field', str(seen?.['where'] ?? e['seen.where']));
  const sources = e['sources'];
  if (Array.isArray(sources)) put(d, 'threat.indicator.provider', str(sources[0]));
  // A seen address is also an observed IP, which lets the index match Zeek intel hits.
  if (indicator !== undefined && type === 'Intel::ADDR' && d['source.ip'] === undefined) d['source.ip'] = indicator;
  if (indicator !== undefined && type === 'Intel::DOMAIN') put(d, 'dns.question.name', indicator);
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
  put(d, 'zeek.session_id', str(e['uid']));
  put(d, 'source.ip', str(idField(e, 'orig_h')));
  put(d, 'source.port', int(idField(e, 'orig_p')));
  put(d, 'destination.ip', str(idField(e, 'resp_h')));
  put(d, 'destination.port', int(idField(e, 'resp_p')));
  const proto = str(e['proto']);
  if (proto !== undefined) d['network.transport'] = proto.toLowerCase();
  const service = str(e['service']);
  if (service !== undefined && path === 'conn') d['network.protocol'] = service.toLowerCase();
  put(d, 'network.community_id', str(e['community_id']));
  const [cats, types] = CATEGORY[path] ?? [['network'], ['info']];
  d['event.category'] = [...cats];
  d['event.type'] = [...types];
  switch (path) {
    case 'conn':
      put(d, 'source.bytes', int(e['orig_bytes']));
      put(d, 'destination.bytes', int(e['resp_bytes']));
      put(d, 'event.duration', typeof e['duration'] === 'number' ? Math.round(e['duration'] * 1e9) : undefined);
      break;
    case 'dns': putDns(d, e); break;
    case 'http': putHttp(d, e); break;
    case 'ssl': putSsl(d, e); break;
    case 'files': putFiles(d, e); break;
    case 'intel': putIntel(d, e); break;
    case 'notice':
      d['event.kind'] = 'alert';
      put(d, 'rule.name', str(e['note']));
      put(d, 'message', str(e['msg']));
      put(d, 'source.ip', str(e['src']));
      put(d, 'destination.ip', str(e['dst']));
      break;
    case 'x509':
      putHashByLength(d, 'file', e['fingerprint']);
      put(d, 'x509.subject.distinguished_name', str(e['certificate.subject']));
      put(d, 'x509.issuer.distinguished_name', str(e['certificate.issuer']));
      break;
    case 'ftp': case 'ntlm': case 'kerberos':
      put(d, 'user.name', str(e['user'] ?? e['username'] ?? e['client']));
      break;
    default:
      break;
  }
  push(d, 'related.ip', d['source.ip'] as string | undefined);
  push(d, 'related.ip', d['destination.ip'] as string | undefined);
  d['logsource'] = { product: 'zeek', service: path };
  return null;
}
