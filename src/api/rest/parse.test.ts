import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { many, one, parseCursor, parseIntelFilter, parseLimit, parseTlp, queryOf } from './parse.js';

const code = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof AppError ? e.code : 'NOT_APP_ERROR';
  }
};

describe('REST query parsing', () => {
  it('refuses unknown parameters and repeated single ones', () => {
    expect(code(() => queryOf({ tpye: 'x' }, ['type']))).toBe('INVALID_FILTER');
    expect(queryOf(undefined, ['type'])).toEqual({});
    expect(code(() => one({ q: ['a', 'b'] }, 'q'))).toBe('INVALID_FILTER');
    expect(one({ q: '  ' }, 'q')).toBeUndefined();
    expect(one({ q: ' x ' }, 'q')).toBe('x');
  });

  it('reads comma lists and repeats, deduplicated, bounded', () => {
    expect(many({ type: ['a,b', 'b', 'c'] }, 'type', { comma: true })).toEqual(['a', 'b', 'c']);
    expect(many({ label: ['x,y'] }, 'label', { comma: false })).toEqual(['x,y']);
    expect(many({ type: ',,' }, 'type', { comma: true })).toBeUndefined();
    expect(code(() => many({ t: 'a,b,c' }, 't', { comma: true, max: 2 }))).toBe('INVALID_FILTER');
  });

  it('reads TLP 2.0 levels, with the decoded-plus alias and tlp: prefix', () => {
    expect(parseTlp('tlp', 'amber strict')).toBe('amber+strict');
    expect(parseTlp('tlp', 'TLP:RED')).toBe('red');
    expect(code(() => parseTlp('tlp', 'white'))).toBe('INVALID_FILTER');
  });

  it('caps the limit at the server maximum and refuses non-positive ones', () => {
    expect(parseLimit({}, 50, 10)).toBe(10);
    expect(parseLimit({ limit: '5000' }, 50, 1000)).toBe(1000);
    for (const bad of ['0', '-1', '1.5', '1e3', 'x']) expect(code(() => parseLimit({ limit: bad }, 50, 1000))).toBe('INVALID_FILTER');
  });

  it('refuses cursors that cannot be ours before decoding them', () => {
    expect(code(() => parseCursor({ cursor: 'a b' }))).toBe('INVALID_CURSOR');
    expect(parseCursor({ cursor: 'abc.def' })).toBe('abc.def');
  });

  it('parses the intel filters into typed values', () => {
    expect(parseIntelFilter({ type: 'indicator,malware', tlp: 'none,amber', label: ['a', 'b'], creator: 'NL-CERT', q: 'Rat', collection: 'alliance' })).toEqual({
      types: ['indicator', 'malware'], tlps: ['none', 'amber'], labels: ['a', 'b'], creators: ['NL-CERT'], text: 'Rat', collection: 'alliance',
    });
    expect(code(() => parseIntelFilter({ type: 'Indicator' }))).toBe('INVALID_FILTER');
    expect(code(() => parseIntelFilter({ creator: 'lower' }))).toBe('INVALID_FILTER');
    expect(code(() => parseIntelFilter({ collection: '../x' }))).toBe('INVALID_FILTER');
  });
});
