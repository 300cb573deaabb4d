/**
 * Exercises from the shell (docs/exercises.md), acting as a user with `--as <username>`:
 *   shieldwall exercise list | import <file> [--run] [--speed n] | launch <id> [--speed n] | pause <id> | resume <id>
 *                       | status <id> | report <id> | purge <id>
 * Control actions are recorded in the store; the serving process picks them up (within 5 s)
 * and fires the injects.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { EventBus } from '../../core/bus.js';
import { ExerciseService, afterActionReport, type ExerciseActor } from '../../exercise/index.js';
import { stdio, withPlatform, type Io } from '../context.js';
import { readInputText } from '../input-file.js';

type AsOpt = { as: string; json?: boolean };

async function withExercise<T>(o: AsOpt, fn: (ex: ExerciseService, actor: ExerciseActor) => Promise<T>): Promise<T> {
  return withPlatform(async (p) => {
    const principal = await p.access.principalOfUser(o.as);
    const ex = new ExerciseService({
      store: p.store, access: p.access, clock: p.clock, bus: new EventBus(), passive: true,
      ingest: { ingest: async () => { throw new AppError('UNAVAILABLE', 'injects are fired by the serving process'); } },
    });
    return fn(ex, { principal, source: 'cli' });
  });
}

function speedOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new AppError('BAD_REQUEST', '--speed must be a positive number');
  return n;
}

const print = (io: Io, o: AsOpt, value: unknown, lines: () => string[]) => {
  if (o.json) io.out(JSON.stringify(value, null, 2));
  else for (const l of lines()) io.out(l);
};

export function registerExercise(program: Command, io: Io = stdio): void {
  const ex = program.command('exercise').description('exercises: scenarios, runs, control, scores, after-action report');
  const as = (c: Command) => c.requiredOption('--as <username>', 'act as this user').option('--json', 'print JSON');

  as(ex.command('list').description('exercises the user takes part in')).action((o: AsOpt) => withExercise(o, async (s, a) => {
    const runs = await s.listRuns(a);
    print(io, o, runs, () => runs.map((r) => `${r.id}\t${r.status}\t${r.speed}x\t${r.name}`));
  }));
  as(ex.command('import <file>').description('import a scenario JSON file (and create a run with --run)').option('--run', 'also create a scheduled run').option('--speed <n>', 'speed of the run'))
    .action((file: string, o: AsOpt & { run?: boolean; speed?: string }) => withExercise(o, async (s, a) => {
      const text = readInputText(file);
      let body: unknown;
      try { body = JSON.parse(text); } catch (e) { throw new AppError('BAD_REQUEST', `${file}: ${(e as Error).message}`); }
      const sc = await s.createScenario(a, body);
      const speed = speedOf(o.speed);
      const run = o.run ? await s.createRun(a, { scenarioId: sc.id, ...(speed ? { speed } : {}) }) : null;
      print(io, o, { scenario: sc, run }, () => [`scenario ${sc.id} (${sc.scenario.injects.length} injects, ${sc.scenario.teams.length} teams)`, ...(run ? [`exercise ${run.id} scheduled at ${run.speed}x`] : [])]);
    }));
  const control = (name: 'launch' | 'pause' | 'resume' | 'finish' | 'cancel') =>
    as(ex.command(`${name} <id>`).description(`${name} the exercise`).option('--speed <n>', 'speed (launch)')).action((id: string, o: AsOpt & { speed?: string }) => withExercise(o, async (s, a) => {
      const speed = speedOf(o.speed);
      const run = await s.control(a, id, name === 'launch' ? { action: 'launch', ...(speed ? { speed } : {}) } : { action: name });
      print(io, o, run, () => [`${run.id}\t${run.status}\t${run.speed}x`]);
    }));
  for (const n of ['launch', 'pause', 'resume', 'finish', 'cancel'] as const) control(n);
  as(ex.command('status <id>').description('status, injects and scoreboard')).action((id: string, o: AsOpt) => withExercise(o, async (s, a) => {
    const view = await s.view(a, id);
    const injects = await s.injects(a, id);
    const board = await s.scoreboard(a, id);
    print(io, o, { ...view, injects, scoreboard: board }, () => [
      `${view.run.name} (${view.run.id}): ${view.run.status} at ${view.run.speed}x, T+${Math.floor(view.exerciseSeconds ?? 0)} s`,
      ...injects.map((i) => `  ${i.state.padEnd(8)} ${i.teamId}\t${i.injectId}${i.reason ? `\t${i.reason}` : ''}`),
      ...board.teams.map((t) => `  score ${t.teamId}: ${t.score}/${t.max} (${t.success} met, ${t.partial} partial, ${t.failed} missed, ${t.pending} pending)`),
    ]);
  }));
  as(ex.command('report <id>').description('the after-action report (JSON)')).action((id: string, o: AsOpt) => withExercise(o, async (s, a) => {
    io.out(JSON.stringify(afterActionReport(await s.reportInput(a, id)), null, 2));
  }));
  as(ex.command('purge <id>').description('remove every row of a finished or cancelled exercise')).action((id: string, o: AsOpt) => withExercise(o, async (s, a) => {
    const r = await s.purge(a, id);
    print(io, o, r, () => [`purged ${id}: ${r.removed} rows`]);
  }));
}
