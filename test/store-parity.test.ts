/**
 * Differential test of the two store engines through the public surfaces: the same operations,
 * through REST and TAXII, on a node with SQLite and on a node with PostgreSQL, answer alike
 * (docs/deploying-at-scale.md: PostgreSQL is the same Store for larger nodes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp, createPlatform, type Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { P_PEER } from '../src/federation/registry.js';
import { P_FEED } from '../src/federation/taxii-feeds.js';
import { heldTransaction } from './helpers/held-transaction.js';
import { PG_ADMIN_URL } from './helpers/pg.js';
import { storeDialects } from './helpers/store-dialects.js';
import { until } from './helpers/until.js';

const TAXII = 'application/taxii+json;version=2.1';
const ORG_A = 'identity--0a0a0a0a-0000-4000-8000-00000000000a';
const ORG_B = 'identity--0b0b0b0b-0000-4000-8000-00000000000b';
const COLL = '11111111-1111-4111-8111-111111111111';

interface ParityNode {
  name: string;
  platform: Platform;
  app: FastifyInstance;
  clock: ManualClock;
  tokens: Record<string, string>;
  /** The PostgreSQL database (undefined on SQLite). */
  database: string | undefined;
  close(): Promise<void>;
}

async function openNode(f: Awaited<ReturnType<typeof storeDialects>>[number]): Promise<ParityNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-parity-'));
  const { store, cleanup, database } = await f.open();
  const clock = new ManualClock('2026-04-01T00:00:00.000Z');
  const platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_AUTH_FAILURE_LIMIT: '100000' }), { store, clock });
  const { access } = platform;
  await access.createOrganisation(SYSTEM_ACTOR, { id: ORG_A, name: 'Alpha', shortName: 'A' });
  await access.createOrganisation(SYSTEM_ACTOR, { id: ORG_B, name: 'Bravo', shortName: 'B' });
  await access.createCollection(SYSTEM_ACTOR, { id: COLL, apiRoot: 'api1', title: 'Shared', alias: 'shared' });
  await access.grantCollection(SYSTEM_ACTOR, COLL, '*', { canRead: true, canWrite: true });
  const tokens: Record<string, string> = {};
  for (const [user, org, roles] of [['a-analyst', ORG_A, ['analyst', 'responder']], ['a-admin', ORG_A, ['admin']], ['b-analyst', ORG_B, ['analyst', 'responder']]] as const) {
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: org, username: user, password: 'correct horse battery staple', roles: [...roles] });
    tokens[user] = (await access.createToken(SYSTEM_ACTOR, { orgId: org, userId: u.id, kind: 'api', name: 't' })).token;
  }
  const app = await buildApp(platform);
  return {
    name: f.name, platform, app, clock, tokens, database,
    close: async () => { await app.close(); await platform.close(); await cleanup(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface Reply { status: number; json: any; headers: Record<string, unknown> }

type Method = 'GET' | 'POST' | 'DELETE' | 'PATCH';
interface Req { user: string; method: Method; url: string; body?: unknown }

async function call(n: ParityNode, { user, method, url, body }: Req): Promise<Reply> {
  const taxii = url.startsWith('/api1/') || url.startsWith('/taxii2/');
  const headers: Record<string, string> = { authorization: `Bearer ${n.tokens[user]}`, accept: taxii ? TAXII : 'application/json' };
  if (body !== undefined) headers['content-type'] = taxii ? TAXII : 'application/json';
  const res = await n.app.inject({ method, url, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  let json: unknown = res.body;
  try { json = JSON.parse(res.body); } catch { /* not JSON */ }
  return { status: res.statusCode, json, headers: res.headers };
}

const factories = await storeDialects();

describe.runIf(factories.length > 1)('store parity: SQLite and PostgreSQL answer alike', () => {
  let nodes: ParityNode[] = [];
  beforeAll(async () => { nodes = await Promise.all(factories.map(openNode)); });
  afterAll(async () => { await Promise.all(nodes.map((n) => n.close())); });

  /** Runs the same call on every node; returns the answers by node name. */
  async function both(user: string, method: Method, url: string, body?: unknown): Promise<Reply[]> {
    const out: Reply[] = [];
    for (const n of nodes) out.push(await call(n, { user, method, url, body }));
    return out;
  }
  function same(r: Reply[], pick: (x: Reply) => unknown = (x) => ({ status: x.status, json: x.json })): unknown {
    const [first, ...rest] = r.map(pick);
    for (const x of rest) expect(x).toEqual(first);
    return first;
  }

  const TLP_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
  const indicator = (n: number, fields: Record<string, unknown>) => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--6d1c8f52-0c1e-4a5b-9d3e-${String(n).padStart(12, '0')}`, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    pattern_type: 'stix', pattern: "[ipv4-addr:value = '198.51.100.7']", valid_from: '2026-01-01T00:00:00Z', object_marking_refs: [TLP_GREEN], ...fields,
  });
  const names = (r: Reply) => (r.status === 200 ? (r.json.items as { name: string }[]).map((i) => i.name).sort() : r.json);

  it('REST q and label find exactly the text given, with %, _, \\ and quotes taken literally, on both stores', async () => {
    const objects = [
      indicator(101, { name: 'evil_corp dropper', labels: ['APT', 'a_b', '100%'] }),
      indicator(102, { name: 'evilXcorp loader', labels: ['apt', 'axb', 'Straße'] }),
      indicator(103, { name: 'C:\\Windows\\Temp "quoted" 50% off', labels: ['back\\slash', 'quo"te'] }),
    ];
    same(await both('a-analyst', 'POST', `/api1/collections/${COLL}/objects/`, { objects }), (r) => [r.status, r.json.success_count]);
    const cases: [string, string, string[]][] = [
      // REST q: a case-insensitive substring, wildcard characters literal.
      ['q', 'evil_corp', ['evil_corp dropper']],
      ['q', 'EVIL_CORP', ['evil_corp dropper']],
      ['q', 'evil%', []],
      ['q', '50%', ['C:\\Windows\\Temp "quoted" 50% off']],
      ['q', 'c:\\windows\\temp', ['C:\\Windows\\Temp "quoted" 50% off']],
      ['q', '"quoted"', ['C:\\Windows\\Temp "quoted" 50% off']],
      // label: one whole label, exactly (case included), whatever characters it holds.
      ['label', 'APT', ['evil_corp dropper']],
      ['label', 'apt', ['evilXcorp loader']],
      ['label', 'a_b', ['evil_corp dropper']],
      ['label', '100%', ['evil_corp dropper']],
      ['label', 'back\\slash', ['C:\\Windows\\Temp "quoted" 50% off']],
      ['label', 'quo"te', ['C:\\Windows\\Temp "quoted" 50% off']],
      ['label', 'straße', []],
    ];
    for (const [param, value, expected] of cases) {
      const r = await both('b-analyst', 'GET', `/api/v1/intel?type=indicator&${param}=${encodeURIComponent(value)}`);
      expect(r.map(names), `${param}=${value}`).toEqual(r.map(() => expected));
    }
  });

  it('raises and groups the alerts of an event with a long host name alike (PostgreSQL refused its group key to its index)', async () => {
    // High-entropy text: PostgreSQL compresses an index entry before it measures it.
    const host = crypto.randomBytes(3000).toString('base64');
    const event = (name: string) => JSON.stringify({ '@timestamp': '2026-04-01T00:00:00Z', host: { name }, source: { ip: '10.0.0.1' }, destination: { ip: '203.0.113.77' } });
    const ind = indicator(201, { name: 'long host', pattern: "[ipv4-addr:value = '203.0.113.77']" });
    same(await both('a-analyst', 'POST', `/api1/collections/${COLL}/objects/`, { objects: [ind] }), (r) => [r.status, r.json.success_count]);
    for (const n of nodes) {
      const sensor = (await n.platform.access.createToken(SYSTEM_ACTOR, { orgId: ORG_B, kind: 'sensor', name: 'long-host-sensor' })).token;
      await n.platform.detect.refreshDirectory();
      await n.platform.detect.feed.sync();
      for (const body of [[event(host), event('short')].join('\n'), event(host)]) {
        const res = await n.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${sensor}`, 'content-type': 'application/x-ndjson' }, payload: body });
        expect(res.statusCode, res.body).toBe(202);
        await n.platform.detect.drain();
      }
    }
    const alerts = await both('b-analyst', 'GET', `/api/v1/alerts?limit=50`);
    same(alerts, (r) => (r.json.alerts as { entity: string; count: number; matched: { id: string } }[]).filter((a) => a.matched.id === ind.id).map((a) => [a.entity.length, a.count]).sort((x, y) => x[0]! - y[0]!));
    expect((alerts[0]!.json.alerts as { matched: { id: string }; entity: string; count: number }[]).filter((a) => a.matched.id === ind.id).map((a) => [a.entity, a.count]).sort((x, y) => Number(x[1]) - Number(y[1])))
      .toEqual([['short', 1], [host, 2]]);
    same(await both('a-admin', 'GET', '/api/v1/system/dead-letters'), (r) => [r.status, r.json.items]);
  });

  it('takes a warninglist entry up to 1,024 UTF-8 bytes and refuses a longer one with a 422 alike (PostgreSQL failed a long CJK entry with a 500)', async () => {
    const cjk = (n: number) => Array.from({ length: n }, () => String.fromCodePoint(0x4e00 + crypto.randomInt(20_000))).join('');
    const list = (name: string, entry: string) => ({ name, version: 1, description: 'd', type: 'string', matching_attributes: ['domain'], list: [entry, 'x.example'] });
    const ok = list('cjk-341', cjk(341)); // 1,023 bytes
    expect(same(await both('a-admin', 'POST', '/api/v1/warninglists', ok), (r) => [r.status, r.json.entryCount])).toEqual([201, 2]);
    const long = list('cjk-1000', cjk(1000)); // 1,000 characters, 3,000 bytes
    const refused = await both('a-admin', 'POST', '/api/v1/warninglists', long);
    expect(same(refused, (r) => [r.status, r.json.error?.code, r.json.error?.message])).toEqual([422, 'UNPROCESSABLE', 'not a MISP warninglist: list[0] must be a string of at most 1024 bytes (UTF-8)']);
    same(await both('a-admin', 'GET', '/api/v1/warninglists'), (r) => (r.json.items as { name: string; entryCount: number }[]).map((w) => [w.name, w.entryCount]));
  });

  const publicKey = () => crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  /** Names registered in `meta` by a check and a write: a peer (by its key) and a TAXII feed (by its URL). */
  const REGISTRIES = [
    { what: 'peer', url: '/api/v1/federation/peers', prefix: P_PEER, body: (name: string, v: number) => ({ name, publicKey: publicKey(), url: `https://node${v}.example` }), mark: (j: { url: string }) => j.url },
    { what: 'TAXII feed', url: '/api/v1/taxii-feeds', prefix: P_FEED, body: (name: string, v: number) => ({ name, url: `https://feed${v}.example/taxii2`, remoteCollection: 'x', localCollection: COLL, org: 'A' }), mark: (j: { url: string }) => j.url },
  ];

  it.each(REGISTRIES)('registers a $what name once when requests race: one is created, the others are 409 and nothing is overwritten', async (r) => {
    for (const n of nodes) {
      const answers = await Promise.all([1, 2, 3].map((v) => call(n, { user: 'a-admin', method: 'POST', url: r.url, body: r.body(`race-${n.name}`, v) })));
      expect(answers.map((a) => a.status).sort(), `${n.name}: ${answers.map((a) => JSON.stringify(a.json)).join('\n')}`).toEqual([200, 409, 409]);
      const won = answers.find((a) => a.status === 200)!.json;
      expect(r.mark(JSON.parse((await n.platform.store.getMeta(r.prefix + `race-${n.name}`))!)), n.name).toBe(r.mark(won));
    }
    // On PostgreSQL, certainly: another API process has written the name and not committed yet
    // when this one reads it; this one's write waits for that commit and must then be refused.
    for (const n of nodes.filter((x) => x.database !== undefined)) {
      const name = `held-${n.name}`;
      const other = JSON.stringify({ ...r.body(name, 9), url: 'https://other-process.example' });
      const held = heldTransaction(n.platform.store, async (tx) => { await tx.setMeta(r.prefix + name, other); });
      await held.inside;
      const answer = call(n, { user: 'a-admin', method: 'POST', url: r.url, body: r.body(name, 1) });
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await until('the request waiting on the uncommitted name', async () => (await admin.query(`select 1 from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query like 'insert into "meta"%'`, [n.database])).rowCount! > 0);
      } finally {
        await admin.end();
        held.release();
      }
      await held.done;
      const a = await answer;
      expect([a.status, a.json.error?.code], JSON.stringify(a.json)).toEqual([409, 'CONFLICT']);
      expect(await n.platform.store.getMeta(r.prefix + name)).toBe(other);
    }
  });

  it('starts one assessment per organisation, framework and year when requests race: the others are 409 (PostgreSQL created one per request)', async () => {
    for (const n of nodes) {
      const answers = await Promise.all([1, 2, 3].map(() => call(n, { user: 'a-admin', method: 'POST', url: '/api/v1/readiness/assessments', body: { frameworkKey: 'pledge-2016', year: 2031 } })));
      expect(answers.map((a) => [a.status, a.json.error?.message ?? null]).sort(), n.name).toEqual([[201, null], [409, 'an assessment of pledge-2016 for 2031 exists'], [409, 'an assessment of pledge-2016 for 2031 exists']]);
    }
    same(await both('a-admin', 'GET', '/api/v1/readiness/assessments'), (r) => (r.json.items as { year: number }[]).filter((a) => a.year === 2031).length);
  });

  it('takes additions to one incident made at once, and refuses a change on a stale revision, alike (PostgreSQL answered all but one addition 409)', async () => {
    for (const n of nodes) {
      const made = await call(n, { user: 'a-analyst', method: 'POST', url: '/api/v1/incidents', body: { title: 'Concurrent edits', severity: 3 } });
      expect(made.status, n.name).toBe(201);
      const url = `/api/v1/incidents/${made.json.id as string}`;
      const adds = await Promise.all([
        ...[1, 2, 3].map((i) => call(n, { user: 'a-analyst', method: 'POST', url: `${url}/tasks`, body: { title: `task ${i}` } })),
        ...[1, 2].map((i) => call(n, { user: 'a-analyst', method: 'POST', url: `${url}/observables`, body: { type: 'ipv4-addr', value: `198.51.100.${i}` } })),
      ]);
      expect(adds.map((a) => [a.status, a.json.error?.message]), n.name).toEqual(adds.map(() => [200, undefined]));
      const after = await call(n, { user: 'a-analyst', method: 'GET', url });
      expect((after.json.tasks as { title: string }[]).map((t) => t.title).filter((t) => t.startsWith('task ')).sort(), n.name).toEqual(['task 1', 'task 2', 'task 3']);
      expect((after.json.observables as unknown[]).length, n.name).toBe(2);
      // A change stated on a revision someone moved past is still a 409 that changes nothing.
      const stale = await call(n, { user: 'a-analyst', method: 'PATCH', url, body: { title: 'renamed', rev: made.json.rev } });
      expect([stale.status, stale.json.error?.code], n.name).toEqual([409, 'CONFLICT']);
    }
  });
});
