/**
 * Import rate: generated indicators through `IntelService.submit` in batches (what a TAXII
 * POST and a bundle import do: validate, normalise markings, force provenance, upsert in one
 * transaction per batch), beside the raw `store.putObjects` rate of the same rows (no
 * validation, no upsert rules), both on a fresh store of the same dialect. On SQLite, three
 * rounds of the two, the median round's figures (run.ts).
 */
import type { Platform } from '../src/api/index.js';
import { addCollection, addMember, benchPlatform, converged } from './platform.js';
import { rawRow } from './rows.js';
import { collectGarbage, log, nowMs, round } from './stats.js';

export interface ImportFigures {
  objectsPerS: number;
  rawObjectsPerS: number;
  /** Objects per second of this process's CPU time (user + system): the rate on an idle machine, in-process stores only. */
  objectsPerCpuS: number;
  rawObjectsPerCpuS: number;
  /** Seconds from the last commit of the import until the correlation index and the indicator feed had read all of it (they follow the store in the background). */
  convergedS: number;
  batch: number;
  n: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

function batches<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** One timed import on a fresh store: wall ms and CPU s; `convergedS` when asked to wait for the indexes. */
interface Timed { ms: number; cpuS: number; convergedS: number }

/** The raw baseline: putObjects of the same rows, preparation excluded from the timing. */
async function rawImport(label: string, objects: readonly Record<string, unknown>[], opts: ImportOptions): Promise<Timed> {
  const env = await benchPlatform(await opts.fresh());
  try {
    const p = env.platform;
    const m = await addMember(p, 'RAW', 'Raw baseline CERT');
    const coll = await addCollection(p, 'raw baseline');
    const rows = batches(objects.map((o) => rawRow(o, { collectionId: coll, creatorOrg: m.orgId })), opts.batch);
    collectGarbage();
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    for (const b of rows) await p.store.putObjects(b, p.clock.now() * 1000);
    const ms = nowMs() - t0;
    const cpuS = cpuSeconds(c0);
    const stored = await p.store.countObjects(coll);
    if (stored !== objects.length) throw new Error(`${label} raw: stored ${stored} of ${objects.length}`);
    return { ms, cpuS, convergedS: NaN };
  } finally {
    await env.dispose();
  }
}

/** The measured path: IntelService.submit in batches, then how long the indexes took to catch up. */
async function submitImport(label: string, objects: readonly Record<string, unknown>[], opts: ImportOptions): Promise<Timed> {
  const env = await benchPlatform(await opts.fresh());
  try {
    const p = env.platform;
    const m = await addMember(p, 'IMP', 'Importing CERT');
    const coll = await addCollection(p, 'import');
    const chunks = batches(objects, opts.batch);
    collectGarbage();
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    let rejected = 0;
    for (const b of chunks) {
      const res = await p.intel.submit(m.actor, coll, b);
      for (const r of res) if (r.status === 'rejected') rejected++;
    }
    const ms = nowMs() - t0;
    const cpuS = cpuSeconds(c0);
    if (rejected) throw new Error(`${label}: ${rejected} generated objects were rejected`);
    const stored = await p.store.countObjects(coll);
    if (stored !== objects.length) throw new Error(`${label}: stored ${stored} of ${objects.length}`);
    return { ms, cpuS, convergedS: await converged(p, 600_000) / 1000 };
  } finally {
    await env.dispose();
  }
}

interface ImportOptions {
  batch: number;
  fresh: () => Promise<{ databaseUrl?: string; onDispose?: () => Promise<void> }>;
  /**
   * Rounds of a raw import then a submit, each on a fresh store (default 1): the machine's speed
   * (and its disk's, for the commits) drifts within a run on a shared host, so each ratio
   * compares two imports taken seconds apart, and the figures are the median round's.
   */
  rounds?: number;
}

/** Imports `objects` on fresh stores (SQLite file, or the PostgreSQL URL) and returns both rates. */
export async function benchImport(label: string, objects: readonly Record<string, unknown>[], opts: ImportOptions): Promise<ImportFigures> {
  const n = objects.length;
  const rounds: { raw: Timed; sub: Timed; ratio: number }[] = [];
  for (let k = 0; k < (opts.rounds ?? 1); k++) {
    const raw = await rawImport(label, objects, opts);
    const sub = await submitImport(label, objects, opts);
    rounds.push({ raw, sub, ratio: raw.ms / sub.ms });
    if ((opts.rounds ?? 1) > 1) log(`import ${label}: round ${k + 1}: submit ${round(n / (sub.ms / 1000))} obj/s, raw ${round(n / (raw.ms / 1000))} obj/s, ratio ${round(raw.ms / sub.ms)}`);
  }
  const { raw, sub } = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
  const figures: ImportFigures = {
    objectsPerS: round(n / (sub.ms / 1000)), rawObjectsPerS: round(n / (raw.ms / 1000)),
    objectsPerCpuS: round(n / sub.cpuS), rawObjectsPerCpuS: round(n / raw.cpuS), convergedS: round(sub.convergedS), batch: opts.batch, n,
  };
  log(`import ${label}: ${n} indicators in batches of ${opts.batch}: submit ${figures.objectsPerS} obj/s (${round(sub.ms / 1000)} s wall, ${round(sub.cpuS)} s CPU), `
    + `raw putObjects ${figures.rawObjectsPerS} obj/s (${round(raw.ms / 1000)} s wall, ${round(raw.cpuS)} s CPU), submit/raw = ${round(figures.objectsPerS / figures.rawObjectsPerS)}`
    + `${rounds.length > 1 ? ` (median of ${rounds.map((r) => round(r.ratio)).join(', ')})` : ''}; indexes caught up ${figures.convergedS} s after the last commit`);
  return figures;
}
