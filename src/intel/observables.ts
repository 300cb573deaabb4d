/**
 * Observable values of STIX objects, normalised so that the same thing written two ways is one
 * value: SCOs (ipv4-addr, domain-name, url, email-addr, file hashes...) and the equality
 * comparisons of indicator patterns (`=`, `IN`, and `ISSUBSET` for IP blocks). Used by
 * correlation (same value in several objects) and warninglists (known-benign values).
 */
import { domainToASCII } from 'node:url';
import { collectObjectPaths, parseIpBlock, parsePattern, type IpBlock, type PathStep } from '../stix/pattern/index.js';
import { ipv6GroupsText } from '../stix/pattern/cidr.js';
import type { ObservableKind, ObservableValue } from '../store/index.js';

export type { ObservableKind, ObservableValue };
export const OBSERVABLE_KINDS: readonly ObservableKind[] = ['ip', 'domain', 'url', 'hash', 'email', 'string'];

/** Longest value kept (bytes): keeps the value indexes of both dialects well under their key limits. */
export const MAX_VALUE_BYTES = 1024;
/** At most this many values per object (an indicator with a 50,000-term OR list is one object, not 50,000 rows). */
export const MAX_VALUES_PER_OBJECT = 1000;

// ---- IP addresses ----

function hex(n: bigint, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** RFC 5952 text of a 128-bit address. */
function ipv6Text(v: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  return ipv6GroupsText(words);
}

function ipv4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String(Number((v >> s) & 0xffn))).join('.');
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address. */
function unmap(b: IpBlock): IpBlock {
  if (b.version === 6 && b.prefix >= 96 && b.network >> 32n === 0xffffn) {
    return { version: 4, network: b.network & 0xffffffffn, prefix: b.prefix - 96 };
  }
  return b;
}

/** Canonical text of an address (no prefix) or block (`net/prefix`, host bits cleared). */
export function ipBlockText(b: IpBlock): string {
  const width = b.version === 4 ? 32 : 128;
  const addr = b.version === 4 ? ipv4Text(b.network) : ipv6Text(b.network);
  return b.prefix === width ? addr : `${addr}/${b.prefix}`;
}

/** Sortable key of a block's network address: same version and width, so text order = numeric order. */
export function ipKeyOf(b: IpBlock): string {
  return b.version === 4 ? `v4:${hex(b.network, 8)}` : `v6:${hex(b.network, 32)}`;
}

/** The key of the last address in a block. */
export function ipKeyLast(b: IpBlock): string {
  const width = b.version === 4 ? 32 : 128;
  const last = b.network | ((1n << BigInt(width - b.prefix)) - 1n);
  return b.version === 4 ? `v4:${hex(last, 8)}` : `v6:${hex(last, 32)}`;
}

/** Parses an address or CIDR block (IPv4-mapped IPv6 becomes IPv4); null when it is not one. */
export function parseIp(text: string): IpBlock | null {
  const t = text.trim();
  const b = parseIpBlock(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
  return b ? unmap(b) : null;
}

/** Every block containing `b` with a shorter prefix (its supernets), as canonical text. */
export function supernetsOf(b: IpBlock, minPrefix = b.version === 4 ? 8 : 16): string[] {
  const width = b.version === 4 ? 32 : 128;
  const out: string[] = [];
  for (let p = b.prefix - 1; p >= minPrefix; p--) {
    const shift = BigInt(width - p);
    out.push(ipBlockText({ version: b.version, network: (b.network >> shift) << shift, prefix: p }));
  }
  return out;
}

// ---- normalisation ----

function domainText(raw: string): string | null {
  let d = raw.trim().toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d === '' || /\s/.test(d)) return null;
  // Internationalised names compare in their ASCII (punycode) form; '' = not a valid name.
  const ascii = domainToASCII(d);
  return ascii || d;
}

function urlText(raw: string): string {
  const t = raw.trim();
  try {
    // WHATWG URL parsing: lower-case scheme and host, default port dropped, path percent-encoded.
    return new URL(t).href;
  } catch {
    return t;
  }
}

function emailText(raw: string): string | null {
  const t = raw.trim();
  const at = t.lastIndexOf('@');
  if (at <= 0 || at === t.length - 1) return null;
  const domain = domainText(t.slice(at + 1));
  // The local part is case-sensitive in theory (RFC 5321 §2.4), never in practice.
  return domain ? `${t.slice(0, at).toLowerCase()}@${domain}` : null;
}

/**
 * The normalised value of a raw value of a kind, or null when it is not a value of that kind.
 * Domains and e-mail addresses lower-case (IDN as punycode), IPs canonical (RFC 5952, IPv4 for
 * mapped addresses, CIDR with host bits cleared), hashes lower-case hex, URLs WHATWG-normalised.
 */
export function normaliseValue(kind: ObservableKind, raw: string): ObservableValue | null {
  let value: string | null;
  let ip: IpBlock | null = null;
  switch (kind) {
    case 'ip':
      ip = parseIp(raw);
      value = ip ? ipBlockText(ip) : null;
      break;
    case 'domain':
      value = domainText(raw);
      break;
    case 'url':
      value = urlText(raw);
      break;
    case 'email':
      value = emailText(raw);
      break;
    case 'hash':
      value = raw.trim().toLowerCase();
      break;
    case 'string':
      value = raw.trim();
      break;
  }
  if (!value || Buffer.byteLength(value) > MAX_VALUE_BYTES) return null;
  return { kind, value, ipKey: ip ? ipKeyOf(ip) : null, ipPrefix: ip ? ip.prefix : null };
}

