/**
 * The exercise domain, OpenAEV semantics (shared reference §5.4): a scenario (template) is
 * run as an exercise; injects fire at start + T/speed shifted by pauses; expectations are
 * scored per team. THIS FILE IS THE CONTRACT between the server (src/exercise, REST) and the
 * web console / importers: change a shape only with a note in the commit message.
 */

/** Scenario categories of OpenAEV's UI, plus `other`. */
export const CATEGORIES = [
  'global-crisis', 'attack-scenario', 'media-pressure', 'data-exfiltration', 'capture-the-flag',
  'vulnerability-exploitation', 'lateral-movement', 'url-filtering', 'other',
] as const;
export type ScenarioCategory = (typeof CATEGORIES)[number];

export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface Objective {
  /** Stable within the scenario, e.g. `obj-1`. Expectations point at objectives by this id. */
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly priority: Priority;
}

/** A Blue team: the people of one member organisation (or a mixed team listing several). */
export interface Team {
  /** Stable within the scenario, e.g. `team-a`. */
  readonly id: string;
  readonly name: string;
  /** STIX identity ids of the organisations whose users play in this team (at least one). */
  readonly orgs: readonly string[];
  /** Optional explicit player user ids; when empty, every user of `orgs` plays. */
  readonly players?: readonly string[];
  /** Sensor id under which technical injects are ingested for this team (default `exercise-<team id>`). */
  readonly sensorId?: string;
}

export const INJECT_TYPES = ['technical', 'intel', 'communication', 'prompt'] as const;
export type InjectType = (typeof INJECT_TYPES)[number];

/** Where synthetic telemetry comes from; at least one of technique / atomic / caldera / events. */
export interface TechnicalPayload {
  readonly kind: 'technical';
  /** ATT&CK technique id, e.g. `T1059.001`. */
  readonly technique?: string;
  /** An Atomic Red Team test (subset of atomic_red_team/models.py). */
  readonly atomic?: {
    readonly technique?: string;
    readonly name: string;
    readonly executor: { readonly name: string; readonly command?: string; readonly elevation_required?: boolean };
    readonly input_arguments?: Readonly<Record<string, { readonly default?: string | number; readonly type?: string; readonly description?: string }>>;
  };
  /** A Caldera ability (subset of the stockpile YAML). */
  readonly caldera?: {
    readonly id?: string;
    readonly name: string;
    readonly tactic?: string;
    readonly technique?: { readonly attack_id: string; readonly name?: string };
    /** platform → executor → { command } */
    readonly platforms: Readonly<Record<string, Readonly<Record<string, { readonly command?: string }>>>>;
  };
  /** Extra network observables to emit as EVE/Zeek lines (e.g. a C2 domain of an indicator). */
  readonly network?: readonly { readonly destIp?: string; readonly domain?: string; readonly destPort?: number; readonly proto?: 'tcp' | 'udp' }[];
  /** Host name the telemetry pretends to come from (default `ws-<team>-01`). */
  readonly host?: string;
  /** Raw ECS JSON events, sent as they are (tagged with the exercise). */
  readonly events?: readonly Readonly<Record<string, unknown>>[];
}

export interface IntelPayload {
  readonly kind: 'intel';
  /** A STIX 2.1 bundle published into the exercise's own collection (never a real one). */
  readonly bundle: { readonly type: 'bundle'; readonly id: string; readonly objects: readonly Readonly<Record<string, unknown>>[] };
  readonly title?: string;
}

export const COMM_CHANNELS = ['email', 'message', 'phone', 'media'] as const;
export type CommChannel = (typeof COMM_CHANNELS)[number];

export interface CommunicationPayload {
  readonly kind: 'communication';
  readonly channel: CommChannel;
  readonly from: string;
  readonly subject: string;
  readonly body: string;
}

/** What a prompt inject asks the team to do on the platform. */
export const PROMPT_ACTIONS = ['declare-incident', 'request-assistance', 'open-decision', 'raise-alert-level', 'share-indicator', 'publish-sitrep', 'other'] as const;
export type PromptAction = (typeof PROMPT_ACTIONS)[number];

