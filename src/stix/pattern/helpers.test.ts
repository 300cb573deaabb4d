import { describe, expect, it } from 'vitest';
import { ipBlockWithin, ipv4Value, ipv6Groups, parseIpBlock, splitBlock } from './cidr.js';
import { collectObjectPaths, parsePattern } from './index.js';
import { compileMatches, isRefusal, likeMatches } from './regex.js';

describe('the address grammar the evaluator and the detection index share', () => {
  it('reads dotted quads as 32-bit values, decimal octets only', () => {
    expect(ipv4Value('0.0.0.0')).toBe(0);
    expect(ipv4Value('255.255.255.255')).toBe(4294967295);
    expect(ipv4Value('10.1.2.3')).toBe(0x0a010203);
    for (const bad of ['01.2.3.4', '1.2.3', '1.2.3.4.', '1..3.4', '256.1.1.1', '1.2.3.04', ' 1.2.3.4', '1.2.3.4/8', '', '1.2.3.4a']) expect(ipv4Value(bad)).toBeNull();
  });

  it('reads the RFC 4291 text forms as eight groups, an IPv4 tail as two', () => {
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const bad of [':::', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'fe80::1%eth0', '::ffff:1.2.3', ':', '1:2:3:4:5:6:7']) expect(ipv6Groups(bad)).toBeNull();
  });

  it('splits a block and refuses a prefix wider than its family or not decimal', () => {
    expect(splitBlock('10.0.0.0/8')).toEqual({ addr: '10.0.0.0', v6: false, prefix: 8 });
    expect(splitBlock('2001:db8::')).toEqual({ addr: '2001:db8::', v6: true, prefix: 128 });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0/x']) expect(splitBlock(bad)).toBeNull();
  });
});

describe('parseIpBlock', () => {
  it.each([
    ['10.0.0.1', 4, 32],
    ['10.0.0.0/8', 4, 8],
    ['0.0.0.0/0', 4, 0],
    ['::', 6, 128],
    ['::1', 6, 128],
    ['2001:db8::/32', 6, 32],
    ['2001:0db8:dead:beef:dead:beef:dead:0001/128', 6, 128],
    ['::ffff:192.0.2.1', 6, 128],
    ['64:ff9b::192.0.2.33/96', 6, 96],
    ['1:2:3:4:5:6:7::', 6, 128],
  ])('parses %s', (text, version, prefix) => {
    expect(parseIpBlock(text)).toMatchObject({ version, prefix });
  });

  it.each(['', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1/33', '10.0.0.1/', '1::2::3', '12345::', ':1', 'g::1', '::1/129', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3'])(
    'rejects %j',
    (text) => expect(parseIpBlock(text)).toBeNull(),
  );

  it('masks host bits and tests containment', () => {
    const net = parseIpBlock('198.51.100.77/24');
    const host = parseIpBlock('198.51.100.7');
    expect(net?.network).toBe(parseIpBlock('198.51.100.0/24')?.network);
    if (net === null || host === null) throw new Error('parse');
    expect(ipBlockWithin(host, net)).toBe(true);
    expect(ipBlockWithin(net, host)).toBe(false);
    expect(ipBlockWithin(net, net)).toBe(true);
    const v6 = parseIpBlock('::ffff:198.51.100.7');
    if (v6 === null) throw new Error('parse');
    expect(ipBlockWithin(v6, net)).toBe(false);
  });
});

describe('LIKE', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'ab', false],
    ['abc', 'a%', true],
    ['abc', '%c', true],
    ['abc', '%b%', true],
    ['abc', '___', true],
    ['abc', '__', false],
    ['', '', true],
    ['', '_', false],
    ['a%b', 'a%b', true],
    ['aXb', 'a%%b', true],
    ['mississippi', '%iss%ipp%', true],
    ['mississippi', '%iss%ipx%', false],
  ])('%j LIKE %j is %s', (value, pattern, expected) => {
    expect(likeMatches(value, pattern)).toBe(expected);
  });
});

describe('MATCHES compilation', () => {
  it.each(['(?x)a b', '(?>a)', 'a++', '(a)\\1', '(?P<n>a)(?P=n)', 'a(?=b)', '[', '\\'])('refuses %j with a reason', (re) => {
    const r = compileMatches(re);
    expect(isRefusal(r) && r.reason.length > 0).toBe(true);
  });

  // Nested repetition was refused while MATCHES ran on a backtracking engine; RE2 runs it in linear time.
  it.each(['^a+$', '(ab)+', '(a+)?', '(a+){1}', '[(]+', '\\(a+\\)+', '[]a]', '(?i)x', '(?s)a.b', '(a*)*', '(a|b+){2,}'])('accepts %j', (re) => {
    expect(isRefusal(compileMatches(re))).toBe(false);
  });

  it('honours leading inline flags', () => {
    const re = compileMatches('(?is)^a.b$');
    expect(!isRefusal(re) && re.test('A\nB')).toBe(true);
  });
});

describe('collectObjectPaths', () => {
  it('lists every comparison with type, path, operator and value', () => {
    const r = parsePattern(
      "([file:hashes.'SHA-256' = 'ab' OR file:size IN (1, 2)] FOLLOWEDBY [EXISTS process:x[*]]) WITHIN 5 SECONDS OR [ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']",
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(collectObjectPaths(r.ast)).toEqual([
      { objectType: 'file', path: ['hashes', 'SHA-256'], pathText: "hashes.'SHA-256'", operator: '=', negated: false, value: { kind: 'string', value: 'ab' } },
      { objectType: 'file', path: ['size'], pathText: 'size', operator: 'IN', negated: false, value: [{ kind: 'int', value: 1 }, { kind: 'int', value: 2 }] },
      { objectType: 'process', path: ['x', '*'], pathText: 'x[*]', operator: 'EXISTS', negated: false, value: null },
      { objectType: 'ipv4-addr', path: ['value'], pathText: 'value', operator: 'ISSUBSET', negated: true, value: { kind: 'string', value: '10.0.0.0/8' } },
    ]);
  });
});
