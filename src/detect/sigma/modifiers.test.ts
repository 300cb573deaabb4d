/**
 * Value matching: case folding, wildcards and escapes (spec "Escaping"), every value modifier of
 * the spec v2.1.0 appendix, null / empty / exists, keywords and nested fields.
 */
import { describe, expect, it } from 'vitest';
import { hits, rejection, ruleFrom } from './test-helpers.js';

const r = String.raw;

describe('plain values', () => {
  it('match whole values case-insensitively; lists are OR, maps are AND', () => {
    const rule = ruleFrom(r`sel:
    Image: 'C:\Windows\System32\cmd.exe'
    User:
        - alice
        - bob
condition: sel`);
    expect(hits(rule, { Image: 'c:\\windows\\SYSTEM32\\CMD.EXE', User: 'BOB' })).toBe(true);
    expect(hits(rule, { Image: 'c:\\windows\\system32\\cmd.exe', User: 'carol' })).toBe(false);
    expect(hits(rule, { Image: 'c:\\windows\\system32\\cmd.exe.bak', User: 'alice' })).toBe(false);
    expect(hits(rule, { User: 'alice' })).toBe(false);
  });

  it('match a YAML number as written as well as by its value (1.0 matches "1.0" and a JSON 1.0)', () => {
    // Before, YAML read 1.0 as 1, whose text "1" never matched an event's "1.0".
    const rule = ruleFrom('sel:\n    Version: 1.0\n    Ratio|startswith: 0.50\n    Mask:\n        - 0x1F\n        - 7\ncondition: sel');
    expect(hits(rule, { Version: '1.0', Ratio: '0.50x', Mask: '0x1F' })).toBe(true);
    expect(hits(rule, { Version: 1, Ratio: '0.5', Mask: 31 })).toBe(true);
    expect(hits(rule, { Version: '1.00', Ratio: '0.5', Mask: 31 })).toBe(false);
    expect(hits(rule, { Version: '1.0', Ratio: '0.4', Mask: 31 })).toBe(false);
    // Under |all each number is one value (either text); keywords and numeric modifiers read the number.
    const all = ruleFrom('sel:\n    V|all:\n        - 2.0\n        - 3\ncondition: sel');
    expect(hits(all, { V: ['2.0', '3'] })).toBe(true);
    expect(hits(all, { V: ['2.0'] })).toBe(false);
    expect(hits(ruleFrom('kw:\n    - 1.50\ncondition: kw'), { a: 'version 1.50' })).toBe(true);
    expect(hits(ruleFrom('sel:\n    Size|gte: 1.0e1\ncondition: sel'), { Size: '10' })).toBe(true);
    expect(hits(ruleFrom('sel:\n    Size|gte: 1.0e1\ncondition: sel'), { Size: '9.5' })).toBe(false);
  });

  it('compare numbers and strings by their text', () => {
    const rule = ruleFrom('sel:\n    EventID: 4688\n    Flag: true\ncondition: sel');
    expect(hits(rule, { EventID: '4688', Flag: 'True' })).toBe(true);
    expect(hits(rule, { EventID: 4688, Flag: true })).toBe(true);
    expect(hits(rule, { EventID: 46880, Flag: true })).toBe(false);
  });

  it('match any element of an array-valued field and look up dotted names in nested objects', () => {
    const rule = ruleFrom('sel:\n    process.args|contains: whoami\ncondition: sel');
    expect(hits(rule, { process: { args: ['cmd', '/c', 'WHOAMI /all'] } })).toBe(true);
    expect(hits(rule, { 'process.args': 'whoami' })).toBe(true);
    expect(hits(rule, { process: { args: ['cmd'] } })).toBe(false);
  });

  it('null means absent or null; the empty string means empty', () => {
    const isNull = ruleFrom('sel:\n    Field: null\ncondition: sel');
    expect(hits(isNull, {})).toBe(true);
    expect(hits(isNull, { Field: null })).toBe(true);
    expect(hits(isNull, { Field: '' })).toBe(false);
    const empty = ruleFrom("sel:\n    Field: ''\ncondition: sel");
    expect(hits(empty, { Field: '' })).toBe(true);
    expect(hits(empty, {})).toBe(false);
    expect(rejection("sel:\n    Field: ['', null]\ncondition: sel")).toMatch(/null must stand alone/);
  });
});

