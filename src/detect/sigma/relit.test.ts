/** Required literals of regular expressions (prefilter soundness depends on them). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requiredLiteral } from './relit.js';

describe('requiredLiteral', () => {
  it('finds the longest certain run', () => {
    expect(requiredLiteral('Invoke-\\w+Hash')).toBe('invoke-');
    expect(requiredLiteral('(?i)\\s(-u|--user)\\s*:')).toBeNull();
    expect(requiredLiteral('\\$\\{`?e`?n`?v`?:')).toBeNull();
    expect(requiredLiteral('abcd?efgh')).toBe('efgh');
    expect(requiredLiteral('xyz+w')).toBe('xyz');
    expect(requiredLiteral('ab{2}cde')).toBe('cde');
    expect(requiredLiteral('ab{0,3}cde')).toBe('cde');
    expect(requiredLiteral('werfaultsecure\\.exe["\']?\\s+\\d{2,10}')).toBe('werfaultsecure.exe');
    expect(requiredLiteral('[a-z]{3}\\.(dll|exe)')).toBeNull();
    expect(requiredLiteral('foo|barbaz')).toBeNull();
    expect(requiredLiteral('(foo|bar)bazz')).toBe('bazz');
    expect(requiredLiteral('a.b.c')).toBeNull();
    expect(requiredLiteral('^cmd\\.exe$')).toBe('cmd.exe');
    expect(requiredLiteral('*bad')).toBeNull();
  });

  it('every string a pattern matches contains its literal (random patterns, generated matching strings)', () => {
    const atom = fc.constantFrom('a', 'b', 'c', '.', '\\.', '[ab]', '(a|b)', '\\d', 'x', 'abc', 'xyz', 'bca', '(ab)');
    const quant = fc.constantFrom('', '', '', '', '*', '+', '?', '{2}', '{0,2}', '{1,}', '+?');
    const pattern = fc.array(fc.tuple(atom, quant).map(([a, q]) => a + q), { minLength: 1, maxLength: 7 }).map((xs) => xs.join(''));
    // strings generated to match the pattern
    const cases = pattern.chain((p) => fc.tuple(fc.constant(p), fc.array(fc.stringMatching(new RegExp(p)), { minLength: 1, maxLength: 10 })));
    let checked = 0;
    fc.assert(
      fc.property(cases, ([p, texts]) => {
        const lit = requiredLiteral(p);
        const re = new RegExp(p);
        for (const t of texts) {
          expect(re.test(t)).toBe(true);
          if (lit !== null) {
            expect(t.toLowerCase()).toContain(lit);
            checked++;
          }
        }
      }),
      { numRuns: 1000, seed: 3 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});
