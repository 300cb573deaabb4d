/**
 * Import rate: generated indicators through `IntelService.submit` in batches (what a TAXII
 * POST and a bundle import do: validate, normalise markings, force provenance, upsert in one
 * transaction per batch), beside the raw `store.putObjects` rate of the same rows (no
 * validation, no upsert rules), both on a fresh store of the same dialect.
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

/** Imports `objects` on a fresh store (SQLite file, or the PostgreSQL URL) and returns both rates. */
export async function benchImport(
  label: string,
  objects: readonly Record<string, unknown>[],
  opts: { batch: number; fresh: () => Promise<{ databaseUrl?: string; onDispose?: () => Promise<void> }> },
): Promise<ImportFigures> {
  const n = objects.length;

  // Baseline: putObjects of the same rows, preparation excluded from the timing.
  const rawEnv = await benchPlatform(await opts.fresh());
  let rawMs: number;
  let rawCpuS: number;
  try {
    const p = rawEnv.platform;
    const m = await addMember(p, 'RAW', 'Raw baseline CERT');
    const coll = await addCollection(p, 'raw baseline');
    const rows = batches(objects.map((o) => rawRow(o, { collectionId: coll, creatorOrg: m.orgId })), opts.batch);
    collectGarbage();
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    for (const b of rows) await p.store.putObjects(b, p.clock.now() * 1000);
    rawMs = nowMs() - t0;
    rawCpuS = cpuSeconds(c0);
    const stored = await p.store.countObjects(coll);
    if (stored !== n) throw new Error(`${label} raw: stored ${stored} of ${n}`);
  } finally {
    await rawEnv.dispose();
  }

  const env = await benchPlatform(await opts.fresh());
  let ms: number;
  let cpuS: number;
  let convergedS: number;
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
    ms = nowMs() - t0;
    cpuS = cpuSeconds(c0);
    if (rejected) throw new Error(`${label}: ${rejected} generated objects were rejected`);
    const stored = await p.store.countObjects(coll);
    if (stored !== n) throw new Error(`${label}: stored ${stored} of ${n}`);
    convergedS = await converged(p, 600_000) / 1000;
  } finally {
    await env.dispose();
  }

  const figures: ImportFigures = {
    objectsPerS: round(n / (ms / 1000)), rawObjectsPerS: round(n / (rawMs / 1000)),
    objectsPerCpuS: round(n / cpuS), rawObjectsPerCpuS: round(n / rawCpuS), convergedS: round(convergedS), batch: opts.batch, n,
  };
  log(`import ${label}: ${n} indicators in batches of ${opts.batch}: submit ${figures.objectsPerS} obj/s (${round(ms / 1000)} s wall, ${round(cpuS)} s CPU), `
    + `raw putObjects ${figures.rawObjectsPerS} obj/s (${round(rawMs / 1000)} s wall, ${round(rawCpuS)} s CPU), submit/raw = ${round(figures.objectsPerS / figures.rawObjectsPerS)}; `
    + `indexes caught up ${figures.convergedS} s after the last commit`);
  return figures;
}
