import { describe, expect, it } from 'vitest';
import { VALID_EXAMPLES } from '../../../test/helpers/stix-examples.js';
import { bundleErrors, validateBundle } from './bundle.js';

const BID = 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d';

describe('validateBundle', () => {
  it('accepts a bundle and validates each member', () => {
    const v = validateBundle({ type: 'bundle', id: BID, objects: [VALID_EXAMPLES['indicator'], VALID_EXAMPLES['identity']] });
    expect(v.envelopeErrors).toEqual([]);
    expect(v.results.map((r) => r.ok)).toEqual([true, true]);
    expect(bundleErrors(v)).toEqual([]);
  });

  it('accepts a bundle without objects', () => {
    expect(validateBundle({ type: 'bundle', id: BID })).toEqual({ envelopeErrors: [], results: [] });
  });

  it('reports envelope errors and member errors with objects[i] paths', () => {
    const v = validateBundle({ type: 'bundel', id: 'bundle--x', objects: [VALID_EXAMPLES['indicator'], { ...VALID_EXAMPLES['indicator'], confidence: 200 }, 7] });
    expect(bundleErrors(v).map((e) => `${e.path} ${e.rule}`)).toEqual([
      'type value.enum', 'id id.format', 'objects[1].confidence value.range', 'objects[2] input.not-object',
    ]);
  });

  it('rejects non-objects, non-list objects, empty lists and oversized lists', () => {
    expect(validateBundle([]).envelopeErrors[0]?.rule).toBe('input.not-object');
    expect(validateBundle({ type: 'bundle', id: BID, objects: {} }).envelopeErrors[0]?.rule).toBe('value.type');
    expect(validateBundle({ type: 'bundle', id: BID, objects: [] }).envelopeErrors[0]?.rule).toBe('list.empty');
    const big = validateBundle({ type: 'bundle', id: BID, objects: [1, 2, 3] }, { limits: { maxListLength: 2 } });
    expect(big.envelopeErrors[0]?.rule).toBe('limits.list-length');
    expect(big.results).toEqual([]);
  });

  it('never throws on unreadable input', () => {
    const hostile = Object.defineProperty({ type: 'bundle' }, 'objects', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(validateBundle(hostile).envelopeErrors[0]?.rule).toBe('input.unprocessable');
  });
});