export interface PromptPayload {
  readonly kind: 'prompt';
  readonly action: PromptAction;
  readonly text: string;
}

export type InjectPayload = TechnicalPayload | IntelPayload | CommunicationPayload | PromptPayload;

/** OpenAEV condition keys: `Execution` (parent executed) or an expectation name of the parent. */
export interface DependencyCondition {
  /** `Execution` or the `name` of one of the parent's expectations. */
  readonly key: string;
  /** true = executed / met, false = not executed / failed. */
  readonly value: boolean;
}

export interface InjectDependency {
  readonly parent: string;
  readonly mode: 'and' | 'or';
  readonly conditions: readonly DependencyCondition[];
}

export const EXPECTATION_TYPES = ['DETECTION', 'INCIDENT', 'SHARING', 'ASSISTANCE', 'DECISION', 'REPORT', 'MANUAL'] as const;
export type ExpectationType = (typeof EXPECTATION_TYPES)[number];

export interface Expectation {
  /** Unique within its inject; condition keys of dependent injects name it. */
  readonly name: string;
  readonly type: ExpectationType;
  readonly description?: string;
  /** Score given on success (OpenAEV default 100, MANUAL 50). */
  readonly expectedScore: number;
  /** Seconds of exercise time after the inject fired; pending → failed after it. */
  readonly expirySeconds: number;
  /** `any`: at least one player validates (OpenAEV expectation_group true); `all`: every player. */
  readonly validation: 'any' | 'all';
  /** Objective ids this expectation counts towards. */
  readonly objectives?: readonly string[];
  /** INCIDENT: expected category/minimum severity. DETECTION: rule/indicator ref to match (default: inject technique). */
  readonly match?: { readonly category?: string; readonly minSeverity?: number; readonly ruleRef?: string; readonly technique?: string };
}

export interface Inject {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  /** Seconds after start on the exercise clock (T+). */
  readonly offsetSeconds: number;
  readonly type: InjectType;
  readonly payload: InjectPayload;
  /** Team ids; empty = all teams. */
  readonly teams: readonly string[];
  readonly dependsOn?: readonly InjectDependency[];
  readonly expectations: readonly Expectation[];
}

export interface Variable { readonly key: string; readonly value: string; readonly description?: string }

export interface Scenario {
  readonly name: string;
  readonly storyline: string;
  readonly category: ScenarioCategory;
  readonly objectives: readonly Objective[];
  readonly teams: readonly Team[];
  readonly injects: readonly Inject[];
  readonly variables: readonly Variable[];
  /** Lessons-learned questionnaire used after the run (optional). */
  readonly lessons?: readonly LessonsCategory[];
}

/** A scenario as stored: id, creator, version. */
export interface ScenarioRecord {
  readonly id: string;
  readonly creatorOrg: string;
  readonly rev: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly scenario: Scenario;
}

/** The JSON export/import envelope. */
export interface ScenarioExport {
  readonly format: 'shieldwall-scenario';
  readonly version: 1;
  readonly scenario: Scenario;
}

// ---------------------------------------------------------------- runs

