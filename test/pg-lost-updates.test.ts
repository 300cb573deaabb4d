/**
 * Lists kept in one `meta` value that several API processes change (docs/deploying-at-scale.md,
 * "Several API processes without NATS"): a change committed by another connection between this
 * one's read of the list and its write of the list must survive. Each test holds the other
 * writer's transaction open at that moment (a gate), as the spool test does
 * (src/store/postgres.test.ts), so the interleaving is certain rather than a matter of timing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/clock.js';
import { AccessService, SYSTEM_ACTOR } from '../src/access/index.js';
import { IntelService } from '../src/intel/index.js';
import { MispFeeds } from '../src/misp/index.js';
import { signFacts, type PeerRecord } from '../src/federation/index.js';
import { receiveFrom, recordPushStatus, type FederatedRecord, type RecordEnvelope } from '../src/federation/records.js';
import { openPostgresStore, type Store } from '../src/store/index.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';
import { heldTransaction } from './helpers/held-transaction.js';
import { sharedPath } from './helpers/shared.js';

/**
 * Two API processes' stores on one fresh database, with an organisation and a collection, and
 * MISP feeds on either; `hold` keeps a transaction of process B open (released by `close`).
 */
async function twoProcesses() {
  const db = await freshPostgresDb();
  const a = await openPostgresStore(db.url);
  const b = await openPostgresStore(db.url);
  const clock = new ManualClock('2026-08-01T00:00:00Z');
  const access = new AccessService(a, clock);
  const org = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Alpha', shortName: 'A' })).id;
  const coll = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'c' })).id;
  const feedsOn = (store: Store) => new MispFeeds({ store, intel: new IntelService(store, clock), clock });
  const held: ReturnType<typeof heldTransaction>[] = [];
  return {
    org, coll, feedsA: feedsOn(a), feedsOn,
    hold(fn: (tx: Store) => Promise<void>) {
      const h = heldTransaction(b, fn);
      held.push(h);
      return h;
    },
    async close() {
      for (const h of held) h.release();
      await a.close();
      await b.close();
      await db.drop();
    },
  };
}

