/** Small helpers shared by the format normalisers: value coercion, timestamps, bounds. */

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

// YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh[:]mm]; Suricata writes `+0100`, Zeek and Sysmon `Z`,
// Sysmon's UtcTime has a space and no zone (UTC).
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Milliseconds since the epoch from an ISO-like string (no zone = UTC); NaN when malformed. */
export function isoToMs(s: string): number {
  const m = ISO.exec(s);
  if (m === null) return NaN;
  const mo = Number(m[2]);
  const day = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const se = Number(m[6]);
  if (mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || se > 60) return NaN;
  let ms = Date.UTC(Number(m[1]), mo - 1, day, h, mi, se);
  const frac = m[7];
  if (frac !== undefined) ms += Number(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0'));
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(zone.length - 2));
    if (zh > 23 || zm > 59) return NaN;
    ms -= sign * (zh * 60 + zm) * 60_000;
  }
  return ms;
}

/** Epoch numbers: seconds (Zeek `ts`), milliseconds or microseconds, told apart by magnitude. */
export function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n < 0) return NaN;
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  return n / 1000;
}

/** `@timestamp` text (UTC, millisecond precision) from a string or epoch number; undefined when malformed. */
export function timestamp(v: unknown): string | undefined {
  const ms = typeof v === 'number' ? epochToMs(v) : typeof v === 'string' ? isoToMs(v) : NaN;
  if (!Number.isFinite(ms) || ms < -62135596800000 || ms > 253402300799999) return undefined;
  return new Date(ms).toISOString();
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

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Loose IP test for telling resolved addresses from names in DNS answers. */
export function looksLikeIp(s: string): boolean {
  return IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}
