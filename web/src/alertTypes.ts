/**
 * Alerts and the common operational picture as the REST API returns them
 * (docs/rest-api.md; times are ISO strings), from the shared contract module src/contract.
 */

import { ALERT_SEVERITIES as BY_RANK } from '../../src/contract/alerts.js';
import type { AlertDetailWire, AlertSeverity, AlertSource, AlertStatus, AlertWire, Matched } from '../../src/contract/alerts.js';

// The wire types are the server's own (src/contract): one source of truth, checked by the typecheck.
export { ALERT_SOURCES, ALERT_STATUSES } from '../../src/contract/alerts.js';
export type {
  AlertHistoryEntry, AlertPatch, AlertSeverity, AlertSource, AlertStatus, AnomalyMatch, Cop, CopMember, CopTop, CopTopIndicator, CopTopTechnique, IndicatorMatch,
  RateBucket, SeverityCounts, SigmaMatch,
} from '../../src/contract/alerts.js';

/** Severities in display order, most severe first. */
export const ALERT_SEVERITIES: readonly AlertSeverity[] = [...BY_RANK].reverse();

export type AlertMatch = Matched;
export type Alert = AlertWire;
export type AlertDetail = AlertDetailWire;

/**
 * Statuses an analyst may move an alert to (src/detect/pipeline/alert-service.ts MOVES); escalation
 * goes through POST /escalate. The server stays the judge, this only decides which buttons show.
 */
export const ALERT_MOVES: Readonly<Record<AlertStatus, readonly AlertStatus[]>> = {
  'new': ['acknowledged', 'false-positive'],
  'acknowledged': ['new', 'false-positive'],
  'false-positive': ['new', 'acknowledged'],
  'escalated': [],
};

// client-only: the list filter the web app builds into GET /alerts query parameters.
export interface AlertFilter {
  status?: AlertStatus[];
  severity?: AlertSeverity[];
  source?: AlertSource[];
  limit?: number;
}

