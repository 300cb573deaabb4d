/**
 * The wire contract of the respond endpoints of `/api/v1` (incidents, assistance, decisions,
 * attribution assessments, alert levels, vocabularies; docs/rest-api.md "Respond"): types only,
 * no runtime dependency. The web app imports these (web/src/respondTypes.ts re-exports them), and
 * test/contract.test.ts requires what the respond services return to be exactly these types, so a
 * changed API breaks the typecheck instead of the web app (issue 11, item 15). Times are ISO 8601.
 */

/** TLP 2.0 levels (src/core/policy.ts TLP_LEVELS; equality checked by test/contract.test.ts). */
export type WireTlp = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
type Tlp = WireTlp;

export interface Severity { level: number; name: string; colour: string; hex: string }
export interface Vocabularies {
  severities: readonly Severity[];
  phases: readonly string[];
  determinations: readonly string[];
  investigationStatuses: readonly string[];
  pap: readonly string[];
  taskStatuses: readonly string[];
  observableTypes: readonly string[];
  services: readonly string[];
  urgencies: readonly string[];
  categories: readonly string[];
  decisionKinds: readonly string[];
  likelihood: readonly { term: string; range: readonly [number, number] }[];
  confidence: readonly string[];
  reliability: readonly string[];
  credibility: readonly number[];
  achRatings: readonly string[];
  alertLevels: readonly { level: number; name: string }[];
}

export interface Task {
  id: string; title: string; description: string; status: string; mandatory: boolean; dependsOn: string[];
  assignee: string | null; createdAt: string; completedAt: string | null; orgId: string;
}
export interface Observable {
  id: string; type: string; value: string; ioc: boolean; sighted: boolean; tlp: Tlp; pap: string; description: string;
  orgId: string; addedAt: string; recipients?: string[];
  /** An AMBER+STRICT or RED observable's organisation it is held for (survives an ownership transfer). */
  heldFor?: string;
}
export interface Share { orgId: string; permission: 'read' | 'contribute'; sharedAt: string }
export interface Attachment { id: string; name: string; size: number; sha256: string; mediaType: string; addedAt: string; orgId: string }
export interface IncidentMetrics { timeToDetect: number | null; timeToTriage: number | null; timeToContain: number | null; timeToResolve: number | null }
export interface Incident {
  id: string; title: string; description: string; category: string; severity: number; phase: string; determination: string;
  investigationStatus: string; pap: string; tlp: Tlp | null; ownerOrg: string; assignees: string[]; tasks: Task[];
  observables: Observable[]; shares: Share[]; attachments: Attachment[];
  links: { alerts: string[]; sightings: string[]; indicators: string[]; techniques: string[] };
  stages: { occurredAt: string | null; detectedAt: string; triagedAt: string | null; containedAt: string | null; resolvedAt: string | null; closedAt: string | null };
  createdAt: string; updatedAt: string; rev: number; exerciseId: string | null; canContribute: boolean; canComment: boolean; originNode: string | null;
  isOwner: boolean; metrics: IncidentMetrics;
  /** The closing summary given with the move to closed; null while open (and on a closure without one). */
  closure: { summary: string; at: string; orgId: string; userId: string | null } | null;
}
export interface OrgMetrics { orgId: string; incidents: number; mttd: number | null; mttt: number | null; mttc: number | null; mttr: number | null }
export interface TimelineEntry { seq: number; at: string; kind: string; orgId: string | null; userId: string | null; data: Record<string, unknown> }
export interface SimilarIncident { id: string; title: string; shared: string[] }

export interface Offer {
  id: string; orgId: string; state: 'proposed' | 'accepted' | 'declined' | 'withdrawn'; createdAt: string; requestId: string;
  team: string; services: string[]; capacity: string; availableFrom: string; availableUntil: string; note: string; reason: string | null;
}
export interface AssistanceRequest {
  id: string; requesterOrg: string; state: 'open' | 'in-progress' | 'closed' | 'withdrawn' | 'expired'; tlp: Tlp | null;
  createdAt: string; updatedAt: string; title: string; description: string; services: string[]; urgency: string;
  incidentId: string | null; routedTo: 'all' | string[]; offerDeadline: string; outcome: string | null; offers: Offer[]; rev: number;
}

export type DecisionState = 'open' | 'adopted' | 'blocked' | 'no-consensus' | 'withdrawn';
export interface Position { orgId: string; userId: string | null; revision: number; position: 'concur' | 'object' | 'break-silence'; reason: string | null; at: string }
export interface Decision {
  id: string; proposerOrg: string; state: DecisionState; createdAt: string; title: string; kind: string;
  procedure: 'consensus' | 'silence'; participants: string[]; revision: number;
  texts: { revision: number; text: string; issuedAt: string; deadline: string }[];
  assessmentId: string | null; effect: { type: 'alert-level'; scope: string; level: number } | null;
  outcome: { result: Exclude<DecisionState, 'open'>; at: string; revision: number } | null;
  text: string; deadline: string; positions: Position[]; canAct: boolean; myPosition: Position | null;
}

export interface Hypothesis { id: string; label: string; stixRef: string | null }
export interface Evidence { id: string; description: string; stixRef: string | null; reliability: string; credibility: number; relevance: 'low' | 'medium' | 'high' }
export interface AchScore { hypothesisId: string; label: string; inconsistency: number; rank: number }
export interface Assessment {
  id: string; ownerOrg: string; tlp: Tlp | null; state: string; createdAt: string; updatedAt: string; title: string;
  incidentId: string | null; hypotheses: Hypothesis[]; evidence: Evidence[]; ratings: Record<string, Record<string, string>>;
  judgement: { hypothesisId: string; likelihood: string; confidence: string; rationale: string } | null;
  scores: AchScore[]; likelihoodRange: readonly [number, number] | null;
}

export interface LevelHistory { at: string; from?: number; to?: number; reason?: string; decisionId?: string | null; state?: string }
export interface AlertLevel { scope: string; level: number; name: string; reason: string; decisionId: string | null; history: LevelHistory[] }
/** The alliance's board, or with `exerciseId` that exercise's own board. */
export interface AlertBoard { exerciseId?: string; alliance: AlertLevel; members: (AlertLevel & { orgId: string; orgName: string })[] }
