export { IntelService } from './service.js';
export type { CommitListener, CommittedObjects, ItemResult, SubmitOptions } from './service.js';
export { displayName, labelsOf, searchTextOf, versionOf, UNVERSIONED } from './facts.js';
export { importBundleStream, exportBundle, MAX_NESTING, MAX_REPORTED_ERRORS } from './bundle-io.js';
export type { ImportOptions, ImportProgress, ImportRequest, ImportSummary, ImportError, ExportRequest } from './bundle-io.js';
