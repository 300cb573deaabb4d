/**
 * One federation hop, piece by piece (BENCH_ONLY=hop), in one process with nothing else running:
 * what a node spends per object version to serve a page to a peer (the origin signs its batch)
 * and to receive it (`receive`: parse, limits, signature, the import path, the signed provenance
 * stored with each row), against `IntelService.submit` of the same objects on a fresh node: the
 * import that `federation_vs_import_ratio` compares convergence with (bench/federation.ts).
 *
 * With those per-object costs the convergence bench has a ceiling that no scheduling can pass:
 * every object is served and received twice (origin → hub → the other spoke), so two fully
 * used cores move one object per (serve + receive) of CPU, the correlation index of each
 * receiving node not counted. `federation_hop_ceiling_ratio` = submit ÷ (serve + receive).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, receive } from '../src/federation/index.js';
import { envelopeKey, envelopeOf, type Envelope } from '../src/federation/envelope.js';
import { P_BATCH } from '../src/federation/batches.js';
import { ENVELOPES_HEADER } from '../src/taxii/index.js';
import { generateIndicators } from './generate.js';
import { allianceNode, type AllianceNode } from './platform.js';
import { collectGarbage, log, nowMs, round } from './stats.js';

/** Settles a node's background indexes so that they do not run inside the next timed phase. */
async function settle(n: AllianceNode): Promise<void> {
  await n.p.correlations.sync();
  await n.p.correlations.idle();
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

export async function benchFederationHop(opts: { objects: number; batch: number; rounds?: number }): Promise<Record<string, number>> {
  const n = opts.objects;
  const all = generateIndicators(n, { seed: 11, tlpOf: () => 'green' });
  const rows: { serve: number; receive: number; submit: number; receiveCpu: number; submitCpu: number; stored: number; whole: number }[] = [];
  for (let round_ = 0; round_ < (opts.rounds ?? 3); round_++) {
    const [origin, receiver, solo] = await Promise.all([allianceNode('o'), allianceNode('r'), allianceNode('s')]);
    try {
      for (let i = 0; i < n; i += opts.batch) await origin.p.intel.submit(origin.member.actor, origin.collectionId, all.slice(i, i + opts.batch));
      await settle(origin);
      const server = await startServer(origin.p, { logger: false });
      let bodies: string[] = [];
      let serveMs = 0;
      try {
        await origin.p.federation.addPeer(SYSTEM_ACTOR, { name: 'r', publicKey: receiver.p.federation.keys().publicKey, orgs: [] });
        const identity = nodeIdentityId('r');
        await origin.p.access.grantCollection(SYSTEM_ACTOR, origin.collectionId, identity, { canRead: true, canWrite: false });
        const token = (await origin.p.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: 'node r' })).token;
        await receiver.p.federation.addPeer(SYSTEM_ACTOR, { name: 'o', url: server.url, publicKey: origin.p.federation.keys().publicKey, token, orgs: [{ id: origin.member.orgId, shortName: 'O' }] });
        // Every page with its envelopes, as a pull asks for them; the second walk is timed (the
        // first one runs the serving code for the first time). The origin signs a batch per page
        // each time it serves one.
        for (let walk = 0; walk < 2; walk++) {
          bodies = [];
          let next: string | undefined;
          collectGarbage();
          const t0 = nowMs();
          for (;;) {
            const q = new URLSearchParams({ limit: String(opts.batch), 'match[version]': 'all', ...(next ? { next } : {}) });
            const res = await fetch(`${server.url}/${origin.p.config.apiRoots[0]!.name}/collections/${origin.collectionId}/objects/?${q.toString()}`, {
              headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1', [ENVELOPES_HEADER]: '1' },
            });
            const text = await res.text();
            if (res.status !== 200) throw new Error(`hop: the origin answered ${res.status}: ${text.slice(0, 300)}`);
            bodies.push(text);
            const page = JSON.parse(text) as { more?: boolean; next?: string };
            if (!page.more) break;
            next = page.next;
          }
          serveMs = nowMs() - t0;
        }
      } finally {
        await server.close();
      }

      // Receive: the pages one transaction each, as a pull stores them (runPull).
      const peer = await receiver.p.federation.peer('o');
      const deps = { store: receiver.p.store, clock: receiver.p.clock, registry: receiver.p.federation, intel: receiver.p.intel };
      collectGarbage();
      let c0 = process.cpuUsage();
      let t0 = nowMs();
      for (const text of bodies) {
        const page = JSON.parse(text) as { objects: Record<string, unknown>[]; x_shieldwall_envelopes?: Envelope[] };
        const envelopes = new Map<string, Envelope>();
        for (const e of page.x_shieldwall_envelopes ?? []) envelopes.set(envelopeKey(e), e);
        const items = page.objects.map((x) => ({ object: x, envelope: envelopeOf(envelopes, String(x.id), x) ?? null }));
        const r = await receiver.p.store.transaction((tx) => receive(tx, { deps, peer, collectionId: receiver.collectionId, items, subscription: null }));
        if (r.added !== items.length) throw new Error(`hop: ${r.rejected} of ${items.length} received objects refused`);
      }
      const receiveMs = nowMs() - t0;
      const receiveCpu = cpuMs(process.cpuUsage(c0));
      const provenance = provenanceBytes(receiver, bodies);

      // The same objects through submit on a fresh node (the one-node import).
      const objects = bodies.flatMap((b) => (JSON.parse(b) as { objects: Record<string, unknown>[] }).objects);
      await settle(receiver);
      collectGarbage();
      c0 = process.cpuUsage();
      t0 = nowMs();
      for (let i = 0; i < objects.length; i += opts.batch) await solo.p.intel.submit(solo.member.actor, solo.collectionId, objects.slice(i, i + opts.batch));
      const submitMs = nowMs() - t0;
      const submitCpu = cpuMs(process.cpuUsage(c0));
      rows.push({ serve: serveMs, receive: receiveMs, submit: submitMs, receiveCpu, submitCpu, ...provenance });
      log(`federation hop: round ${round_ + 1}: serve ${round((serveMs * 1000) / n, 1)} µs, receive ${round((receiveMs * 1000) / n, 1)} µs, submit ${round((submitMs * 1000) / n, 1)} µs an object (receive/submit ${round(receiveMs / submitMs, 2)})`);
    } finally {
      await Promise.all([origin, receiver, solo].map((x) => x.dispose()));
    }
  }
  // The median round by the receive/submit ratio (its serve alongside).
  const byRatio = [...rows].sort((a, b) => a.receive / a.submit - b.receive / b.submit);
  const m = byRatio[Math.floor(byRatio.length / 2)]!;
  const us = (ms: number) => round((ms * 1000) / n, 1);
  const ceiling = m.submit / (m.serve + m.receive);
  log(`federation hop: ${n} objects: serve ${us(m.serve)} µs, receive ${us(m.receive)} µs (${us(m.receiveCpu)} µs CPU), submit ${us(m.submit)} µs (${us(m.submitCpu)} µs CPU) an object; receive/submit ${round(m.receive / m.submit, 2)} (median of ${rows.map((r) => round(r.receive / r.submit, 2)).join(', ')}); two hops on two cores: convergence at most ${round(ceiling)} of the import rate, correlation indexing not counted`);
  log(`federation hop: the receiver keeps ${round(m.stored / n, 0)} bytes of signed provenance an object (its rows and its batches' nodes); each version's proof kept whole in its row: ${round(m.whole / n, 0)}`);
  return {
    federation_hop_objects: n,
    federation_hop_provenance_bytes_per_object: round(m.stored / n, 0),
    federation_hop_whole_provenance_bytes_per_object: round(m.whole / n, 0),
    federation_hop_serve_us_per_object: us(m.serve),
    federation_hop_receive_us_per_object: us(m.receive),
    federation_hop_submit_us_per_object: us(m.submit),
    federation_hop_receive_vs_submit_ratio: round(m.receive / m.submit),
    federation_hop_ceiling_ratio: round(ceiling),
  };
}

/**
 * Bytes of signed provenance the receiver keeps (its rows' column and its batches' nodes, read
 * from its SQLite file) and what the rows would hold with each version's proof whole in its row.
 */
function provenanceBytes(receiver: AllianceNode, bodies: readonly string[]): { stored: number; whole: number } {
  const db = new Database(path.join(receiver.dataDir, 'shieldwall.db'), { readonly: true });
  try {
    const rows = db.prepare('select coalesce(sum(length(provenance)), 0) as n from objects').get() as { n: number };
    const batches = db.prepare(`select coalesce(sum(length(value)), 0) as n from meta where key like '${P_BATCH}%'`).get() as { n: number };
    let whole = 0;
    for (const text of bodies) {
      for (const e of (JSON.parse(text) as { x_shieldwall_envelopes?: Envelope[] }).x_shieldwall_envelopes ?? []) {
        whole += JSON.stringify({ origin: e.origin, path: e.path, creator: e.creator, recipients: e.recipients, signature: e.signature, ...(e.batch ? { batch: e.batch } : {}) }).length;
      }
    }
    return { stored: rows.n + batches.n, whole };
  } finally {
    db.close();
  }
}
