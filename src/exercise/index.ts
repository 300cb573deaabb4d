export * as model from './model.js';
export type {
  Scenario, ScenarioRecord, ScenarioExport, Inject, InjectPayload, Expectation, ExpectationType, ExerciseRun, RunStatus, Pause, ClockBase,
  InjectExecution, InjectState, ExpectationResult, ResultStatus, InboxItem, SitRep, Scoreboard, ScoreLine, AfterActionReport,
  LessonsCategory, ObjectiveEvaluation, GrantRole, Grant, Team, Objective,
} from './model.js';
export { injectExecutionTime, exerciseSecondsAt, statusOfScore } from './model.js';
export { parseScenario, exportScenario, LIMITS as SCENARIO_LIMITS } from './validate.js';
