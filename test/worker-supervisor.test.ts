/**
 * Detection off the API's event loop (issue 8): the built `shieldwall serve` supervises its
 * detection worker process. With the test hook on, one event of a batch spins its worker
 * forever: the worker is killed after SHIELDWALL_WORKER_BATCH_TIMEOUT_MS and restarted, the
 * batch retried, then taken one event at a time; the hanging event is dead-lettered with its
 * reason and the rule it hung on, and every other event of the batch raises its alerts. All
 * the while the API process answers `GET /taxii2/` quickly, and the restarted worker still completes
 * a STIX sequence whose first half the killed one saw (its warm-up). Run after `npm run build`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { TEST_HANG_MARKER } from '../src/detect/pipeline/index.js';
import { freePort } from './helpers/net.js';
import { until as poll } from './helpers/until.js';

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const C2 = '198.51.100.7';
const BEACON = '203.0.113.9';
const TIMEOUT_MS = 1_500;

interface Node { dataDir: string; admin: string; analyst: string; sensor: string; otherAdmin: string }

async function prepare(): Promise<Node> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-worker-'));
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }), { detection: 'external' });
  try {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Worker CERT', shortName: 'WRK' });
    const other = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Other CERT', shortName: 'OTH' });
    const token = async (orgId: string, username: string, roles: ('admin' | 'analyst')[]) => {
      const u = await p.access.createUser(SYSTEM_ACTOR, { orgId, username, password: 'correct horse battery staple', roles });
      return (await p.access.createToken(SYSTEM_ACTOR, { orgId, userId: u.id, kind: 'api', name: username })).token;
    };
    const analyst = await token(org.id, 'wrk.analyst', ['analyst']);
    const admin = await token(org.id, 'wrk.admin', ['admin']);
    const otherAdmin = await token(other.id, 'oth.admin', ['admin']);
    const sensor = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'fw-1' })).token;
    const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'feed' });
    await p.access.grantCollection(SYSTEM_ACTOR, c.id, org.id, { canRead: true, canWrite: true });
    const principal = await p.access.authenticateToken(analyst, 'test');
    await p.intel.submit({ principal, source: 'test' }, c.id, [{
      type: 'indicator', spec_version: '2.1', id: 'indicator--7d0d4b0e-7a1c-4c3e-9b1a-1d2e3f4a5b6c', created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z', name: 'C2', pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    }, {
      type: 'indicator', spec_version: '2.1', id: 'indicator--7d0d4b0e-7a1c-4c3e-9b1a-1d2e3f4a5b6d', created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z', name: 'Lookup then beacon', pattern: `([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '${BEACON}']) WITHIN 300 SECONDS`,
      pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    }], { defaultTlp: 'green' });
    return { dataDir, admin, analyst, sensor, otherAdmin };
  } finally {
    await p.close();
  }
}

let node: Node;
let child: ChildProcess;
let url = '';
let out = '';

async function call(token: string, method: string, p: string, body?: string): Promise<{ status: number; json: () => any; text: string }> {
  const res = await fetch(`${url}${p}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/x-ndjson' } : {}) }, ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

const until = <T>(what: string, fn: () => Promise<T | null>, ms = 60_000) => poll(what, fn, { ms, diag: () => out });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');
  node = await prepare();
  const port = await freePort();
  child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '', HOME: os.tmpdir(), SHIELDWALL_DATA_DIR: node.dataDir, SHIELDWALL_PORT: String(port), SHIELDWALL_HOST: '127.0.0.1',
      SHIELDWALL_LOG_LEVEL: 'warn', SHIELDWALL_TEST_HOOKS: '1', SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  url = `http://127.0.0.1:${port}`;
  await until('the server', async () => (await fetch(`${url}/taxii2/`).then(() => true, () => null)));
  // The worker is up once the system view shows it running.
  await until('the worker', async () => ((await call(node.admin, 'GET', '/api/v1/system')).json().workers[0]?.state === 'running' ? true : null));
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(node.dataDir, { recursive: true, force: true });
});

const flow = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  timestamp: new Date(Date.now() - 60_000).toISOString(), event_type: 'flow', src_ip: '10.0.0.5', src_port: 40000 + i, dest_ip: C2, dest_port: 443, proto: 'TCP', ...extra,
});

describe('supervised detection worker (built serve, test hooks on)', () => {
  it('kills the worker stuck on one event, dead-letters that event with its reason and rule, and raises every other alert; TAXII stays fast', async () => {
    const stream = new AbortController();
    const live = fetch(`${url}/api/v1/stream`, { headers: { authorization: `Bearer ${node.analyst}` }, signal: stream.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += Buffer.from(value).toString();
        if (text.includes('alert.')) return text;
      }
    }).catch(() => '');
    // The first half of a sequence, processed by the worker that the hostile event will hang.
    const lookup = JSON.stringify({ timestamp: new Date(Date.now() - 90_000).toISOString(), event_type: 'dns', src_ip: '10.0.0.5', src_port: 5353, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: 'evil.example', rrtype: 'A' } });
    expect((await call(node.sensor, 'POST', '/api/v1/ingest', lookup)).status).toBe(202);
    await until('the lookup processed', async () => ((await call(node.admin, 'GET', '/api/v1/system')).json().detection.queue.depth === 0 ? true : null));
    // Nine matching events, the hostile one in the middle of the same batch, and the second half
    // of the sequence after it: only a worker started after the kills sees it, and it must still
    // remember the lookup (its warm-up replays the spool before its first batch).
    const lines = [0, 1, 2, 3].map((i) => flow(i)).concat(flow(4, { app_proto: TEST_HANG_MARKER }), [5, 6, 7, 8, 9].map((i) => flow(i)), flow(10, { dest_ip: BEACON }));
    // The SSE connection must not outlive the test (the server waits for it when it stops).
    onTestFinished(() => stream.abort());
    const res = await call(node.sensor, 'POST', '/api/v1/ingest', lines.join('\n'));
    expect(res.status, res.text).toBe(202);
    const hostileSeq = res.json().firstSeq + 4;

    // The API process answers while the worker spins: p99 of GET /taxii2/ under 100 ms.
    const latencies: number[] = [];
    const measureUntil = Date.now() + TIMEOUT_MS * 3;
    while (Date.now() < measureUntil) {
      const t0 = performance.now();
      const r = await fetch(`${url}/taxii2/`, { headers: { authorization: `Bearer ${node.analyst}`, accept: 'application/taxii+json;version=2.1' } });
      await r.arrayBuffer();
      latencies.push(performance.now() - t0);
      expect(r.status).toBe(200);
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
    expect(latencies.length).toBeGreaterThan(100);
    expect(p99, `p99 of ${latencies.length} requests`).toBeLessThan(100);

    const dead = await until('the dead letter', async () => {
      const items = (await call(node.admin, 'GET', '/api/v1/system/dead-letters')).json().items as any[];
      return items.length > 0 ? items : null;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ seq: hostileSeq, sensorId: 'fw-1', ruleRef: 'test-hook:hang', attempts: 3 });
    expect(dead[0].reason).toContain('SHIELDWALL_WORKER_BATCH_TIMEOUT_MS');
    expect(dead[0].event).toContain(TEST_HANG_MARKER);

    // Every other event of the batch was matched: one grouped alert counting nine events.
    const alert = await until('the alert', async () => {
      const alerts = (await call(node.analyst, 'GET', '/api/v1/alerts')).json().alerts as any[];
      const a = alerts.find((x) => x.matched?.value === C2);
      return a && a.count === 9 ? a : null;
    });
    expect(alert.count).toBe(9);
    const sequence = await until('the sequence alert', async () => {
      const alerts = (await call(node.analyst, 'GET', '/api/v1/alerts')).json().alerts as any[];
      return alerts.find((x) => String(x.title).includes('Lookup then beacon')) ?? null;
    }, 15_000);
    expect(sequence.count).toBe(1);
    // Nothing left behind: the queue is empty, the worker runs again after its restarts.
    const sys = await until('an idle worker', async () => {
      const s = (await call(node.admin, 'GET', '/api/v1/system')).json();
      return s.detection.queue.depth === 0 && s.workers[0].state === 'running' && s.workers[0].warmUp?.state === 'done' ? s : null;
    });
    expect(sys.workers[0].restarts).toBeGreaterThanOrEqual(3);
    // A live worker's row says how long ago it spoke, and that this is not stale.
    expect(sys.workers[0].stale).toBe(false);
    expect(sys.workers[0].heartbeatAgeMs).toBeLessThan(10_000);
    // The restarted worker replayed what it needed before its first batch (the lookup at least).
    expect(sys.workers[0].warmUp.state).toBe('done');
    expect(sys.workers[0].warmUp.replayed).toBeGreaterThanOrEqual(1);
    expect(sys.workers[0].pid).not.toBe(child.pid);
    expect(sys.workers[0].lastExit.reason).toContain('SHIELDWALL_WORKER_BATCH_TIMEOUT_MS');
    expect(sys.deadLetters).toMatchObject({ total: 1, organisation: 1, flaggedRules: [{ ref: 'test-hook:hang', count: 1 }] });
    expect(sys.store).toMatchObject({ dialect: 'sqlite', ok: true });
    // Alerts committed in the worker process reached this process's live stream.
    expect(await Promise.race([live, new Promise<string>((r) => setTimeout(() => r(''), 5_000))])).toContain('alert.');
  }, 120_000);

  it('shows dead letters to administrators of the sending organisation only, and retries or discards them', async () => {
    const [d] = (await call(node.admin, 'GET', '/api/v1/system/dead-letters')).json().items as { seq: number }[];
    expect(d).toBeDefined();
    expect((await call(node.analyst, 'GET', '/api/v1/system/dead-letters')).status).toBe(403);
    expect((await call(node.analyst, 'GET', '/api/v1/system')).status).toBe(403);
    expect((await call(node.otherAdmin, 'GET', '/api/v1/system/dead-letters')).json().items).toEqual([]);
    expect((await call(node.otherAdmin, 'GET', `/api/v1/system/dead-letters/${d!.seq}`)).status).toBe(404);
    expect((await call(node.otherAdmin, 'POST', `/api/v1/system/dead-letters/${d!.seq}/discard`)).status).toBe(404);
    expect((await call(node.admin, 'GET', '/api/v1/system/dead-letters/abc')).status).toBe(404);
    expect((await call(node.admin, 'GET', '/api/v1/system/dead-letters?before=x')).status).toBe(400);
    // Retry: back in the spool as a new event (it hangs again, so it comes back as a new dead letter).
    const retried = await call(node.admin, 'POST', `/api/v1/system/dead-letters/${d!.seq}/retry`);
    expect(retried.status, retried.text).toBe(202);
    expect(retried.json().seq).toBeGreaterThan(d!.seq);
    expect((await call(node.admin, 'POST', `/api/v1/system/dead-letters/${d!.seq}/retry`)).status).toBe(404);
    const again = await until('the retried event quarantined again', async () => {
      const items = (await call(node.admin, 'GET', '/api/v1/system/dead-letters')).json().items as { seq: number }[];
      return items.length === 1 && items[0]!.seq === retried.json().seq ? items[0]! : null;
    });
    // The operator sees the same from the shell, beside the running server.
    const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', SHIELDWALL_DATA_DIR: node.dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }, encoding: 'utf8', stdio: 'pipe' });
    const listed = JSON.parse(cli('dead-letters', 'list', '--json')) as { seq: number; ruleRef: string }[];
    expect(listed.map((d2) => [d2.seq, d2.ruleRef])).toEqual([[again.seq, 'test-hook:hang']]);
    const st = JSON.parse(cli('status', '--json'));
    expect(st.deadLetters.total).toBe(1);
    expect(st.workers.list[0].state).toMatch(/running|careful|starting|restarting/);
    expect(st.workers.supervisorPid).toBe(child.pid);
    expect(cli('status')).toContain('dead letters: 1');
    expect(() => cli('dead-letters', 'retry', 'x')).toThrow();
    const discarded = await call(node.admin, 'POST', `/api/v1/system/dead-letters/${again.seq}/discard`);
    expect(discarded.status, discarded.text).toBe(200);
    expect((await call(node.admin, 'GET', '/api/v1/system/dead-letters')).json().items).toEqual([]);
    const audit = (await call(node.admin, 'GET', '/api/v1/audit?limit=50')).json().items as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['detect.dead-letter.retry', 'detect.dead-letter.discard']));
  }, 120_000);
});

describe('shieldwall worker on its own (SHIELDWALL_WORKERS=0 servers)', () => {
  it('processes what another process spooled, and stops cleanly on SIGTERM', async () => {
    const n = await prepare();
    const worker = spawn(process.execPath, [CLI, 'worker'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SHIELDWALL_DATA_DIR: n.dataDir, SHIELDWALL_LOG_LEVEL: 'silent' } });
    let log = '';
    worker.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: n.dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }), { detection: 'external' });
    try {
      const sensor = await p.access.authenticateToken(n.sensor, 'test');
      const r = await p.detect.ingest(sensor, [0, 1, 2].map((i) => flow(i)).join('\n'), { format: 'auto', sensorId: 'fw-1' });
      expect(r.accepted).toBe(3);
      // The worker polls the spool (every 2 s) and moves the cursor with the alert.
      await p.detect.drain({ timeoutMs: 30_000 });
      const alerts = await p.store.listAlertFacts({ sinceUs: 0, exerciseId: null, limit: 10 });
      expect(alerts.map((a) => a.count)).toEqual([3]);
      expect((await p.detect.queue()).depth).toBe(0);
    } finally {
      await p.close();
    }
    expect(log).toContain('detection worker');
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    fs.rmSync(n.dataDir, { recursive: true, force: true });
  }, 60_000);
});
