/**
 * Anomaly detection over normalised telemetry: seasonal event-rate baselines per (organisation,
 * sensor), first-seen entities and rare values per organisation. See docs/anomaly.md.
 */
export { AnomalyDetector } from './detector.js';
export type { AnomalyFinding, AnomalyMethod, AnomalyOptions, AnomalySeverity, Seasonality } from './types.js';
export { resolveOptions } from './types.js';
export { executableKey, publicIp, registeredDomain, tldOf } from './entities.js';
