export * as model from './model.js';
export type {
  Scenario, ScenarioRecord, ScenarioExport, Inject, InjectPayload, Expectation, ExpectationType, ExerciseRun, RunStatus, Pause, ClockBase,
  InjectExecution, InjectState, ExpectationResult, ResultStatus, InboxItem, SitRep, Scoreboard, ScoreLine, AfterActionReport,
  LessonsCategory, ObjectiveEvaluation, GrantRole, Grant, Team, Objective,
} from './model.js';
export { injectExecutionTime, exerciseSecondsAt, statusOfScore, GRANTS, INJECT_TYPES, EXPECTATION_TYPES, RUN_STATUSES } from './model.js';
export type { ControlBody, CreateRunBody, ExerciseAccess, ExerciseSummary, ExerciseView, GradeBody, SitRepBody, LessonsAnswerBody, EvaluationBody } from './model.js';
export { afterActionReport } from './report.js';
export { parseScenario, exportScenario, LIMITS as SCENARIO_LIMITS } from './validate.js';
export { ExerciseService, accessOf, SCENARIO, RUN, TEAM_STATE, INBOX, INTEL, SITREP } from './service.js';
export type { ExerciseDeps, Ingest, AuthedActor as ExerciseActor } from './service.js';
export { technicalLines, interpolate } from './telemetry.js';
export { rollUp, expire, dependencyHolds, scoreboard } from './scoring.js';
