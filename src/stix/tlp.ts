/**
 * TLP markings. TLP 2.0 (FIRST) is expressed in STIX 2.1 by the OASIS TLP 2.0 marking
 * extension (cti-stix-common-objects, extension-definition-specifications/tlp-2.0): five
 * fixed marking-definition objects with fixed ids. TLP 1.0 markings are predefined by
 * STIX 2.1 §7.2.1.4. Other producers' TLP markings and MISP-style labels are aliases.
 */
import { TLP_LEVELS } from '../core/policy.js';
import type { Tlp } from '../core/policy.js';
import type { MarkingDefinition, StixId } from './types.js';

/**
 * The extension-definition id every TLP 2.0 marking carries, as published by OASIS
 * (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json in cti-stix-common-objects).
 */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

const md = (uuid: string): StixId<'marking-definition'> => `marking-definition--${uuid}` as StixId<'marking-definition'>;

/** The official TLP 2.0 marking-definition ids. */
export const TLP2_MARKING_IDS: Readonly<Record<Tlp, StixId<'marking-definition'>>> = Object.freeze({
  clear: md('94868c89-83c2-464b-929b-a1a8aa3c8487'),
  green: md('bab4a63c-aed9-4cf5-a766-dfca5abac2bb'),
  amber: md('55d920b0-5e8b-4f79-9ee9-91f868d9b421'),
  'amber+strict': md('939a9414-2ddd-4d32-a0cd-375ea402b003'),
  red: md('e828b379-4e03-4974-9ac4-e53a884c97c1'),
});

/** The predefined TLP 1.0 marking-definition ids (STIX 2.1 §7.2.1.4). */
export const TLP1_MARKING_IDS = Object.freeze({
  white: md('613f2e26-407d-48c7-9eca-b8e91df99dc9'),
  green: md('34098fce-860f-48ae-8e50-ebd3cc5e41da'),
  amber: md('f88d31f6-486f-44da-b317-01333bde0b82'),
  red: md('5e57c739-391a-4eb3-b6be-7d15ca92d5ed'),
});

type Tlp1 = keyof typeof TLP1_MARKING_IDS;

function tlp1Object(tlp: Tlp1): MarkingDefinition {
  return Object.freeze({
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP1_MARKING_IDS[tlp],
    created: '2017-01-20T00:00:00.000Z',
    definition_type: 'tlp',
    name: `TLP:${tlp.toUpperCase()}`,
    definition: Object.freeze({ tlp }),
  }) as MarkingDefinition;
}

/**
 * The four predefined TLP 1.0 marking-definition objects (§7.2.1.4). "Other instances of
 * tlp-marking MUST NOT be used or created", so a `definition_type: "tlp"` object must be one
 * of these, exactly.
 */
export const TLP1_MARKINGS: Readonly<Record<Tlp1, MarkingDefinition>> = Object.freeze({
  white: tlp1Object('white'),
  green: tlp1Object('green'),
  amber: tlp1Object('amber'),
  red: tlp1Object('red'),
});

const TLP2_NAMES: Readonly<Record<Tlp, string>> = {
  clear: 'TLP:CLEAR', green: 'TLP:GREEN', amber: 'TLP:AMBER', 'amber+strict': 'TLP:AMBER+STRICT', red: 'TLP:RED',
};

function tlp2Object(tlp: Tlp): MarkingDefinition {
  return Object.freeze({
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_MARKING_IDS[tlp],
    created: '2022-10-01T00:00:00.000Z',
    name: TLP2_NAMES[tlp],
    extensions: Object.freeze({
      [TLP2_EXTENSION_ID]: Object.freeze({ extension_type: 'property-extension', tlp_2_0: tlp }),
    }),
  }) as MarkingDefinition;
}

/** The full TLP 2.0 marking-definition objects, exactly as OASIS publishes them. */
export const TLP2_MARKINGS: Readonly<Record<Tlp, MarkingDefinition>> = Object.freeze({
  clear: tlp2Object('clear'),
  green: tlp2Object('green'),
  amber: tlp2Object('amber'),
  'amber+strict': tlp2Object('amber+strict'),
  red: tlp2Object('red'),
});

const PREDEFINED: ReadonlyMap<string, MarkingDefinition> = new Map([...Object.values(TLP2_MARKINGS), ...Object.values(TLP1_MARKINGS)].map((m) => [m.id, m]));

/**
 * The predefined object of a TLP marking-definition id (the five TLP 2.0 ones, the four TLP 1.0
 * ones of STIX 2.1 §7.2.1.4); null for any other id, the OpenCTI alias included (its content is
 * OpenCTI's own, not fixed by a standard).
 */
export function predefinedTlpMarking(id: string): MarkingDefinition | null {
  return PREDEFINED.get(id) ?? null;
}

