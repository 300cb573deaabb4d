/**
 * Many versions of one object (a sighting gets a version a minute for as long as it is seen; a
 * member may post a long history at once): the same number of versions of ONE indicator id and
 * of as many distinct indicators, each through `IntelService.submit` in batches on a fresh SQLite
 * store, then the time the indexes take to read them, and the cost of one more version of the
 * long-lived object against one more version of a fresh one. Work per version must not grow
 * with the versions an object already has: each ratio is ~1 when it does not (before
 * migration 0013 the index took O(V) per version: 64,000 versions took minutes).
 */
import type { Platform } from '../src/api/index.js';
import { addCollection, addMember, benchPlatform, converged, type Member } from './platform.js';
import { log, median, nowMs, round } from './stats.js';

const DAY0 = Date.UTC(2026, 2, 1);

function version(id: string, k: number): Record<string, unknown> {
  const created = new Date(DAY0).toISOString();
  return {
    type: 'indicator', spec_version: '2.1', id, created, modified: new Date(DAY0 + k * 60_000).toISOString(), name: `long-lived ${k}`,
    pattern: `[ipv4-addr:value = '10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}']`, pattern_type: 'stix', valid_from: created,
    object_marking_refs: ['marking-definition--bab4a63c-aeb9-45ad-9f7e-8e9d8b57e0c3'],
  };
}

const idOf = (k: number) => `indicator--${k.toString(16).padStart(8, '0')}-7e57-4000-8000-000000000001`;

/** Where the versions go: the node, the submitting member and the collection. */
interface Target { p: Platform; m: Member; coll: string }

async function submitAll(t: Target, objects: Record<string, unknown>[], batch: number): Promise<number> {
  const t0 = nowMs();
  for (let i = 0; i < objects.length; i += batch) {
    const res = await t.p.intel.submit(t.m.actor, t.coll, objects.slice(i, i + batch));
    const bad = res.find((r) => r.status !== 'added');
    if (bad) throw new Error(`versions bench: ${JSON.stringify(bad)}`);
  }
  return nowMs() - t0;
}

/** ms to submit one more version, median of `n`, to the object of `id` whose version count is `from` and grows. */
async function oneMore(t: Target, id: string, from: number, n: number): Promise<number> {
  const ms: number[] = [];
  for (let k = 0; k < n; k++) ms.push(await submitAll(t, [version(id, from + k)], 1));
  return median(ms);
}

export async function benchVersions(opts: { versions: number; batch: number }): Promise<Record<string, number>> {
  const env = await benchPlatform();
  try {
    const p = env.platform;
    const m = await addMember(p, 'VER', 'Versioning CERT');
    const coll = await addCollection(p, 'versions');
    const t: Target = { p, m, coll };
    const n = opts.versions;
    // Distinct objects first (the baseline), then the versions of one id, each followed by the indexes.
    const distinctMs = await submitAll(t, Array.from({ length: n }, (_, k) => version(idOf(k + 1), 0)), opts.batch);
    const distinctIndexS = (await converged(p, 600_000)) / 1000;
    const longId = idOf(0);
    const versionsMs = await submitAll(t, Array.from({ length: n }, (_, k) => version(longId, k)), opts.batch);
    const versionsIndexS = (await converged(p, 600_000)) / 1000;
    const longOneMs = await oneMore(t, longId, n, 21);
    const freshOneMs = await oneMore(t, idOf(n + 1), 1, 21);
    const figures = {
      versions_n: n,
      versions_submit_objects_per_s: round(n / (versionsMs / 1000)),
      versions_distinct_submit_objects_per_s: round(n / (distinctMs / 1000)),
      versions_vs_distinct_submit_ratio: round(distinctMs / versionsMs),
      versions_index_converged_s: round(versionsIndexS),
      versions_distinct_index_converged_s: round(distinctIndexS),
      versions_one_more_ms: round(longOneMs),
      versions_one_more_fresh_ms: round(freshOneMs),
    };
    log(`versions: ${n} versions of one indicator ${figures.versions_submit_objects_per_s} obj/s against ${n} distinct ${figures.versions_distinct_submit_objects_per_s} obj/s `
      + `(ratio ${figures.versions_vs_distinct_submit_ratio}); indexes caught up in ${figures.versions_index_converged_s} s against ${figures.versions_distinct_index_converged_s} s; `
      + `one more version of it ${figures.versions_one_more_ms} ms, of a fresh object ${figures.versions_one_more_fresh_ms} ms`);
    return figures;
  } finally {
    await env.dispose();
  }
}
