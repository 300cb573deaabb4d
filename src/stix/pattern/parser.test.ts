import { describe, expect, it } from 'vitest';
import type { PatternAst } from './ast.js';
import { formatPatternError, parsePattern, printPattern } from './index.js';

function ast(src: string): PatternAst {
  const r = parsePattern(src);
  if (!r.ok) throw new Error(`${src}\n${formatPatternError(src, r.error)}`);
  return r.ast;
}

/** Examples from STIX 2.1 §9.9 and elsewhere in the spec, as written there. */
const SPEC_EXAMPLES = [
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
  "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'] WITHIN 300 SECONDS",
  "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
  "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
  "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
  "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
  "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
  "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
  "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
  "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
  "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
  "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
  "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker\\\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']",
  "[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']",
  "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
  "[x-usb-device:usbdrive.serial_number = '575833344d30383232383938']",
  "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
  "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
  "([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
  "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
  "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com'] WITHIN 600 SECONDS",
  "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
  "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
  "[file:size IN (1024, 2048, 4096)]",
  "[file:name LIKE 'foo%.dll' AND file:name NOT LIKE '%_x64.dll']",
  "[EXISTS windows-registry-key:values]",
  "[file:created > t'2016-01-01T00:00:00.123Z' AND file:size NOT = 0]",
  "[artifact:payload_bin = b'SGVsbG8gV29ybGQ=']",
  "[process:pid = -1 OR process:pid = +4]",
  "[x-custom-thing:'a b'.c[0][-1] = 1.5]",
  "[a:b = 1] REPEATS 2 TIMES WITHIN 2.5 SECONDS",
];

describe('parsePattern: valid patterns', () => {
  it.each(SPEC_EXAMPLES)('parses and round-trips %s', (src) => {
    const a = ast(src);
    expect(ast(printPattern(a))).toEqual(a);
  });

  it('accepts comments, every grammar whitespace and the == / <> spellings', () => {
    const a = ast("/* c */ [file:name\u00a0== 'a'] // trailing\n");
    expect(a).toEqual(ast("[file:name = 'a']"));
    expect(ast("[file:name <> 'a']")).toEqual(ast("[file:name != 'a']"));
  });

  it('builds object paths with quoted, dotted, indexed and wildcard steps', () => {
    const a = ast("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]");
    expect(a).toEqual({
      kind: 'observation',
      expression: {
        kind: 'comparison',
        path: { objectType: 'file', steps: ['extensions', 'windows-pebinary-ext', 'sections', '*', 'entropy'] },
        operator: '>',
        negated: false,
        value: { kind: 'float', value: 7 },
      },
    });
    const b = ast("[x-foo:'first step'[2].x[-1] = 'v']");
    expect(b.kind === 'observation' && b.expression.kind === 'comparison' && b.expression.path.steps).toEqual(['first step', 2, 'x', -1]);
  });

  it('decodes string escapes and typed constants', () => {
    const a = ast("[a:b IN ('it\\'s', 'c:\\\\d', 1, -2.5, true, t'2020-02-29T10:00:00.5Z', b'AAE=', h'0aFF')]");
    expect(a.kind === 'observation' && a.expression.kind === 'comparison' && a.expression.value).toEqual([
      { kind: 'string', value: "it's" },
      { kind: 'string', value: 'c:\\d' },
      { kind: 'int', value: 1 },
      { kind: 'float', value: -2.5 },
      { kind: 'bool', value: true },
      { kind: 'timestamp', value: '2020-02-29T10:00:00.5Z', micros: Date.UTC(2020, 1, 29, 10) * 1000 + 500_000 },
      { kind: 'binary', value: 'AAE=' },
      { kind: 'hex', value: '0aFF' },
    ]);
  });

  it('gives observation AND precedence over OR over FOLLOWEDBY (§9.5), left-associative', () => {
    const a = ast('[a:x = 1] FOLLOWEDBY [a:x = 2] OR [a:x = 3] AND [a:x = 4]');
    expect(a.kind).toBe('followedby');
    if (a.kind !== 'followedby') return;
    expect(a.right.kind).toBe('or');
    if (a.right.kind !== 'or') return;
    expect(a.right.right.kind).toBe('and');
    const left = ast('[a:x = 1] AND [a:x = 2] AND [a:x = 3]');
    expect(left.kind === 'and' && left.left.kind).toBe('and');
  });

  it('gives comparison AND precedence over OR', () => {
    const a = ast('[a:x = 1 OR a:y = 2 AND a:z = 3]');
    expect(a.kind === 'observation' && a.expression.kind).toBe('or');
    const b = ast('[(a:x = 1 OR a:y = 2) AND a:z = 3]');
    expect(b.kind === 'observation' && b.expression.kind).toBe('and');
  });

  it('binds qualifiers to the nearest observation expression and chains them', () => {
    const a = ast('[a:x = 1] AND [a:x = 2] WITHIN 5 SECONDS');
    expect(a.kind === 'and' && a.right.kind).toBe('qualified');
    const b = ast("[a:x = 1] REPEATS 3 TIMES WITHIN 10 SECONDS START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'");
    expect(b.kind === 'qualified' && b.qualifier.kind).toBe('startstop');
  });

  it('accepts AND across comparisons whose OR branches share a type', () => {
    expect(parsePattern("[(file:name = 'a' OR process:name = 'b') AND file:size = 1]").ok).toBe(true);
  });
});

