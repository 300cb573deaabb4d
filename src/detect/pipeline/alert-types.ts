/** Alerts: what detection raises, grouped per (organisation, rule or indicator, entity). */

export const ALERT = 'alert';
export const ALERT_STATUSES = ['new', 'acknowledged', 'false-positive', 'escalated'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const ALERT_SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_SOURCES = ['indicator', 'sigma', 'anomaly', 'exposure'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

export type Matched =
  | { kind: 'indicator'; id: string; name: string | null; pattern: string; via: string; path: string | null; value: string | null; tactics: string[] }
  | { kind: 'sigma'; id: string | null; title: string; level: string | null; tags: string[]; correlation: string | null }
  | { kind: 'anomaly'; method: 'rate' | 'first-seen' | 'rare'; expected: string; seen: string; score: number }
  | { kind: 'exposure'; cve: string; kev: boolean; ransomware: boolean; exposures: string[]; assets: string[]; dueDate: string | null };

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
