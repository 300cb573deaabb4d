/**
 * ArcSight Common Event Format: `[syslog header ]CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension`
 * (Micro Focus "Implementing ArcSight CEF" rev. 25). Header fields escape `\|` and `\\`;
 * extension values escape `\=`, `\\`, `\n`, `\r`, and a value runs up to the space before the
 * next `key=`. ECS mapping as in Elastic's CEF decoder (src → source.ip, request → url.original, ...).
 */
import type { Draft, Obj } from './util.js';
import { baseName, int, ipStr, isoToMs, logsource, nameStr, put, putHashByLength, str } from './util.js';

export interface CefRecord {
  readonly version: number;
  readonly deviceVendor: string;
  readonly deviceProduct: string;
  readonly deviceVersion: string;
  readonly signatureId: string;
  readonly name: string;
  readonly severity: string;
  readonly extensions: Readonly<Record<string, string>>;
}

function splitHeader(s: string): { fields: string[]; rest: string } | string {
  const fields: string[] = [];
  let cur = '';
  let i = 0;
  while (i < s.length && fields.length < 7) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '|' || s[i + 1] === '\\')) { cur += s[i + 1]; i += 2; continue; }
    if (c === '|') { fields.push(cur); cur = ''; i++; continue; }
    cur += c;
    i++;
  }
  if (fields.length < 7) return `CEF header has ${fields.length + 1} of 8 fields`;
  return { fields, rest: s.slice(i) };
}

const KEY = /(?:^|\s)([A-Za-z0-9_.[\]-]{1,64})=/g;

function unescapeValue(v: string): string {
  return v.replace(/\\([=\\nr|])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

function extensions(s: string): Record<string, string> | string {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  KEY.lastIndex = 0;
  for (let m = KEY.exec(s); m !== null; m = KEY.exec(s)) {
    // An escaped "\=" is part of a value, not a key boundary.
    if (s[m.index + m[0].length - 2] === '\\') continue;
    keys.push({ key: m[1] ?? '', start: m.index, valueStart: m.index + m[0].length });
  }
  if (keys.length === 0) return s.trim() === '' ? out : 'CEF extension is not a list of key=value pairs';
  if (s.slice(0, keys[0]?.start ?? 0).trim() !== '') return 'CEF extension starts with text that is not key=value';
  for (let k = 0; k < keys.length; k++) {
    const cur = keys[k];
    if (cur === undefined) continue;
    const end = keys[k + 1]?.start ?? s.length;
    out[cur.key] = unescapeValue(s.slice(cur.valueStart, end).trimEnd());
  }
  return out;
}

/** Parses the CEF part of a line (from `CEF:`). */
export function parseCef(s: string): { ok: true; value: CefRecord } | { ok: false; error: string } {
  if (!s.startsWith('CEF:')) return { ok: false, error: 'no "CEF:" prefix' };
  const h = splitHeader(s.slice(4));
  if (typeof h === 'string') return { ok: false, error: h };
  const [version, vendor, product, dversion, sig, name, severity] = h.fields as [string, string, string, string, string, string, string];
  if (!/^\d{1,3}$/.test(version)) return { ok: false, error: `CEF version "${version}" is not a number` };
  const ext = extensions(h.rest);
  if (typeof ext === 'string') return { ok: false, error: ext };
  return { ok: true, value: { version: Number(version), deviceVendor: vendor, deviceProduct: product, deviceVersion: dversion, signatureId: sig, name, severity, extensions: ext } };
}

const SEVERITY_WORDS: Readonly<Record<string, number>> = { low: 3, medium: 6, high: 8, 'very-high': 10 };

/** CEF `rt` / `start` / `end`: epoch ms, or `MMM dd[ yyyy] HH:mm:ss[.SSS][ zone]`; NaN when unknown. */
export function cefTimeMs(v: string): number {
  if (/^\d{10,13}$/.test(v)) return v.length === 13 ? Number(v) : Number(v) * 1000;
  const m = /^([A-Z][a-z]{2}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: (?:UTC|GMT|Z))?$/.exec(v);
  if (m !== null) {
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(m[1] ?? '');
    if (month < 0) return NaN;
    return Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0));
  }
  return isoToMs(v);
}

/** Fills `d` from a CEF record (timestamps are handled by the caller). */
export function putCef(d: Draft, c: CefRecord): void {
  const x = c.extensions;
  d['event.module'] = 'cef';
  d['event.dataset'] = 'cef.log';
  d['observer.vendor'] = c.deviceVendor;
  d['observer.product'] = c.deviceProduct;
  d['observer.version'] = c.deviceVersion;
  d['rule.id'] = c.signatureId;
  d['rule.name'] = c.name;
  d['message'] = x['msg'] ?? c.name;
  const sev = /^\d{1,2}$/.test(c.severity) ? Number(c.severity) : SEVERITY_WORDS[c.severity.toLowerCase()];
  if (sev !== undefined) d['event.severity'] = sev;
  put(d, 'source.ip', ipStr(x['src'] ?? x['c6a2']));
  put(d, 'source.port', int(x['spt']));
  put(d, 'source.domain', str(x['shost']));
  put(d, 'source.mac', str(x['smac']));
  put(d, 'destination.ip', ipStr(x['dst'] ?? x['c6a3']));
  put(d, 'destination.port', int(x['dpt']));
  put(d, 'destination.domain', nameStr(x['dhost']));
  put(d, 'destination.mac', str(x['dmac']));
  put(d, 'user.name', str(x['suser']));
  put(d, 'destination.user.name', str(x['duser']));
  const proto = str(x['proto']);
  if (proto !== undefined) d['network.transport'] = proto.toLowerCase();
  const req = str(x['request']);
  if (req !== undefined) {
    d['url.original'] = req;
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#:]+)(?::\d+)?([^?#]*)/i.exec(req);
    if (m !== null) { d['url.full'] = req; d['url.domain'] = m[2]; d['url.path'] = m[3] === '' ? '/' : m[3]; }
  }
  put(d, 'http.request.method', str(x['requestMethod']));
  put(d, 'user_agent.original', str(x['requestClientApplication']));
  const fname = str(x['fname']);
  if (fname !== undefined) d['file.name'] = baseName(fname);
  put(d, 'file.path', str(x['filePath']));
  put(d, 'file.size', int(x['fsize']));
  putHashByLength(d, 'file', x['fileHash']);
  put(d, 'event.action', str(x['act']));
  put(d, 'event.outcome', str(x['outcome'])?.toLowerCase());
  put(d, 'process.name', str(x['sproc']));
  put(d, 'process.pid', int(x['spid']));
  put(d, 'observer.hostname', str(x['dvchost']));
  put(d, 'observer.ip', str(x['dvc']));
  put(d, 'host.name', str(x['dvchost'] ?? x['shost']));
  d['event.category'] = ['network'];
  d['logsource'] = logsource(c.deviceProduct.toLowerCase(), undefined, 'cef');
}

export function cefOriginal(c: CefRecord, line: string): Obj {
  return { ...c.extensions, deviceVendor: c.deviceVendor, deviceProduct: c.deviceProduct, deviceVersion: c.deviceVersion, signatureId: c.signatureId, name: c.name, severity: c.severity, raw: line };
}
