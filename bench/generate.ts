/**
 * Deterministic generator of realistic STIX 2.1 indicators for the benchmarks and the
 * durability test: valid objects with valid STIX patterns (§9), in the mix a national CERT
 * feed carries: IPv4 addresses and ranges, domain names, URLs and file hashes.
 */
import type { Tlp } from '../src/core/policy.js';
import { tlpMarkingId } from '../src/stix/index.js';

import { prng } from '../src/core/random.js';

export { prng };

const HEX = '0123456789abcdef';

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[Math.floor(rand() * 16)];
  return s;
}

/** A random RFC 4122 version-4 UUID (STIX 2.1 §2.9 requires v4 for non-SCO ids). */
export function uuid4(rand: () => number): string {
  const variant = HEX[8 + Math.floor(rand() * 4)];
  return `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-${variant}${hex(rand, 3)}-${hex(rand, 12)}`;
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const WORDS = ['update', 'secure', 'login', 'cdn', 'mail', 'portal', 'sync', 'cloud', 'auth', 'files', 'static', 'api', 'vpn', 'office', 'news', 'gov'];
const TLDS = ['com', 'net', 'org', 'info', 'ru', 'cn', 'io', 'xyz', 'top', 'biz'];
const FAMILIES = ['Emotet', 'QakBot', 'Cobalt Strike', 'AgentTesla', 'Sandworm tooling', 'APT28 relay', 'IcedID', 'njRAT', 'Mirai', 'LockBit'];
const INDICATOR_TYPES = ['malicious-activity', 'anomalous-activity', 'attribution', 'compromised'] as const;

function domain(rand: () => number): string {
  return `${pick(rand, WORDS)}-${hex(rand, 5)}.${pick(rand, WORDS)}.${pick(rand, TLDS)}`;
}

function ipv4(rand: () => number): string {
  // Avoid 0.x, 10.x, 127.x and multicast; real feeds carry public addresses.
  const first = pick(rand, [5, 23, 31, 37, 45, 62, 77, 91, 103, 139, 141, 176, 185, 193, 194, 212]);
  return `${first}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`;
}

/** One observable expression and a short name describing it. */
function observable(rand: () => number): { pattern: string; name: string } {
  const r = rand();
  if (r < 0.3) {
    const ip = ipv4(rand);
    return { pattern: `[ipv4-addr:value = '${ip}']`, name: `C2 address ${ip}` };
  }
  if (r < 0.35) {
    const net = `${ipv4(rand).split('.').slice(0, 3).join('.')}.0/24`;
    return { pattern: `[ipv4-addr:value ISSUBSET '${net}']`, name: `Hosting range ${net}` };
  }
  if (r < 0.62) {
    const d = domain(rand);
    return { pattern: `[domain-name:value = '${d}']`, name: `Malicious domain ${d}` };
  }
  if (r < 0.78) {
    const u = `https://${domain(rand)}/${pick(rand, WORDS)}/${hex(rand, 10)}.php`;
    return { pattern: `[url:value = '${u}']`, name: `Phishing URL ${u.slice(8, 40)}` };
  }
  if (r < 0.93) {
    const h = hex(rand, 64);
    return { pattern: `[file:hashes.'SHA-256' = '${h}']`, name: `Payload ${h.slice(0, 12)}` };
  }
  const md5 = hex(rand, 32);
  const sha1 = hex(rand, 40);
  return { pattern: `[file:hashes.MD5 = '${md5}' OR file:hashes.'SHA-1' = '${sha1}']`, name: `Dropper ${md5.slice(0, 12)}` };
}

export interface IndicatorOptions {
  /** Seed of the PRNG; the same seed gives the same objects. */
  seed: number;
  /** TLP marking to put on each object (by index), or null for none. */
  tlpOf?: (i: number) => Tlp | null;
  /** Base time of `created` (ms since the epoch). */
  baseMs?: number;
}

/** `n` indicators, valid STIX 2.1 (§4.7) with valid STIX patterns. */
export function generateIndicators(n: number, opts: IndicatorOptions): Record<string, unknown>[] {
  const rand = prng(opts.seed);
  const base = opts.baseMs ?? Date.UTC(2026, 0, 1);
  const out: Record<string, unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { pattern, name } = observable(rand);
    const created = new Date(base + Math.floor(rand() * 300 * 86_400_000)).toISOString();
    const family = pick(rand, FAMILIES);
    const tlp = opts.tlpOf ? opts.tlpOf(i) : 'green';
    const o: Record<string, unknown> = {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${uuid4(rand)}`,
      created,
      modified: created,
      name,
      description: `Observed in ${family} activity against alliance networks.`,
      indicator_types: [pick(rand, INDICATOR_TYPES)],
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: created,
      labels: [family.toLowerCase().replace(/\s+/g, '-')],
      confidence: 50 + Math.floor(rand() * 50),
    };
    if (tlp) o.object_marking_refs = [tlpMarkingId(tlp)];
    out[i] = o;
  }
  return out;
}

/** A realistic TLP mix for an import: mostly GREEN and CLEAR, some AMBER, little RED. */
export function feedTlp(i: number): Tlp | null {
  const r = (i * 2654435761) % 100;
  if (r < 25) return 'clear';
  if (r < 70) return 'green';
  if (r < 90) return 'amber';
  if (r < 95) return 'amber+strict';
  return 'red';
}
