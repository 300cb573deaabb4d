import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import { canonicalIp, formatIso, isoToMs, openers, timestamp, tooDeep } from './util.js';
import { ipv6Groups } from '../../stix/pattern/cidr.js';

describe('timestamp arithmetic', () => {
  it('formats and parses exactly as Date does over years 1..9999 (property)', () => {
    fc.assert(fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (ms) => {
      const iso = new Date(ms).toISOString();
      expect(formatIso(ms)).toBe(iso);
      expect(isoToMs(iso)).toBe(ms);
    }), { numRuns: 20000 });
  });

  it('reads offsets, spaces and fractions as sensors write them, and refuses the malformed', () => {
    expect(isoToMs('2017-01-30T16:12:36.066011+0100')).toBe(Date.parse('2017-01-30T15:12:36.066Z'));
    expect(isoToMs('2017-01-30T16:12:36-05:30')).toBe(Date.parse('2017-01-30T21:42:36Z'));
    expect(isoToMs('2025-11-27 07:40:10.132')).toBe(Date.parse('2025-11-27T07:40:10.132Z'));
    expect(isoToMs('2024-02-29T00:00:00Z')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    for (const bad of ['2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01', '2024-01-01T00:00:00+2500', '2024-01-01T00:00:00.Z', '2024-01-01T00:00:00Zjunk', 'x'.repeat(25)]) {
      expect(isoToMs(bad), bad).toBeNaN();
    }
    expect(timestamp(1521911720.5)).toBe('2018-03-24T17:15:20.500Z');
    expect(timestamp(1521911720500)).toBe('2018-03-24T17:15:20.500Z');
    expect(timestamp(-1)).toBeUndefined();
    expect(timestamp({})).toBeUndefined();
  });
});

describe('depth bounds', () => {
  it('counts openers as an upper bound of nesting and walks deep values without recursion', () => {
    expect(openers('{"a":[1,{"b":2}]}', 10)).toBe(3);
    expect(openers('['.repeat(100), 10)).toBe(11);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(tooDeep(deep, 32)).toBe(true);
    expect(tooDeep({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(tooDeep({ a: [{ b: {} }] }, 3)).toBe(true);
  });
});

describe('canonicalIp', () => {
  it('writes IPv6 as RFC 5952 §4 does, and an IPv4-mapped address as IPv4', () => {
    const cases: [string, string][] = [
      ['fe80:0000:0000:0000:0042:95ff:fea2:534a', 'fe80::42:95ff:fea2:534a'], // Suricata
      ['fe80:0:0:0:90e:17af:263c:5209', 'fe80::90e:17af:263c:5209'], // Sysmon
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:DB8::1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed (§4.2.2)
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run (§4.2.3)
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs
      ['0:0:0:0:0:0:0:0', '::'],
      ['::ffff:10.0.0.5', '10.0.0.5'],
      ['0:0:0:0:0:ffff:a00:5', '10.0.0.5'],
    ];
    for (const [input, want] of cases) expect(canonicalIp(input), input).toBe(want);
  });

  it('leaves IPv4, names, MAC addresses, zoned and malformed text as written', () => {
    for (const v of ['10.0.0.5', 'example.com', 'aa:bb:cc:dd:ee:ff', 'fe80::1%eth0', '1::2::3', 'gggg::1', '']) expect(canonicalIp(v)).toBe(v);
  });

  it('gives one text per address whatever form it is written in (property)', () => {
    fc.assert(fc.property(fc.ipV6(), (a) => {
      const c = canonicalIp(a);
      expect(isIP(c)).toBeGreaterThan(0);
      expect(canonicalIp(c)).toBe(c);
      const full = c.includes(':') ? expand(c) : null;
      if (full !== null) expect(canonicalIp(full.toUpperCase())).toBe(c);
    }), { numRuns: 3000 });
  });
});

describe('canonicalIp reads addresses by hand', () => {
  it('agrees with the grammar\'s parser on addresses and on near-addresses (differential, property)', () => {
    const near = fc.stringMatching(/^[0-9a-fA-F:.]{0,42}$/);
    const mutated = fc.tuple(fc.ipV6(), fc.nat(), fc.constantFrom(':', '::', '0', 'g', '.', 'F', '')).map(([a, i, c]) => {
      const k = i % (a.length + 1);
      return a.slice(0, k) + c + a.slice(k + 1);
    });
    fc.assert(fc.property(fc.oneof(fc.ipV6(), near, mutated), (v) => {
      expect(canonicalIp(v), v).toBe(reference(v));
    }), { numRuns: 20_000 });
  });
});

/** canonicalIp as first written: the grammar's parser (split and regular expressions), then RFC 5952. */
function reference(v: string): string {
  if (!v.includes(':')) return v;
  const g = ipv6Groups(v);
  if (g === null) return v;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  const out = best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
  return out === v ? v : out;
}

/** Every group of an IPv6 address written in full (Suricata's form). */
function expand(a: string): string {
  const [l = '', r] = a.split('::');
  const left = l === '' ? [] : l.split(':');
  const right = r === undefined || r === '' ? [] : r.split(':');
  const groups = r === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}
