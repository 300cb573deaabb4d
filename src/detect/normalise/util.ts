/** Small helpers shared by the format normalisers: value coercion, timestamps, bounds. */
import { digits } from '../../core/time.js';
import { ipv6Groups, ipv6GroupsText } from '../../stix/pattern/cidr.js';
import type { EventLogsource } from './types.js';

export type Obj = Record<string, unknown>;
/** The event under construction (see `NormalisedEvent`). */
export type Draft = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A non-empty string, or a finite number as text; undefined otherwise. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' || v === '-' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** An integer from a number or a decimal string (Windows events carry ports as text). */
export function int(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

/** Sets `key` only when the value is present (undefined is skipped). */
export function put(d: Draft, key: string, v: unknown): void {
  if (v !== undefined) d[key] = v;
}

/** Appends to a string-array field, without duplicates. */
export function push(d: Draft, key: string, v: string | undefined): void {
  if (v === undefined) return;
  const cur = d[key];
  if (Array.isArray(cur)) {
    if (!cur.includes(v)) cur.push(v);
  } else d[key] = [v];
}

/** Lower-case hex digest (ECS keeps hashes lower case); undefined when not hex of a digest length. */
export function hexHash(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const h = v.includes(':') ? v.replaceAll(':', '') : v;
  if (!/^[0-9a-fA-F]{32,128}$/.test(h)) return undefined;
  return h.toLowerCase();
}

/** Puts md5/sha1/sha256/sha512 by digest length under `<prefix>.hash.*`. */
export function putHashByLength(d: Draft, prefix: string, v: unknown): void {
  const h = hexHash(v);
  if (h === undefined) return;
  const algo = h.length === 32 ? 'md5' : h.length === 40 ? 'sha1' : h.length === 64 ? 'sha256' : h.length === 128 ? 'sha512' : undefined;
  if (algo !== undefined) d[`${prefix}.hash.${algo}`] = h;
}

// Date.UTC / Date.parse / toISOString cost about a microsecond each in V8, as much as the rest
// of normalising an EVE line; timestamps are therefore converted with civil-calendar arithmetic
// (H. Hinnant, "chrono-compatible low-level date algorithms", days_from_civil / civil_from_days).

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds since the epoch from `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh[:]mm]` (no zone = UTC:
 * Sysmon's UtcTime); NaN when malformed. Suricata writes `+0100`, Zeek and Sysmon `Z`.
 */
export function isoToMs(s: string): number {
  if (s.length < 19 || s.length > 40) return NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  const sep = s.charCodeAt(10);
  if (y < 0 || mo < 1 || mo > 12 || day < 1 || day > (DAYS_IN_MONTH[mo - 1] ?? 0) || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 32) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN;
  if (mo === 2 && day === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  let ms = (daysFromCivil(y, mo, day) * 86400 + h * 3600 + mi * 60 + se) * 1000;
  let i = 19;
  const dot = s.charCodeAt(i);
  if (dot === 46 || dot === 44) {
    i++;
    let frac = 0;
    let n = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (n < 3) frac = frac * 10 + c;
      n++;
      i++;
    }
    if (n === 0 || n > 9) return NaN;
    ms += n >= 3 ? frac : frac * (n === 1 ? 100 : 10);
  }
  while (s.charCodeAt(i) === 32) i++;
  if (i === s.length) return ms;
  const z = s.charCodeAt(i);
  if (z === 90 && i === s.length - 1) return ms; // 'Z'
  if (z !== 43 && z !== 45) return NaN;
  const rest = s.length - i - 1;
  const zh = digits(s, i + 1, 2);
  const zm = rest === 4 ? digits(s, i + 3, 2) : rest === 5 && s.charCodeAt(i + 3) === 58 ? digits(s, i + 4, 2) : -1;
  if (zh < 0 || zh > 23 || zm < 0 || zm > 59) return NaN;
  return ms - (z === 45 ? -1 : 1) * (zh * 60 + zm) * 60_000;
}

/** Epoch numbers: seconds (Zeek `ts`), milliseconds or microseconds, told apart by magnitude. */
export function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n < 0) return NaN;
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  return n / 1000;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

// Telemetry arrives in time order, many events per second: the text up to the seconds is reused.
let cachedSecond = NaN;
let cachedPrefix = '';

/** `YYYY-MM-DDThh:mm:ss.sssZ` for years 0..9999 (what toISOString gives, without its cost). */
export function formatIso(ms: number): string {
  const t = Math.floor(ms);
  const second = Math.floor(t / 1000);
  const milli = t - second * 1000;
  const frac = `.${milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : milli}Z`;
  if (second === cachedSecond) return cachedPrefix + frac;
  cachedPrefix = formatSecond(second * 1000);
  cachedSecond = second;
  return cachedPrefix + frac;
}

/** `YYYY-MM-DDThh:mm:ss` of a whole second. */
function formatSecond(t: number): string {
  const days = Math.floor(t / 86400000);
  let rem = t - days * 86400000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3600000);
  rem -= h * 3600000;
  const mi = Math.floor(rem / 60000);
  rem -= mi * 60000;
  const se = Math.floor(rem / 1000);
  const ys = y < 1000 ? String(y).padStart(4, '0') : String(y);
  return `${ys}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(se)}`;
}

