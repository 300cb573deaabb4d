/**
 * Whatever validateObject accepts must also conform to the OASIS schemas: mutate valid
 * examples (replace, remove or add up to three properties) and compare the two verdicts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateObject } from '../src/stix/index.js';
import { oasisErrors } from './helpers/stix-schema.js';
import { VALID_EXAMPLES } from './helpers/stix-examples.js';

const examples = Object.values(VALID_EXAMPLES);
const keys = [...new Set(examples.flatMap((o) => Object.keys(o)))];
const values = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(...examples.flatMap((o) => Object.values(o))),
  fc.constantFrom('2024-01-01T00:00:00Z', 'x_', `indicator--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40`, 'https://example.com', ''),
);
const mutation = fc.tuple(fc.constantFrom(...keys, 'x_extra', 'abc_ref', 'abc_refs', 'abc_bin'), fc.option(values, { nil: undefined }));

describe('validateObject agrees with the OASIS schemas on what it accepts', () => {
  it('for mutated valid objects', () => {
    fc.assert(
      fc.property(fc.constantFrom(...examples), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, muts) => {
        const o: Record<string, unknown> = { ...base };
        for (const [k, v] of muts) {
          if (v === undefined) delete o[k];
          else o[k] = v;
        }
        if (validateObject(o).ok) expect(oasisErrors(o)).toEqual([]);
      }),
      { numRuns: 5000 },
    );
  });

  it('for the counterexamples the property found (kept so they are checked on every run)', () => {
    const found: Record<string, unknown>[] = [
      // A registry value with none of name, data, data_type (the schema's anyOf); seed 676732307.
      {
        type: 'windows-registry-key', spec_version: '2.1', id: 'windows-registry-key--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40', key: 'HKEY_LOCAL_MACHINE\\Software\\X',
        values: [{ kill_chain_name: 'mitre-attack', phase_name: 'initial-access' }],
      },
    ];
    for (const o of found) {
      expect(oasisErrors(o)).not.toEqual([]);
      expect(validateObject(o).ok).toBe(false);
    }
  });
});
