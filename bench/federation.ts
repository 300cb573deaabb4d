/**
 * Federation convergence (BENCH_ONLY=federation): a hub and two spokes, each in its own
 * process (bench/federation-node.ts: platform, SQLite file, HTTP server, the subscription
 * scheduler of `shieldwall serve`). Half the objects are created on each spoke before the
 * clock starts; the clock runs from the moment the subscriptions start (the hub pulls both
 * spokes, each spoke pulls the hub, every 1 s once caught up) until the hub and both spokes
 * hold all of them: TAXII pages over HTTP, provenance envelopes, batch signatures signed and
 * verified, each page stored through the import path. The ratio compares that end-to-end rate
 * with the raw import rate of one node (IntelService.submit in batches, also in its own
 * process) measured in the same run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { log, nowMs, round } from './stats.js';

interface NodeProc {
  name: string;
  child: ChildProcess;
  call: (op: string, args?: Record<string, unknown>) => Promise<unknown>;
  info: { url: string; publicKey: string; orgId: string };
}

async function spawnNode(name: string): Promise<NodeProc> {
  const child = fork(fileURLToPath(new URL('./federation-node.js', import.meta.url)), [name], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
    child.once('exit', (code) => reject(new Error(`bench node ${name} exited (${code})`)));
  });
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
    else w?.resolve(m.result);
  });
  const call = (op: string, args: Record<string, unknown> = {}) => new Promise<unknown>((resolve, reject) => {
    const id = ++seq;
    waiting.set(id, { resolve, reject });
    child.send({ id, op, args });
  });
  await ready;
  return { name, child, call, info: await call('info') as NodeProc['info'] };
}

/** `from` pulls from `to`: `to` registers `from` and issues it a token; `from` registers `to` with the organisations it serves. */
async function link(from: NodeProc, to: NodeProc, served: NodeProc[]): Promise<void> {
  await to.call('addPeer', { name: from.name, url: from.info.url, publicKey: from.info.publicKey, orgs: [] });
  const token = await to.call('grant', { peer: from.name });
  await from.call('addPeer', { name: to.name, url: to.info.url, publicKey: to.info.publicKey, token, orgs: served.map((n) => ({ id: n.info.orgId, shortName: n.name.toUpperCase() })) });
}

export async function benchFederation(opts: { objects: number; batch: number }): Promise<Record<string, number>> {
  const n = opts.objects;
  const half = Math.floor(n / 2);

  // The raw import rate of one node, same objects, same batch size, in its own process.
  const solo = await spawnNode('solo');
  let importS: number;
  try {
    importS = await solo.call('submit', { n, from: 0, to: n, batch: opts.batch }) as number;
  } finally {
    await solo.call('close').catch(() => undefined);
  }
  const importRate = n / importS;
  log(`federation: one node imports ${n} objects in ${round(importS)} s (${Math.round(importRate)}/s)`);

  const [hub, s1, s2] = await Promise.all([spawnNode('hub'), spawnNode('s1'), spawnNode('s2')]);
  try {
    // Peers: the hub knows both spokes; each spoke knows the hub (serving the other spoke's
    // organisation) and the other spoke by key (the origin of what the hub relays).
    await link(hub, s1, [s1]);
    await link(hub, s2, [s2]);
    await link(s1, hub, [hub, s2]);
    await link(s2, hub, [hub, s1]);
    await s1.call('addPeer', { name: 's2', publicKey: s2.info.publicKey });
    await s2.call('addPeer', { name: 's1', publicKey: s1.info.publicKey });
    await Promise.all([
      s1.call('submit', { n, from: 0, to: half, batch: opts.batch, settle: true }),
      s2.call('submit', { n, from: half, to: n, batch: opts.batch, settle: true }),
    ]);
    await hub.call('subscribe', { peer: 's1' });
    await hub.call('subscribe', { peer: 's2' });
    await s1.call('subscribe', { peer: 'hub' });
    await s2.call('subscribe', { peer: 'hub' });
    type Cpu = { user: number; system: number };
    const cpu0 = await Promise.all([hub, s1, s2].map((x) => x.call('cpu') as Promise<Cpu>));
    const t0 = nowMs();
    await Promise.all([hub, s1, s2].map((x) => x.call('start')));
    let counts: number[] = [];
    const deadline = t0 + 3600_000;
    for (;;) {
      counts = await Promise.all([hub, s1, s2].map((x) => x.call('count') as Promise<number>));
      if (counts.every((c) => c === n)) break;
      if (nowMs() > deadline) throw new Error(`federation did not converge in an hour: hub/s1/s2 hold ${counts.join('/')} of ${n}`);
      // Counting costs each node a few ms of CPU at 100,000 objects: seldom while far from the
      // end, often near it (the convergence time is read to within 50 ms).
      const left = 3 * n - counts.reduce((a, c) => a + c, 0);
      await new Promise((r) => setTimeout(r, left > 0.05 * 3 * n ? 500 : 50));
    }
    const convergeS = (nowMs() - t0) / 1000;
    const cpu1 = await Promise.all([hub, s1, s2].map((x) => x.call('cpu') as Promise<Cpu>));
    const cpuS = cpu1.map((c, i) => round((c.user + c.system - cpu0[i]!.user - cpu0[i]!.system) / 1e6));
    log(`federation: CPU seconds while converging: hub ${cpuS[0]}, s1 ${cpuS[1]}, s2 ${cpuS[2]}`);
    // The correlation index of each node follows its store and, while pages keep coming, reads
    // one slice every 500 ms (docs/correlation.md): how long after the clock started every node's
    // index had read everything too.
    for (;;) {
      const ready = await Promise.all([hub, s1, s2].map((x) => x.call('indexed') as Promise<boolean>));
      if (ready.every(Boolean)) break;
      if (nowMs() > deadline) throw new Error('federation: the correlation indexes did not catch up in an hour');
      await new Promise((r) => setTimeout(r, 100));
    }
    const indexedS = (nowMs() - t0) / 1000;
    log(`federation: every node's correlation index had read everything ${round(indexedS)} s after the start`);
    const rate = n / convergeS;
    log(`federation: ${n} objects (half on each spoke) converge on the hub and both spokes in ${round(convergeS)} s (${Math.round(rate)}/s); ratio to one node's import ${round(rate / importRate)}`);
    return {
      federation_objects: n, federation_converge_s: round(convergeS), federation_objects_per_s: Math.round(rate),
      federation_import_objects_per_s: Math.round(importRate), federation_vs_import_ratio: Math.round((rate / importRate) * 1000) / 1000,
      federation_indexes_ready_s: round(indexedS),
    };
  } finally {
    await Promise.all([hub, s1, s2].map((x) => x.call('close').catch(() => undefined)));
  }
}
