/**
 * Type-specific properties of the STIX 2.1 SDOs (§4) and SROs (§5). The common properties
 * are checked in common.ts; these tables list only what each type adds.
 */
import { parseStixId } from '../ids.js';
import { bool, en, int, kcps, num, ov, ovs, ref, refs, str, strs, ts, dict, any } from './props.js';
import { checkOrder } from './spec.js';
import type { TypeSpec } from './spec.js';
import * as V from './vocab.js';

const seen = { first_seen: ts, last_seen: ts };
const seenOrder: TypeSpec['check'] = (o, ctx) => checkOrder(o, ctx, { earlier: 'first_seen', later: 'last_seen' });
const named = { name: str(), description: str() };

export const SDO_SPECS: Readonly<Record<string, TypeSpec>> = {
  'attack-pattern': { required: ['name'], props: { ...named, aliases: strs, kill_chain_phases: kcps } },
  campaign: { required: ['name'], props: { ...named, aliases: strs, ...seen, objective: str() }, check: seenOrder },
  'course-of-action': { required: ['name'], props: { ...named } },
  grouping: { required: ['context', 'object_refs'], props: { ...named, context: ov(V.GROUPING_CONTEXT_OV), object_refs: refs('@any') } },
  identity: {
    required: ['name'],
    props: { ...named, roles: strs, identity_class: ov(V.IDENTITY_CLASS_OV), sectors: ovs(V.INDUSTRY_SECTOR_OV), contact_information: str() },
  },
  incident: { required: ['name'], props: { ...named, kill_chain_phases: kcps } },
  indicator: {
    required: ['pattern', 'pattern_type', 'valid_from'],
    props: {
      ...named, indicator_types: ovs(V.INDICATOR_TYPE_OV), pattern: str(), pattern_type: ov(V.PATTERN_TYPE_OV),
      pattern_version: str(), valid_from: ts, valid_until: ts, kill_chain_phases: kcps,
    },
    // §4.7: "valid_until ... MUST be greater than valid_from".
    check: (o, ctx) => checkOrder(o, ctx, { earlier: 'valid_from', later: 'valid_until', strict: true }),
  },
  infrastructure: {
    required: ['name'],
    props: { ...named, infrastructure_types: ovs(V.INFRASTRUCTURE_TYPE_OV), aliases: strs, kill_chain_phases: kcps, ...seen },
    check: seenOrder,
  },
  'intrusion-set': {
    required: ['name'],
    props: {
      ...named, aliases: strs, ...seen, goals: strs, resource_level: ov(V.ATTACK_RESOURCE_LEVEL_OV),
      primary_motivation: ov(V.ATTACK_MOTIVATION_OV), secondary_motivations: ovs(V.ATTACK_MOTIVATION_OV),
    },
    check: seenOrder,
  },
  location: {
    required: [],
    props: {
      ...named, latitude: num(-90, 90), longitude: num(-180, 180), precision: num(0), region: ov(V.REGION_OV),
      country: str(), administrative_area: str(), city: str(), street_address: str(), postal_code: str(),
    },
    check: (o, ctx) => {
      // §4.10: one of region, country, or latitude+longitude; the pair and precision go together.
      const hasLat = 'latitude' in o;
      const hasLong = 'longitude' in o;
      if (hasLat !== hasLong) ctx.error(hasLat ? 'longitude' : 'latitude', 'location.position', 'latitude and longitude must be given together');
      if ('precision' in o && !(hasLat && hasLong)) ctx.error('precision', 'location.position', 'precision requires latitude and longitude');
      if (!('region' in o) && !('country' in o) && !(hasLat && hasLong)) {
        ctx.error('', 'location.position', 'a location needs region, country, or latitude and longitude');
      }
    },
  },
  malware: {
    required: ['is_family'],
    props: {
      ...named, malware_types: ovs(V.MALWARE_TYPE_OV), is_family: bool, aliases: strs, kill_chain_phases: kcps, ...seen,
      operating_system_refs: refs('software'), architecture_execution_envs: ovs(V.PROCESSOR_ARCHITECTURE_OV),
      implementation_languages: ovs(V.IMPLEMENTATION_LANGUAGE_OV), capabilities: ovs(V.MALWARE_CAPABILITIES_OV),
      sample_refs: refs('file', 'artifact'),
    },
    check: (o, ctx) => {
      seenOrder(o, ctx);
      // §4.11: name is required when is_family is true.
      if (o['is_family'] === true && !('name' in o)) ctx.error('name', 'value.consistency', 'a malware family must have a name');
    },
  },
  'malware-analysis': {
    required: ['product'],
    props: {
      product: str(), version: str(), host_vm_ref: ref('software'), operating_system_ref: ref('software'),
      installed_software_refs: refs('software'), configuration_version: str(), modules: strs,
      analysis_engine_version: str(), analysis_definition_version: str(), submitted: ts, analysis_started: ts,
      analysis_ended: ts, result_name: str(), result: ov(V.MALWARE_RESULT_OV), analysis_sco_refs: refs('@sco'),
      sample_ref: ref('file', 'artifact', 'network-traffic'),
    },
    check: (o, ctx) => {
      // §4.12: one of result or analysis_sco_refs MUST be present.
      if (!('result' in o) && !('analysis_sco_refs' in o)) {
        ctx.error('', 'value.consistency', 'malware-analysis needs result or analysis_sco_refs');
      }
      checkOrder(o, ctx, { earlier: 'analysis_started', later: 'analysis_ended' });
    },
  },
  note: { required: ['content', 'object_refs'], props: { abstract: str(), content: str(), authors: strs, object_refs: refs('@any') } },
  'observed-data': {
    required: ['first_observed', 'last_observed', 'number_observed'],
    props: {
      first_observed: ts, last_observed: ts, number_observed: int(1, 999_999_999),
      // Deprecated in 2.1 (§4.13) but still valid: a dictionary of SCOs keyed by local ids.
      objects: dict(any), object_refs: refs('@sco', '@sro'),
    },
    check: (o, ctx) => {
      checkOrder(o, ctx, { earlier: 'first_observed', later: 'last_observed' });
      if (('objects' in o) === ('object_refs' in o)) {
        ctx.error('', 'observed-data.content', 'exactly one of objects and object_refs must be present');
      }
    },
  },
  opinion: { required: ['opinion', 'object_refs'], props: { explanation: str(), authors: strs, opinion: en(V.OPINION_ENUM), object_refs: refs('@any') } },
  report: { required: ['name', 'published', 'object_refs'], props: { ...named, report_types: ovs(V.REPORT_TYPE_OV), published: ts, object_refs: refs('@any') } },
  'threat-actor': {
    required: ['name'],
    props: {
      ...named, threat_actor_types: ovs(V.THREAT_ACTOR_TYPE_OV), aliases: strs, ...seen, roles: ovs(V.THREAT_ACTOR_ROLE_OV),
      goals: strs, sophistication: ov(V.THREAT_ACTOR_SOPHISTICATION_OV), resource_level: ov(V.ATTACK_RESOURCE_LEVEL_OV),
      primary_motivation: ov(V.ATTACK_MOTIVATION_OV), secondary_motivations: ovs(V.ATTACK_MOTIVATION_OV),
      personal_motivations: ovs(V.ATTACK_MOTIVATION_OV),
    },
    check: seenOrder,
  },
  tool: { required: ['name'], props: { ...named, tool_types: ovs(V.TOOL_TYPE_OV), aliases: strs, kill_chain_phases: kcps, tool_version: str() } },
  vulnerability: { required: ['name'], props: { ...named } },
};