const MIN_MS = -62135596800000; // 0001-01-01
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999

// The last timestamp written, so that reading it back (indicator matching right after
// normalising) costs a string comparison instead of a parse.
let lastIso = '';
let lastMs = NaN;

/** The milliseconds `timestamp` writes for `v`; NaN when it would refuse it. */
function timestampValueMs(v: unknown): number {
  const ms = typeof v === 'number' ? epochToMs(v) : typeof v === 'string' ? isoToMs(v) : NaN;
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : NaN;
}

/**
 * Elasticsearch's default date format, `strict_date_optional_time||epoch_millis` (the format of
 * an ECS `@timestamp` field mapped without one), and nothing more; NaN when it would refuse `v`.
 * - strict_date_optional_time (Elasticsearch `Iso8601Parser`): `yyyy`, `yyyy-MM`, `yyyy-MM-dd`,
 *   then optionally `T`, `HH`, `:mm`, `:ss`, a fraction of 1-9 digits after `.` or `,`; a zone
 *   (`Z`, `±HH`, `±HHmm`, `±HH:mm`, `±HHmmss`, `±HH:mm:ss`) only after the hour; missing fields
 *   are the first month / day and zero; no zone is UTC. `T` only (no space), seconds up to 59.
 * - epoch_millis: a JSON number, or text of 1-19 digits with an optional `-` and up to 6 decimals.
 * Zone region names (`Europe/Paris`) are not read (refused, where Elasticsearch reads them).
 */
export function esDateMs(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.floor(v) : NaN;
  if (typeof v !== 'string') return NaN;
  const m = ES_DATE.exec(v);
  if (m === null) return ES_MILLIS.test(v) ? Math.floor(Number(v)) : NaN;
  const y = Number(m[1]);
  const mo = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const se = m[6] === undefined ? 0 : Number(m[6]);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (mo < 1 || mo > 12 || day < 1 || day > (DAYS_IN_MONTH[mo - 1] ?? 0) || (mo === 2 && day === 29 && !leap) || h > 23 || mi > 59 || se > 59) return NaN;
  const frac = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const rest = zone.slice(3).replaceAll(':', '');
    const zm = rest === '' ? 0 : Number(rest.slice(0, 2));
    const zs = rest.length > 2 ? Number(rest.slice(2)) : 0;
    const total = zh * 3600 + zm * 60 + zs;
    // java.time ZoneOffset: at most ±18:00, minutes and seconds below 60.
    if (zm > 59 || zs > 59 || total > 18 * 3600) return NaN;
    offset = (zone.charCodeAt(0) === 45 ? -1 : 1) * total * 1000;
  }
  return (daysFromCivil(y, mo, day) * 86400 + h * 3600 + mi * 60 + se) * 1000 + frac - offset;
}

