/** Public surface of the stix module: types, ids, validation, TLP markings, 2.0 -> 2.1 restore, patterns. */
export {
  SDO_TYPES, SRO_TYPES, SCO_TYPES, META_TYPES, OPINION_VALUES, EXTENSION_TYPES, categoryOf, isStixType, isStixTypeName, likelyTypeTypo,
} from './types.js';
export type {
  SdoType, SroType, ScoType, MetaType, StixType, StixCategory, StixId, StixObject, ExternalReference, GranularMarking,
  KillChainPhase, StixCommon, Identity, Indicator, Relationship, Sighting, Report, Note, Opinion, OpinionValue,
  MarkingDefinition, ExtensionDefinition, ExtensionType, Bundle, KnownStixObject, AttackPattern, Campaign, IntrusionSet,
  ThreatActor, Malware, Tool, Vulnerability, ObservedData,
} from './types.js';
export {
  STIX_SCO_NAMESPACE, SCO_ID_CONTRIBUTING, canonicalJson, deterministicScoId, isUuid, newStixId, parseStixId, uuidVersion, uuidv5,
} from './ids.js';
export { VALIDATION_RULES, RULE_IDS } from './validate/rules.js';
export type { RuleId } from './validate/rules.js';
export { DEFAULT_LIMITS, limitBreach } from './validate/context.js';
export type { ValidateOptions, ValidationError, ValidationLimits } from './validate/context.js';
export { validateObject } from './validate/validate.js';
export { matchesFormat } from './validate/formats.js';
export type { ValidationResult } from './validate/validate.js';
export { validateBundle, bundleErrors } from './validate/bundle.js';
export type { BundleValidation } from './validate/bundle.js';
export {
  TLP2_EXTENSION_ID, TLP2_MARKING_IDS, TLP1_MARKING_IDS, TLP2_MARKINGS, isTlpMarkingId, maxTlp, predefinedTlpMarking, normaliseMarkings, tlpFromLabel, tlpMarkingId,
  tlpOf, tlpOfMarkingDefinition, tlpOfMarkingId,
} from './tlp.js';
export { isStix20, restoreBundle, restoreObject, restoreObjectDetailed } from './restore.js';
export type { RestoreResult } from './restore.js';
export { parsePattern, formatPatternError } from './pattern/index.js';
export type { PatternAst, PatternError } from './pattern/index.js';
