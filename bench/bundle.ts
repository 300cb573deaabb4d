/**
 * The product's bundle import path (`shieldwall import`, importBundleStream): the whole bundle
 * as one byte stream, split and validated, all of it committed in one transaction, on a fresh
 * SQLite file with the real settings.
 */
import { Readable } from 'node:stream';
import { importBundleStream } from '../src/intel/index.js';
import { addCollection, addMember, benchPlatform } from './platform.js';
import { collectGarbage, log, nowMs, round } from './stats.js';

export async function benchBundleImport(objects: readonly Record<string, unknown>[]): Promise<Record<string, number>> {
  const text = Buffer.from(JSON.stringify({ type: 'bundle', id: 'bundle--6b2c4c1e-1f7a-4d8c-9f3e-2a1b0c9d8e7f', objects }));
  const env = await benchPlatform({});
  try {
    const p = env.platform;
    const m = await addMember(p, 'BUNDLE', 'Bundle import CERT');
    const coll = await addCollection(p, 'bundle import');
    // 64 KiB pieces, as a file stream delivers them.
    const pieces = Array.from({ length: Math.ceil(text.length / 65536) }, (_, i) => text.subarray(i * 65536, (i + 1) * 65536));
    collectGarbage();
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    const r = await importBundleStream(p.intel, { actor: m.actor, collectionId: coll, readable: Readable.from(pieces) }, {});
    const ms = nowMs() - t0;
    const cpu = process.cpuUsage(c0);
    if (r.added !== objects.length) throw new Error(`bundle import: added ${r.added} of ${objects.length}`);
    const perS = Math.round(objects.length / (ms / 1000));
    const perCpuS = Math.round(objects.length / ((cpu.user + cpu.system) / 1e6));
    log(`import sqlite bundle: ${objects.length} indicators (${round(text.length / 1e6)} MB) in one transaction: ${perS} obj/s (${round(ms / 1000)} s wall), ${perCpuS} obj per CPU-s`);
    return { import_sqlite_bundle_objects_per_s: perS, import_sqlite_bundle_objects_per_cpu_s: perCpuS, import_sqlite_bundle_mb: round(text.length / 1e6) };
  } finally {
    await env.dispose();
  }
}
