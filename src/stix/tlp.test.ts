import { describe, expect, it } from 'vitest';
import {
  isTlpMarkingId, maxTlp, normaliseMarkings, TLP1_MARKING_IDS, TLP1_MARKINGS, TLP2_EXTENSION_ID, TLP2_MARKING_IDS, TLP2_MARKINGS,
  tlpFromLabel, tlpMarkingId, tlpOf, tlpOfMarkingDefinition, tlpOfMarkingId,
} from './tlp.js';
import { validateObject } from './validate/validate.js';

const OPENCTI_AMBER_STRICT = 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37';
const OTHER = 'marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168';

describe('TLP 2.0 marking definitions', () => {
  it('uses the ids OASIS publishes', () => {
    expect(TLP2_MARKING_IDS).toEqual({
      clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
      amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    });
    expect(TLP2_EXTENSION_ID).toBe('extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d');
  });

  it('carries the full published object', () => {
    expect(TLP2_MARKINGS['amber+strict']).toEqual({
      type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      created: '2022-10-01T00:00:00.000Z', name: 'TLP:AMBER+STRICT',
      extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'amber+strict' } },
    });
    for (const md of [...Object.values(TLP2_MARKINGS), ...Object.values(TLP1_MARKINGS)]) {
      expect(validateObject(md).ok).toBe(true);
      expect(Object.isFrozen(md)).toBe(true);
    }
  });

  it('tlpMarkingId round-trips', () => {
    for (const t of ['clear', 'green', 'amber', 'amber+strict', 'red'] as const) expect(tlpOfMarkingId(tlpMarkingId(t))).toBe(t);
  });
});

describe('TLP 1.0 and aliases map to TLP 2.0', () => {
  it('maps the §7.2.1.4 ids, WHITE becoming CLEAR', () => {
    expect(TLP1_MARKING_IDS.white).toBe('marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9');
    expect(tlpOfMarkingId(TLP1_MARKING_IDS.white)).toBe('clear');
    expect(tlpOfMarkingId('marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da')).toBe('green');
    expect(tlpOfMarkingId('marking-definition--f88d31f6-486f-44da-b317-01333bde0b82')).toBe('amber');
    expect(tlpOfMarkingId('marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed')).toBe('red');
    expect(tlpOfMarkingId(OPENCTI_AMBER_STRICT)).toBe('amber+strict');
    expect(tlpOfMarkingId(OTHER)).toBeNull();
    expect(isTlpMarkingId(OPENCTI_AMBER_STRICT)).toBe(true);
    expect(isTlpMarkingId(OTHER)).toBe(false);
  });

  it('reads MISP-style labels', () => {
    expect(tlpFromLabel('tlp:amber')).toBe('amber');
    expect(tlpFromLabel('TLP:AMBER+STRICT')).toBe('amber+strict');
    expect(tlpFromLabel('tlp:amber-strict')).toBe('amber+strict');
    expect(tlpFromLabel('tlp:white')).toBe('clear');
    expect(tlpFromLabel(' TLP: RED ')).toBe('red');
    expect(tlpFromLabel('tlp:ex:chr')).toBeNull();
    expect(tlpFromLabel('tlp:purple')).toBeNull();
    expect(tlpFromLabel('amber')).toBeNull();
  });

  it('recognises unknown-id markings by their content', () => {
    expect(tlpOfMarkingDefinition({ id: OTHER, extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'red' } } })).toBe('red');
    expect(tlpOfMarkingDefinition({ id: OTHER, definition_type: 'tlp', definition: { tlp: 'white' } })).toBe('clear');
    expect(tlpOfMarkingDefinition({ id: OTHER, definition_type: 'statement', definition: { statement: 'x' } })).toBeNull();
  });
});

describe('tlpOf', () => {
  it('returns the most restrictive TLP among object_marking_refs', () => {
    expect(tlpOf({ object_marking_refs: [TLP2_MARKING_IDS.green, OTHER, TLP1_MARKING_IDS.amber] })).toBe('amber');
    expect(tlpOf({ object_marking_refs: [TLP2_MARKING_IDS.red, TLP2_MARKING_IDS.clear] })).toBe('red');
    expect(tlpOf({ object_marking_refs: [OPENCTI_AMBER_STRICT, TLP2_MARKING_IDS.amber] })).toBe('amber+strict');
  });

  it('is null without TLP markings, and for junk', () => {
    expect(tlpOf({ object_marking_refs: [OTHER] })).toBeNull();
    expect(tlpOf({ labels: ['tlp:red'] })).toBeNull();
    expect(tlpOf(null)).toBeNull();
    expect(tlpOf({ object_marking_refs: 'x' })).toBeNull();
  });

  it('maxTlp orders CLEAR < GREEN < AMBER < AMBER+STRICT < RED', () => {
    expect(maxTlp('amber', 'amber+strict')).toBe('amber+strict');
    expect(maxTlp(null, 'green')).toBe('green');
    expect(maxTlp('red', null)).toBe('red');
  });
});

describe('normaliseMarkings', () => {
  it('rewrites TLP 1.0 and alias refs to TLP 2.0, dedupes, keeps others, leaves the input alone', () => {
    const input = {
      type: 'indicator',
      object_marking_refs: [TLP1_MARKING_IDS.amber, TLP2_MARKING_IDS.amber, OTHER, OPENCTI_AMBER_STRICT],
      granular_markings: [{ marking_ref: TLP1_MARKING_IDS.white, selectors: ['description'] }, { lang: 'en', selectors: ['name'] }],
    };
    const before = structuredClone(input);
    const out = normaliseMarkings(input);
    expect(out.object_marking_refs).toEqual([TLP2_MARKING_IDS.amber, OTHER, TLP2_MARKING_IDS['amber+strict']]);
    expect(out.granular_markings).toEqual([{ marking_ref: TLP2_MARKING_IDS.clear, selectors: ['description'] }, { lang: 'en', selectors: ['name'] }]);
    expect(input).toEqual(before);
  });

  it('leaves objects without markings as they are', () => {
    expect(normaliseMarkings({ type: 'x', id: 'y' })).toEqual({ type: 'x', id: 'y' });
  });
});
