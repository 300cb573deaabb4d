/**
 * Wire types of the respond endpoints of `/api/v1` (docs/rest-api.md, "Respond"): the server's own
 * contract module (src/contract/respond.ts), not a copy. test/contract.test.ts checks that the
 * respond services return exactly these types.
 */
export type {
  Severity, Vocabularies, Task, Observable, Share, Attachment, IncidentMetrics, Incident, OrgMetrics, TimelineEntry, SimilarIncident, Offer, AssistanceRequest, DecisionState, Position, Decision, Hypothesis, Evidence, AchScore, Assessment, LevelHistory, AlertLevel, AlertBoard,
} from '../../src/contract/respond.js';
