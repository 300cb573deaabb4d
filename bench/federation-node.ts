/**
 * One federation node of the federation bench (bench/federation.ts), in its own process:
 * a platform on its own SQLite file with its HTTP server, driven by the parent over IPC
 * (set-up calls, then its subscription scheduler runs as in `shieldwall serve`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { startServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeIdentityId, startScheduler } from '../src/federation/index.js';
import { generateIndicators } from './generate.js';
import { allianceNode } from './platform.js';

type Msg = { id: number; op: string; args?: Record<string, unknown> };

async function main(): Promise<void> {
  const name = process.argv[2]!;
  const node = await allianceNode(name);
  const { p, member } = node;
  const c = { id: node.collectionId };
  const server = await startServer(p, { logger: false });
  let scheduler: { stop: () => Promise<void> } | null = null;
  // BENCH_FED_PROF=<dir>: a CPU profile of this node over the convergence only (start → close).
  const profDir = process.env.BENCH_FED_PROF;
  const profiler = profDir ? new Session() : null;
  const ops: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
    info: async () => ({ url: server.url, publicKey: p.federation.keys().publicKey, orgId: member.orgId }),
    addPeer: async (a) => {
      if (await p.federation.getPeer(String(a.name))) {
        if (a.token) await p.federation.setToken(SYSTEM_ACTOR, String(a.name), String(a.token));
        return null;
      }
      await p.federation.addPeer(SYSTEM_ACTOR, a as unknown as Parameters<typeof p.federation.addPeer>[1]);
      return null;
    },
    /** Lets node `peer` read the collection and issues it a peer token. */
    grant: async (a) => {
      const identity = nodeIdentityId(String(a.peer));
      await p.access.grantCollection(SYSTEM_ACTOR, c.id, identity, { canRead: true, canWrite: false });
      return (await p.access.createToken(SYSTEM_ACTOR, { orgId: identity, kind: 'peer', name: `node ${String(a.peer)}` })).token;
    },
    /** Imports objects [from, to) of the seeded set, in batches; returns the seconds it took. */
    submit: async (a) => {
      const all = generateIndicators(Number(a.n), { seed: 11, tlpOf: () => 'green' });
      const t0 = performance.now();
      for (let i = Number(a.from); i < Number(a.to); i += Number(a.batch)) {
        await p.intel.submit(member.actor, c.id, all.slice(i, Math.min(Number(a.to), i + Number(a.batch))));
      }
      const s = (performance.now() - t0) / 1000;
      // The correlation index of what was just created catches up before the clock of the
      // convergence starts (the import rate above does not include it either).
      if (a.settle) {
        await p.correlations.sync();
        await p.correlations.idle();
      }
      return s;
    },
    cpu: async () => process.cpuUsage(),
    subscribe: async (a) => (await p.federation.addSubscription(SYSTEM_ACTOR, { peer: String(a.peer), direction: 'pull', remoteCollection: 'alliance', localCollection: c.id, intervalS: 1 })).id,
    start: async () => {
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      scheduler = startScheduler({ store: p.store, clock: p.clock, registry: p.federation, intel: p.intel }, { tickMs: 100, onError: (s, e) => process.stderr.write(`${name} ${s}: ${String(e)}\n`) });
      return null;
    },
    count: async () => p.store.countObjects(c.id),
    /** Whether the correlation index has read every stored version (it follows the store). */
    indexed: async () => (await p.correlations.status()).ready,
    close: async () => {
      if (profiler && scheduler) {
        const { profile } = await profiler.post('Profiler.stop');
        fs.writeFileSync(path.join(profDir!, `${name}.cpuprofile`), JSON.stringify(profile));
      }
      await scheduler?.stop();
      await server.close();
      await node.dispose();
      setImmediate(() => process.exit(0));
      return null;
    },
  };
  process.on('message', (m: Msg) => {
    const fn = ops[m.op];
    (fn ? fn(m.args ?? {}) : Promise.reject(new Error(`no op ${m.op}`))).then(
      (result) => process.send!({ id: m.id, result }),
      (e: unknown) => process.send!({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.send!({ id: 0, result: 'ready' });
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
