/**
 * Value helpers for Sigma modifiers: byte encodings (`wide`/`utf16*`, `base64`, `base64offset`),
 * CIDR networks (`cidr`), and date parts (`minute`..`year`, spec v2.1 appendix).
 * Byte strings are carried as "binary" JS strings (one char per byte, latin1).
 */
import { isIP } from 'node:net';

export function utf16le(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c & 0xff, c >> 8);
  }
  return out;
}

export function utf16be(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >> 8, c & 0xff);
  }
  return out;
}

function bytesOf(s: string, binary: boolean): Buffer {
  return Buffer.from(s, binary ? 'latin1' : 'utf8');
}

export function base64(s: string, binary: boolean): string {
  return bytesOf(s, binary).toString('base64');
}

/**
 * The three `base64offset` variants (spec appendix / pySigma): for i = 0..2, encode i leading
 * pad bytes plus the value and cut the characters that depend on the pad or on what follows.
 */
export function base64offset(s: string, binary: boolean): string[] {
  const v = bytesOf(s, binary);
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), v]).toString('base64');
    const e = end[(v.length + i) % 3];
    out.push(enc.slice(start[i], e));
  }
  return out;
}

/** An IPv4 or IPv6 network as a bigint range. */
export interface Network {
  readonly v6: boolean;
  readonly base: bigint;
  readonly mask: bigint;
}

function ipv4ToBig(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function ipv6ToBig(s: string): bigint | undefined {
  let addr = s;
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (m) {
    const v4 = ipv4ToBig(m[2] as string);
    addr = `${m[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] as string).split(':')) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (groups.length !== 8) return undefined;
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** Parse an address to {v6, value}; undefined when not an IP address. */
export function parseIp(s: string): { v6: boolean; value: bigint } | undefined {
  const t = s.trim();
  const kind = isIP(t.split('%')[0] ?? '');
  if (kind === 4) return { v6: false, value: ipv4ToBig(t) };
  if (kind === 6) {
    const value = ipv6ToBig(t);
    if (value === undefined) return undefined;
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) also matches IPv4 networks.
    if (value >> 32n === 0xffffn) return { v6: false, value: value & 0xffffffffn };
    return { v6: true, value };
  }
  return undefined;
}

export function parseCidr(s: string): Network | undefined {
  const [addr, lenText] = s.trim().split('/');
  if (addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (ip === undefined) return undefined;
  const bits = ip.v6 ? 128 : 32;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits || (lenText !== undefined && !/^\d+$/.test(lenText))) return undefined;
  const all = (1n << BigInt(bits)) - 1n;
  const mask = len === 0 ? 0n : (all << BigInt(bits - len)) & all;
  return { v6: ip.v6, base: ip.value & mask, mask };
}

export function inNetwork(net: Network, ip: { v6: boolean; value: bigint }): boolean {
  return net.v6 === ip.v6 && (ip.value & net.mask) === net.base;
}

export type DatePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
export const DATE_PARTS: readonly DatePart[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];

/**
 * Extract a date part (UTC; the spec defines no time zone handling). `week` is the ISO 8601 week
 * number, `day` the day of the month. Undefined when the value is not a parsable date.
 */
export function datePart(v: string, part: DatePart): number | undefined {
  const t = parseDate(v);
  if (!Number.isFinite(t)) return undefined;
  const d = new Date(t);
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    case 'week': {
      const day = (d.getUTCDay() + 6) % 7; // Monday = 0
      const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
      const jan4 = new Date(Date.UTC(new Date(thursday).getUTCFullYear(), 0, 4));
      const firstThursday = Date.UTC(jan4.getUTCFullYear(), 0, 4 - ((jan4.getUTCDay() + 6) % 7) + 3);
      return 1 + Math.round((thursday - firstThursday) / (7 * 86400000));
    }
  }
}

/** Epoch seconds/milliseconds or an ISO-like date; a date-time without zone is taken as UTC. */
export function parseDate(v: string): number {
  const s0 = v.trim();
  if (/^\d+(\.\d+)?$/.test(s0)) {
    const n = Number(s0);
    return n < 1e11 ? n * 1000 : n;
  }
  let s = /^\d{4}-\d\d-\d\d \d/.test(s0) ? s0.replace(' ', 'T') : s0;
  if (/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)) s += 'Z';
  return Date.parse(s);
}

/** A number from an event or rule value; undefined when not numeric. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return undefined;
    const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
