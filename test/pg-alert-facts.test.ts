/**
 * An analyst triaging an alert while the detection worker (always another process) adds hits to
 * it: the alert's facts row (count, last seen: what grouping, the operational picture and the
 * alert list's order read) keeps the worker's counts, and takes the analyst's status. The
 * worker's transaction is held open after its write of the facts, so the interleaving is certain.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/clock.js';
import type { AlertDoc } from '../src/detect/pipeline/alert-types.js';
import { openPostgresStore } from '../src/store/index.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';

describe.runIf(await pgAvailable())('PostgreSQL, an alert triaged while the worker counts its hits', () => {
  it('the facts keep the worker\'s count and last seen, and take the analyst\'s status', async () => {
    const db = await freshPostgresDb();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-facts-'));
    const clock = new ManualClock('2026-08-01T00:00:00Z');
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }), { clock, store: await openPostgresStore(db.url) });
    const worker = await openPostgresStore(db.url);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    try {
      const org = (await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Alpha', shortName: 'A' })).id;
      const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org, username: 'analyst', password: 'correct horse battery staple', roles: ['analyst'] });
      const token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org, userId: user.id, kind: 'api', name: 't' })).token;
      const actor = { principal: await p.access.authenticateToken(token, 'test'), source: 'test' };
      const id = 'alert--00000000-0000-4000-8000-000000000001';
      const doc: AlertDoc = {
        orgId: org, sensorId: 's1', source: 'anomaly', title: 'Rare process', severity: 'medium', assignee: null, entity: 'host-1', groupKey: 'anomaly · rare · host-1',
        count: 10, firstSeen: '2026-08-01T00:00:00.000Z', lastSeen: '2026-08-01T00:00:10.000Z', techniques: [],
        matched: { kind: 'anomaly', method: 'rare', expected: 'seen before', seen: 'x.exe', score: 3 }, samples: [], incidentId: null,
      };
      const us = Date.parse('2026-08-01T00:00:00Z') * 1000;
      await p.store.putRecord({
        id, kind: 'alert', parentId: null, creatorOrg: org, tlp: 'amber', recipients: [], originNode: null, exerciseId: null, state: 'new', createdUs: us, updatedUs: us, rev: 1, json: JSON.stringify(doc),
      });
      const facts = { id, orgId: org, groupKey: 'k', source: 'anomaly', severity: 'medium', status: 'new', techniques: [], count: 10, firstUs: us, lastUs: us + 10_000_000, exerciseId: null };
      await p.store.putAlertFacts(facts);
      // The worker's batch has written 5 more hits into the facts and is still committing.
      let entered!: () => void;
      const inside = new Promise<void>((r) => { entered = r; });
      const batch = worker.transaction(async (tx) => {
        await tx.putAlertFacts({ ...facts, count: 15, lastUs: us + 20_000_000 });
        entered();
        await gate;
      });
      await inside;
      const triaged = p.alerts.patch(actor, id, { status: 'acknowledged' });
      await new Promise((r) => setTimeout(r, 300));
      release();
      await Promise.all([batch, triaged]);
      expect(await p.store.getAlertFacts(id)).toMatchObject({ status: 'acknowledged', count: 15, lastUs: us + 20_000_000 });
    } finally {
      release();
      await worker.close();
      await p.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