describe('wildcards and escapes', () => {
  it('* matches any run, ? exactly one character', () => {
    const rule = ruleFrom(r`sel:
    CommandLine: '*\temp\x?.exe'
condition: sel`);
    expect(hits(rule, { CommandLine: 'C:\\Temp\\xa.exe' })).toBe(true);
    expect(hits(rule, { CommandLine: 'x\\temp\\xab.exe' })).toBe(false);
    expect(hits(rule, { CommandLine: 'x\\temp\\x.exe' })).toBe(false);
  });

  it('\\* and \\? are literal; \\\\ is one backslash; other backslashes stay literal', () => {
    const star = ruleFrom(r`sel:
    q|contains: 'select \*'
condition: sel`);
    expect(hits(star, { q: 'SELECT * FROM t' })).toBe(true);
    expect(hits(star, { q: 'select name from t' })).toBe(false);
    const q = ruleFrom(r`sel:
    q: 'what\?'
condition: sel`);
    expect(hits(q, { q: 'what?' })).toBe(true);
    expect(hits(q, { q: 'whatx' })).toBe(false);
    // \\* = a backslash followed by a wildcard
    const bs = ruleFrom(r`sel:
    p: 'C:\\*'
condition: sel`);
    expect(hits(bs, { p: 'C:\\Users' })).toBe(true);
    expect(hits(bs, { p: 'C:Users' })).toBe(false);
    // \\\* = a backslash followed by a literal *
    const bsStar = ruleFrom(r`sel:
    p: 'C:\\\*'
condition: sel`);
    expect(hits(bsStar, { p: 'C:\\*' })).toBe(true);
    expect(hits(bsStar, { p: 'C:\\x' })).toBe(false);
    // unescaped path and a trailing lone backslash are literal
    const path = ruleFrom(r`sel:
    p|startswith: 'C:\Windows\'
condition: sel`);
    expect(hits(path, { p: 'C:\\Windows\\notepad.exe' })).toBe(true);
    expect(hits(path, { p: 'C:\\WindowsApps' })).toBe(false);
  });
});

describe('string modifiers', () => {
  it('contains / startswith / endswith and |all', () => {
    const rule = ruleFrom(`sel:
    CommandLine|contains|all:
        - ' -nop '
        - ' -enc '
    Image|endswith: '\\powershell.exe'
    ParentImage|startswith: 'C:\\Program Files'
condition: sel`);
    const ev = { CommandLine: 'powershell -NoP -nop -ENC abc ', Image: 'C:\\x\\PowerShell.exe', ParentImage: 'c:\\program files\\app.exe' };
    expect(hits(rule, ev)).toBe(true);
    expect(hits(rule, { ...ev, CommandLine: 'powershell -nop x' })).toBe(false);
    expect(hits(rule, { ...ev, Image: 'C:\\powershell.exe.txt' })).toBe(false);
    expect(hits(rule, { ...ev, ParentImage: 'D:\\Program Files\\a' })).toBe(false);
  });

  it('cased makes the match case-sensitive', () => {
    const rule = ruleFrom('sel:\n    Name|cased: AbC\ncondition: sel');
    expect(hits(rule, { Name: 'AbC' })).toBe(true);
    expect(hits(rule, { Name: 'abc' })).toBe(false);
  });

  it('windash expands a leading - or / into the five dash characters', () => {
    const rule = ruleFrom("sel:\n    CommandLine|windash|contains: ' -exec bypass'\ncondition: sel");
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015']) expect(hits(rule, { CommandLine: `powershell ${d}exec bypass` })).toBe(true);
    expect(hits(rule, { CommandLine: 'powershell +exec bypass' })).toBe(false);
    // a dash inside a word is left alone
    const inner = ruleFrom("sel:\n    CommandLine|windash|contains: 'a-b'\ncondition: sel");
    expect(hits(inner, { CommandLine: 'xa/by' })).toBe(false);
    expect(hits(inner, { CommandLine: 'xa-by' })).toBe(true);
  });

  it('base64 and base64offset (the three offsets of the spec)', () => {
    const b64 = ruleFrom('sel:\n    Data|base64: http\ncondition: sel');
    expect(hits(b64, { Data: 'aHR0cA==' })).toBe(true);
    const off = ruleFrom('sel:\n    Data|base64offset|contains: http\ncondition: sel');
    for (const s of ['xxaHR0cyyy', 'zzh0dHzz', 'odHRw']) expect(hits(off, { Data: s })).toBe(true);
    expect(hits(off, { Data: Buffer.from('no match here').toString('base64') })).toBe(false);
    // encoding real text at each alignment
    for (const pre of ['', 'a', 'ab']) {
      expect(hits(off, { Data: Buffer.from(`${pre}http://x`).toString('base64') })).toBe(true);
    }
    expect(rejection('sel:\n    Data|base64: htt*\ncondition: sel')).toMatch(/wildcards/);
  });

  it('wide / utf16le / utf16be / utf16 encode before base64', () => {
    const wide = ruleFrom('sel:\n    CommandLine|wide|base64offset|contains: ping\ncondition: sel');
    const enc = Buffer.from('cmd /c ping 1.1.1.1', 'utf16le').toString('base64');
    expect(hits(wide, { CommandLine: `powershell -enc ${enc}` })).toBe(true);
    const le = ruleFrom('sel:\n    D|utf16le|base64: ab\ncondition: sel');
    expect(hits(le, { D: Buffer.from('ab', 'utf16le').toString('base64') })).toBe(true);
    const be = ruleFrom('sel:\n    D|utf16be|base64: ab\ncondition: sel');
    expect(hits(be, { D: Buffer.from([0, 0x61, 0, 0x62]).toString('base64') })).toBe(true);
    const bom = ruleFrom('sel:\n    D|utf16|base64: ab\ncondition: sel');
    expect(hits(bom, { D: Buffer.from([0xff, 0xfe, 0x61, 0, 0x62, 0]).toString('base64') })).toBe(true);
  });
});

