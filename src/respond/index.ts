/** The respond domain: incidents, assistance, decisions, attribution, alert levels. */
import type { RespondDeps } from './repo.js';
import { IncidentService } from './incidents.js';
import { AssistanceService } from './assistance.js';
import { AlertLevelService } from './alert-level.js';
import { DecisionService } from './decisions.js';
import { AttributionService } from './attribution.js';

export interface Respond {
  incidents: IncidentService;
  assistance: AssistanceService;
  levels: AlertLevelService;
  decisions: DecisionService;
  attribution: AttributionService;
}

export function createRespond(deps: RespondDeps): Respond {
  const levels = new AlertLevelService(deps);
  return {
    incidents: new IncidentService(deps), assistance: new AssistanceService(deps), levels,
    decisions: new DecisionService(deps, levels), attribution: new AttributionService(deps),
  };
}

export { IncidentService, metricsOf, observableFacts, INCIDENT, MAX_ATTACHMENT_BYTES } from './incidents.js';
export type { Incident, IncidentPatch, IncidentView, IncidentMetrics, NewIncident, Observable, Share, Task } from './incidents.js';
export { AssistanceService, REQUEST, OFFER } from './assistance.js';
export type { AssistanceRequest, Offer, OfferState, RequestState } from './assistance.js';
export { DecisionService, DECISION, DECISION_KINDS } from './decisions.js';
export type { Decision, DecisionKind, DecisionState, Position, PositionKind, Procedure } from './decisions.js';
export { AttributionService, achScores, credibilityWeight, ASSESSMENT } from './attribution.js';
export type { AchScore, Assessment, Evidence, Hypothesis, Weight } from './attribution.js';
export { AlertLevelService, ALLIANCE, ALERT_LEVEL } from './alert-level.js';
export { incidentToStix, attributionToStix, publish, incidentHistoryOf, INCIDENT_EXT, TASK_EXT, EVENT_EXT } from './stix-export.js';
export { RecordRepo, requirePermission } from './repo.js';
export type { AuthedActor, RecordRemote, RemoteAction, RespondDeps, Rec, TimelineEntry } from './repo.js';
export {
  SEVERITIES, PHASES, PHASE_MOVES, DETERMINATIONS, INVESTIGATION_STATUSES, PAP_LEVELS, TASK_STATUSES, OBSERVABLE_TYPES, CSIRT_SERVICES,
  URGENCIES, PLAYBOOKS, ICD203_LIKELIHOOD, CONFIDENCE_LEVELS, RELIABILITY, CREDIBILITY, ACH_RATINGS, ALERT_LEVELS, isOneOf,
} from './model.js';
export type {
  AchRating, ConfidenceLevel, Credibility, CsirtService, Determination, InvestigationStatus, Likelihood, ObservableType, Pap, Phase, Reliability,
  TaskStatus, Urgency,
} from './model.js';
export { createRespondDemo } from './demo.js';
