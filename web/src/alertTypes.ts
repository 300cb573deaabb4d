/**
 * Alerts and the common operational picture as the REST API returns them
 * (docs: /work/notes/contract.md "Alerts REST"; times are ISO strings).
 */

export const ALERT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'false-positive', 'escalated'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_SOURCES = ['indicator', 'sigma', 'anomaly'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

export interface IndicatorMatch {
  kind: 'indicator';
  id: string;
  name: string | null;
  pattern: string;
  via: string;
  path: string | null;
  value: string | null;
  /** Kill-chain phases of the indicator, when it has any. */
  tactics?: string[];
}
export interface SigmaMatch { kind: 'sigma'; id: string | null; title: string; level: string | null; tags: string[]; correlation?: string | null }
export interface AnomalyMatch { kind: 'anomaly'; method: 'rate' | 'first-seen' | 'rare'; expected: string; seen: string; score: number }
export type AlertMatch = IndicatorMatch | SigmaMatch | AnomalyMatch;

export interface Alert {
  id: string;
  orgId: string;
  orgName: string | null;
  sensorId: string;
  source: AlertSource;
  title: string;
  severity: AlertSeverity;
  status: AlertStatus;
  assignee: string | null;
  entity: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  techniques: string[];
  matched: AlertMatch;
  samples: Record<string, unknown>[];
  incidentId: string | null;
  rev: number;
  exerciseId: string | null;
}

export interface AlertHistoryEntry { at: string; kind: string; user: string | null; data: unknown }
export type AlertDetail = Alert & { history: AlertHistoryEntry[] };

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

export type SeverityCounts = Record<AlertSeverity, number>;

export interface CopMember {
  orgId: string;
  name: string;
  shortName: string;
  country: string | null;
  kind: string;
  alertLevel: number | null;
  alerts: SeverityCounts;
  openAlerts: number;
  openIncidents: number;
}

export interface RateBucket { t: string; events: number; alerts: number }

export interface Cop {
  generatedAt: string;
  hours: number;
  members: CopMember[];
  rates: { bucketMinutes: number; buckets: RateBucket[] };
  heatmap: { technique: string; count: number }[];
  recent: Alert[];
}

export interface AlertFilter {
  status?: AlertStatus[];
  severity?: AlertSeverity[];
  source?: AlertSource[];
  limit?: number;
}

export interface AlertPatch { status?: AlertStatus; assignee?: string | null; note?: string; rev?: number }