describe('regular expressions', () => {
  it('are unanchored searches, case-sensitive unless |i; |m and |s set the flags', () => {
    const re = ruleFrom("sel:\n    CommandLine|re: 'Invoke-\\w+Hash'\ncondition: sel");
    expect(hits(re, { CommandLine: 'x Invoke-PassTheHash y' })).toBe(true);
    expect(hits(re, { CommandLine: 'x invoke-passthehash y' })).toBe(false);
    const ri = ruleFrom("sel:\n    CommandLine|re|i: 'invoke-\\w+hash'\ncondition: sel");
    expect(hits(ri, { CommandLine: 'Invoke-PassTheHash' })).toBe(true);
    const rm = ruleFrom("sel:\n    T|re|m: '^b$'\ncondition: sel");
    expect(hits(rm, { T: 'a\nb\nc' })).toBe(true);
    const rs = ruleFrom("sel:\n    T|re|s: 'a.c'\ncondition: sel");
    expect(hits(rs, { T: 'a\nc' })).toBe(true);
    const rn = ruleFrom("sel:\n    T|re: 'a.c'\ncondition: sel");
    expect(hits(rn, { T: 'a\nc' })).toBe(false);
  });

  it('accept inline (?i) groups and refuse what RE2 cannot run, with the reason and the position', () => {
    const rule = ruleFrom("sel:\n    T|re: '(?i)abc'\ncondition: sel");
    expect(hits(rule, { T: 'xABCx' })).toBe(true);
    expect(hits(ruleFrom("sel:\n    T|re: 'a(?i:B)c'\ncondition: sel"), { T: 'abc' })).toBe(true);
    expect(rejection("sel:\n    T|re: 'a(?<!b'\ncondition: sel")).toMatch(/T\|re: regular expression refused: negative lookbehind .*\(at position 1\)/);
    expect(rejection("sel:\n    T|re: '(a)\\1'\ncondition: sel")).toMatch(/backreference \\1 is not supported.*\(at position 3\)/);
    expect(rejection("sel:\n    T|re: 'a{1001}'\ncondition: sel")).toMatch(/repetition size/);
    expect(rejection("sel:\n    T|re|base64: 'a'\ncondition: sel")).toMatch(/does not combine/);
  });
});