export const RUN_STATUSES = ['scheduled', 'running', 'paused', 'finished', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A pause on the real (injected) clock, ms since epoch; `end` null while it lasts. */
export interface Pause { readonly start: number; readonly end: number | null }

export const GRANTS = ['observer', 'planner', 'launcher'] as const;
export type GrantRole = (typeof GRANTS)[number];
export interface Grant { readonly userId: string; readonly role: GrantRole }

export interface ExerciseRun {
  /** Also the `exercise_id` stamped on every row it creates. */
  readonly id: string;
  readonly name: string;
  readonly scenarioId: string;
  /** A frozen copy of the scenario at creation (edits of the template do not change a run). */
  readonly scenario: Scenario;
  readonly status: RunStatus;
  /** Real-clock ms of the launch; null while scheduled. */
  readonly startedAt: number | null;
  /** Every pause of the run (history, for the report and the UI). */
  readonly pauses: readonly Pause[];
  /** The clock injects are scheduled on (re-based at each speed change); null until launch. */
  readonly clock: ClockBase | null;
  /** Exercise seconds per real second (1 = real time, 60 = one minute of T per second). */
  readonly speed: number;
  readonly endedAt: number | null;
  /** Archived runs are read-only. */
  readonly archived: boolean;
  readonly grants: readonly Grant[];
  readonly controlOrg: string;
  readonly rev: number;
}

/**
 * Speed changes are folded in by re-basing: at a change, the run keeps `anchor` (the exercise
 * seconds elapsed so far) so the formula below stays one line. `anchor` 0 until the first change.
 */
export interface ClockBase {
  readonly startedAt: number;
  readonly speed: number;
  readonly pauses: readonly Pause[];
  /** Exercise seconds already elapsed at `startedAt` (re-based after a speed change). */
  readonly anchorSeconds?: number;
}

export const INJECT_STATES = ['pending', 'fired', 'blocked', 'failed'] as const;
export type InjectState = (typeof INJECT_STATES)[number];

/** One inject × team execution. */
export interface InjectExecution {
  readonly injectId: string;
  readonly teamId: string;
  readonly state: InjectState;
  /** Planned real-clock time (ms) while pending; the formula of {@link ClockBase}. */
  readonly scheduledAt: number | null;
  readonly firedAt: number | null;
  /** Why blocked or failed (human readable, e.g. `parent inj-3: Detection is not failed`). */
  readonly reason?: string;
  readonly manual?: boolean;
}

export const RESULT_STATUSES = ['pending', 'success', 'partial', 'failed'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export interface ExpectationResultEntry {
  readonly source: string; // 'auto:alert' | 'auto:incident' | 'control' | user id …
  readonly ref?: string;   // alert / incident / report id
  readonly userId?: string;
  readonly at: number;
  readonly score: number;
  readonly comment?: string;
}

export interface ExpectationResult {
  readonly injectId: string;
  readonly teamId: string;
  readonly name: string;
  readonly type: ExpectationType;
  readonly expectedScore: number;
  readonly validation: 'any' | 'all';
  readonly status: ResultStatus;
  /** null while pending. */
  readonly score: number | null;
  readonly firedAt: number;
  /** Exercise seconds at the fire (expiry runs on the exercise clock, so pauses move it). */
  readonly firedAtSeconds: number;
  /** Real-clock ms at which it expires if nothing validates it (recomputed on pauses/speed). */
  readonly expiresAt: number;
  /** Seconds (exercise time) from fire to the first validating result; DETECTION = time to detect. */
  readonly timeToValidateSeconds: number | null;
  readonly results: readonly ExpectationResultEntry[];
  readonly objectives: readonly string[];
}

/** Inbox item for a team (communication and prompt injects, intel notices). */
export interface InboxItem {
  readonly id: string;
  readonly exerciseId: string;
  readonly teamId: string;
  readonly injectId: string;
  readonly type: InjectType;
  readonly at: number;
  readonly title: string;
  readonly payload: InjectPayload;
}

/** A situation report written by a player; graded by control through a REPORT expectation. */
export interface SitRep {
  readonly id: string;
  readonly teamId: string;
  readonly injectId: string | null;
  readonly authorId: string;
  readonly at: number;
  readonly title: string;
  readonly body: string;
}

export interface ScoreLine { readonly teamId: string; readonly score: number; readonly max: number; readonly success: number; readonly partial: number; readonly failed: number; readonly pending: number }
export interface Scoreboard {
  readonly exerciseId: string;
  readonly at: number;
  readonly teams: readonly ScoreLine[];
  readonly objectives: readonly { readonly objectiveId: string; readonly teamId: string; readonly score: number; readonly max: number }[];
}

// ---------------------------------------------------------------- lessons learned and report

/**
 * The lessons-learned question every exercise has besides its scenario's questionnaire: free
 * observations by control and players (POST /exercises/:id/lessons with this questionId).
 */
export const OBSERVATIONS_CATEGORY: LessonsCategory = {
  id: 'observations', name: 'Observations', description: 'Lessons and observations written by exercise control and the players.',
  questions: [{ id: 'observations', content: 'What went well, what should change?' }],
};

export interface LessonsAnswer { readonly userId: string; readonly teamId: string | null; readonly positive: string; readonly negative: string; readonly score: number }
export interface LessonsQuestion { readonly id: string; readonly content: string; readonly explanation?: string; readonly answers?: readonly LessonsAnswer[] }
export interface LessonsCategory { readonly id: string; readonly name: string; readonly description?: string; readonly questions: readonly LessonsQuestion[] }

/** Control's evaluation of an objective (OpenAEV: score 10–100 step 5). */
export interface ObjectiveEvaluation { readonly objectiveId: string; readonly teamId: string | null; readonly score: number; readonly userId: string; readonly comment?: string; readonly at: number }

export interface TimelineEntry { readonly at: number; readonly teamId: string | null; readonly kind: string; readonly ref?: string; readonly text: string }

/** GET /api/v1/exercises/:id/report. Times are ISO strings; durations are exercise seconds. */
export interface AfterActionReport {
  readonly exercise: { readonly id: string; readonly name: string; readonly status: RunStatus; readonly speed: number; readonly startedAt: string | null; readonly endedAt: string | null; readonly scenario: { readonly name: string; readonly storyline: string; readonly category: ScenarioCategory } };
  readonly generatedAt: string;
  readonly teams: readonly {
    readonly teamId: string;
    readonly name: string;
    readonly score: number;
    readonly max: number;
    readonly objectives: readonly { readonly objectiveId: string; readonly title: string; readonly priority: Priority; readonly score: number; readonly max: number; readonly evaluation: number | null }[];
    readonly injects: readonly { readonly injectId: string; readonly title: string; readonly state: InjectState; readonly firedAt: string | null; readonly reason?: string; readonly timeToDetectSeconds: number | null; readonly timeToRespondSeconds: number | null }[];
    readonly expectations: { readonly met: number; readonly partial: number; readonly missed: number; readonly pending: number; readonly items: readonly ExpectationResult[] };
    readonly timeline: readonly TimelineEntry[];
  }[];
  /** Scores over time per team (at = ISO, cumulative score), for the chart. */
  readonly scoreSeries: readonly { readonly teamId: string; readonly points: readonly { readonly at: string; readonly score: number }[] }[];
  readonly lessons: readonly LessonsCategory[];
  readonly evaluations: readonly ObjectiveEvaluation[];
}

// ---------------------------------------------------------------- pure functions

/**
 * Real-clock time (ms) at which an inject with offset T (exercise seconds) executes:
 * start + T/speed, shifted by the length of every pause that began before that moment
 * (OpenAEV InjectModelHelper.computeInjectDate). An open pause (end null) shifts by
 * `now - start` of the pause, so a pending inject keeps moving while paused.
 */
export function injectExecutionTime(clock: ClockBase, offsetSeconds: number, now: number): number {
  const anchor = clock.anchorSeconds ?? 0;
  let at = clock.startedAt + ((offsetSeconds - anchor) * 1000) / clock.speed;
  const pauses = [...clock.pauses].sort((a, b) => a.start - b.start);
  for (const p of pauses) {
    if (p.start >= at) break;
    at += (p.end ?? Math.max(now, p.start)) - p.start;
  }
  return at;
}

/** Exercise seconds elapsed at real time `now` (inverse of {@link injectExecutionTime}). */
export function exerciseSecondsAt(clock: ClockBase, now: number): number {
  let paused = 0;
  for (const p of clock.pauses) {
    if (p.start >= now) continue;
    paused += Math.min(p.end ?? now, now) - p.start;
  }
  return (clock.anchorSeconds ?? 0) + ((now - clock.startedAt - paused) * clock.speed) / 1000;
}

/** OpenAEV status from a score: null → pending; ≥ expected → success; 0 → failed; else partial. */
export function statusOfScore(score: number | null, expected: number): ResultStatus {
  if (score === null) return 'pending';
  if (score >= expected) return 'success';
  if (score <= 0) return 'failed';
  return 'partial';
}

// ---------------------------------------------------------------- REST contract (/api/v1/exercises…)
//
// GET    /api/v1/exercises/scenarios                       → { scenarios: ScenarioRecord[] }
// POST   /api/v1/exercises/scenarios            Scenario | ScenarioExport → 201 ScenarioRecord (400 { errors[] } when invalid)
// GET    /api/v1/exercises/scenarios/:sid                  → ScenarioRecord
// PUT    /api/v1/exercises/scenarios/:sid       Scenario   → ScenarioRecord
// DELETE /api/v1/exercises/scenarios/:sid                  → 204
// GET    /api/v1/exercises/scenarios/:sid/export           → ScenarioExport
// GET    /api/v1/exercises                                 → { exercises: ExerciseSummary[] } (those the reader may see)
// POST   /api/v1/exercises                      CreateRunBody → 201 ExerciseRun
// GET    /api/v1/exercises/:id                             → ExerciseView
// POST   /api/v1/exercises/:id/control          ControlBody   → ExerciseRun
// PUT    /api/v1/exercises/:id/grants           { grants: Grant[] } → ExerciseRun
// GET    /api/v1/exercises/:id/injects                     → { injects: InjectExecution[] } (player: own team only)
// GET    /api/v1/exercises/:id/inbox?team=                 → { items: InboxItem[] }
// GET    /api/v1/exercises/:id/alerts?team=                → { alerts: Alert[] } (the team's exercise COP)
// GET    /api/v1/exercises/:id/expectations?team=          → { expectations: ExpectationResult[] }
// POST   /api/v1/exercises/:id/expectations/grade  GradeBody → ExpectationResult
// POST   /api/v1/exercises/:id/sitreps          SitRepBody    → 201 SitRep
// GET    /api/v1/exercises/:id/sitreps                     → { sitreps: SitRep[] }
// GET    /api/v1/exercises/:id/scoreboard                  → Scoreboard
// POST   /api/v1/exercises/:id/lessons          LessonsAnswerBody → 204
// POST   /api/v1/exercises/:id/evaluations      EvaluationBody → 201 ObjectiveEvaluation
// GET    /api/v1/exercises/:id/report                      → AfterActionReport
// POST   /api/v1/exercises/:id/archive                     → ExerciseRun (read-only afterwards)
// DELETE /api/v1/exercises/:id                             → 204 (purge: every row of the exercise, all tables)
// Live: the SSE stream `/api/v1/stream?exercise=<id>` carries `exercise.*` events for readers of that exercise.

export interface CreateRunBody { readonly scenarioId: string; readonly name?: string; readonly speed?: number; readonly grants?: readonly Grant[] }

export type ControlBody =
  | { readonly action: 'launch'; readonly speed?: number }
  | { readonly action: 'pause' }
  | { readonly action: 'resume' }
  | { readonly action: 'speed'; readonly speed: number }
  | { readonly action: 'cancel' }
  | { readonly action: 'finish' }
  | { readonly action: 'trigger'; readonly injectId: string; readonly teamId?: string };

export interface GradeBody { readonly injectId: string; readonly teamId: string; readonly name: string; readonly score: number; readonly comment?: string }
export interface SitRepBody { readonly teamId: string; readonly injectId?: string; readonly title: string; readonly body: string }
export interface LessonsAnswerBody { readonly questionId: string; readonly teamId?: string; readonly positive: string; readonly negative: string; readonly score: number }
export interface EvaluationBody { readonly objectiveId: string; readonly teamId?: string; readonly score: number; readonly comment?: string }

/** What the reader may do in this exercise; the web app shows controls from it. */
export interface ExerciseAccess { readonly role: 'control' | 'planner' | 'launcher' | 'observer' | 'player'; readonly teams: readonly string[]; readonly canControl: boolean; readonly canPlan: boolean; readonly canGrade: boolean }

export interface ExerciseSummary { readonly id: string; readonly name: string; readonly status: RunStatus; readonly speed: number; readonly startedAt: number | null; readonly archived: boolean; readonly teams: readonly { readonly id: string; readonly name: string }[] }

/** GET /api/v1/exercises/:id: the run, the reader's access, the exercise clock now. */
export interface ExerciseView { readonly run: ExerciseRun; readonly access: ExerciseAccess; readonly now: number; readonly exerciseSeconds: number | null; readonly nextInjectAt: number | null }