/** [pattern, expected error position, message fragment] */
const INVALID: [string, number, string][] = [
  ['', 0, 'empty pattern'],
  ['   ', 3, 'empty pattern'],
  ['[]', 1, 'empty observation'],
  ["[file:name = 'a'", 16, "expected ']'"],
  ["file:name = 'a']", 0, "expected '[' or '('"],
  ["([file:name = 'a']", 18, "expected ')'"],
  ["[file:name = 'a']]", 17, 'unexpected'],
  ["[file:name = 'a'] garbage", 18, 'unexpected'],
  ["[file:name ~ 'a']", 11, 'unexpected character'],
  ["[file:name CONTAINS 'a']", 11, 'comparison operator'],
  ["[file:name = 'a] ", 13, 'unterminated'],
  ["[file:name = 'a\\n']", 15, 'invalid escape'],
  ['[a:b = 1] WITHIN 0 SECONDS', 17, 'positive'],
  ['[a:b = 1] WITHIN 0.0 SECONDS', 17, 'positive'],
  ['[a:b = 1] WITHIN -5 SECONDS', 17, 'positive'],
  ['[a:b = 1] WITHIN 5 MINUTES', 19, 'expected SECONDS'],
  ['[a:b = 1] REPEATS 0 TIMES', 18, 'positive integer'],
  ['[a:b = 1] REPEATS 1.5 TIMES', 18, 'whole number'],
  ["[a:b = 1] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'", 45, 'STOP must be later'],
  ["[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'", 45, 'STOP must be later'],
  ["[a:b = 1] START '2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'", 16, 'timestamp'],
  ['[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS', 27, 'duplicate WITHIN'],
  ["[file:name = 'a' AND ipv4-addr:value = '1.2.3.4']", 17, 'different object types'],
  ["[file:size = t'2020-13-01T00:00:00Z']", 13, 'invalid timestamp'],
  ["[file:size = t'2020-01-01 00:00:00Z']", 13, 'invalid timestamp'],
  ["[file:size = t'2021-02-29T00:00:00Z']", 13, 'invalid timestamp'],
  ["[artifact:payload_bin = b'abc']", 24, 'base64'],
  ["[file:magic_number_hex = h'abc']", 25, 'hex'],
  // MATCHES runs on RE2: the position is the offending character inside the expression.
  ["[file:name MATCHES '(a']", 22, 'missing )'],
  ["[file:name MATCHES '(a)\\\\1']", 23, 'backreference'],
  ["[file:name MATCHES 'x\\'(?P=n)']", 23, 'named backreference'],
  ["[url:value MATCHES 'a(?=b)']", 21, 'lookahead'],
  ["[url:value MATCHES 'a(?<!b)']", 21, 'negative lookbehind'],
  ["[url:value MATCHES 'a{1001}']", 21, 'repetition size'],
  ["[ipv4-addr:value ISSUBSET '300.1.1.1/24']", 26, 'IPv4 or IPv6'],
  ["[ipv4-addr:value ISSUBSET '10.0.0.0/33']", 26, 'IPv4 or IPv6'],
  ['[file:name LIKE 5]', 16, 'string literal'],
  ['[file:name > true]', 13, 'boolean'],
  ['[file:size = 01]', 13, 'leading zeros'],
  ['[file:size = 9007199254740993]', 13, 'integer outside'],
  ["[File:name = 'a']", 1, 'invalid object type'],
  ["[file:extensions.windows-pebinary-ext.x = 1]", 17, "contains '-'"],
  ["[file:hashes.SHA-256 = 'a']", 13, "contains '-'"],
  ["[file:'*' = 1]", 6, 'wildcard'],
  ['[file:size[x] = 1]', 11, 'list index'],
  ["[file name = 'a']", 6, "expected ':'"],
  ['[file:size = ]', 13, 'expected a constant'],
  ['[file:size IN 1]', 14, "expected '('"],
  ['[file:size IN (1 2)]', 17, "expected ','"],
  ["[file:name = 'a'] AND", 21, "expected '[' or '('"],
  ["[file:name = 'a'] and [file:name = 'b']", 18, 'unexpected'],
  ["[file:name = 'a' /* open", 17, 'unterminated comment'],
  ['[EXISTS file]', 12, "expected ':'"],
  ['[file:name NOT EXISTS]', 15, 'comparison operator'],
  ['[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES', 26, 'duplicate REPEATS'],
];