const ES_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?:\d{2}(?:\d{2})?|:\d{2}(?::\d{2})?)?)?)?)?)?)?$/;
const ES_MILLIS = /^-?\d{1,19}(?:\.\d{1,6})?$/;

/** `@timestamp` text of an ECS document's `@timestamp` as Elasticsearch reads it (esDateMs); undefined when refused. */
export function esTimestamp(v: unknown): string | undefined {
  const ms = esDateMs(v);
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return undefined;
  lastIso = formatIso(ms);
  lastMs = ms;
  return lastIso;
}

/** True when `timestamp(v)` would give a timestamp (without writing it). */
export function isTimestamp(v: unknown): boolean {
  return !Number.isNaN(timestampValueMs(v));
}

/** `@timestamp` text (UTC, millisecond precision) from a string or epoch number; undefined when malformed. */
export function timestamp(v: unknown): string | undefined {
  const ms = timestampValueMs(v);
  if (Number.isNaN(ms)) return undefined;
  lastIso = formatIso(ms);
  lastMs = Math.floor(ms);
  return lastIso;
}

/** Milliseconds of a `@timestamp` (as `timestamp` writes it, or any ISO text); NaN when malformed. */
export function timestampMs(iso: string): number {
  return iso === lastIso ? lastMs : isoToMs(iso);
}

/**
 * An upper bound on the nesting depth of a JSON text: its number of `{` and `[` (counted up to
 * `limit + 1`, with the native indexOf). Lines under the limit skip the walk of the parsed value.
 */
export function openers(text: string, limit: number): number {
  let n = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i >= 0 && n <= limit; i = text.indexOf(c, i + 1)) n++;
  }
  return n;
}

/**
 * True when `v` nests deeper than `max` objects/arrays. Iterative with an explicit stack, so a
 * hostile line cannot exhaust the call stack; stops at the first too-deep node.
 */
export function tooDeep(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  const stack: unknown[] = [v];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const cur = stack.pop();
    const depth = depths.pop() ?? 0;
    if (depth > max) return true;
    if (Array.isArray(cur)) {
      for (const x of cur) if (x !== null && typeof x === 'object') { stack.push(x); depths.push(depth + 1); }
    } else if (cur !== null && typeof cur === 'object') {
      for (const k in cur) {
        const x = (cur as Obj)[k];
        if (x !== null && typeof x === 'object') { stack.push(x); depths.push(depth + 1); }
      }
    }
  }
  return false;
}

/** The common head of every normalised event. */
export function head(ctx: { orgId: string; sensorId: string }, ts: string, module: string, dataset: string): Draft {
  return {
    '@timestamp': ts,
    'event.kind': 'event',
    'event.category': [],
    'event.type': [],
    'event.dataset': dataset,
    'event.module': module,
    'organization.id': ctx.orgId,
    'observer.id': ctx.sensorId,
  };
}

/** `DOMAIN\user` → user.name + user.domain. */
export function putUser(d: Draft, v: unknown): void {
  const s = str(v);
  if (s === undefined) return;
  const i = s.indexOf('\\');
  if (i > 0 && i < s.length - 1) {
    d['user.domain'] = s.slice(0, i);
    d['user.name'] = s.slice(i + 1);
  } else d['user.name'] = s;
}

/** Last path component of a Windows or POSIX path. */
export function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/**
 * One text per address, so that an indicator's exact key and the anomaly baselines see the same
 * string whatever the sensor wrote: IPv6 in the RFC 5952 §4 form (lower case, no leading zeros,
 * the longest run of two or more zero groups as `::`), where Suricata writes every group in full
 * (`fe80:0000:…:0002`) and Sysmon writes zero groups (`fe80:0:0:0:…`); an IPv4-mapped address
 * (`::ffff:10.0.0.5`, as Windows logon events write IPv4 clients) as its IPv4 address, as
 * Elasticsearch's ip type shows it. Anything else (IPv4, a host name, a malformed or zoned
 * address) is returned unchanged; an IPv4 address costs one scan for ':'.
 */
