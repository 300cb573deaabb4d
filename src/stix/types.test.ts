import { describe, expect, expectTypeOf, it } from 'vitest';
import { categoryOf, isStixType, isStixTypeName, likelyTypeTypo, META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES } from './types.js';
import type { Indicator, StixId, StixObject } from './types.js';

describe('type lists', () => {
  it('hold the 19 SDOs, 2 SROs, 18 SCOs and 3 meta objects of STIX 2.1, without overlap', () => {
    expect([SDO_TYPES.length, SRO_TYPES.length, SCO_TYPES.length, META_TYPES.length]).toEqual([19, 2, 18, 3]);
    expect(new Set([...SDO_TYPES, ...SRO_TYPES, ...SCO_TYPES, ...META_TYPES]).size).toBe(42);
  });

  it('categoryOf knows every listed type and nothing else', () => {
    expect(categoryOf('indicator')).toBe('sdo');
    expect(categoryOf('sighting')).toBe('sro');
    expect(categoryOf('ipv4-addr')).toBe('sco');
    expect(categoryOf('marking-definition')).toBe('meta');
    expect(categoryOf('x-mitre-tactic')).toBeUndefined();
    expect(categoryOf('bundle')).toBeUndefined();
  });
});

describe('isStixType', () => {
  it('narrows by type', () => {
    const o: StixObject = { type: 'indicator', id: 'indicator--x' };
    expect(isStixType(o, 'indicator')).toBe(true);
    expect(isStixType(o, 'malware')).toBe(false);
    if (isStixType(o, 'indicator')) expectTypeOf(o).toMatchTypeOf<Indicator>();
  });

  it('brands ids with their type', () => {
    expectTypeOf<StixId<'identity'>>().not.toMatchTypeOf<StixId<'indicator'>>();
    expectTypeOf<StixId<'identity'>>().toMatchTypeOf<string>();
  });
});

describe('type names', () => {
  it('checks the grammar of a type name and names the defined type a misspelling most likely means', () => {
    expect(['indicator', 'x-acme-widget', 'ipv4-addr', 'abc'].every(isStixTypeName)).toBe(true);
    expect(['ab', 'Indicator', '-x', 'x-', 'a--b', 'a_b', 'x'.repeat(251)].some(isStixTypeName)).toBe(false);
    expect(likelyTypeTypo('indicators')).toBe('indicator');
    expect(likelyTypeTypo('malwares')).toBe('malware');
    expect(likelyTypeTypo('indicatr')).toBe('indicator');
    expect(likelyTypeTypo('ipv4-adr')).toBe('ipv4-addr');
    expect(likelyTypeTypo('indicator')).toBeUndefined();
    expect(likelyTypeTypo('x-acme-widget')).toBeUndefined();
    expect(likelyTypeTypo('completely-different')).toBeUndefined();
  });
});
