/** RFC 8785 canonical JSON: the RFC's own examples, and the same output as json-canonicalize on any JSON value. */
import fc from 'fast-check';
import { canonicalize } from 'json-canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, MAX_CANONICAL_DEPTH } from './canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units and writes numbers in the ES6 form (RFC 8785 §3.2.3, appendix B)', () => {
    // §3.2.3's sorting example: the keys in UTF-16 order are \r, 1, \u0080, \u00f6, \u20ac, \ud83d\ude00, \ufb33.
    const sorting = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    expect(canonicalJson(sorting)).toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
    // Appendix B number samples.
    const numbers: [number, string][] = [[0, '0'], [-0, '0'], [5e-324, '5e-324'], [1e21, '1e+21'], [1e20, '100000000000000000000'], [-1.7976931348623157e308, '-1.7976931348623157e+308'], [333333333.3333333, '333333333.3333333'], [0.000001, '0.000001'], [1e-7, '1e-7']];
    for (const [n, text] of numbers) expect(canonicalJson(n)).toBe(text);
    expect(canonicalJson({ b: [1, undefined, { d: true, c: null }], a: 'x', u: undefined })).toBe('{"a":"x","b":[1,null,{"c":null,"d":true}]}');
  });

  it('refuses what JSON cannot hold, and nesting beyond its depth limit, with an error (never a stack overflow)', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson([Infinity])).toThrow(/non-finite/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(new RegExp(`deeper than ${MAX_CANONICAL_DEPTH}`));
    let ok: unknown = 1;
    for (let i = 0; i < MAX_CANONICAL_DEPTH; i++) ok = { k: ok };
    expect(canonicalJson(ok)).toBe(canonicalize(ok));
  });

  it('gives the same text as json-canonicalize for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }), { numRuns: 3000 });
    // Unicode keys and strings, including lone surrogates (serialised as JSON.stringify escapes them).
    fc.assert(fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer())), (v) => {
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }), { numRuns: 3000 });
  });
});
