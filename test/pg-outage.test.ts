/**
 * A node on PostgreSQL while its database cannot be reached (a restart, a failover, maintenance):
 * every request that needs the store answers 503 with Retry-After — a REST error, a TAXII error
 * message (§3.6.1) or MISP's shape — never a 500, and the node answers again by itself once the
 * database is back (docs/deploying-at-scale.md). Needs PostgreSQL (CI insists).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { mustRun } from './helpers/nats.js';
import { freshPostgresDb, PG_ADMIN_URL, pgAvailable } from './helpers/pg.js';

const up = await pgAvailable();
if (!up && mustRun()) throw new Error('PostgreSQL is required in CI');
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe.runIf(up)('a node whose PostgreSQL cannot be reached', () => {
  it('answers 503 with Retry-After on REST, TAXII and MISP routes, and recovers without a restart', async () => {
    const db = await freshPostgresDb();
    closers.push(db.drop);
    const name = new URL(db.url).pathname.slice(1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-pgoutage-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }));
    closers.push(() => p.close());
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Ops CERT', shortName: 'OPS' });
    const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'ops.admin', password: 'correct horse battery staple', roles: ['admin'] });
    const token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'ops' })).token;
    const sensor = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'fw-1' })).token;
    const app = await buildApp(p, { logger: false });
    closers.push(() => app.close());
    const auth = { authorization: `Bearer ${token}` };
    const me = () => app.inject({ method: 'GET', url: '/api/v1/me', headers: auth });
    expect((await me()).statusCode).toBe(200);

    // Closed to connections and every open one ended: what the node sees while PostgreSQL restarts.
    closers.push(() => admin((c) => c.query(`alter database ${name} allow_connections true`)));
    await admin(async (c) => {
      await c.query(`alter database ${name} allow_connections false`);
      await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    });

    const rest = await me();
    expect(rest.statusCode, rest.body).toBe(503);
    expect(rest.headers['retry-after']).toBe('5');
    expect(rest.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    const ingest = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${sensor}`, 'content-type': 'application/x-ndjson' }, payload: '{"event_type":"flow","src_ip":"10.0.0.1"}\n' });
    expect(ingest.statusCode, ingest.body).toBe(503);
    expect(ingest.headers['retry-after']).toBe('5');
    const taxii = await app.inject({ method: 'GET', url: '/taxii2/', headers: { ...auth, accept: 'application/taxii+json;version=2.1' } });
    expect(taxii.statusCode, taxii.body).toBe(503);
    expect(taxii.headers['content-type']).toContain('application/taxii+json');
    expect(taxii.json()).toMatchObject({ http_status: '503', error_code: 'UNAVAILABLE' });
    const misp = await app.inject({ method: 'GET', url: '/api/misp/users/view/me', headers: auth });
    expect(misp.statusCode, misp.body).toBe(503);
    expect(misp.headers['retry-after']).toBe('5');
    expect(misp.json()).toMatchObject({ errors: { code: 'UNAVAILABLE' } });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'ops.admin', password: 'correct horse battery staple' } });
    expect(login.statusCode, login.body).toBe(503);

    await admin((c) => c.query(`alter database ${name} allow_connections true`));
    expect((await me()).statusCode).toBe(200);
  }, 60_000);
});
