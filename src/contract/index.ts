/** The wire contract shared by the server and the web app: types and constant lists only. */
export { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from './alerts.js';
export type {
  AlertDetailWire, AlertHistoryEntry, AlertListWire, AlertPatch, EscalateAnswer, AlertSeverity, AlertSource, AlertStatus, AlertWire, AnomalyMatch, Cop, CopMember, CopTop, CopTopIndicator, CopTopTechnique,
  IndicatorMatch, Matched, RateBucket, SeverityCounts, SigmaMatch,
} from './alerts.js';
export type {
  WireTlp, Severity, Vocabularies, Task, Observable, Share, Attachment, IncidentMetrics, Incident, OrgMetrics, TimelineEntry, SimilarIncident, Offer, AssistanceRequest, DecisionState, Position, Decision, Hypothesis, Evidence, AchScore, Assessment, LevelHistory, AlertLevel, AlertBoard,
} from './respond.js';
