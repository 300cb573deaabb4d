/**
 * Scale-out acceptance (issue 8): on a real PostgreSQL and a real NATS JetStream, 2 API
 * processes + 3 worker processes; sensors send through both API processes; one worker is
 * SIGKILLed mid-stream. The alerts — every one, with its count — equal those of the same
 * telemetry through one embedded node (SQLite, supervised worker): a differential test that
 * includes a Sigma correlation (event_count per host) and a STIX FOLLOWEDBY indicator seen across
 * two sensors. The live stream of API process 1 shows alerts whose events came in through
 * process 2. Runs against dist/ (`npm run build:server` first); in CI a missing PostgreSQL or
 * NATS fails the test rather than skipping it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../src/scale/index.js';
import { openStore } from '../src/store/index.js';
import { pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable } from './helpers/nats.js';
import { alertsOf, ORGS, post, prepare, scaleDeployment, start, stop, subscribe, telemetry, type AlertView, type Batch, type OrgName, type Prepared, type Proc } from './scaleout-harness.js';
import { until as poll } from './helpers/until.js';

const [pgUp, natsUp] = await Promise.all([pgAvailable(), natsAvailable()]);
if ((!pgUp || !natsUp) && mustRun()) throw new Error(`the scale-out test needs PostgreSQL (${pgUp}) and NATS at ${NATS_URL} (${natsUp})`);

const PARTITIONS = 6;
const procs: Proc[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of procs) await stop(p, 'SIGKILL').catch(() => undefined);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

type Snapshot = Record<OrgName, AlertView[]>;

async function snapshot(url: string, prep: Prepared): Promise<Snapshot> {
  const out = {} as Snapshot;
  for (const o of ORGS) out[o] = await alertsOf(url, prep.analysts[o]);
  return out;
}

const until = <T>(what: string, fn: () => Promise<T | null>, ms: number, diag: () => string) => poll(what, fn, { ms, everyMs: 250, diag });

async function send(batch: Batch, url: string, prep: Prepared): Promise<void> {
  const res = await post(url, prep.sensors[batch.org][batch.sensor], batch.lines);
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { accepted: number };
  if (body.accepted !== batch.lines.length) throw new Error(`accepted ${body.accepted} of ${batch.lines.length}`);
}

describe.runIf(pgUp && natsUp)('scale-out: 2 API processes + 3 workers on PostgreSQL and NATS JetStream', () => {
  it('gives the alerts and counts of one embedded node, with a worker killed mid-stream, and fans the live stream out', async () => {
    const t0 = Date.now() - 30 * 60_000;
    const batches = telemetry(t0);

    // 1. The reference: one embedded node (SQLite, its supervised worker).
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-scaleout-ref-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const ref = await prepare({ SHIELDWALL_DATA_DIR: dataDir });
    const node = await start('serve', { SHIELDWALL_DATA_DIR: dataDir });
    procs.push(node);
    for (const b of batches) await send(b, node.url, ref);
    const expected = await until('the embedded node to process every event', async () => {
      const s = (await (await fetch(`${node.url}/api/v1/detect/status`, { headers: { authorization: `Bearer ${ref.analysts.DSK}` } })).json()) as { queueDepth: number };
      return s.queueDepth === 0 ? snapshot(node.url, ref) : null;
    }, 60_000, node.output);
    await stop(node);
    // The reference exercises what the test is about.
    for (const o of ORGS) {
      const titles = expected[o].map((a) => a.title);
      expect(titles.filter((t) => t === 'Whoami burst'), `${o}: ${JSON.stringify(expected[o])}`).toHaveLength(3);
      expect(titles.some((t) => t.includes('Lookup then beacon'))).toBe(true);
      expect(titles.some((t) => t.includes('C2 address'))).toBe(true);
    }

    // 2. The scale-out node: fresh database, unique stream.
    const d = await scaleDeployment('scaleout', { partitions: PARTITIONS });
    cleanups.push(...d.cleanups);
    const { prep, env } = d;
    const api1 = await start('serve', env);
    const api2 = await start('serve', env);
    procs.push(api1, api2);
    const workers = [await start('worker', env), await start('worker', env), await start('worker', env)];
    procs.push(...workers);
    const ownedBy = (w: Proc): number[] => {
      const lines = w.output().split('\n').filter((l) => l.includes('partitions: ['));
      const last = lines[lines.length - 1];
      return last ? (last.slice(last.indexOf('[') + 1, last.indexOf(']')).split(',').filter(Boolean).map(Number)) : [];
    };
    const diag = () => [api1, api2, ...workers].map((p, i) => `--- process ${i}\n${p.output().slice(-3000)}`).join('\n');
    await until('the workers to share every partition', async () => {
      const all = workers.flatMap(ownedBy);
      return new Set(all).size === PARTITIONS && workers.every((w) => ownedBy(w).length > 0) ? true : null;
    }, 30_000, diag);

    // The live stream of API 1, for DSK's analyst.
    const live = subscribe(api1.url, prep.analysts.DSK);
    cleanups.push(async () => live.close());
    await live.ready;

    // 3. The same telemetry through both API processes, alternating; SIGKILL the worker that owns
    // DSK's partition halfway through.
    const victim = workers.find((w) => ownedBy(w).includes(partitionOf(prep.orgIds.DSK, PARTITIONS)))!;
    expect(victim).toBeDefined();
    for (let i = 0; i < batches.length; i++) {
      if (i === Math.floor(batches.length / 2)) {
        // Let it commit part of its work first, so the kill lands mid-stream.
        await until('the first alerts', async () => ((await alertsOf(api1.url, prep.analysts.DSK)).length > 0 ? true : null), 30_000, diag);
        victim.child.kill('SIGKILL');
        await victim.exited;
      }
      await send(batches[i]!, i % 2 === 0 ? api1.url : api2.url, prep);
    }
    // An alert raised only by events that came in through API 2.
    await send({ org: 'DSK', sensor: 0, lines: [JSON.stringify({ timestamp: new Date(t0 + 200_000).toISOString(), event_type: 'flow', src_ip: '10.7.7.7', src_port: 40001, dest_ip: '192.0.2.99', dest_port: 443, proto: 'TCP' })] }, api2.url, prep);

    const same = (a: Snapshot, b: Snapshot) => JSON.stringify(a) === JSON.stringify(b);
    const withVia2 = (s: Snapshot): Snapshot => ({ ...s, DSK: s.DSK.filter((a) => !a.title.includes('Via the second API')) });
    let got: Snapshot | null = null;
    try {
      got = await until('the scale-out node to give the reference alerts', async () => {
        const s = await snapshot(api2.url, prep);
        // The alert of API 2's own event too: it is matched on its own partition, maybe after the rest.
        return same(withVia2(s), expected) && s.DSK.some((a) => a.title.includes('Via the second API')) ? s : null;
      }, 90_000, diag);
    } finally {
      if (got === null) {
        const s = await snapshot(api2.url, prep);
        for (const o of ORGS) expect(withVia2(s)[o], `${o} differs`).toEqual(expected[o]);
      }
    }
    // Settled: nothing is counted twice later (a redelivered chunk after the kill).
    await new Promise((r) => setTimeout(r, 3_000));
    expect(withVia2(await snapshot(api1.url, prep))).toEqual(expected);
    expect(got!.DSK.find((a) => a.title.includes('Via the second API'))?.count).toBe(1);
    expect((await snapshot(api1.url, prep)).DSK.find((a) => a.title.includes('Via the second API'))?.count).toBe(1);

    // 4. API 1's live stream showed the alert whose only event came in through API 2.
    await until('the alert of API 2 on the live stream of API 1', async () => (
      live.events.some((e) => e.type.startsWith('alert.') && String(e.data.title ?? '').includes('Via the second API')) ? true : null
    ), 10_000, () => JSON.stringify(live.events.map((e) => [e.type, e.data.title])));
    // ... and only what DSK may read: every alert event on it is DSK's.
    for (const e of live.events.filter((x) => x.type.startsWith('alert.'))) expect(e.data.orgId).toBe(prep.orgIds.DSK);

    // 5. An indicator added through API 1 reaches every worker within 2 s: an event sent through
    // API 2 two seconds after the indicator's commit is matched.
    const added = await fetch(`${api1.url}/api1/collections/${prep.collectionId}/objects/`, {
      method: 'POST', headers: { authorization: `Bearer ${prep.analysts.NOR}`, accept: 'application/taxii+json;version=2.1', 'content-type': 'application/taxii+json;version=2.1' },
      body: JSON.stringify({ objects: [{
        type: 'indicator', spec_version: '2.1', id: 'indicator--5c0f0000-0000-4000-8000-0000000000f1', created: '2026-01-02T00:00:00.000Z', modified: '2026-01-02T00:00:00.000Z',
        name: 'Added while running', pattern: "[ipv4-addr:value = '192.0.2.123']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
        object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
      }] }),
    });
    expect(added.status).toBe(202);
    await new Promise((r) => setTimeout(r, 2_000));
    for (const o of ORGS) {
      await send({ org: o, sensor: 0, lines: [JSON.stringify({ timestamp: new Date().toISOString(), event_type: 'flow', src_ip: '10.8.8.8', src_port: 40002, dest_ip: '192.0.2.123', dest_port: 443, proto: 'TCP' })] }, api2.url, prep);
    }
    await until('the new indicator to match on every organisation\'s partition', async () => {
      const s = await snapshot(api1.url, prep);
      return ORGS.every((o) => s[o].some((a) => a.title.includes('Added while running'))) ? true : null;
    }, 20_000, diag);

    // 6. The anomaly baselines learned each event exactly once, the killed worker's too: its
    // successor relearned, in its warm-up, what the victim had learned since its last save (the
    // victim saved when it started, before any telemetry). Per organisation, the domains,
    // executables and parent → child pairs known, and how many of each were observed, equal the
    // embedded node's. The workers save at stop. (Addresses are left out: steps 3 and 5 sent flows
    // the reference did not get.)
    for (const w of workers) await stop(w);
    const learned = async (storeEnv: Record<string, string>, ids: Record<OrgName, string>) => {
      const store = await openStore({ dataDir: storeEnv.SHIELDWALL_DATA_DIR!, databaseUrl: storeEnv.SHIELDWALL_DATABASE_URL });
      try {
        const saved = JSON.parse((await store.getMeta('detect.anomaly')) ?? 'null') as { orgs: { id: string; known: { kind: string; observations: number; previous: string[]; current: string[] }[] }[] } | null;
        const out = {} as Record<OrgName, Record<string, { observations: number; values: string[] }>>;
        for (const o of ORGS) {
          const org = saved?.orgs.find((x) => x.id === ids[o]);
          out[o] = Object.fromEntries((org?.known ?? []).filter((k) => k.kind !== 'ip').map((k) => [k.kind, { observations: k.observations, values: [...k.previous, ...k.current].sort() }]));
        }
        return out;
      } finally {
        await store.close();
      }
    };
    const refLearned = await learned({ SHIELDWALL_DATA_DIR: dataDir }, ref.orgIds);
    for (const o of ORGS) expect(refLearned[o].process?.observations, JSON.stringify(refLearned)).toBe(12); // whoami on 3 hosts in 4 rounds
    expect(await learned(env, prep.orgIds)).toEqual(refLearned);
  }, 300_000);
});