export function canonicalIp(v: string): string {
  if (!v.includes(':')) return v;
  if (!parseV6(v)) {
    // An embedded IPv4 tail (`::ffff:10.0.0.5`, rare in telemetry) by the grammar's parser; a zone or a malformed text as is.
    const g = ipv6Groups(v);
    if (g === null) return v;
    for (let k = 0; k < 8; k++) G[k] = g[k] ?? 0;
  }
  if (G[0] === 0 && G[1] === 0 && G[2] === 0 && G[3] === 0 && G[4] === 0 && G[5] === 0xffff) {
    const hi = G[6]!;
    const lo = G[7]!;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const out = ipv6GroupsText(G);
  return out === v ? v : out;
}

/** The groups of the address canonicalIp is writing (one call at a time: it never yields). */
const G = new Int32Array(8);

/**
 * Reads an IPv6 text of hex groups with at most one `::` (no IPv4 tail, no zone) into G, in one
 * pass without allocating; false when the text is not one (the caller then tries the grammar's
 * parser, which also reads IPv4 tails). A sensor's address costs ~0.1 µs here against ~1 µs by
 * splitting and regular expressions.
 */
function parseV6(v: string): boolean {
  const n = v.length;
  if (n < 2 || n > 39) return false;
  let count = 0;
  let dbl = -1;
  let i = 0;
  if (v.charCodeAt(0) === 58) {
    if (v.charCodeAt(1) !== 58) return false;
    dbl = 0;
    i = 2;
  }
  while (i < n) {
    let val = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      if (++digits > 4) return false;
      val = val * 16 + d;
    }
    if (digits === 0 || count === 8) return false;
    G[count++] = val;
    if (i === n) break;
    if (v.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && v.charCodeAt(i) === 58) {
      if (dbl >= 0) return false;
      dbl = count;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (dbl < 0) return count === 8;
  if (count > 7) return false;
  // The groups after `::` move to the end; zeros fill the gap.
  const after = count - dbl;
  for (let k = 0; k < after; k++) G[7 - k] = G[count - 1 - k]!;
  for (let k = dbl; k < 8 - after; k++) G[k] = 0;
  return true;
}

/**
 * `str(v)` in lower case, for host and domain names: DNS compares names without case (RFC 4343)
 * and resolvers randomise the case of the names they query ("DNS 0x20"), so a sensor may log
 * `wWw.ExAmple.COM`; indicators' names are folded the same way (indicators/canonical.ts).
 */
export function nameStr(v: unknown): string | undefined {
  const s = str(v);
  return s === undefined ? undefined : s.toLowerCase();
}

/** `str(v)` as a canonical address text (see canonicalIp). */
export function ipStr(v: unknown): string | undefined {
  const s = str(v);
  return s === undefined ? undefined : canonicalIp(s);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Loose IP test for telling resolved addresses from names in DNS answers. */
export function looksLikeIp(s: string): boolean {
  return IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

/** product → service → category ('' for none) → the shared object. */
const LOGSOURCES = new Map<string, Map<string, Map<string, EventLogsource>>>();
let logsourceCount = 0;

/**
 * One shared, frozen logsource object per (product, category, service): Sigma routing caches its
 * decision per object (sigma/engine.ts), so events of one kind route without building a key.
 * Nested maps rather than one map of joined keys: a joined key is a new string per event that
 * must be flattened and hashed, where each part here is hashed once per string.
 */
export function logsource(product: string, category: string | undefined, service: string): EventLogsource {
  const cat = category ?? '';
  const known = LOGSOURCES.get(product)?.get(service)?.get(cat);
  if (known !== undefined) return known;
  const ls: EventLogsource = Object.freeze(category === undefined ? { product, service } : { product, category, service });
  // Bounded: products and services come from event content (syslog app names, CEF vendors).
  if (logsourceCount < 10_000) {
    let byService = LOGSOURCES.get(product);
    if (byService === undefined) LOGSOURCES.set(product, (byService = new Map()));
    let byCategory = byService.get(service);
    if (byCategory === undefined) byService.set(service, (byCategory = new Map()));
    byCategory.set(cat, ls);
    logsourceCount++;
  }
  return ls;
}
