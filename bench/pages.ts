/**
 * TAXII `GET objects` pages of 1,000 from a large collection, through the real HTTP server
 * (startServer + fetch, Bearer token), beside the raw `store.queryObjects` read of the same
 * page in the same run. The reading organisation sees a realistic mix: its own objects,
 * CLEAR/GREEN from others, AMBER addressed to it or a sharing group it belongs to, and
 * AMBER/RED/unmarked objects it must not see (filtered inside the query).
 * The collection is seeded with store.putObjects (the import benchmark covers the upsert path).
 */
import type { Tlp } from '../src/core/policy.js';
import { formatMicros } from '../src/core/time.js';
import { startServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { ObjectPage } from '../src/store/index.js';
import { generateIndicators, prng } from './generate.js';
import { addCollection, addMember, benchPlatform, converged, type Member } from './platform.js';
import { rawRow } from './rows.js';
import { collectGarbage, log, median, nowMs, quantile, round } from './stats.js';

export interface PageFigures {
  taxiiMedianMs: number;
  taxiiP99Ms: number;
  storeMedianMs: number;
  storeP99Ms: number;
  /** Median CPU time of this process per page (server and client share it): the latency on an idle core. */
  taxiiCpuMedianMs: number;
  storeCpuMedianMs: number;
  ratio: number;
  visibleShare: number;
  seedObjectsPerS: number;
}

const TAXII = 'application/taxii+json;version=2.1';

/** A result with its wall-clock and CPU time (this process: the server runs in it too). */
interface Timed<T> { v: T; ms: number; cpuMs: number }
const PAGE = 1000;

interface Profile { by: 'A' | 'B' | 'C' | 'D'; tlp: Tlp | null; to: ('A' | 'B' | 'C' | 'D' | 'G')[]; weight: number }

/** Who published what, and to whom; A is the reading organisation. Weights sum to 20. */
const PROFILES: readonly Profile[] = [
  { by: 'A', tlp: 'green', to: [], weight: 1 },
  { by: 'B', tlp: 'clear', to: [], weight: 4 },
  { by: 'C', tlp: 'green', to: [], weight: 7 },
  { by: 'B', tlp: 'amber', to: ['A'], weight: 2 },
  { by: 'C', tlp: 'amber', to: ['G'], weight: 1 },
  { by: 'C', tlp: 'amber', to: ['D'], weight: 2 },
  { by: 'D', tlp: 'amber+strict', to: ['A'], weight: 1 },
  { by: 'D', tlp: 'red', to: ['C'], weight: 1 },
  { by: 'B', tlp: null, to: [], weight: 1 },
];

export async function benchPages(opts: { objects: number; requests: number; seedBatch: number }): Promise<PageFigures> {
  const env = await benchPlatform();
  const p = env.platform;
  try {
    const orgs: Record<string, Member> = {
      A: await addMember(p, 'A', 'Reader CERT'), B: await addMember(p, 'B', 'Partner CERT B'),
      C: await addMember(p, 'C', 'Partner CERT C'), D: await addMember(p, 'D', 'Partner CERT D'),
    };
    const group = await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: orgs.C!.orgId, name: 'Northern working group', members: [orgs.A!.orgId, orgs.B!.orgId] });
    const ids: Record<string, string> = { A: orgs.A!.orgId, B: orgs.B!.orgId, C: orgs.C!.orgId, D: orgs.D!.orgId, G: group.id };
    const coll = await addCollection(p, 'alliance feed');

    // Seed straight into the store (the import benchmark measures the upsert path; here only
    // the reads count), interleaving publishing profiles batch by batch.
    const wheel = PROFILES.flatMap((pr) => new Array<Profile>(pr.weight).fill(pr));
    const dates: number[] = [];
    let visible = 0;
    const t0 = nowMs();
    for (let done = 0, b = 0; done < opts.objects; done += opts.seedBatch, b++) {
      const pr = wheel[b % wheel.length]!;
      const n = Math.min(opts.seedBatch, opts.objects - done);
      const objs = generateIndicators(n, { seed: 1000 + b, tlpOf: () => pr.tlp });
      const rows = objs.map((o) => rawRow(o, { collectionId: coll, creatorOrg: ids[pr.by]!, recipients: pr.to.map((k) => ids[k]!) }));
      const res = await p.store.putObjects(rows, p.clock.now() * 1000);
      const seesIt = pr.by === 'A' || pr.tlp === 'clear' || pr.tlp === 'green' || pr.to.includes('A') || (pr.tlp === 'amber' && pr.to.includes('G'));
      for (const r of res) {
        if (r.status !== 'added') throw new Error(`seed: ${JSON.stringify(r)}`);
        if (seesIt) {
          visible++;
          dates.push(r.dateAdded);
        }
      }
    }
    const seedMs = nowMs() - t0;
    log(`pages: seeded ${opts.objects} objects in ${round(seedMs / 1000)} s (${round(opts.objects / (seedMs / 1000))} obj/s); reader sees ${visible} (${round((100 * visible) / opts.objects)} %)`);

    const server = await startServer(p, { logger: false });
    // Steady state: the indexes that follow the store (correlation, the indicator feed) read the
    // seeded objects in the background first; pages are timed once they have caught up.
    const tIdx = nowMs();
    await converged(p, 900_000);
    log(`pages: indexes caught up with the seeded store in ${round((nowMs() - tIdx) / 1000)} s`);
    const reader = orgs.A!;
    const principal = await p.access.authenticateToken(reader.token, '127.0.0.1');
    const audience = p.access.audienceOf(principal);
    const base = `${server.url}/${p.config.apiRoots[0]!.name}/collections/${coll}/objects/`;
    const headers = { Accept: TAXII, Authorization: `Bearer ${reader.token}` };
    const rand = prng(42);
    // Offsets among the objects the reader sees, leaving room for a full page after each.
    const maxStart = Math.max(1, dates.length - PAGE - 1);
    const taxiiMs: number[] = [];
    const storeMs: number[] = [];
    const taxiiCpu: number[] = [];
    const storeCpu: number[] = [];
    const timed = async <T>(fn: () => Promise<T>): Promise<Timed<T>> => {
      const c0 = process.cpuUsage();
      const s = nowMs();
      const v = await fn();
      const ms = nowMs() - s;
      const c = process.cpuUsage(c0);
      return { v, ms, cpuMs: (c.user + c.system) / 1000 };
    };
    try {
      collectGarbage();
      const warmup = Math.min(20, Math.ceil(opts.requests / 10));
      for (let i = 0; i < warmup + opts.requests; i++) {
        const after = dates[Math.floor(rand() * maxStart)]!;
        const query = () => p.store.queryObjects({
          collectionIds: [coll], audience, purpose: 'read', addedAfter: after, version: { kind: 'last' }, limit: PAGE,
        });
        const http = async () => {
          const res = await fetch(`${base}?added_after=${encodeURIComponent(formatMicros(after))}&limit=${PAGE}`, { headers });
          const text = await res.text();
          if (res.status !== 200) throw new Error(`GET objects: ${res.status} ${text.slice(0, 300)}`);
          return text;
        };
        // Alternate which read goes first so neither always gets the warmer cache.
        let h: Timed<string>;
        let st: Timed<ObjectPage>;
        if (i % 2 === 0) {
          h = await timed(http);
          st = await timed(query);
        } else {
          st = await timed(query);
          h = await timed(http);
        }
        const got = (JSON.parse(h.v) as { objects?: unknown[] }).objects?.length ?? 0;
        if (got !== st.v.rows.length) throw new Error(`TAXII page has ${got} objects, the store read ${st.v.rows.length}`);
        if (got === 0) throw new Error('empty page');
        if (i >= warmup) {
          taxiiMs.push(h.ms);
          storeMs.push(st.ms);
          taxiiCpu.push(h.cpuMs);
          storeCpu.push(st.cpuMs);
        }
      }
    } finally {
      await server.close();
    }
    const f: PageFigures = {
      taxiiMedianMs: round(median(taxiiMs)), taxiiP99Ms: round(quantile(taxiiMs, 0.99)),
      storeMedianMs: round(median(storeMs)), storeP99Ms: round(quantile(storeMs, 0.99)),
      taxiiCpuMedianMs: round(median(taxiiCpu)), storeCpuMedianMs: round(median(storeCpu)),
      ratio: round(median(taxiiMs) / median(storeMs)), visibleShare: round(visible / opts.objects),
      seedObjectsPerS: round(opts.objects / (seedMs / 1000)),
    };
    log(`pages: ${opts.requests} TAXII GET objects (limit ${PAGE}) at random added_after: median ${f.taxiiMedianMs} ms, p99 ${f.taxiiP99Ms} ms; `
      + `store.queryObjects median ${f.storeMedianMs} ms, p99 ${f.storeP99Ms} ms; TAXII/store = ${f.ratio}; `
      + `CPU per page: TAXII ${f.taxiiCpuMedianMs} ms, store ${f.storeCpuMedianMs} ms (median)`);
    return f;
  } finally {
    await env.dispose();
  }
}
