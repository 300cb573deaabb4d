/**
 * Federation convergence (BENCH_ONLY=federation): a hub and two spokes, each a platform with
 * its own SQLite file and its HTTP server, in this process. Half the objects are created on
 * each spoke; the clock runs from the first pull until the hub and both spokes hold all of them
 * (hub pulls both spokes, each spoke pulls the hub: TAXII pages, envelopes, Ed25519 signing
 * and verification, loops skipped). The ratio compares that end-to-end rate with the raw import
 * rate of one node (IntelService.submit in batches) measured in the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, runSubscription, type SyncDeps } from '../src/federation/index.js';
import { generateIndicators } from './generate.js';
import { addMember, type Member } from './platform.js';
import { log, nowMs, round } from './stats.js';

interface FedNode { name: string; dir: string; p: Platform; server: RunningServer; collection: string; member: Member }

async function node(name: string): Promise<FedNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shieldwall-bench-fed-${name}-`));
  const p = await createPlatform(loadConfig({
    SHIELDWALL_DATA_DIR: dir, SHIELDWALL_NODE_NAME: name, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_PORT: '0', SHIELDWALL_HOST: '127.0.0.1', SHIELDWALL_MAX_PAGE_SIZE: '1000',
  }));
  const member = await addMember(p, name.toUpperCase(), `CERT ${name}`);
  const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: p.config.apiRoots[0]!.name, title: 'alliance', alias: 'alliance' });
  await p.access.grantCollection(SYSTEM_ACTOR, c.id, member.orgId, { canRead: true, canWrite: true });
  const server = await startServer(p, { logger: false });
  return { name, dir, p, server, collection: c.id, member };
}

async function link(from: FedNode, to: FedNode, served: FedNode[]): Promise<void> {
  // `from` registers `to`; `to` grants `from`'s identity and issues it a token.
  await to.p.federation.addPeer(SYSTEM_ACTOR, { name: from.name, url: from.server.url, publicKey: from.p.federation.keys().publicKey, orgs: [] }).catch(() => undefined);
  await to.p.access.grantCollection(SYSTEM_ACTOR, to.collection, nodeIdentityId(from.name), { canRead: true, canWrite: false });
  const token = (await to.p.access.createToken(SYSTEM_ACTOR, { orgId: nodeIdentityId(from.name), kind: 'peer', name: `node ${from.name}` })).token;
  const existing = await from.p.federation.getPeer(to.name);
  if (!existing) {
    await from.p.federation.addPeer(SYSTEM_ACTOR, {
      name: to.name, url: to.server.url, publicKey: to.p.federation.keys().publicKey, token,
      orgs: served.map((n) => ({ id: n.member.orgId, shortName: n.name.toUpperCase() })),
    });
  } else await from.p.federation.setToken(SYSTEM_ACTOR, to.name, token);
}

export async function benchFederation(opts: { objects: number; batch: number }): Promise<Record<string, number>> {
  const n = opts.objects;
  const half = Math.floor(n / 2);
  const green = () => 'green' as const;
  const objects = generateIndicators(n, { seed: 11, tlpOf: green });

  // The raw import rate of one node, same objects, same batch size.
  const solo = await node('solo');
  let importS: number;
  try {
    const t0 = nowMs();
    for (let i = 0; i < n; i += opts.batch) await solo.p.intel.submit(solo.member.actor, solo.collection, objects.slice(i, i + opts.batch));
    importS = (nowMs() - t0) / 1000;
  } finally {
    await solo.server.close();
    await solo.p.close();
    fs.rmSync(solo.dir, { recursive: true, force: true });
  }
  const importRate = n / importS;
  log(`federation: one node imports ${n} objects in ${round(importS)} s (${Math.round(importRate)}/s)`);

  const hub = await node('hub');
  const s1 = await node('s1');
  const s2 = await node('s2');
  try {
    // Peers: the hub knows both spokes; each spoke knows the hub (serving the other spoke's
    // organisation) and the other spoke by key.
    await link(hub, s1, [s1]);
    await link(hub, s2, [s2]);
    await link(s1, hub, [hub, s2]);
    await link(s2, hub, [hub, s1]);
    await s1.p.federation.addPeer(SYSTEM_ACTOR, { name: 's2', publicKey: s2.p.federation.keys().publicKey }).catch(() => undefined);
    await s2.p.federation.addPeer(SYSTEM_ACTOR, { name: 's1', publicKey: s1.p.federation.keys().publicKey }).catch(() => undefined);
    for (let i = 0; i < half; i += opts.batch) await s1.p.intel.submit(s1.member.actor, s1.collection, objects.slice(i, Math.min(half, i + opts.batch)));
    for (let i = half; i < n; i += opts.batch) await s2.p.intel.submit(s2.member.actor, s2.collection, objects.slice(i, Math.min(n, i + opts.batch)));
    const sub = async (at: FedNode, peer: FedNode) => at.p.federation.addSubscription(SYSTEM_ACTOR, { peer: peer.name, direction: 'pull', remoteCollection: 'alliance', localCollection: at.collection });
    const deps = (x: FedNode): SyncDeps => ({ store: x.p.store, clock: x.p.clock, registry: x.p.federation, intel: x.p.intel });
    const hubFrom1 = await sub(hub, s1);
    const hubFrom2 = await sub(hub, s2);
    const s1FromHub = await sub(s1, hub);
    const s2FromHub = await sub(s2, hub);
    const t0 = nowMs();
    // The hub pulls both spokes at once; then (continuously, in a real node) the spokes pull the hub.
    await Promise.all([runSubscription(deps(hub), hubFrom1, { pageSize: 1000 }), runSubscription(deps(hub), hubFrom2, { pageSize: 1000 })]);
    const r = await Promise.all([runSubscription(deps(s1), s1FromHub, { pageSize: 1000 }), runSubscription(deps(s2), s2FromHub, { pageSize: 1000 })]);
    const convergeS = (nowMs() - t0) / 1000;
    const counts = await Promise.all([hub, s1, s2].map((x) => x.p.store.countObjects(x.collection)));
    if (counts.some((c) => c !== n)) throw new Error(`federation did not converge: hub/s1/s2 hold ${counts.join('/')} of ${n}`);
    const rate = n / convergeS;
    log(`federation: ${n} objects (half on each spoke) converge on the hub and both spokes in ${round(convergeS)} s (${Math.round(rate)}/s; loops skipped ${r[0].looped + r[1].looped}); ratio to one node's import ${round(rate / importRate)}`);
    return {
      federation_objects: n, federation_converge_s: round(convergeS), federation_objects_per_s: Math.round(rate),
      federation_import_objects_per_s: Math.round(importRate), federation_vs_import_ratio: Math.round((rate / importRate) * 1000) / 1000,
    };
  } finally {
    for (const x of [hub, s1, s2]) {
      await x.server.close();
      await x.p.close();
      fs.rmSync(x.dir, { recursive: true, force: true });
    }
  }
}
