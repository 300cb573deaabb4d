/**
 * One exercise run served by two API processes on one PostgreSQL (docs/deploying-at-scale.md,
 * "Several API processes without NATS"): the leader's scheduler fires the injects, and exercise
 * control grades through whichever process the load balancer picks. Each process keeps the run
 * in memory; a team's state changed by the other process must be seen, never overwritten, and
 * never stop the scheduler.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/clock.js';
import { ExerciseService } from '../src/exercise/index.js';
import { openPostgresStore } from '../src/store/index.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';

describe.runIf(await pgAvailable())('an exercise run on two API processes', () => {
  it('a grade made through one process and the injects the leader fires afterwards are both kept', async () => {
    const db = await freshPostgresDb();
    const clock = new ManualClock('2026-08-01T00:00:00Z');
    const dirs: string[] = [];
    const open = async (): Promise<Platform> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-exproc-'));
      dirs.push(dir);
      return createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }), { clock, store: await openPostgresStore(db.url) });
    };
    const leader = await open();
    const other = await open();
    try {
      const org = (await leader.access.createOrganisation(SYSTEM_ACTOR, { name: 'Exercise control', shortName: 'EXCON' })).id;
      const user = await leader.access.createUser(SYSTEM_ACTOR, { orgId: org, username: 'excon', password: 'correct horse battery staple', roles: ['admin'] });
      const token = (await leader.access.createToken(SYSTEM_ACTOR, { orgId: org, userId: user.id, kind: 'api', name: 't' })).token;
      const actor = { principal: await leader.access.authenticateToken(token, 'test'), source: 'test' };
      const sc = await leader.exercise.createScenario(actor, {
        name: 'Two processes', storyline: 'Control grades through one process, the leader fires injects.', category: 'attack-scenario',
        objectives: [{ id: 'report', title: 'Report', priority: 'medium' }],
        teams: [{ id: 't', name: 'Team', orgs: [org] }],
        injects: [
          { id: 'ask', title: 'Send a sitrep', offsetSeconds: 60, type: 'prompt', teams: [], payload: { action: 'publish-sitrep', text: 'Publish a sitrep' },
            expectations: [{ name: 'Sitrep', type: 'REPORT', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['report'] }] },
          { id: 'later', title: 'Later news', offsetSeconds: 120, type: 'communication', teams: [], payload: { channel: 'email', from: 'EXCON', subject: 'News', body: 'More' }, expectations: [] },
        ],
      });
      const run = await leader.exercise.createRun(actor, { scenarioId: sc.id });
      await leader.exercise.control(actor, run.id, { action: 'launch' });
      // The other process shows the run (and keeps it) before the first inject fires.
      expect((await other.exercise.injects(actor, run.id)).map((e) => e.state)).toEqual(['pending', 'pending']);
      clock.advance(60_000);
      await leader.exercise.tick();
      // Control grades the expectation through the other process.
      const graded = await other.exercise.grade(actor, run.id, { injectId: 'ask', teamId: 't', name: 'Sitrep', score: 50 });
      expect(graded.score).toBe(50);
      clock.advance(60_000);
      await leader.exercise.tick();
      // What the store holds, as a third process reads it.
      const fresh = new ExerciseService(other.exercise.deps);
      expect((await fresh.injects(actor, run.id)).map((e) => [e.injectId, e.state])).toEqual([['ask', 'fired'], ['later', 'fired']]);
      expect((await fresh.expectations(actor, run.id)).map((r) => [r.name, r.score])).toEqual([['Sitrep', 50]]);
      // And both processes show it.
      expect((await leader.exercise.expectations(actor, run.id)).map((r) => r.score)).toEqual([50]);
      expect((await other.exercise.injects(actor, run.id)).map((e) => e.state)).toEqual(['fired', 'fired']);
    } finally {
      await other.close();
      await leader.close();
      await db.drop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
