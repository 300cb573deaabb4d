/** Public surface of the misp module: MISP core format ↔ STIX 2.1 (misp-stix mapping), import, export, feeds. */
export { parseMispDocument, parseEvent, parseObjects, isMispDocument, mispBoolean, saneToIds } from './model.js';
export type { MispEvent, MispAttribute, MispObject, MispSighting, MispGalaxyCluster, MispSharingGroup, MispOrg } from './model.js';
export { eventToStix, objectsToStix, relationshipId, MISP_STIX_NAMESPACE, TOOL_LABEL } from './to-stix.js';
export type { Conversion, ConvertOptions, AttributeAccount, StixObj } from './to-stix.js';
export { releasabilityOf, tlpOfTags } from './policy.js';
export type { Releasability } from './policy.js';
export { importMisp, sharingGroupResolver } from './import.js';
export type { MispImportOptions, MispImportSummary, MispEventSummary } from './import.js';
export { stixToMisp } from './to-misp.js';
export type { ToMispOptions, ToMispResult } from './to-misp.js';
export { exportMispEvent, loadEventObjects, containerIds } from './export.js';
export { publishEvent, deleteEvent } from './lifecycle.js';
export type { EventAction } from './lifecycle.js';
export { MispFeeds, MispFeedScheduler, FEED_KIND } from './feed.js';
export type { Feed, FeedConfig, FeedState, PullResult } from './feed.js';
export { searchAttributes, searchEvents, addSighting, parseLast, MAX_SCANNED_EVENTS } from './search.js';
export type { AttributeFilter, EventFilter, FoundAttribute, ListFilter, TagFilter, TimeRange } from './search.js';
