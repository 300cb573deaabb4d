/**
 * Exercise scheduler under load: 20 teams × 200 injects (every type; a tenth technical, sent
 * through the real ingest pipeline) over one exercise hour at 600× speed (6 s of real time),
 * on a node's SQLite file with the detection worker running. Reports the inject lag (actual
 * fire time − computed execution time) p50/p99/max; the issue asks p99 < 1 s.
 */
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Scenario } from '../src/exercise/index.js';
import { benchPlatform } from './platform.js';
import { log, quantile, round } from './stats.js';

export async function benchExercise(o: { teams: number; injects: number; speed: number; exerciseSeconds: number }): Promise<Record<string, number>> {
  const bp = await benchPlatform();
  const p = bp.platform;
  try {
    const control = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'EXCON', shortName: 'EXCON' });
    const u = await p.access.createUser(SYSTEM_ACTOR, { orgId: control.id, username: 'bench.excon', password: 'correct horse battery staple', roles: ['excon'] });
    const t = await p.access.createToken(SYSTEM_ACTOR, { orgId: control.id, userId: u.id, kind: 'api', name: 'bench' });
    const actor = { principal: await p.access.authenticateToken(t.token, '127.0.0.1'), source: 'bench' };
    const teams = [];
    for (let i = 0; i < o.teams; i++) {
      const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Team ${i}`, shortName: `T${i}` });
      teams.push({ id: `t${i}`, name: `Team ${i}`, orgs: [org.id] });
    }
    const kinds = ['communication', 'prompt', 'communication', 'prompt', 'communication', 'prompt', 'communication', 'prompt', 'communication', 'technical'] as const;
    const scenario: Scenario = {
      name: 'bench', storyline: '', category: 'other', objectives: [], teams, variables: [],
      injects: Array.from({ length: o.injects }, (_, i) => {
        const type = kinds[i % kinds.length]!;
        const offsetSeconds = 5 + Math.floor((i * o.exerciseSeconds) / o.injects);
        const payload = type === 'technical' ? { kind: type, technique: 'T1033', atomic: { name: 'whoami', executor: { name: 'command_prompt', command: 'whoami /all' } } }
          : type === 'prompt' ? { kind: type, action: 'publish-sitrep' as const, text: 'report' } : { kind: type, channel: 'email' as const, from: 'EXCON', subject: `inject ${i}`, body: 'body' };
        return { id: `i${i}`, title: `inject ${i}`, offsetSeconds, type, teams: [], payload, expectations: type === 'technical' ? [{ name: 'Detection', type: 'DETECTION' as const, expectedScore: 100, expirySeconds: 600, validation: 'any' as const }] : [] };
      }),
    };
    const sc = await p.exercise.createScenario(actor, scenario);
    const run = await p.exercise.createRun(actor, { scenarioId: sc.id, speed: o.speed });
    p.exercise.start();
    const t0 = Date.now();
    await p.exercise.control(actor, run.id, { action: 'launch' });
    const realMs = (o.exerciseSeconds * 1000) / o.speed;
    const total = o.teams * o.injects;
    const deadline = t0 + realMs + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const fired = (await p.exercise.injects(actor, run.id)).filter((x) => x.state !== 'pending').length;
      if (fired >= total) break;
    }
    const lags = [...p.exercise.lags];
    const fired = lags.length;
    const figures = {
      exercise_teams: o.teams, exercise_injects_per_team: o.injects, exercise_speed: o.speed, exercise_fired: fired,
      exercise_inject_lag_p50_ms: round(quantile(lags, 0.5)), exercise_inject_lag_p99_ms: round(quantile(lags, 0.99)), exercise_inject_lag_max_ms: round(Math.max(0, ...lags)),
      exercise_wall_s: round((Date.now() - t0) / 1000),
    };
    log(`exercise: ${o.teams} teams × ${o.injects} injects at ${o.speed}x: ${fired}/${total} fired, lag p50 ${figures.exercise_inject_lag_p50_ms} ms, p99 ${figures.exercise_inject_lag_p99_ms} ms, max ${figures.exercise_inject_lag_max_ms} ms`);
    p.exercise.stop();
    return figures;
  } finally {
    await bp.dispose();
  }
}
