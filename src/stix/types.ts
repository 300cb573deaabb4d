/**
 * STIX 2.1 object types. The common ones are a discriminated union keyed on `type`
 * (STYLE habit 9); everything else is a generic {@link StixObject}. Property lists follow
 * the STIX 2.1 OASIS Standard (sections 4-7); optional properties are optional here too,
 * so the type never claims more than the validator checked.
 */

/** STIX Domain Objects (STIX 2.1 §4). */
export const SDO_TYPES = [
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator',
  'infrastructure', 'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data',
  'opinion', 'report', 'threat-actor', 'tool', 'vulnerability',
] as const;

/** STIX Relationship Objects (STIX 2.1 §5). */
export const SRO_TYPES = ['relationship', 'sighting'] as const;

/** STIX Cyber-observable Objects (STIX 2.1 §6). */
export const SCO_TYPES = [
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url',
  'user-account', 'windows-registry-key', 'x509-certificate',
] as const;

/** STIX Meta Objects (STIX 2.1 §7). */
export const META_TYPES = ['language-content', 'marking-definition', 'extension-definition'] as const;

export type SdoType = (typeof SDO_TYPES)[number];
export type SroType = (typeof SRO_TYPES)[number];
export type ScoType = (typeof SCO_TYPES)[number];
export type MetaType = (typeof META_TYPES)[number];
export type StixType = SdoType | SroType | ScoType | MetaType;
export type StixCategory = 'sdo' | 'sro' | 'sco' | 'meta';

declare const stixIdBrand: unique symbol;
/** An identifier `type--UUID` (STIX 2.1 §2.9), branded with the object type it names. */
export type StixId<T extends string = string> = `${T}--${string}` & { readonly [stixIdBrand]: T };

/** Any STIX object: what the validator guarantees for every accepted input. */
export interface StixObject {
  type: string;
  id: string;
  spec_version?: string;
  [k: string]: unknown;
}

export interface ExternalReference {
  source_name: string;
  description?: string;
  url?: string;
  hashes?: Record<string, string>;
  external_id?: string;
}

export interface GranularMarking {
  lang?: string;
  marking_ref?: StixId<'marking-definition'>;
  selectors: string[];
}

export interface KillChainPhase {
  kill_chain_name: string;
  phase_name: string;
}

/** Common properties of SDOs and SROs (STIX 2.1 §3.2). */
export interface StixCommon<T extends string> extends StixObject {
  type: T;
  id: StixId<T>;
  spec_version: '2.1';
  created: string;
  modified: string;
  created_by_ref?: StixId<'identity'>;
  revoked?: boolean;
  labels?: string[];
  confidence?: number;
  lang?: string;
  external_references?: ExternalReference[];
  object_marking_refs?: StixId<'marking-definition'>[];
  granular_markings?: GranularMarking[];
  extensions?: Record<string, Record<string, unknown>>;
}

export interface Identity extends StixCommon<'identity'> {
  name: string;
  description?: string;
  roles?: string[];
  identity_class?: string;
  sectors?: string[];
  contact_information?: string;
}

export interface Indicator extends StixCommon<'indicator'> {
  name?: string;
  description?: string;
  indicator_types?: string[];
  pattern: string;
  pattern_type: string;
  pattern_version?: string;
  valid_from: string;
  valid_until?: string;
  kill_chain_phases?: KillChainPhase[];
}

export interface Relationship extends StixCommon<'relationship'> {
  relationship_type: string;
  description?: string;
  source_ref: StixId;
  target_ref: StixId;
  start_time?: string;
  stop_time?: string;
}

export interface Sighting extends StixCommon<'sighting'> {
  description?: string;
  first_seen?: string;
  last_seen?: string;
  count?: number;
  sighting_of_ref: StixId;
  observed_data_refs?: StixId<'observed-data'>[];
  where_sighted_refs?: StixId<'identity' | 'location'>[];
  summary?: boolean;
}

export interface Report extends StixCommon<'report'> {
  name: string;
  description?: string;
  report_types?: string[];
  published: string;
  object_refs: StixId[];
}

export interface Note extends StixCommon<'note'> {
  abstract?: string;
  content: string;
  authors?: string[];
  object_refs: StixId[];
}

export interface Opinion extends StixCommon<'opinion'> {
  explanation?: string;
  authors?: string[];
  opinion: OpinionValue;
  object_refs: StixId[];
}

export const OPINION_VALUES = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'] as const;
export type OpinionValue = (typeof OPINION_VALUES)[number];

interface Named {
  name: string;
  description?: string;
  aliases?: string[];
}

export interface AttackPattern extends StixCommon<'attack-pattern'>, Named {
  kill_chain_phases?: KillChainPhase[];
}

