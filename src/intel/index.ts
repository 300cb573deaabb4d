export { COPIES_META, DELETED_VERSION_KIND, IntelService, RETRACTION_KIND, ownerHeads } from './service.js';
export type { CommitListener, CommittedObjects, ItemResult, ReceivedRetraction, RetractionDoc, SubmitOptions } from './service.js';
export { displayName, labelsOf, searchTextOf, versionOf, UNVERSIONED, unversionedKey, isUnversionedKey, versionLabel } from './facts.js';
export { importBundleStream, exportBundle, MAX_NESTING, MAX_REPORTED_ERRORS } from './bundle-io.js';
export type { ImportOptions, ImportProgress, ImportRequest, ImportSummary, ImportError, ExportRequest } from './bundle-io.js';
// correlation & warninglists
export { Correlations, checkExclusion, DEFAULT_CORRELATION_CAP, DEFAULT_LINK_LIMIT, EXCLUSION_TYPES } from './correlation.js';
export type { CorrelationOptions, CorrelationReader, CorrelatedObject, ExclusionType, ObjectCorrelations, ValueCorrelation } from './correlation.js';
export { Warninglists, parseMispWarninglist, mispListId, kindsOf, compileRegex, WARNINGLIST_TYPES, MAX_WARNINGLIST_ENTRIES } from './warninglists.js';
export type { MispWarninglist, WarninglistHit, WarninglistInfo } from './warninglists.js';
export { BUILTIN_WARNINGLISTS } from './warninglist-defaults.js';
export type { BuiltinWarninglist } from './warninglist-defaults.js';
export { extractObservables, normaliseValue, parseIp, ipBlockText, OBSERVABLE_KINDS, MAX_VALUE_BYTES, MAX_VALUES_PER_OBJECT } from './observables.js';
export type { ObservableKind, ObservableValue } from './observables.js';
