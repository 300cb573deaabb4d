import { describe, expect, it } from 'vitest';
import { compileLinear, describeRefusal, type LinearRegex, type RegexRefusal } from './regex.js';

function ok(src: string, flags?: string): LinearRegex {
  const r = compileLinear(src, flags);
  if (!r.ok) throw new Error(`refused: ${describeRefusal(r.refusal)}`);
  return r.re;
}

function refusal(src: string, flags?: string): RegexRefusal {
  const r = compileLinear(src, flags);
  if (r.ok) throw new Error(`accepted ${src}`);
  return r.refusal;
}

describe('compileLinear', () => {
  it('runs the catastrophic shapes in linear time over 100k characters', () => {
    // A backtracking engine needs ~2^n steps here: 28 characters already took 19 s on V8.
    const evil = 'a'.repeat(100_000) + '!';
    expect(ok('^(a+)+$').test(evil)).toBe(false);
    expect(ok('^(a+)+$', 'i').test(evil)).toBe(false);
    expect(ok('(a|a)*b').test(evil)).toBe(false);
    expect(ok('(x+x+)+y').test('x'.repeat(100_000))).toBe(false);
    expect(ok('^(a+)+$').test('a'.repeat(100_000))).toBe(true);
  });

  it('searches unanchored and honours i, m and s', () => {
    expect(ok('b+c').test('abbbcd')).toBe(true);
    expect(ok('ABC', 'i').test('xabcx')).toBe(true);
    expect(ok('ABC').test('xabcx')).toBe(false);
    expect(ok('^b$', 'm').test('a\nb\nc')).toBe(true);
    expect(ok('^b$').test('a\nb\nc')).toBe(false);
    expect(ok('a.b', 's').test('a\nb')).toBe(true);
    expect(ok('a.b').test('a\nb')).toBe(false);
    expect(ok('(?i)abc').test('ABC')).toBe(true);
  });

  it('matches code points, not UTF-16 units', () => {
    expect(ok('^.$').test('😀')).toBe(true);
    expect(ok('é', 'i').test('É')).toBe(true);
  });

  it.each([
    ['(a)\\1', /backreference \\1/, 3],
    ['x(?<n>a)\\k<n>', /backreference \\k/, 8],
    ['ab(?=c)', /lookahead/, 2],
    ['(?!c)', /negative lookahead/, 0],
    ['a(?<=b)', /lookbehind/, 1],
    ['a(?<!b)', /negative lookbehind/, 1],
    ['(?>a)', /atomic group/, 0],
    ['ab++', /possessive/, 2],
    ['\\Ga', /\\G/, 0],
    ['a(?R)', /recursion/, 1],
    ['(abc', /missing \)/, 4],
    ['ab[cd', /missing \]/, 2],
    ['xa{1001}', /repetition size \{1001\}.*1000/, 2],
    ['(?x)a b', /inline flag/, 0],
    ['a\\e', /invalid escape sequence \\e/, 1],
    ['((((a{100}){100}){100}){100})', /repetition size|too large/, 0],
  ])('refuses %j with the reason and the position', (src, reason, position) => {
    const r = refusal(src);
    expect(r.reason).toMatch(reason);
    if (position > 0) expect(r.position).toBe(position);
    expect(describeRefusal(r)).toMatch(/\(at position \d+\)$/);
  });

  it('does not mistake escaped or class characters for unsupported constructs', () => {
    expect(ok('\\\\1').test('\\1')).toBe(true);
    expect(ok('[(?=]+').test('?=')).toBe(true);
    expect(ok('[]a]').test(']')).toBe(true);
    expect(ok('\\(\\?=x\\)').test('(?=x)')).toBe(true);
    expect(refusal('\\\\1(a)\\1').position).toBe(6);
  });

  it('refuses flags other than i, m and s', () => {
    expect(refusal('a', 'g').reason).toMatch(/flag 'g'/);
  });
});
