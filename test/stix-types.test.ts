/** One valid object per STIX 2.1 type validates, and agrees with the OASIS schemas. */
import { describe, expect, it } from 'vitest';
import { META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES, validateObject } from '../src/stix/index.js';
import { oasisErrors } from './helpers/stix-schema.js';
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
