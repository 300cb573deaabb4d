export { IntelService } from './service.js';
export type { ItemResult, SubmitOptions } from './service.js';
export { displayName, labelsOf, searchTextOf, versionOf, UNVERSIONED } from './facts.js';
