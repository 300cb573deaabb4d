/** The detection pipeline: ingest spool → indicators, Sigma, anomalies → alerts, sightings (docs/detection.md, docs/pipeline.md). */
export { DetectService } from './service.js';
export type { DetectDeps, DetectMode, IngestSummary, QueueStatus } from './service.js';
export { DetectEngine } from './engine.js';
export type { EngineDeps, EngineObserver } from './engine.js';
export { DEFAULT_DETECT_OPTIONS, TEST_HANG_MARKER } from './detect-types.js';
export type { AnomalyFindingLike, AnomalySource, DetectOptions, DetectStats, SigmaSource, ValueKind, WarninglistSource } from './detect-types.js';
export { SpoolSource, SourceMovedError, SPOOL_CURSOR_KEY } from './source.js';
export type { EventSource } from './source.js';
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
