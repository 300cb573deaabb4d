/**
 * The exercise's live stream over real HTTP (the web app's exercise pages subscribe with
 * `?exercise=<id>`): a participant receives the exercise's events — the inject fired for its
 * team, its own incident declared in the exercise, the expectation it met — and only those it
 * may read: team B's player never sees A's AMBER incident nor A's team events; the real-world
 * stream carries none of them; an outsider is refused with a 404 JSON error before any byte
 * of the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPlatform, startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { openLiveStream } from './helpers/live-stream.js';

let platform: Platform;
let server: RunningServer;
const tokens: Record<string, string> = {};
const orgs: Record<string, string> = {};
let id = '';

const call = async (who: string, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${server.url}/api/v1${p}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-exsse-'));
  platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_PORT: '0', SHIELDWALL_LOG_LEVEL: 'silent' }), { store: await openSqliteStore(':memory:') });
  for (const [o, roles] of [['A', ['responder']], ['B', ['responder']], ['D', ['responder']], ['X', ['excon']]] as const) {
    orgs[o] = (await platform.access.createOrganisation(SYSTEM_ACTOR, { name: o, shortName: o })).id;
    const u = await platform.access.createUser(SYSTEM_ACTOR, { orgId: orgs[o]!, username: `${o.toLowerCase()}-user`, password: 'long enough password', roles: [...roles] });
    tokens[o] = (await platform.access.createToken(SYSTEM_ACTOR, { orgId: orgs[o]!, userId: u.id, kind: 'session', name: 's' })).token;
  }
  server = await startServer(platform, { logger: false });
  const sc = await call('X', 'POST', '/exercises/scenarios', {
    name: 'Stream drill', teams: [{ id: 'team-a', name: 'Alpha', orgs: [orgs.A] }, { id: 'team-b', name: 'Bravo', orgs: [orgs.B] }],
    injects: [{ id: 'declare', title: 'Declare it', offsetSeconds: 1, type: 'prompt', teams: ['team-a'], payload: { action: 'declare-incident', text: 'Declare' }, expectations: [{ name: 'Incident', type: 'INCIDENT', expirySeconds: 3600 }] }],
  });
  expect(sc.status).toBe(201);
  id = String((await call('X', 'POST', '/exercises', { scenarioId: sc.json.id, speed: 10 })).json.id);
});
afterAll(async () => {
  await server.close();
  await platform.close();
});

const openStream = (org: string, exercise: string | null) => openLiveStream(server.url, tokens[org]!, exercise ? { exercise } : {});

const until = async (f: () => boolean) => { for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 50)); };

describe('the exercise live stream', () => {
  it('an outsider is refused (404 JSON), as for an exercise that does not exist', async () => {
    const d = await openStream('D', id);
    expect(d.res.status).toBe(404);
    expect(((await d.res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const none = await openStream('D', 'exercise--00000000-0000-4000-8000-000000000000');
    expect(none.res.status).toBe(404);
    await none.res.text();
  });

  it('participants receive what they may read of the exercise; the real stream nothing', async () => {
    const a = await openStream('A', id);
    const b = await openStream('B', id);
    const x = await openStream('X', id);
    const real = await openStream('A', null);
    expect(a.res.status).toBe(200);
    expect(b.res.status).toBe(200);
    expect((await call('X', 'POST', `/exercises/${id}/control`, { action: 'launch' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    await platform.exercise.tick();
    await platform.exercise.idle();
    const inc = await call('A', 'POST', '/incidents', { title: 'STREAM-INCIDENT', severity: 3, exerciseId: id });
    expect(inc.status).toBe(201);
    await platform.exercise.idle();
    await until(() => a.text.includes('exercise.expectation.updated') && x.text.includes('exercise.expectation.updated'));
    // A: its inject, its incident, its expectation met.
    expect(a.text).toContain('event: exercise.inject.fired');
    expect(a.text).toContain('event: incident.created');
    expect(a.text).toContain(String(inc.json.id));
    expect(a.text).toContain('"status":"success"');
    // Control sees the team's events (the expectation), not A's AMBER incident record.
    expect(x.text).toContain('exercise.expectation.updated');
    // B: the run's events at most; nothing of team A, nothing of A's incident.
    expect(b.text).not.toContain('team-a');
    expect(b.text).not.toContain(String(inc.json.id));
    expect(b.text).not.toContain('exercise.inject.fired');
    // The real-world stream: nothing of the exercise.
    expect(real.text).not.toContain(id);
    expect(real.text).not.toContain(String(inc.json.id));
    expect(real.text).not.toContain('exercise.');
    for (const s of [a, b, x, real]) await s.close();
  });
});
