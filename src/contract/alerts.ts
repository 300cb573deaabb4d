/**
 * The wire contract of the alert and operational-picture endpoints (`/api/v1/alerts`, `/cop`):
 * types and constant lists only, no runtime dependency. The server's detection pipeline and route
 * handlers and the web app (web/src/alertTypes.ts) both import these, so a changed API breaks the
 * typecheck of whichever side did not follow (issue 11, item 15). Times are ISO 8601 strings.
 */

export const ALERT_STATUSES = ['new', 'acknowledged', 'false-positive', 'escalated'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
/** Lowest first (the server ranks by index). */
export const ALERT_SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const ALERT_SOURCES = ['indicator', 'sigma', 'anomaly', 'exposure'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

export interface IndicatorMatch { kind: 'indicator'; id: string; name: string | null; pattern: string; via: string; path: string | null; value: string | null; tactics: string[] }
export interface SigmaMatch { kind: 'sigma'; id: string | null; title: string; level: string | null; tags: string[]; correlation: string | null }
export interface AnomalyMatch { kind: 'anomaly'; method: 'rate' | 'first-seen' | 'rare'; expected: string; seen: string; score: number }
/** A new KEV entry that hits the organisation's inventory (docs/readiness-exposure.md). */
export interface ExposureMatch { kind: 'exposure'; cve: string; kev: boolean; ransomware: boolean; exposures: string[]; assets: string[]; dueDate: string | null }
/** What raised the alert. */
export type Matched = IndicatorMatch | SigmaMatch | AnomalyMatch | ExposureMatch;

/** An alert as GET /alerts and GET /alerts/:id answer it. */
export interface AlertWire {
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
  groupKey: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  techniques: string[];
  matched: Matched;
  samples: Record<string, unknown>[];
  incidentId: string | null;
  rev: number;
  exerciseId: string | null;
}

export interface AlertHistoryEntry { at: string; kind: string; user: string | null; data: Record<string, unknown> }
/** GET /alerts/:id. */
export type AlertDetailWire = AlertWire & { history: AlertHistoryEntry[] };
/** GET /alerts (newest first). */
export interface AlertListWire { alerts: AlertWire[] }
/** POST /alerts/:id/escalate. */
export interface EscalateAnswer { alert: AlertWire; incidentId: string }

/** PATCH /alerts/:id body. */
export interface AlertPatch {
  status?: AlertStatus;
  assignee?: string | null;
  note?: string;
  rev?: number;
}

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
  /** Alerts first seen per bucket of `Cop.rates` (same facts as the tile: they add up to its total). */
  trend: number[];
  /** Sensors that sent telemetry in the window, and those of them silent for the last `Cop.silentMinutes`. */
  sensors: { seen: number; silent: number; lastSeen: string | null };
}

export interface RateBucket { t: string; events: number; alerts: number }

/** A technique among the alerts the reader may read (not false positives), in the period. */
export interface CopTopTechnique { technique: string; alerts: number; hits: number; members: number }
/**
 * An indicator firing across members: counted only from the alerts and STIX sightings the reader
 * may read, and listed only when the reader may read the indicator itself (its name is the
 * readable object's). `sightings` sums the `count` of readable sightings last seen in the period
 * (the producer learns this way where its indicator fired without reading the alerts); `members`
 * counts the organisations of those alerts and sightings together, each once.
 */
export interface CopTopIndicator { id: string; name: string | null; alerts: number; hits: number; sightings: number; members: number }
/** What is firing across members, per reader (GET /cop `top`). */
export interface CopTop {
  /** Alerts the reader may read in the period (not false positives): what the lists below count. */
  alerts: number;
  /** Sighting objects the reader may read, last seen in the period (what `indicators[].sightings` sums). */
  sightings: number;
  techniques: CopTopTechnique[];
  indicators: CopTopIndicator[];
}

/** GET /cop: the common operational picture. */
export interface Cop {
  generatedAt: string;
  hours: number;
  members: CopMember[];
  rates: { bucketMinutes: number; buckets: RateBucket[] };
  /** Techniques of every member's alerts in the period as alliance-wide counts (like the tiles: numbers only). */
  heatmap: { technique: string; count: number }[];
  /** Top techniques and indicators firing across members, from the alerts this reader may read. */
  top: CopTop;
  recent: AlertWire[];
  /** A sensor that sent nothing for this long is counted silent. */
  silentMinutes: number;
}
