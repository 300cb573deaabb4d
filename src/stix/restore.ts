/**
 * The versioned "restore" step for untrusted documents (STYLE habit 10): upgrades STIX 2.0
 * objects and bundles to STIX 2.1 before validation. 2.1 input passes through unchanged.
 *
 * What changes between 2.0 and 2.1 (STIX 2.1 Appendix "Changes from STIX 2.0"):
 * - every SDO/SRO/marking carries `spec_version: "2.1"`; bundles lose their `spec_version`;
 * - the `labels` that carried the type vocabulary of indicator, malware, report, threat-actor
 *   and tool become `*_types` (labels are kept too, so nothing is lost);
 * - indicators gain the required `pattern_type` ("stix", the only 2.0 pattern language);
 * - malware gains the required `is_family` (2.0 malware described families);
 * - `created`/`modified` must be millisecond-precise, so second-precision values get `.000`.
 * - TLP 1.0 marking definitions become the predefined 2.1 objects (which carry a `name`).
 * Ids, `created_by_ref` and all references stay as they are. Observed-data `objects`
 * dictionaries are kept (deprecated in 2.1 but still valid), their SCOs given ids and
 * local references resolved (restore-observed.ts).
 */
import { restoreObservedObjects } from './restore-observed.js';
import { TLP1_MARKINGS, TLP1_MARKING_IDS } from './tlp.js';
import { categoryOf } from './types.js';

export interface RestoreResult {
  object: Record<string, unknown>;
  /** What was changed, one line each; empty when the input already was STIX 2.1. */
  changes: string[];
}

const LABELS_TO_TYPES: Readonly<Record<string, string>> = {
  indicator: 'indicator_types',
  malware: 'malware_types',
  report: 'report_types',
  'threat-actor': 'threat_actor_types',
  tool: 'tool_types',
};

const SECONDS_ONLY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether an object is in STIX 2.0 form: an explicit "2.0", or no spec_version on a non-SCO. */
export function isStix20(o: Readonly<Record<string, unknown>>): boolean {
  if (o['spec_version'] === '2.0') return true;
  if ('spec_version' in o || typeof o['type'] !== 'string') return false;
  // 2.1 SCOs may omit spec_version; 2.0 SCOs only lived inside observed-data.
  return categoryOf(o['type']) !== 'sco' && o['type'] !== 'bundle';
}

/**
 * Upgrades untrusted input to STIX 2.1 when it is a STIX 2.0 object; anything else is
 * returned as is, for the validator to judge. Never modifies the input.
 */
export function restoreObject(input: unknown): unknown {
  return isRecord(input) ? restoreObjectDetailed(input).object : input;
}

/** Upgrades one STIX 2.0 object to 2.1 and lists what changed. Returns a new object. */
export function restoreObjectDetailed(input: Readonly<Record<string, unknown>>): RestoreResult {
  const changes: string[] = [];
  if (!isStix20(input)) return { object: { ...input }, changes };
  const o: Record<string, unknown> = { ...input, spec_version: '2.1' };
  changes.push('spec_version set to 2.1');
  const type = String(o['type']);
  for (const k of ['created', 'modified']) {
    const m = typeof o[k] === 'string' ? SECONDS_ONLY.exec(o[k]) : null;
    if (m) {
      o[k] = `${m[1]}.000Z`;
      changes.push(`${k} given millisecond precision`);
    }
  }
  const typesProp = LABELS_TO_TYPES[type];
  if (typesProp && !(typesProp in o) && Array.isArray(o['labels']) && o['labels'].length > 0) {
    o[typesProp] = [...(o['labels'] as unknown[])];
    changes.push(`labels copied to ${typesProp}`);
  }
  if (type === 'indicator' && !('pattern_type' in o)) {
    o['pattern_type'] = 'stix';
    changes.push('pattern_type set to stix');
  }
  if (type === 'malware' && !('is_family' in o)) {
    o['is_family'] = true;
    changes.push('is_family set to true');
  }
  if (type === 'observed-data' && isRecord(o['objects'])) {
    const restored = restoreObservedObjects(o['objects']);
    if (restored !== o['objects']) {
      o['objects'] = restored;
      changes.push('observed objects given ids and 2.1 property names');
    }
  }
  // §7.2.1.4: a TLP 1.0 marking is one of the four predefined objects, which in 2.1 carry a name.
  const tlp1 = Object.entries(TLP1_MARKING_IDS).find(([, mid]) => mid === o['id']);
  if (type === 'marking-definition' && tlp1 && o['definition_type'] === 'tlp') {
    changes.push('replaced by the predefined STIX 2.1 TLP marking');
    return { object: { ...TLP1_MARKINGS[tlp1[0] as keyof typeof TLP1_MARKINGS] }, changes };
  }
  return { object: o, changes };
}

/**
 * Upgrades a 2.0 bundle: drops the bundle-level `spec_version` (2.1 §8) and restores each
 * object. Non-object members are passed through for the validator to reject.
 */
export function restoreBundle(input: Readonly<Record<string, unknown>>): { bundle: Record<string, unknown>; changes: string[][] } {
  const bundle: Record<string, unknown> = { ...input };
  delete bundle['spec_version'];
  const objects = Array.isArray(input['objects']) ? (input['objects'] as unknown[]) : undefined;
  const changes: string[][] = [];
  if (objects) {
    bundle['objects'] = objects.map((x) => {
      if (!isRecord(x)) {
        changes.push([]);
        return x;
      }
      // Objects in a 2.0 bundle have no spec_version of their own; the bundle's applied to them.
      const r = restoreObjectDetailed(input['spec_version'] === '2.0' && !('spec_version' in x) && categoryOf(String(x['type'])) !== 'sco' ? { ...x, spec_version: '2.0' } : x);
      changes.push(r.changes);
      return r.object;
    });
  }
  return { bundle, changes };
}
