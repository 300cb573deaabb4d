/**
 * Crash durability of telemetry ingestion: the built server is SIGKILLed while sensors POST
 * batches to /api/v1/ingest. After a restart every batch answered 202 is in the spool whole,
 * and once the worker has caught up every matching event is counted in the alerts exactly once
 * (the cursor commits with the alerts, so the batch in flight at the crash is processed again,
 * not twice). Run after `npm run build`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { ROOT, serverCommand, startNode, stopNode, type Node } from './durability-harness.js';

const BATCHES = 40;
const PER_BATCH = 250;
const C2 = '198.51.100.7';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function prepare(): Promise<Node & { sensor: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-ingest-durability-'));
  dirs.push(dataDir);
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  try {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Durability CERT', shortName: 'DUR' });
    const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'dur.analyst', password: 'correct horse battery staple', roles: ['analyst'] });
    const api = await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'test' });
    const sensor = await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'fw-1' });
    const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'feed' });
    await p.access.grantCollection(SYSTEM_ACTOR, c.id, org.id, { canRead: true, canWrite: true });
    const principal = await p.access.authenticateToken(api.token, 'test');
    const res = await p.intel.submit({ principal, source: 'test' }, c.id, [{
      type: 'indicator', spec_version: '2.1', id: 'indicator--2f0d4b0e-7a1c-4c3e-9b1a-1d2e3f4a5b6c', created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z', name: 'C2', pattern: `[ipv4-addr:value = '${C2}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
    }], { defaultTlp: 'green' });
    expect(res[0]?.status).toBe('added');
    return { dataDir, token: api.token, collectionId: c.id, sensor: sensor.token };
  } finally {
    await p.close();
  }
}

/** Batch b: PER_BATCH flows, every other one to the C2 address, from one host per batch. */
function batch(b: number): string {
  return Array.from({ length: PER_BATCH }, (_, i) => JSON.stringify({
    timestamp: new Date(Date.now() - 60_000).toISOString(), event_type: 'flow', src_ip: `10.0.${b}.${i % 250}`, src_port: 40000 + i,
    dest_ip: i % 2 === 0 ? C2 : '93.184.216.34', dest_port: 443, proto: 'TCP',
  })).join('\n');
}

describe(`crash durability of POST /api/v1/ingest (server: ${serverCommand().kind})`, () => {
  it('SIGKILL while sensors send: every acknowledged batch is spooled whole and counted once in the alerts', async () => {
    const node = await prepare();
    const srv = await startNode(node);
    const acked: { first: number; last: number }[] = [];
    let next = 0;
    let killed = false;
    const worker = async () => {
      for (let b = next++; b < BATCHES; b = next++) {
        try {
          const res = await fetch(`${srv.url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${node.sensor}`, 'content-type': 'application/x-ndjson' }, body: batch(b) });
          const body = (await res.json()) as { accepted: number; firstSeq: number; lastSeq: number };
          if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
          expect(body.accepted).toBe(PER_BATCH);
          acked.push({ first: body.firstSeq, last: body.lastSeq });
          if (acked.length === 8 && !killed) {
            killed = true;
            srv.child.kill('SIGKILL');
          }
        } catch (e) {
          if (!killed) throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    await srv.exited;
    expect(acked.length).toBeGreaterThanOrEqual(8);

    // Restart: the worker catches up on what was spooled.
    const again = await startNode(node);
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = (await (await fetch(`${again.url}/api/v1/detect/status`, { headers: { authorization: `Bearer ${node.token}` } })).json()) as { queueDepth: number };
        if (s.queueDepth === 0) break;
        if (Date.now() > deadline) throw new Error(`the worker did not catch up:\n${again.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await stopNode(again);
    }
    const store = await openSqliteStore(path.join(node.dataDir, 'shieldwall.db'));
    try {
      const rows = await store.readIngest(0, 1_000_000);
      const seqs = new Set(rows.map((r) => r.seq));
      for (const a of acked) {
        expect(a.last - a.first + 1).toBe(PER_BATCH);
        for (let s = a.first; s <= a.last; s++) expect(seqs.has(s), `acknowledged event ${s} lost`).toBe(true);
      }
      // Batches are whole: the spool holds a multiple of the batch size.
      expect(rows.length % PER_BATCH).toBe(0);
      const matching = rows.filter((r) => r.event.includes(`"dest_ip":"${C2}"`)).length;
      const alerts = await store.listAlertFacts({ sinceUs: 0, exerciseId: null, limit: 100_000 });
      expect(alerts.length).toBeGreaterThan(0);
      expect(alerts.reduce((n, a) => n + a.count, 0)).toBe(matching);
    } finally {
      await store.close();
    }
  }, 180_000);
});
