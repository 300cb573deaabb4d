/** Alerts: what detection raises, grouped per (organisation, rule or indicator, entity). */

export const ALERT = 'alert';
// The wire types live in the shared contract (src/contract), which the web app imports too.
import { ALERT_SEVERITIES } from '../../contract/alerts.js';
import type { AlertSeverity, AlertStatus, AlertWire } from '../../contract/alerts.js';
import type { ReleaseFacts } from '../../core/policy.js';
export { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from '../../contract/alerts.js';
export type { AlertSeverity, AlertSource, AlertStatus, Matched } from '../../contract/alerts.js';

/**
 * The stored document of an alert record: the wire alert without what the record itself holds
 * (id, status as the record state, revision, exercise id) or what a read adds (organisation name).
 * `samples` holds the first {@link SAMPLE_HEAD} events and the latest {@link SAMPLE_TAIL}.
 */
export type AlertDoc = Omit<AlertWire, 'id' | 'status' | 'orgName' | 'rev' | 'exerciseId'>;

/** An alert as the service answers it: the wire type of the shared contract. */
export type Alert = AlertWire;

export const SAMPLE_HEAD = 5;
export const SAMPLE_TAIL = 5;
/** A sample event larger than this (JSON characters) is cut down to its ECS fields. */
export const SAMPLE_MAX_CHARS = 16_384;

/** Open alerts absorb repeats of their group; closed (false-positive / escalated) ones too, silently. */
export const OPEN_STATUSES: readonly AlertStatus[] = ['new', 'acknowledged'];

export function severityRank(s: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(s);
}

/**
 * Release facts of what only the alert's own organisation may read of an alert: the incident it
 * was escalated to (that organisation's record; an alliance body reads the alert, not the incident).
 */
export function alertOwnerOnly(orgId: string): ReleaseFacts {
  return { tlp: 'amber', creatorOrg: orgId, recipients: [], originNode: null };
}
