/**
 * Several API processes on one PostgreSQL without NATS (docs/deploying-at-scale.md, "Several
 * API processes without NATS"): two platforms on one fresh database, each as `serve` opens it.
 * They supervise one detection worker between them (the leader's; the other takes over when the
 * leader is gone), the live stream reaches the other process's bus, and the failed-authentication
 * limiter counts both processes' failures. Needs PostgreSQL (CI insists) and the built CLI
 * (the worker is `dist/src/cli/main.js worker`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPlatform, startServer, type Platform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import type { BusEvent } from '../src/core/bus.js';
import { mustRun } from './helpers/nats.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';
import { until as poll } from './helpers/until.js';

const up = await pgAvailable();
if (!up && mustRun()) throw new Error('PostgreSQL is required in CI');
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

const until = (what: string, ok: () => boolean, ms = 15_000) => poll(what, ok, { ms });

describe.runIf(up)('two API processes on one PostgreSQL, without NATS', () => {
  it('run one worker between them, share the live stream and the failed-authentication limit, and hand the worker over', async () => {
    const db = await freshPostgresDb();
    closers.push(db.drop);
    const open = async (name: string): Promise<Platform> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shieldwall-pgmulti-${name}-`));
      closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      const p = await createPlatform(loadConfig({
        SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_NODE_NAME: 'pgmulti', SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_PORT: '0', SHIELDWALL_HOST: '127.0.0.1',
        SHIELDWALL_AUTH_FAILURE_LIMIT: '4',
      }));
      return p;
    };
    const a = await open('a');
    const b = await open('b');
    let aOpen = true;
    closers.push(async () => {
      await b.close();
      if (aOpen) await a.close();
    });
    a.detect.start();
    b.detect.start();
    // An admin of the node, and each process answering HTTP.
    const org = await a.access.createOrganisation(SYSTEM_ACTOR, { name: 'Ops CERT', shortName: 'OPS' });
    const admin = await a.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'ops.admin', password: 'correct horse battery staple', roles: ['admin'] });
    const token = (await a.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: admin.id, kind: 'api', name: 'ops' })).token;
    // The exercise scheduler runs in the leader only, and moves with the leadership.
    const bScheduler = vi.spyOn(b.exercise, 'start');
    const servers = new Map<Platform, { url: string; close: () => Promise<void> }>();
    for (const p of [a, b]) servers.set(p, await startServer(p, { logger: false }));
    closers.push(async () => {
      for (const s of servers.values()) await s.close().catch(() => undefined);
    });
    type System = { processes: { leader?: boolean }[]; workers: { state: string }[] };
    const systemOf = async (p: Platform): Promise<System> => {
      const res = await fetch(`${servers.get(p)!.url}/api/v1/system`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return await res.json() as System;
    };
    // One worker between them: the leader's.
    expect([a.leader.isLeader(), b.leader.isLeader()]).toEqual([true, false]);
    await until('the leader\'s worker', () => a.detect.supervisor?.status().state === 'running');
    expect(a.detect.supervisor?.running).toBe(true);
    expect(b.detect.supervisor?.running).toBe(false);
    expect(b.detect.supervisor?.status().pid).toBeNull();
    // GET /system says which process leads (and so runs the worker).
    const sa = await systemOf(a);
    const sb = await systemOf(b);
    expect([sa.processes[0]?.leader, sb.processes[0]?.leader]).toEqual([true, false]);
    expect(sa.workers.map((w) => w.state)).toEqual(['running']);
    expect(sb.workers.map((w) => w.state)).toEqual(['stopped']);

    // The live stream: what one process's bus carries reaches the other's (the SSE stream of each
    // filters it by the release policy, as for its own events), once.
    const seen: BusEvent[] = [];
    b.bus.subscribe((e) => seen.push(e));
    const e: BusEvent = { type: 'alert.created', subject: 'alert--pgmulti', atUs: 1, exerciseId: null, facts: { tlp: 'green', creatorOrg: null, recipients: [], originNode: null }, data: { title: 'from a' } };
    await new Promise((r) => setTimeout(r, 300)); // both listen
    a.bus.publish(e);
    await until('the event on b', () => seen.length > 0, 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([e]);

    // The limiter: 2 failures on each process reach the limit of 4 on both.
    const source = '203.0.113.77';
    a.access.limiter.fail(source);
    a.access.limiter.fail(source);
    b.access.limiter.fail(source);
    b.access.limiter.fail(source);
    await until('the limit on both', () => a.access.limiter.blockedFor(source) > 0 && b.access.limiter.blockedFor(source) > 0, 5_000);
    expect(a.access.limiter.blockedFor('203.0.113.78')).toBe(0);

    // The leader goes: b leads and starts the worker.
    await a.close();
    aOpen = false;
    expect(bScheduler).not.toHaveBeenCalled();
    await until('b to lead and run the worker', () => b.leader.isLeader() && b.detect.supervisor?.status().state === 'running', 20_000);
    expect(b.detect.supervisor?.running).toBe(true);
    // Exercise injects are not stranded with the process that led when the node started.
    await until('b to run the exercise scheduler', () => bScheduler.mock.calls.length > 0, 10_000);
  }, 60_000);
});
