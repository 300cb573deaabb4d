/**
 * What a player reads of the script (docs/exercises.md "Who may do what"): a scenario holds
 * every team's injects and expectations, which a player reads only for its own team, as the run
 * delivers them. Control, planners and observers read the whole run; a player's run view, inject
 * list and after-action report hold the injects fired for its teams only, a technical one without
 * its payload (the inbox holds it back too: what the team must detect is not told), and no
 * scenario variable (they fill the payloads).
 */
import type { ExerciseAccess, ExerciseRun, InjectExecution } from './model.js';

/** The run as the reader may read it. */
export function runFor(access: ExerciseAccess, run: ExerciseRun, executions: readonly InjectExecution[]): ExerciseRun {
  if (access.role !== 'player') return run;
  const fired = new Set(executions.filter((e) => access.teams.includes(e.teamId) && e.state === 'fired').map((e) => e.injectId));
  const injects = run.scenario.injects.filter((i) => fired.has(i.id)).map((i) => (i.payload.kind === 'technical' ? { ...i, payload: { kind: 'technical' as const } } : i));
  return { ...run, scenario: { ...run.scenario, injects, variables: [] } };
}

/** Inject executions as the reader may read them: a player none still pending (what is to come is control's). */
export function executionsFor(access: ExerciseAccess, executions: readonly InjectExecution[]): readonly InjectExecution[] {
  return access.role === 'player' ? executions.filter((e) => e.state !== 'pending') : executions;
}