describe.runIf(await pgAvailable())('PostgreSQL, the MISP feed list changed by two processes at once', () => {
  it('a feed added while another process adds one is listed with it (the list is not overwritten)', async () => {
    const n = await twoProcesses();
    try {
      const cfg = (name: string) => ({ name, source: `https://feeds.example/${name}/`, collectionId: n.coll, orgId: n.org, intervalS: 3600 });
      // Process B adds feed "two" and has not committed yet (its audit row is still being written).
      let held = n.hold(async (tx) => { await n.feedsOn(tx).add(cfg('two')); });
      await held.inside;
      const one = n.feedsA.add(cfg('one'));
      await new Promise((r) => setTimeout(r, 300));
      held.release();
      await Promise.all([one, held.done]);
      expect((await n.feedsA.list()).map((f) => f.name).sort()).toEqual(['one', 'two']);
      // And a removal keeps what another process added meanwhile.
      held = n.hold(async (tx) => { await n.feedsOn(tx).add(cfg('three')); });
      await held.inside;
      const removed = n.feedsA.remove('one');
      await new Promise((r) => setTimeout(r, 300));
      held.release();
      await Promise.all([removed, held.done]);
      expect((await n.feedsA.list()).map((f) => f.name).sort()).toEqual(['three', 'two']);
    } finally {
      await n.close();
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL, one MISP feed pulled by two processes at once', () => {
  it('the pull that saves second merges with the first one\'s state instead of failing', async () => {
    const n = await twoProcesses();
    try {
      await n.feedsA.add({ name: 'tweetfeed', source: sharedPath('data/misp/feed-tweetfeed'), collectionId: n.coll, orgId: n.org, intervalS: 3600 });
      const first = await n.feedsA.pull('tweetfeed');
      expect(first.imported).toBe(2);
      // The scheduler's pull (process B) is saving the feed's state, not committed yet, when a
      // manual pull through process A saves its own.
      const held = n.hold(async (tx) => { await n.feedsOn(tx).pull('tweetfeed'); });
      await held.inside;
      const manual = n.feedsA.pull('tweetfeed');
      await new Promise((r) => setTimeout(r, 300));
      held.release();
      await held.done;
      expect((await manual).upToDate).toBe(2);
      const feed = await n.feedsA.get('tweetfeed');
      expect(feed.rev).toBe(4);
      expect(Object.keys(feed.state.events)).toHaveLength(2);
    } finally {
      await n.close();
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL, the list of active exercises changed by two processes at once', () => {
  it('a run launched on one process while another launches one: both stay on the list the leader schedules from', async () => {
    const db = await freshPostgresDb();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-lost-'));
    const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }));
    const other = await openPostgresStore(db.url);
    let held: ReturnType<typeof heldTransaction> | null = null;
    try {
      const org = (await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Exercise control', shortName: 'EXCON' })).id;
      const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org, username: 'excon', password: 'correct horse battery staple', roles: ['admin'] });
      const token = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org, userId: user.id, kind: 'api', name: 't' })).token;
      const actor = { principal: await p.access.authenticateToken(token, 'test'), source: 'test' };
      const ex = p.exercise;
      const scenario = {
        name: 'Two at once', storyline: 'Runs launched on two API processes.', category: 'attack-scenario',
        objectives: [{ id: 'o', title: 'Read the brief', priority: 'low' }],
        teams: [{ id: 't', name: 'Team', orgs: [org] }],
        injects: [{ id: 'brief', title: 'Brief', offsetSeconds: 60, type: 'communication', teams: [], payload: { channel: 'email', from: 'EXCON', subject: 'Start', body: 'STARTEX' }, expectations: [] }],
      };
      const sc = await ex.createScenario(actor, scenario);
      const run = await ex.createRun(actor, { scenarioId: sc.id });
      // Another process launched its run: its write of the list is in, its transaction still open.
      held = heldTransaction(other, async (tx) => { await tx.setMeta('exercise:active', JSON.stringify(['exercise--elsewhere'])); });
      await held.inside;
      const launched = ex.control(actor, run.id, { action: 'launch' });
      await new Promise((r) => setTimeout(r, 300));
      held.release();
      await Promise.all([launched, held.done]);
      expect((JSON.parse((await other.getMeta('exercise:active')) ?? '[]') as string[]).sort()).toEqual([run.id, 'exercise--elsewhere'].sort());
    } finally {
      held?.release();
      await other.close();
      await p.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(await pgAvailable())('PostgreSQL, a hub\'s relay queue changed by two receives at once', () => {
  it('records of two origins relayed to the same peer at the same moment both wait in its queue', async () => {
    const db = await freshPostgresDb();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-relayq-'));
    const hub = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_NODE_NAME: 'hub', SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_WORKERS: '0' }));
    const other = await openPostgresStore(db.url);
    let held: ReturnType<typeof heldTransaction> | null = null;
    try {
      // Two origins (their keys made here) and the spoke the records go on to, with its organisation.
      const origins = ['o1', 'o2'].map((name) => {
        const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
        const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64');
        return { name, privateKey, publicKey: raw, org: `identity--${crypto.randomUUID()}` };
      });
      const peers = new Map<string, PeerRecord>();
      for (const o of origins) peers.set(o.name, await hub.federation.addPeer(SYSTEM_ACTOR, { name: o.name, publicKey: o.publicKey, orgs: [{ id: o.org, shortName: o.name.toUpperCase() }] }));
      const z = `identity--${crypto.randomUUID()}`;
      const spoke = crypto.generateKeyPairSync('ed25519').publicKey;
      await hub.federation.addPeer(SYSTEM_ACTOR, {
        name: 'spoke', url: 'https://spoke.example', token: 'peer-token', orgs: [{ id: z, shortName: 'Z' }],
        publicKey: Buffer.from((spoke.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64'),
      });
      const envelopeOf = (o: (typeof origins)[number]): RecordEnvelope => {
        const record: FederatedRecord = {
          type: 'x-shieldwall-record', id: `incident--${crypto.randomUUID()}`, kind: 'incident', state: 'open', tlp: 'amber', createdUs: 1, updatedUs: 1, withdrawn: false, events: [],
          doc: {
            title: 'Relayed', description: 'd', category: 'malware', severity: 2, phase: 'detection', assignees: [], tasks: [], observables: [], shares: [{ orgId: z }], attachments: [],
            links: { alerts: [], sightings: [], indicators: [], techniques: [] }, stages: { detectedAt: '2026-08-01T00:00:00Z' },
          },
        };
        const facts = { creator: o.org, recipients: [z] };
        return { record, origin: o.name, ...facts, signature: signFacts(o.privateKey, { object: record as unknown as Record<string, unknown>, origin: o.name, ...facts }) };
      };
      const [e1, e2] = [envelopeOf(origins[0]!), envelopeOf(origins[1]!)];
      // o1's push is being stored on one connection (its transaction still open) when o2's comes in.
      held = heldTransaction(other, async (tx) => {
        const r = await receiveFrom({ store: tx, clock: hub.clock, registry: hub.federation }, peers.get('o1')!, [e1]);
        expect(r.results, JSON.stringify(r.results)).toEqual([{ id: e1.record.id, status: 'relayed' }]);
      });
      await held.inside;
      const second = receiveFrom({ store: hub.store, clock: hub.clock, registry: hub.federation }, peers.get('o2')!, [e2]);
      await new Promise((r) => setTimeout(r, 300));
      held.release();
      const [r2] = await Promise.all([second, held.done]);
      expect(r2.results).toEqual([{ id: e2.record.id, status: 'relayed' }]);
      expect((await recordPushStatus(hub.federation, 'spoke')).relayWaiting).toBe(2);
    } finally {
      held?.release();
      await other.close();
      await hub.close();
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
