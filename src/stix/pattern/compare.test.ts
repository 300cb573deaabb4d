import { describe, expect, it } from 'vitest';
import type { ScoLike } from './index.js';
import { MAX_MATCHES_INPUT, evaluatePattern, formatPatternError, parsePattern } from './index.js';

/** Does the pattern match one observation holding `objects` (keyed '0', '1', …)? */
function holds(pattern: string, ...objects: ScoLike[]): boolean {
  const r = parsePattern(pattern);
  if (!r.ok) throw new Error(formatPatternError(pattern, r.error));
  const map = Object.fromEntries(objects.map((o, i) => [String(i), o]));
  return evaluatePattern(r.ast, [{ objects: map, time: 0 }]) !== null;
}

const file = (props: Record<string, unknown>): ScoLike => ({ type: 'file', ...props });

type Row = [pattern: string, object: ScoLike, expected: boolean];

const TABLE: Record<string, Row[]> = {
  '= and !=': [
    ["[file:name = 'a.exe']", file({ name: 'a.exe' }), true],
    ["[file:name = 'a.exe']", file({ name: 'A.exe' }), false],
    ["[file:name = 'a.exe']", { type: 'process', name: 'a.exe' }, false],
    ['[file:size = 10]', file({ size: 10 }), true],
    ['[file:size = 10.0]', file({ size: 10 }), true],
    ["[file:size = '10']", file({ size: 10 }), false],
    ['[file:x = true]', file({ x: true }), true],
    ['[file:x = false]', file({ x: true }), false],
    ["[file:name != 'a']", file({ name: 'b' }), true],
    ["[file:name != 'a']", file({ name: 'a' }), false],
    ["[file:name != 'a']", file({}), false],
    ['[file:size != 1]', file({ size: 'one' }), false],
    ["[file:name NOT = 'a']", file({ name: 'b' }), true],
    ["[file:name NOT = 'a']", file({}), false],
    ["[file:name NOT != 'a']", file({ name: 'a' }), true],
  ],
  'ordering': [
    ["[file:name < 'abd']", file({ name: 'abc' }), true],
    ["[file:name < 'abc']", file({ name: 'abc' }), false],
    ["[file:name <= 'abc']", file({ name: 'abc' }), true],
    ["[file:name > 'B']", file({ name: 'a' }), true],
    ["[file:name > '\u{1F600}']", file({ name: '\uFFFF' }), false],
    ['[file:size > 5]', file({ size: 6 }), true],
    ['[file:size >= 6.5]', file({ size: 6 }), false],
    ['[file:size NOT > 5]', file({ size: 4 }), true],
    ['[file:size < 5]', file({ size: '4' }), false],
    ["[file:created > t'2016-01-01T00:00:00Z']", file({ created: '2016-01-01T00:00:00.001Z' }), true],
    ["[file:created > t'2016-01-01T00:00:00Z']", file({ created: '2016-01-01T00:00:00.000Z' }), false],
    ["[file:created = t'2016-01-01T00:00:00Z']", file({ created: '2016-01-01T00:00:00.000000Z' }), true],
    ["[file:created < t'2016-01-01T00:00:00Z']", file({ created: 'yesterday' }), false],
  ],
  'IN': [
    ['[file:size IN (1, 2, 3)]', file({ size: 2 }), true],
    ['[file:size IN (1, 2, 3)]', file({ size: 4 }), false],
    ['[file:size NOT IN (1, 2, 3)]', file({ size: 4 }), true],
    ['[file:size NOT IN (1, 2, 3)]', file({ size: 2 }), false],
    ["[file:size IN ('a', 2)]", file({ size: 2 }), true],
    ["[file:size NOT IN ('a')]", file({ size: 2 }), false],
    ['[file:size IN ()]', file({ size: 2 }), false],
  ],
  'LIKE': [
    ["[file:name LIKE 'a%.exe']", file({ name: 'abc.exe' }), true],
    ["[file:name LIKE 'a%.exe']", file({ name: 'a.exe' }), true],
    ["[file:name LIKE 'a%.exe']", file({ name: 'A.exe' }), false],
    ["[file:name LIKE 'a_c']", file({ name: 'abc' }), true],
    ["[file:name LIKE 'a_c']", file({ name: 'ac' }), false],
    ["[file:name LIKE 'a_c']", file({ name: 'a\u{1F600}c' }), true],
    ["[file:name LIKE 'a.c']", file({ name: 'abc' }), false],
    ["[file:name LIKE '%']", file({ name: '' }), true],
    ["[file:name LIKE '%x%y%z']", file({ name: 'a\nx--y--z' }), true],
    ["[file:name LIKE '%a%a%a%a%b']", file({ name: 'a'.repeat(5000) }), false],
    ["[file:name NOT LIKE 'a%']", file({ name: 'ba' }), true],
    ["[file:size LIKE '1%']", file({ size: 10 }), false],
  ],
  'MATCHES': [
    ["[file:name MATCHES '^a.+\\\\.exe$']", file({ name: 'abc.exe' }), true],
    ["[file:name MATCHES 'bc']", file({ name: 'abcd' }), true],
    ["[file:name MATCHES '^bc']", file({ name: 'abcd' }), false],
    ["[file:name MATCHES '(?i)^ABC']", file({ name: 'abcd' }), true],
    ["[file:name MATCHES '\\\\Aab\\\\z']", file({ name: 'ab' }), true],
    ["[file:name MATCHES '(?P<x>a)b']", file({ name: 'ab' }), true],
    ["[file:name MATCHES 'b\\\\Z']", file({ name: 'ab\n' }), true],
    ["[file:name MATCHES 'b\\\\Z']", file({ name: 'ab\nc' }), false],
    ["[file:name MATCHES '(?s)a.b']", file({ name: 'a\nb' }), true],
    ["[file:name MATCHES 'a.b']", file({ name: 'a\nb' }), false],
    // Linear time (RE2): the classic catastrophic shapes complete over long values.
    ["[file:name MATCHES '(a|a)*b']", file({ name: 'a'.repeat(8000) }), false],
    ["[file:name MATCHES '^(a+)+$']", file({ name: 'a'.repeat(8000) + '!' }), false],
    ["[file:name MATCHES '.+\\\\@example\\\\.com$']", file({ name: 'jdoe@example.com' }), true],
    ["[file:name MATCHES '\\\\x{41}']", file({ name: 'A' }), true],
    ["[file:name NOT MATCHES 'x']", file({ name: 'abc' }), true],
    ['[file:name MATCHES \'a\']', file({ name: 'a'.repeat(MAX_MATCHES_INPUT + 1) }), false],
    ["[artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']", { type: 'artifact', payload_bin: Buffer.from('d4c3b2a102000400ffff', 'hex').toString('base64') }, true],
    ["[artifact:payload_bin MATCHES '^\\\\xd4']", { type: 'artifact', payload_bin: Buffer.from('c3d4', 'hex').toString('base64') }, false],
    ["[file:magic_number_hex MATCHES '^\\\\xff\\\\xd8']", file({ magic_number_hex: 'ffd8ffe0' }), true],
  ],
  'ISSUBSET / ISSUPERSET': [
    ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { type: 'ipv4-addr', value: '198.51.100.7' }, true],
    ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { type: 'ipv4-addr', value: '198.51.101.7' }, false],
    ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { type: 'ipv4-addr', value: '198.51.100.128/25' }, true],
    ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { type: 'ipv4-addr', value: '198.51.100.0/23' }, false],
    ["[ipv4-addr:value ISSUBSET '0.0.0.0/0']", { type: 'ipv4-addr', value: '10.1.2.3' }, true],
    ["[ipv4-addr:value ISSUBSET '0.0.0.0/0']", { type: 'ipv4-addr', value: 'not an ip' }, false],
    ["[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", { type: 'ipv4-addr', value: '11.0.0.1' }, true],
    ["[ipv4-addr:value ISSUPERSET '198.51.100.7']", { type: 'ipv4-addr', value: '198.51.100.0/24' }, true],
    ["[ipv4-addr:value ISSUPERSET '198.51.100.0/23']", { type: 'ipv4-addr', value: '198.51.100.0/24' }, false],
    ["[ipv6-addr:value ISSUBSET '2001:db8::/32']", { type: 'ipv6-addr', value: '2001:0db8:dead:beef::1' }, true],
    ["[ipv6-addr:value ISSUBSET '2001:db8::/32']", { type: 'ipv6-addr', value: '2001:db9::1' }, false],
    ["[ipv6-addr:value ISSUBSET '::ffff:0:0/96']", { type: 'ipv6-addr', value: '::ffff:192.0.2.1' }, true],
    ["[ipv6-addr:value ISSUBSET '::/0']", { type: 'ipv6-addr', value: '192.0.2.1' }, false],
    ["[ipv6-addr:value ISSUPERSET '2001:db8::1']", { type: 'ipv6-addr', value: '2001:db8::/64' }, true],
  ],
  'EXISTS': [
    ['[EXISTS file:name]', file({ name: 'a' }), true],
    ['[EXISTS file:name]', file({}), false],
    ["[EXISTS file:hashes.'SHA-256']", file({ hashes: { 'SHA-256': 'ab' } }), true],
    ['[EXISTS file:x[*]]', file({ x: [] }), false],
  ],
  'binary and hex': [
    ["[artifact:payload_bin = b'SGVsbG8=']", { type: 'artifact', payload_bin: 'SGVsbG8=' }, true],
    ["[artifact:payload_bin = h'48656c6c6f']", { type: 'artifact', payload_bin: 'SGVsbG8=' }, true],
    ["[artifact:payload_bin > b'SGVsbA==']", { type: 'artifact', payload_bin: 'SGVsbG8=' }, true],
    ["[file:magic_number_hex = h'FFD8']", file({ magic_number_hex: 'ffd8' }), true],
    ["[file:magic_number_hex = h'ffd9']", file({ magic_number_hex: 'ffd8' }), false],
  ],
  'object paths': [
    ["[file:hashes.'SHA-256' = 'ab']", file({ hashes: { 'SHA-256': 'ab' } }), true],
    ["[file:hashes.MD5 = 'ab']", file({ hashes: { 'SHA-256': 'ab' } }), false],
    ["[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
      file({ extensions: { 'windows-pebinary-ext': { sections: [{ entropy: 1 }, { entropy: 7.5 }] } } }), true],
    ["[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
      file({ extensions: { 'windows-pebinary-ext': { sections: [{ entropy: 1 }] } } }), false],
    ["[file:x[0] = 'a']", file({ x: ['a', 'b'] }), true],
    ["[file:x[1] = 'a']", file({ x: ['a', 'b'] }), false],
    ["[file:x[-1] = 'b']", file({ x: ['a', 'b'] }), true],
    ["[file:x[5] = 'a']", file({ x: ['a', 'b'] }), false],
    ["[file:x = 'a']", file({ x: ['a', 'b'] }), false],
    ["[file:x[*] NOT = 'a']", file({ x: ['a', 'b'] }), true],
    ["[file:x[*] NOT = 'a']", file({ x: ['a'] }), false],
    ["[file:a.b = 1]", file({ a: 'not an object' }), false],
  ],
};

