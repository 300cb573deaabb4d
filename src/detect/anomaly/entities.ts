/**
 * What counts as one entity value: public destination addresses only, registered domains (a
 * short built-in list of two-label public suffixes stands in for the Public Suffix List), and
 * executable paths folded so one program is one value on every user's profile.
 */

/** 32-bit IPv4 value, or -1 (dotted decimal only). */
function ipv4(s: string, from = 0): number {
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + octet;
}

const V4_BLOCKS: readonly (readonly [number, number])[] = [
  [0x00000000, 8], // "this network"
  [0x0a000000, 8], // RFC 1918
  [0x64400000, 10], // RFC 6598 carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local
  [0xac100000, 12], // RFC 1918
  [0xc0a80000, 16], // RFC 1918
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved + broadcast
];

/** [first, end) of each block, flat, for a cheap per-event check. */
const V4_NOT_PUBLIC = new Float64Array(V4_BLOCKS.flatMap(([net, bits]) => [net, net + 2 ** (32 - bits)]));

/**
 * The address in canonical text if it is a public (internet-routable) address, else null.
 * Documentation ranges (192.0.2.0/24 …) count as public: they never occur in real internal
 * traffic, and tests and exercises use them for "external" hosts.
 */
export function publicIp(s: string): string | null {
  const v4 = ipv4(s);
  if (v4 >= 0) {
    for (let i = 0; i < V4_NOT_PUBLIC.length; i += 2) {
      if (v4 >= (V4_NOT_PUBLIC[i] ?? 0) && v4 < (V4_NOT_PUBLIC[i + 1] ?? 0)) return null;
    }
    return s;
  }
  if (s.indexOf(':') < 0 || s.length > 45) return null;
  const low = s.toLowerCase();
  if (low.startsWith('::ffff:')) {
    const m = ipv4(low, 7);
    return m >= 0 ? publicIp(low.slice(7)) : null;
  }
  if (low === '::' || low === '::1') return null;
  const head = parseInt(low.slice(0, low.indexOf(':')) || '0', 16);
  if (!Number.isFinite(head)) return null;
  if ((head & 0xfe00) === 0xfc00) return null; // fc00::/7 unique local
  if ((head & 0xffc0) === 0xfe80) return null; // fe80::/10 link-local
  if ((head & 0xff00) === 0xff00) return null; // multicast
  if (!/^[0-9a-f:.]+$/.test(low)) return null;
  return low;
}

/** Second-level labels under which registrations happen (a subset of the Public Suffix List). */
const TWO_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'ltd.uk', 'plc.uk', 'me.uk', 'net.uk', 'nhs.uk', 'police.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'govt.nz', 'co.jp', 'ne.jp',
  'or.jp', 'ac.jp', 'go.jp', 'co.kr', 'or.kr', 'com.cn', 'net.cn', 'org.cn', 'gov.cn', 'com.hk',
  'com.tw', 'com.sg', 'com.my', 'co.in', 'net.in', 'org.in', 'gov.in', 'co.id', 'co.th', 'com.vn',
  'com.br', 'net.br', 'org.br', 'gov.br', 'com.ar', 'com.mx', 'com.co', 'com.pe', 'co.za', 'org.za',
  'gov.za', 'com.tr', 'gov.tr', 'com.ua', 'gov.ua', 'com.pl', 'net.pl', 'org.pl', 'gov.pl', 'co.il',
  'gov.il', 'com.eg', 'com.sa', 'gov.sa', 'com.ru', 'gov.ru', 'co.at', 'or.at', 'gv.at', 'ac.at',
  'co.hu', 'com.pt', 'gov.pt', 'com.es', 'gob.es', 'com.gr', 'gov.gr', 'gov.lt', 'gov.lv', 'gov.ee',
  'com.cy', 'gov.cy', 'blogspot.com', 'github.io', 'herokuapp.com', 'azurewebsites.net',
  'cloudfront.net', 'amazonaws.com', 'appspot.com', 'firebaseapp.com', 'pages.dev', 'workers.dev',
  'netlify.app', 'vercel.app', 'ngrok.io', 'duckdns.org', 'no-ip.org', 'ddns.net',
]);

/** Names that only make sense inside an organisation (or are reverse lookups). */
const INTERNAL_TLDS = new Set(['local', 'localhost', 'localdomain', 'lan', 'internal', 'intranet', 'home', 'corp', 'arpa', 'invalid', 'test']);

const LABEL_CHARS = /^[a-z0-9_.-]+$/;

/**
 * Registered domain of a host name ("www.mail.evil.example." → "evil.example"), lower case; null
 * for bare hosts, IP literals, internal names and anything not shaped like a DNS name.
 */
export function registeredDomain(name: string): string | null {
  let s = name.length > 253 ? '' : name.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  const last = s.lastIndexOf('.');
  if (last <= 0 || last === s.length - 1) return null;
  if (!LABEL_CHARS.test(s)) return null;
  const tld = s.slice(last + 1);
  if (INTERNAL_TLDS.has(tld) || /^[0-9]+$/.test(tld)) return null;
  const second = s.lastIndexOf('.', last - 1);
  if (second < 0) return s;
  if (TWO_LABEL_SUFFIXES.has(s.slice(second + 1))) {
    const third = s.lastIndexOf('.', second - 1);
    return third < 0 ? s : s.slice(third + 1);
  }
  return s.slice(second + 1);
}

/** Top-level label of a DNS name (lower case), null for internal or malformed names. */
export function tldOf(name: string): string | null {
  let s = name.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  const last = s.lastIndexOf('.');
  if (last <= 0 || last === s.length - 1) return null;
  const tld = s.slice(last + 1);
  if (INTERNAL_TLDS.has(tld) || !/^[a-z0-9-]+$/.test(tld) || /^[0-9]+$/.test(tld)) return null;
  return tld;
}

const WIN_USER = /^([a-z]:\\(?:users|documents and settings)\\)[^\\]+\\/;
const NIX_USER = /^(\/home\/|\/users\/)[^/]+\//i;

/**
 * Executable path as one value: Windows paths lower case (NTFS is case-insensitive) and the
 * profile folder of any user folded to `*`, so `C:\Users\alice\AppData\…\Teams.exe` and bob's copy
 * are the same program.
 */
export function executableKey(path: string): string {
  const c = path.charCodeAt(0);
  const windows = path.indexOf('\\') >= 0 || (path.length > 1 && path.charCodeAt(1) === 58 && ((c | 32) >= 97 && (c | 32) <= 122));
  if (windows) return path.toLowerCase().replace(WIN_USER, '$1*\\');
  return NIX_USER.test(path) ? path.replace(NIX_USER, '$1*/') : path;
}

/** Last path component (either separator). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/**
 * Bounded memo of a pure string function (names and addresses repeat heavily in telemetry); it
 * is emptied when full, which changes speed, never results.
 */
export class Memo {
  private readonly m = new Map<string, string | null>();

  constructor(
    private readonly fn: (s: string) => string | null,
    private readonly max = 65_536,
  ) {}

  get(s: string): string | null {
    const hit = this.m.get(s);
    if (hit !== undefined) return hit;
    const v = this.fn(s);
    if (this.m.size >= this.max) this.m.clear();
    this.m.set(s, v);
    return v;
  }
}
