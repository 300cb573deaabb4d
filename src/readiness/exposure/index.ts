/** Readiness: inventory, vulnerability intelligence, exposures and CSAF advisories (issue #12 parts 2 and 3). */
import type { IntelService } from '../../intel/index.js';
import { AdvisoryService } from './advisories.js';
import { ExposureService, type ExposureDeps } from './service.js';
import { VulnFeeds, type VulnFeedDeps } from './feeds.js';
import { ExposureTrend } from './trend.js';
import { StixVulnSource } from './stix.js';

export interface ExposureModule {
  exposures: ExposureService;
  advisories: AdvisoryService;
  /** KEV / EPSS fetched from a URL on a schedule (feeds.ts). */
  feeds: VulnFeeds;
  /** KEV exposure over time, per organisation and alliance-wide (trend.ts). */
  trend: ExposureTrend;
  /** STIX `vulnerability` objects of the intel store as a source (stix.ts). */
  stix: StixVulnSource;
}

export function createExposure(deps: ExposureDeps & { intel: IntelService; feeds?: Pick<VulnFeedDeps, 'defaults' | 'fetch'> }): ExposureModule {
  const exposures = new ExposureService(deps);
  const stix = new StixVulnSource(exposures, deps);
  exposures.stixObjects = (cve, orgIds) => stix.objectsFor(cve, orgIds);
  return {
    exposures, advisories: new AdvisoryService(exposures, deps.intel), feeds: new VulnFeeds(exposures, { store: deps.store, clock: deps.clock, ...deps.feeds }),
    trend: new ExposureTrend(exposures, deps), stix,
  };
}

export { ExposureService, assetOf, productOf, rulesOf } from './service.js';
export type { AssetView, ExposureView, ExposureDeps, ImportReport, Share } from './service.js';
export { AdvisoryService, advisoryToStix, inVersRange, productCovers } from './advisories.js';
export type { AdvisoryView, VexOutcome } from './advisories.js';
export { VulnIndex, normKey, productKey } from './engine.js';
export { VulnFeeds, FEED_NAMES, VULN_FEED, bodyText, feedName, httpFetch } from './feeds.js';
export { StixVulnSource, referencesOf } from './stix.js';
export { ExposureTrend, TREND, SNAPSHOT_EVERY_MS } from './trend.js';
export type { OwnPoint, AlliancePoint } from './trend.js';
export type { FeedName, FeedSettings, FeedView, Fetcher } from './feeds.js';
export type { ProductHit, Confidence } from './engine.js';
export { parseKev, parseCve5, parseEpss, nvdRuleOf, CVE_ID } from './intel.js';
export type { AffectedRule, KevEntry, CveInfo, EpssScore, Refused } from './intel.js';
export {
  ASSET, EXPOSURE, ADVISORY, VULN, CRITICALITIES, EXPOSURE_STATUSES, DEFAULT_DUE_POLICY, priorityOf, dueDateOf, bestCvss,
} from './model.js';
export type { AssetDoc, Criticality, ExposureDoc, ExposureStatus, VulnDoc, KevState, DuePolicy } from './model.js';
export { parseInventory, parseInventoryCsv, parseInventoryJson } from './inventory.js';
export { createExposureDemo } from './demo.js';
