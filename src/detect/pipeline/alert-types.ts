/** Alerts: what detection raises, grouped per (organisation, rule or indicator, entity). */

export const ALERT = 'alert';
// The wire types live in the shared contract (src/contract), which the web app imports too.
import { ALERT_SEVERITIES } from '../../contract/alerts.js';
import type { AlertSeverity, AlertSource, AlertStatus, Matched } from '../../contract/alerts.js';
export { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from '../../contract/alerts.js';
export type { AlertSeverity, AlertSource, AlertStatus, Matched } from '../../contract/alerts.js';

/** The stored document of an alert record (status is the record state; the record id is the alert id). */
export interface AlertDoc {
  orgId: string;
  sensorId: string;
  source: AlertSource;
  title: string;
  severity: AlertSeverity;
  assignee: string | null;
  entity: string;
  groupKey: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  techniques: string[];
  matched: Matched;
  /** The first {@link SAMPLE_HEAD} events and the latest {@link SAMPLE_TAIL}. */
  samples: Record<string, unknown>[];
  incidentId: string | null;
}

export interface Alert extends AlertDoc {
  id: string;
  status: AlertStatus;
  orgName: string | null;
  rev: number;
  exerciseId: string | null;
}

export const SAMPLE_HEAD = 5;
export const SAMPLE_TAIL = 5;
/** A sample event larger than this (JSON characters) is cut down to its ECS fields. */
export const SAMPLE_MAX_CHARS = 16_384;

/** Open alerts absorb repeats of their group; closed (false-positive / escalated) ones too, silently. */
export const OPEN_STATUSES: readonly AlertStatus[] = ['new', 'acknowledged'];

export function severityRank(s: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(s);
}