// ---- extraction ----

/** Object type + first property → kind, for SCO values and pattern paths alike. */
function kindOfPath(objectType: string, steps: readonly PathStep[]): ObservableKind | 'ip-or-domain' | null {
  const [first, second] = steps;
  switch (objectType) {
    case 'ipv4-addr':
    case 'ipv6-addr':
      return first === 'value' && steps.length === 1 ? 'ip' : null;
    case 'domain-name':
      return first === 'value' && steps.length === 1 ? 'domain' : null;
    case 'url':
      return first === 'value' && steps.length === 1 ? 'url' : null;
    case 'email-addr':
      return first === 'value' && steps.length === 1 ? 'email' : null;
    case 'mac-addr':
      return first === 'value' && steps.length === 1 ? 'string' : null;
    case 'mutex':
      return first === 'name' && steps.length === 1 ? 'string' : null;
    case 'windows-registry-key':
      return first === 'key' && steps.length === 1 ? 'string' : null;
    case 'file':
    case 'artifact':
    case 'x509-certificate':
      return first === 'hashes' && typeof second === 'string' && steps.length === 2 ? 'hash' : null;
    case 'email-message':
      return (first === 'from_ref' || first === 'sender_ref' || first === 'to_refs' || first === 'cc_refs') && steps[steps.length - 1] === 'value' ? 'email' : null;
    case 'network-traffic':
      return (first === 'dst_ref' || first === 'src_ref') && steps[steps.length - 1] === 'value' && steps.length === 2 ? 'ip-or-domain' : null;
    default:
      return null;
  }
}

/** Registry keys and MAC addresses compare case-insensitively; mutex names do not. */
function stringValue(objectType: string, raw: string): string {
  return objectType === 'windows-registry-key' || objectType === 'mac-addr' ? raw.toLowerCase() : raw;
}

function add(out: Map<string, ObservableValue>, kind: ObservableKind | 'ip-or-domain', raw: unknown, objectType: string): void {
  if (typeof raw !== 'string' || out.size >= MAX_VALUES_PER_OBJECT) return;
  // No real observable holds a NUL, and PostgreSQL text cannot: such a value is not indexed (on
  // any store), so it never fails the index's slice for everything stored after it.
  if (raw.includes('\u0000')) return;
  let v: ObservableValue | null;
  if (kind === 'ip-or-domain') v = normaliseValue(parseIp(raw) ? 'ip' : 'domain', raw);
  else v = normaliseValue(kind, kind === 'string' ? stringValue(objectType, raw) : raw);
  if (v) out.set(`${v.kind}\u0000${v.value}`, v);
}

function fromPattern(pattern: string, out: Map<string, ObservableValue>): void {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) return;
  for (const c of collectObjectPaths(parsed.ast)) {
    // Only what the pattern says the value IS: no negations, no ranges, LIKE or MATCHES.
    if (c.negated) continue;
    const kind = kindOfPath(c.objectType, c.path);
    if (!kind) continue;
    if (c.operator === '=' && c.value && !Array.isArray(c.value)) {
      const k = c.value as { kind: string; value: unknown };
      if (k.kind === 'string') add(out, kind, k.value, c.objectType);
    } else if (c.operator === 'IN' && Array.isArray(c.value)) {
      for (const k of c.value as readonly { kind: string; value: unknown }[]) if (k.kind === 'string') add(out, kind, k.value, c.objectType);
    } else if (c.operator === 'ISSUBSET' && kind === 'ip' && c.value && !Array.isArray(c.value)) {
      const k = c.value as { kind: string; value: unknown };
      if (k.kind === 'string') add(out, 'ip', k.value, c.objectType);
    }
  }
}

function hashesOf(h: unknown, out: Map<string, ObservableValue>, objectType: string): void {
  if (!h || typeof h !== 'object') return;
  for (const v of Object.values(h as Record<string, unknown>)) add(out, 'hash', v, objectType);
}

/** The normalised observable values of one STIX object (deduplicated, bounded). */
export function extractObservables(obj: Record<string, unknown>): ObservableValue[] {
  const out = new Map<string, ObservableValue>();
  const type = typeof obj.type === 'string' ? obj.type : '';
  if (type === 'indicator') {
    if ((obj.pattern_type === undefined || obj.pattern_type === 'stix') && typeof obj.pattern === 'string') fromPattern(obj.pattern, out);
    return [...out.values()];
  }
  switch (type) {
    case 'file':
    case 'artifact':
    case 'x509-certificate':
      hashesOf(obj.hashes, out, type);
      break;
    case 'mutex':
      add(out, 'string', obj.name, type);
      break;
    case 'windows-registry-key':
      add(out, 'string', obj.key, type);
      break;
    default: {
      const kind = kindOfPath(type, ['value']);
      if (kind) add(out, kind, obj.value, type);
    }
  }
  return [...out.values()];
}
