/** The condition grammar: precedence, negation, parentheses, `x of` selectors, and errors. */
import { describe, expect, it } from 'vitest';
import { MAX_CONDITION_DEPTH, parseCondition } from './condition.js';
import { hits, rejection, ruleFrom } from './test-helpers.js';

/** A rule whose identifiers a, b, c (and _p, sel_1, sel_2) match when the event has that key set. */
function rule(condition: string) {
  const ids = ['a', 'b', 'c', '_p', 'sel_1', 'sel_2', 'filter_x'];
  return ruleFrom(`${ids.map((i) => `${i}:\n    ${i}: 'y'`).join('\n')}\ncondition: ${condition}`);
}
function ev(...set: string[]) {
  return Object.fromEntries(set.map((k) => [k, 'y']));
}

describe('condition grammar', () => {
  it('binds not tighter than and, and tighter than or', () => {
    const r = rule('a or b and not c');
    expect(hits(r, ev('a', 'c'))).toBe(true); // a or (b and not c)
    expect(hits(r, ev('b'))).toBe(true);
    expect(hits(r, ev('b', 'c'))).toBe(false);
    const p = rule('(a or b) and not c');
    expect(hits(p, ev('a', 'c'))).toBe(false);
    expect(hits(p, ev('a'))).toBe(true);
  });

  it('keywords are case-insensitive and not not is allowed', () => {
    // identifiers are case-sensitive: "A" is not "a"
    expect(rejection("a:\n    a: 'y'\ncondition: A and a")).toMatch(/undefined search identifier "A"/);
    const n = rule('a AND NOT NOT b');
    expect(hits(n, ev('a', 'b'))).toBe(true);
    expect(hits(n, ev('a'))).toBe(false);
  });

  it('1 of / any of / all of a pattern, and them (which skips _ identifiers)', () => {
    expect(hits(rule('1 of sel_*'), ev('sel_2'))).toBe(true);
    expect(hits(rule('any of sel_*'), ev('sel_1'))).toBe(true);
    expect(hits(rule('all of sel_*'), ev('sel_1'))).toBe(false);
    expect(hits(rule('all of sel_*'), ev('sel_1', 'sel_2'))).toBe(true);
    expect(hits(rule('1 of them'), ev('_p'))).toBe(false);
    expect(hits(rule('1 of them'), ev('c'))).toBe(true);
    expect(hits(rule('all of them'), ev('a', 'b', 'c', 'sel_1', 'sel_2', 'filter_x'))).toBe(true);
    expect(hits(rule('1 of _*'), ev('_p'))).toBe(true);
    expect(hits(rule('a and not 1 of filter_*'), ev('a', 'filter_x'))).toBe(false);
  });

  it('a list of conditions is their OR', () => {
    const r = ruleFrom("a:\n    a: 'y'\nb:\n    b: 'y'\ncondition:\n    - a\n    - b");
    expect(hits(r, ev('b'))).toBe(true);
    expect(hits(r, ev())).toBe(false);
  });

  it('parses the nested shape', () => {
    const p = parseCondition('selection and not (filter_1 or 1 of filter_opt_*)');
    expect(p).toEqual({
      ok: true,
      node: {
        t: 'and',
        xs: [
          { t: 'id', name: 'selection' },
          { t: 'not', x: { t: 'or', xs: [{ t: 'id', name: 'filter_1' }, { t: 'of', quant: 'one', pattern: 'filter_opt_*' }] } },
        ],
      },
    });
  });

  it('nests parentheses and not up to 64 levels and refuses deeper with the position, in linear time', () => {
    const parens = (d: number) => `${'('.repeat(d)}a${')'.repeat(d)}`;
    expect(parseCondition(parens(MAX_CONDITION_DEPTH)).ok).toBe(true);
    expect(parseCondition(`${'not '.repeat(MAX_CONDITION_DEPTH)}a`).ok).toBe(true);
    expect(parseCondition(`${'not ('.repeat(32)}a${')'.repeat(32)}`).ok).toBe(true);
    expect(parseCondition(parens(MAX_CONDITION_DEPTH + 1))).toEqual({ ok: false, reason: 'condition: nesting deeper than 64 levels of parentheses and "not" at token 65' });
    expect(parseCondition(`b and ${'not '.repeat(MAX_CONDITION_DEPTH + 1)}a`)).toEqual({ ok: false, reason: 'condition: nesting deeper than 64 levels of parentheses and "not" at token 67' });
    // 100,000 levels (the stack overflowed at a few thousand): refused like any other, not a thrown RangeError.
    expect(parseCondition(parens(100_000))).toMatchObject({ ok: false });
    expect(hits(rule(`${'not '.repeat(MAX_CONDITION_DEPTH)}a`), ev('a'))).toBe(true);
  });

  it('rejects malformed conditions with a reason', () => {
    const bad: [string, RegExp][] = [
      ['a and', /unexpected end/],
      ['(a or b', /missing "\)"/],
      ['a b', /unexpected token "b"/],
      ['a or or b', /unexpected keyword "or"/],
      ['1 of', /needs an identifier pattern/],
      ['sel_*', /wildcard identifier/],
      ['a = b', /unexpected character "="/],
      ['', /empty/],
    ];
    for (const [c, why] of bad) {
      const r = parseCondition(c);
      expect(r.ok, c).toBe(false);
      if (!r.ok) expect(r.reason, c).toMatch(why);
    }
    expect(rejection("a:\n    a: 'y'\ncondition: 1 of nomatch_*")).toMatch(/matches no search identifier/);
    expect(rejection("a:\n    a: 'y'\ncondition: a | count() > 5")).toMatch(/aggregation/);
  });
});