describe('linear time (RE2) on hostile values', () => {
  // A backtracking engine needs about 2^n steps for the first and n^8 for the second: completing is the proof.
  it('runs a nested-repetition |re over 100k characters', () => {
    const rule = ruleFrom("sel:\n    CommandLine|re: '^(a+)+$'\ncondition: sel");
    expect(hits(rule, { CommandLine: 'a'.repeat(100_000) + '!' })).toBe(false);
    expect(hits(rule, { CommandLine: 'a'.repeat(100_000) })).toBe(true);
  });

  it('runs a many-wildcard value and an `x of` pattern over long text', () => {
    const rule = ruleFrom("sel:\n    CommandLine: '*a*a*a*a*a*a*a*a*b'\ncondition: sel");
    expect(hits(rule, { CommandLine: 'a'.repeat(100_000) })).toBe(false);
    expect(hits(rule, { CommandLine: 'a'.repeat(100_000) + 'b' })).toBe(true);
    const long = 'sel' + 'a'.repeat(1000); // YAML caps implicit keys at 1024 characters; 1000^7 steps is enough
    expect(rejection(`${long}:\n    T: x\ncondition: 1 of sel*a*a*a*a*a*a*b`)).toMatch(/matches no search identifier/);
  });
});

describe('cidr, numeric, fieldref, exists, neq, date parts', () => {
  it('cidr matches IPv4, IPv6 and IPv4-mapped addresses', () => {
    const rule = ruleFrom("sel:\n    DestinationIp|cidr:\n        - '10.0.0.0/8'\n        - 'fd00::/8'\ncondition: sel");
    expect(hits(rule, { DestinationIp: '10.200.1.1' })).toBe(true);
    expect(hits(rule, { DestinationIp: '::ffff:10.1.2.3' })).toBe(true);
    expect(hits(rule, { DestinationIp: 'fd12:3456::1' })).toBe(true);
    expect(hits(rule, { DestinationIp: '11.0.0.1' })).toBe(false);
    expect(hits(rule, { DestinationIp: 'not an ip' })).toBe(false);
    expect(rejection("sel:\n    DestinationIp|cidr: '10.0.0.0/33'\ncondition: sel")).toMatch(/invalid CIDR/);
  });

  it('gt / gte / lt / lte compare numerically', () => {
    const rule = ruleFrom('sel:\n    Size|gt: 100\n    Count|lte: 5\ncondition: sel');
    expect(hits(rule, { Size: '101', Count: 5 })).toBe(true);
    expect(hits(rule, { Size: 100, Count: 5 })).toBe(false);
    expect(hits(rule, { Size: 1000, Count: '6' })).toBe(false);
    expect(hits(rule, { Size: 'big', Count: 1 })).toBe(false);
    const ge = ruleFrom('sel:\n    Size|gte: 100\n    Low|lt: 0\ncondition: sel');
    expect(hits(ge, { Size: 100, Low: -1 })).toBe(true);
    expect(rejection('sel:\n    Size|gt: abc\ncondition: sel')).toMatch(/needs a number/);
  });

  it('fieldref compares two fields of the same event', () => {
    const eq = ruleFrom('sel:\n    SourceUser|fieldref: TargetUser\ncondition: sel');
    expect(hits(eq, { SourceUser: 'Bob', TargetUser: 'bob' })).toBe(true);
    expect(hits(eq, { SourceUser: 'bob', TargetUser: 'alice' })).toBe(false);
    expect(hits(eq, { SourceUser: 'bob' })).toBe(false);
    const c = ruleFrom('sel:\n    CommandLine|fieldref|contains: Image\ncondition: sel');
    expect(hits(c, { CommandLine: 'run C:\\a.exe now', Image: 'c:\\A.exe' })).toBe(true);
  });

  it('exists tests presence only; neq negates', () => {
    const ex = ruleFrom('sel:\n    Field|exists: true\ncondition: sel');
    expect(hits(ex, { Field: null })).toBe(true);
    expect(hits(ex, {})).toBe(false);
    const nex = ruleFrom('sel:\n    Field|exists: false\ncondition: sel');
    expect(hits(nex, {})).toBe(true);
    expect(rejection('sel:\n    Field|exists|contains: true\ncondition: sel')).toMatch(/only modifier/);
    const neq = ruleFrom('sel:\n    User|neq:\n        - admin\n        - root\ncondition: sel');
    expect(hits(neq, { User: 'bob' })).toBe(true);
    expect(hits(neq, { User: 'ROOT' })).toBe(false);
  });

  it('minute / hour / day / week / month / year extract a UTC date part', () => {
    const t = '2026-03-05T14:07:00Z'; // Thursday, ISO week 10
    const yes = ruleFrom('sel:\n    T|hour: 14\n    T|minute: 7\n    T|day: 5\n    T|week: 10\n    T|month: 3\n    T|year: 2026\ncondition: sel');
    expect(hits(yes, { T: t })).toBe(true);
    const night = ruleFrom('sel:\n    T|hour|gte: 22\ncondition: sel');
    expect(hits(night, { T: t })).toBe(false);
    expect(hits(night, { T: '2026-03-05 23:10:00.000' })).toBe(true);
    expect(hits(night, { T: 'not a date' })).toBe(false);
  });
});