describe('parsePattern: invalid patterns', () => {
  it.each(INVALID)('rejects %j at %i', (src, position, fragment) => {
    const r = parsePattern(src);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(fragment);
    expect(r.error.position).toBe(position);
  });

  it('bounds nesting depth instead of overflowing the stack', () => {
    const deep = '('.repeat(5000) + '[a:b = 1]' + ')'.repeat(5000);
    const r = parsePattern(deep);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('nesting');
    const ok = '('.repeat(50) + '[a:b = 1]' + ')'.repeat(50);
    expect(parsePattern(ok).ok).toBe(true);
  });

  it('handles IOC lists of many thousand OR terms without deep recursion', async () => {
    const { collectObjectPaths, evaluatePattern } = await import('./index.js');
    const n = 20_000;
    const cmp = Array.from({ length: n }, (_, i) => `ipv4-addr:value = '10.${i >> 16}.${(i >> 8) & 255}.${i & 255}'`);
    const obs = Array.from({ length: 2000 }, (_, i) => `[ipv4-addr:value = '10.0.0.${i & 255}']`);
    const a = ast(`[${cmp.join(' OR ')}]`);
    const b = ast(obs.join(' FOLLOWEDBY '));
    expect(printPattern(a)).toBe(`[${cmp.join(' OR ')}]`);
    expect(printPattern(b)).toBe(obs.join(' FOLLOWEDBY '));
    expect(collectObjectPaths(a)).toHaveLength(n);
    expect(collectObjectPaths(b)).toHaveLength(2000);
    const one = [{ time: 0, objects: { '0': { type: 'ipv4-addr', value: '10.0.50.1' } } }];
    expect(evaluatePattern(a, one)).toEqual({ observations: [0] });
    expect(evaluatePattern(b, one)).toBeNull();
  });

  it('reports line and column, and formats a caret under the position', () => {
    const src = "[file:name = 'a'\n\tAND file:size = ]";
    const r = parsePattern(src);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ position: 34, line: 2, column: 18 });
    expect(formatPatternError(src, r.error)).toBe(
      "expected a constant but found ']' at line 2, column 18\n\tAND file:size = ]\n\t                ^",
    );
  });
});

describe('parsePattern: volume', () => {
  // The parse rate is measured by `npm run bench` (pattern_parse_per_s), not asserted here.
  it('parses 20,000 distinct patterns without error', () => {
    const patterns = Array.from({ length: 20_000 }, (_, i) => `[ipv4-addr:value = '10.0.${i >> 8}.${i & 255}']`);
    expect(patterns.filter((p) => !parsePattern(p).ok)).toEqual([]);
  });
});