export interface Campaign extends StixCommon<'campaign'>, Named {
  first_seen?: string;
  last_seen?: string;
  objective?: string;
}

export interface IntrusionSet extends StixCommon<'intrusion-set'>, Named {
  first_seen?: string;
  last_seen?: string;
  goals?: string[];
  resource_level?: string;
  primary_motivation?: string;
  secondary_motivations?: string[];
}

export interface ThreatActor extends StixCommon<'threat-actor'>, Named {
  threat_actor_types?: string[];
  roles?: string[];
  sophistication?: string;
}

export interface Malware extends StixCommon<'malware'> {
  name?: string;
  description?: string;
  malware_types?: string[];
  is_family: boolean;
  kill_chain_phases?: KillChainPhase[];
}

export interface Tool extends StixCommon<'tool'>, Named {
  tool_types?: string[];
  kill_chain_phases?: KillChainPhase[];
}

export interface Vulnerability extends StixCommon<'vulnerability'> {
  name: string;
  description?: string;
}

export interface ObservedData extends StixCommon<'observed-data'> {
  first_observed: string;
  last_observed: string;
  number_observed: number;
  object_refs?: StixId[];
  /** Deprecated in 2.1 (§4.13), still valid. */
  objects?: Record<string, StixObject>;
}

/** Marking definitions (STIX 2.1 §7.2) are not versioned: no `modified`. */
export interface MarkingDefinition extends StixObject {
  type: 'marking-definition';
  id: StixId<'marking-definition'>;
  spec_version: '2.1';
  created: string;
  name?: string;
  created_by_ref?: StixId<'identity'>;
  definition_type?: string;
  definition?: Record<string, unknown>;
  external_references?: ExternalReference[];
  object_marking_refs?: StixId<'marking-definition'>[];
  granular_markings?: GranularMarking[];
  extensions?: Record<string, Record<string, unknown>>;
}

export interface ExtensionDefinition extends StixCommon<'extension-definition'> {
  created_by_ref: StixId<'identity'>;
  name: string;
  description?: string;
  schema: string;
  version: string;
  extension_types: ExtensionType[];
  extension_properties?: string[];
}

export const EXTENSION_TYPES = [
  'new-sdo', 'new-sco', 'new-sro', 'property-extension', 'toplevel-property-extension',
] as const;
export type ExtensionType = (typeof EXTENSION_TYPES)[number];

/** A STIX 2.1 bundle (§8): a transport wrapper, not a STIX object. */
export interface Bundle {
  type: 'bundle';
  id: StixId<'bundle'>;
  objects: StixObject[];
}

/** The union of the object shapes modelled in detail, discriminated by `type`. */
export type KnownStixObject =
  | Identity | Indicator | Relationship | Sighting | Report | Note | Opinion | MarkingDefinition
  | ExtensionDefinition | AttackPattern | Campaign | IntrusionSet | ThreatActor | Malware | Tool | Vulnerability
  | ObservedData;

/** Narrows a validated object by its `type`. */
export function isStixType<T extends KnownStixObject['type']>(
  obj: StixObject,
  type: T,
): obj is Extract<KnownStixObject, { type: T }> {
  return obj.type === type;
}

const CATEGORY = new Map<string, StixCategory>([
  ...SDO_TYPES.map((t) => [t, 'sdo'] as const),
  ...SRO_TYPES.map((t) => [t, 'sro'] as const),
  ...SCO_TYPES.map((t) => [t, 'sco'] as const),
  ...META_TYPES.map((t) => [t, 'meta'] as const),
]);

/** The category of a type defined by STIX 2.1; undefined for custom or unknown types. */
export function categoryOf(type: string): StixCategory | undefined {
  return CATEGORY.get(type);
}

const TYPE_NAME = /^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$/;

/**
 * Whether a text can name a STIX type (§2.7 and §3.1: 3–250 of a–z, 0–9 and `-`, starting and
 * ending with a letter or digit); two hyphens would make an id (`type--uuid`) ambiguous.
 */
export function isStixTypeName(t: string): boolean {
  return TYPE_NAME.test(t) && !t.includes('--');
}

/**
 * For a type name that STIX 2.1 does not define and that is not custom-looking (`x-…`): the
 * defined type it most likely misspells (a plural, or at most two edits away), else undefined.
 */
export function likelyTypeTypo(t: string): string | undefined {
  if (CATEGORY.has(t) || t.startsWith('x-')) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const known of CATEGORY.keys()) {
    const d = t === `${known}s` || t === `${known}es` ? 1 : editDistance(t, known, bestD);
    if (d < bestD) { best = known; bestD = d; }
  }
  return best;
}

/** Levenshtein distance of two short texts, or `cap` once it reaches it. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}