describe('placeholders (expand)', () => {
  it('resolve from the configuration, each value an alternative', () => {
    const rule = ruleFrom("sel:\n    Computer|expand: '%Servers%'\ncondition: sel", { Servers: ['SRV*', 'DB01'] });
    expect(hits(rule, { Computer: 'srv-web-1' })).toBe(true);
    expect(hits(rule, { Computer: 'db01' })).toBe(true);
    expect(hits(rule, { Computer: 'ws-1' })).toBe(false);
    const c = ruleFrom("sel:\n    CommandLine|contains|expand: '%dom%\\'\ncondition: sel", { dom: 'CORP' });
    expect(hits(c, { CommandLine: 'net use corp\\x' })).toBe(true);
  });

  it('reject an unresolved placeholder by name; \\% and non-expand values stay literal', () => {
    expect(rejection("sel:\n    Computer|expand: '%Servers%'\ncondition: sel")).toMatch(/unresolved placeholder %Servers%/);
    expect(rejection("sel:\n    Computer|expand: '%constructor%'\ncondition: sel", { Servers: 'x' })).toMatch(/unresolved placeholder %constructor%/);
    const lit = ruleFrom("sel:\n    X: '%Servers%'\ncondition: sel");
    expect(hits(lit, { X: '%servers%' })).toBe(true);
    const esc = ruleFrom(r`sel:
    X|expand: '100\%'
condition: sel`);
    expect(hits(esc, { X: '100%' })).toBe(true);
  });
});

describe('keywords', () => {
  it('search every value for a substring, case-insensitively', () => {
    const rule = ruleFrom("keywords:\n    - 'sekurlsa::'\n    - 'mimidrv.sys'\ncondition: keywords");
    expect(hits(rule, { a: 1, b: { c: 'x SEKURLSA::logonpasswords' } })).toBe(true);
    expect(hits(rule, { message: 'dropped C:\\mimidrv.sys' })).toBe(true);
    expect(hits(rule, { message: 'nothing' })).toBe(false);
  });

  it('|cased keywords and keyword regexes see the original text', () => {
    const cased = ruleFrom("kw:\n    '|cased':\n        - 'EVIL'\ncondition: kw");
    expect(hits(cased, { a: 'x EVIL y' })).toBe(true);
    expect(hits(cased, { a: 'x evil y' })).toBe(false);
    const re = ruleFrom("kw:\n    '|re': 'A[0-9]Z'\ncondition: kw");
    expect(hits(re, { a: 'xA5Z' })).toBe(true);
    expect(hits(re, { a: 'xa5z' })).toBe(false);
  });

  it("'|all' ANDs keywords; wildcards inside keywords work per value", () => {
    const all = ruleFrom("kw:\n    '|all':\n        - foo\n        - bar\ncondition: kw");
    expect(hits(all, { a: 'foo', b: 'BAR' })).toBe(true);
    expect(hits(all, { a: 'foo' })).toBe(false);
    const wild = ruleFrom("kw:\n    - 'select * from'\ncondition: kw");
    expect(hits(wild, { q: 'SELECT name FROM t' })).toBe(true);
  });
});

describe('malformed items', () => {
  it('are rejected with the item and the reason', () => {
    expect(rejection('sel:\n    Image|bogus: x\ncondition: sel')).toMatch(/unknown modifier "bogus"/);
    expect(rejection('sel:\n    Image: []\ncondition: sel')).toMatch(/empty value list/);
    expect(rejection('sel:\n    Image:\n        a: b\ncondition: sel')).toMatch(/scalar/);
    expect(rejection('sel: {}\ncondition: sel')).toMatch(/empty selection/);
    expect(rejection('sel:\n    Image|gt|lt: 3\ncondition: sel')).toMatch(/only one of/);
  });
});
