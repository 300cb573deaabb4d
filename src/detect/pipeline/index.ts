/** The detection pipeline: ingest spool → indicators, Sigma, anomalies → alerts, sightings (docs/detection.md). */
export { DetectService, DEFAULT_DETECT_OPTIONS } from './service.js';
export type {
  AnomalyFindingLike, AnomalySource, DetectDeps, DetectOptions, DetectStats, IngestSummary, SigmaSource, ValueKind, WarninglistSource,
} from './service.js';
export { AlertService } from './alert-service.js';
export type { AlertFilter, AlertPatch, Cop, CopMember } from './alert-service.js';
export { ALERT, ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from './alert-types.js';
export type { Alert, AlertDoc, AlertSeverity, AlertSource, AlertStatus, Matched } from './alert-types.js';
export { IndicatorFeed } from './feed.js';
export type { FeedStats, IndicatorInfo } from './feed.js';
export { SightingBook } from './sightings.js';
export type { SightingMode } from './sightings.js';
export { createDetectDemo } from './demo.js';
export type { DemoRules, DetectDemoResult } from './demo.js';