describe('comparison operators (STIX 2.1 §9.4)', () => {
  for (const [group, rows] of Object.entries(TABLE)) {
    describe(group, () => {
      it.each(rows)('%s on %j → %s', (pattern, object, expected) => {
        expect(holds(pattern, object)).toBe(expected);
      });
    });
  }
});

describe('references and comparison expressions', () => {
  const traffic = { type: 'network-traffic', src_ref: '1', dst_ref: '2', protocols: ['tcp'] };
  const src = { type: 'ipv4-addr', value: '203.0.113.10' };
  const dst = { type: 'ipv4-addr', value: '198.51.100.58' };

  it('dereferences *_ref through the observation objects', () => {
    expect(holds("[network-traffic:dst_ref.value = '198.51.100.58']", traffic, src, dst)).toBe(true);
    expect(holds("[network-traffic:src_ref.value = '198.51.100.58']", traffic, src, dst)).toBe(false);
    expect(holds("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']", traffic, src, dst)).toBe(true);
    expect(holds("[network-traffic:dst_ref = '2']", traffic, src, dst)).toBe(true);
    expect(holds("[network-traffic:dst_ref.value = '198.51.100.58']", traffic, src)).toBe(false);
  });

  it('dereferences *_refs list elements, by index and by [*]', () => {
    const domain = { type: 'domain-name', value: 'www.5z8.info', resolves_to_refs: ['1', '2'] };
    expect(holds("[domain-name:resolves_to_refs[*].value = '198.51.100.58']", domain, src, dst)).toBe(true);
    expect(holds("[domain-name:resolves_to_refs[0].value = '198.51.100.58']", domain, src, dst)).toBe(false);
    expect(holds("[domain-name:resolves_to_refs[1].value = '198.51.100.58']", domain, src, dst)).toBe(true);
  });

  it('does not dereference strings of properties that are not references', () => {
    expect(holds("[file:name.value = '198.51.100.58']", file({ name: '2' }), src, dst)).toBe(false);
  });

  it('evaluates AND on one SCO and OR on any SCO', () => {
    const a = file({ name: 'a' });
    const b = file({ size: 5 });
    expect(holds("[file:name = 'a' AND file:size = 5]", a, b)).toBe(false);
    expect(holds("[file:name = 'a' AND file:size = 5]", file({ name: 'a', size: 5 }))).toBe(true);
    expect(holds("[file:name = 'a' OR file:size = 5]", b)).toBe(true);
    expect(holds("[file:name = 'x' OR ipv4-addr:value = '203.0.113.10']", a, src)).toBe(true);
    expect(holds("[(file:name = 'a' OR process:name = 'a') AND file:size = 5]", { type: 'process', name: 'a' }, b)).toBe(false);
    expect(holds("[(file:name = 'a' OR file:size = 9) AND file:size = 5]", file({ name: 'a', size: 5 }))).toBe(true);
  });
});
