/** One valid object per STIX 2.1 type validates, and agrees with the OASIS schemas. */
import { describe, expect, it } from 'vitest';
import { META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES, validateObject } from '../src/stix/index.js';
import { assertValidAgainstOasis, oasisErrors } from './helpers/stix-schema.js';
import { VALID_EXAMPLES } from './helpers/stix-examples.js';

const ALL = [...SDO_TYPES, ...SRO_TYPES, ...SCO_TYPES, ...META_TYPES];

describe('one valid example per STIX 2.1 type', () => {
  it('covers every type', () => {
    expect(Object.keys(VALID_EXAMPLES).sort()).toEqual([...ALL].sort());
  });

  it.each(ALL)('%s validates without errors or warnings and passes the OASIS schema', (type) => {
    const o = VALID_EXAMPLES[type];
    const r = validateObject(o);
    expect(r.ok ? r.warnings : r.errors).toEqual([]);
    expect(oasisErrors(o)).toEqual([]);
  });
});

describe('the OASIS schema helper', () => {
  it('reports and throws on non-conforming objects', () => {
    const bad = { ...VALID_EXAMPLES['indicator'], confidence: 101 };
    expect(oasisErrors(bad).join('\n')).toMatch(/confidence/);
    expect(() => assertValidAgainstOasis(bad)).toThrow(/does not conform/);
    expect(() => assertValidAgainstOasis(VALID_EXAMPLES['indicator'])).not.toThrow();
    expect(oasisErrors(42)).toEqual(['/ has no string type']);
  });

  it('checks custom objects against the common core', () => {
    expect(oasisErrors({ ...VALID_EXAMPLES['campaign'], type: 'x-acme', id: 'x-acme--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40' })).toEqual([]);
    expect(oasisErrors({ type: 'x-acme', id: 'x-acme--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40', created: 'nope' }).length).toBeGreaterThan(0);
  });
});