/** Types an SRO endpoint may not be (§5.1: relationships link SDOs and SCOs). */
const NOT_ENDPOINT = new Set(['relationship', 'sighting', 'marking-definition', 'language-content', 'extension-definition', 'bundle']);

export const SRO_SPECS: Readonly<Record<string, TypeSpec>> = {
  relationship: {
    required: ['relationship_type', 'source_ref', 'target_ref'],
    props: { relationship_type: str('token'), description: str(), source_ref: ref('@sdo', '@sco'), target_ref: ref('@sdo', '@sco'), start_time: ts, stop_time: ts },
    check: (o, ctx) => {
      checkOrder(o, ctx, { earlier: 'start_time', later: 'stop_time', strict: true });
      for (const k of ['source_ref', 'target_ref']) {
        const id = parseStixId(o[k]);
        if (id && NOT_ENDPOINT.has(id.type)) ctx.error(k, 'ref.target-type', `a relationship may not point at a ${id.type}`);
      }
    },
  },
  sighting: {
    required: ['sighting_of_ref'],
    props: {
      description: str(), first_seen: ts, last_seen: ts, count: int(0, 999_999_999), sighting_of_ref: ref('@sdo'),
      observed_data_refs: refs('observed-data'), where_sighted_refs: refs('identity', 'location'), summary: bool,
    },
    check: (o, ctx) => {
      seenOrder(o, ctx);
      const id = parseStixId(o['sighting_of_ref']);
      if (id && NOT_ENDPOINT.has(id.type)) ctx.error('sighting_of_ref', 'ref.target-type', `a sighting may not be of a ${id.type}`);
    },
  },
};