/** Every known marking id that means a TLP level, mapped to its TLP 2.0 level. */
const ID_TO_TLP: ReadonlyMap<string, Tlp> = new Map<string, Tlp>([
  ...TLP_LEVELS.map((t) => [TLP2_MARKING_IDS[t], t] as const),
  // TLP 1.0 -> 2.0: WHITE became CLEAR; the others keep their names (FIRST TLP 2.0 FAQ).
  [TLP1_MARKING_IDS.white, 'clear'],
  [TLP1_MARKING_IDS.green, 'green'],
  [TLP1_MARKING_IDS.amber, 'amber'],
  [TLP1_MARKING_IDS.red, 'red'],
  // OpenCTI creates its own TLP:AMBER+STRICT marking-definition under this id.
  ['marking-definition--826578e1-40ad-459f-bc73-ede076f81f37', 'amber+strict'],
]);

/** Label spellings that carry a TLP level (MISP taxonomy `tlp:amber`, `TLP:AMBER+STRICT`, `tlp:white`...). */
export function tlpFromLabel(label: string): Tlp | null {
  const m = /^tlp\s*:\s*([a-z+ -]+)$/i.exec(label.trim());
  if (!m || !m[1]) return null;
  const level = m[1].toLowerCase().replace(/\s+/g, '').replace(/-strict$/, '+strict');
  if (level === 'white') return 'clear';
  return (TLP_LEVELS as readonly string[]).includes(level) ? (level as Tlp) : null;
}

/** Whether an id is a TLP marking (TLP 2.0, TLP 1.0 or a known alias). */
export function isTlpMarkingId(id: string): boolean {
  return ID_TO_TLP.has(id);
}

/** The TLP level a marking-definition id stands for; null when it is not a TLP marking. */
export function tlpOfMarkingId(id: string): Tlp | null {
  return ID_TO_TLP.get(id) ?? null;
}

/**
 * The TLP level a marking-definition object expresses: a known id, the TLP 2.0 extension,
 * or a TLP 1.0 `definition`. Lets us recognise markings whose ids we do not know.
 */
export function tlpOfMarkingDefinition(md: Readonly<Record<string, unknown>>): Tlp | null {
  if (typeof md['id'] === 'string' && ID_TO_TLP.has(md['id'])) return ID_TO_TLP.get(md['id']) ?? null;
  const ext = (md['extensions'] as Record<string, Record<string, unknown>> | undefined)?.[TLP2_EXTENSION_ID];
  const v2 = ext?.['tlp_2_0'];
  if (typeof v2 === 'string' && (TLP_LEVELS as readonly string[]).includes(v2)) return v2 as Tlp;
  const def = md['definition'] as Record<string, unknown> | undefined;
  if (md['definition_type'] === 'tlp' && typeof def?.['tlp'] === 'string') return tlpFromLabel(`tlp:${def['tlp']}`);
  return null;
}

const RANK: Readonly<Record<Tlp, number>> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

/** The more restrictive of two levels. */
export function maxTlp(a: Tlp | null, b: Tlp | null): Tlp | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The highest (most restrictive) TLP level among an object's `object_marking_refs`, or
 * null when it carries none. Granular markings and labels are not consulted: the release
 * policy works on whole objects, and labels are not markings.
 */
export function tlpOf(obj: unknown): Tlp | null {
  if (typeof obj !== 'object' || obj === null) return null;
  const refs = (obj as Record<string, unknown>)['object_marking_refs'];
  if (!Array.isArray(refs)) return null;
  let best: Tlp | null = null;
  for (const r of refs) if (typeof r === 'string') best = maxTlp(best, tlpOfMarkingId(r));
  return best;
}

/** The TLP 2.0 marking-definition id for a level. */
export function tlpMarkingId(tlp: Tlp): StixId<'marking-definition'> {
  return TLP2_MARKING_IDS[tlp];
}

/**
 * Rewrites TLP 1.0 and alias marking refs (object-level and granular) to the TLP 2.0 ids,
 * dropping duplicates. Returns a new object; the input is not modified.
 */
export function normaliseMarkings<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = { ...obj };
  const map = (id: unknown): unknown => {
    if (typeof id !== 'string') return id;
    const tlp = tlpOfMarkingId(id);
    return tlp === null ? id : TLP2_MARKING_IDS[tlp];
  };
  const refs = obj['object_marking_refs'];
  if (Array.isArray(refs)) out['object_marking_refs'] = [...new Set(refs.map(map))];
  const gms = obj['granular_markings'];
  if (Array.isArray(gms)) {
    out['granular_markings'] = gms.map((g: unknown) =>
      typeof g === 'object' && g !== null && 'marking_ref' in g ? { ...g, marking_ref: map((g as Record<string, unknown>)['marking_ref']) } : g,
    );
  }
  return out as T;
}
