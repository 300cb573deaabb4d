/**
 * `npm run bench`: import rate on SQLite and PostgreSQL (IntelService.submit vs raw
 * store.putObjects), TAXII page latency (HTTP vs raw store read), and the detection libraries
 * (indicator matching vs a bare JSON.parse loop; the SigmaHQ corpus on Sysmon events), and
 * telemetry end to end through POST /api/v1/ingest vs the detection work alone, and scale-out
 * (1 and 3 workers on PostgreSQL + NATS JetStream, bench/scaleout.ts). Each benchmark prints a
 * readable line to stderr; the LAST stdout line is one JSON object of named figures.
 *
 * BENCH_SCALE (default 1) shrinks the sizes for a smoke run; BENCH_BATCH sets the import
 * batch size (default 1000, the size of a typical TAXII envelope or bundle import chunk);
 * BENCH_ONLY (comma-separated section names, e.g. `import,start`) runs only those sections.
 */
import os from 'node:os';
import { freshPostgresDb, pgAvailable } from '../test/helpers/pg.js';
import { feedTlp, generateIndicators } from './generate.js';
import { benchImport } from './import.js';
import { benchVersions } from './versions.js';
import { benchPages } from './pages.js';
import { log, round } from './stats.js';
import { benchIndicatorsIsolated, benchSigmaCorpus } from './detect.js';
import { benchBundleImport } from './bundle.js';
import { benchIngestIsolated } from './ingest.js';
import { benchScaleOut } from './scaleout.js';
import { benchStart } from './start.js';
import { benchExposure } from './exposure.js';
import { benchExercise } from './exercise.js';
import { benchFederation } from './federation.js';
import { benchFederationHop } from './federation-hop.js';

function positive(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

/** Sections in run order; BENCH_ONLY picks some of them. */
const SECTIONS = ['import', 'bundle', 'import-pg', 'versions', 'pages', 'indicators', 'sigma', 'ingest', 'start', 'scaleout', 'exposure', 'exercise', 'federation', 'hop'] as const;
type Section = (typeof SECTIONS)[number];

function selected(): (s: Section) => boolean {
  const raw = process.env.BENCH_ONLY;
  if (raw === undefined || raw.trim() === '') return () => true;
  const names = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  return (s) => names.includes(s);
}

async function main(): Promise<void> {
  const want = selected();
  const scale = positive('BENCH_SCALE', 1);
  const batch = Math.round(positive('BENCH_BATCH', 1000));
  const importN = Math.max(100, Math.round(100_000 * scale));
  const pageObjects = Math.max(3000, Math.round(200_000 * scale));
  const requests = Math.max(20, Math.round(200 * Math.min(1, scale * 10)));
  // The load average says how busy the machine was: figures from a shared, busy machine are lower bounds.
  const load = round(os.loadavg()[0] ?? 0);
  const figures: Record<string, number | string> = { scale, import_objects: importN, import_batch: batch, cpus: os.cpus().length, loadavg_1m_at_start: load };
  log(`shieldwall bench: scale ${scale}, node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} CPUs, load average ${load}`);

  let objects = want('import') || want('bundle') || want('import-pg') ? generateIndicators(importN, { seed: 7, tlpOf: feedTlp }) : [];

  if (want('import')) {
    const sqlite = await benchImport('sqlite', objects, { batch, fresh: async () => ({}), rounds: 3 });
    figures.import_sqlite_objects_per_s = sqlite.objectsPerS;
    figures.import_sqlite_raw_objects_per_s = sqlite.rawObjectsPerS;
    figures.import_sqlite_objects_per_cpu_s = sqlite.objectsPerCpuS;
    figures.import_sqlite_raw_objects_per_cpu_s = sqlite.rawObjectsPerCpuS;
    figures.import_sqlite_vs_raw_ratio = Math.round((sqlite.objectsPerS / sqlite.rawObjectsPerS) * 1000) / 1000;
    figures.import_sqlite_index_converged_s = sqlite.convergedS;
  }

  if (want('bundle')) Object.assign(figures, await benchBundleImport(objects));

  if (!want('import-pg')) {
    // not selected
  } else if (await pgAvailable()) {
    const pg = await benchImport('postgres', objects, {
      batch,
      fresh: async () => {
        const db = await freshPostgresDb();
        return { databaseUrl: db.url, onDispose: db.drop };
      },
    });
    figures.import_pg_objects_per_s = pg.objectsPerS;
    figures.import_pg_raw_objects_per_s = pg.rawObjectsPerS;
    figures.import_pg_vs_raw_ratio = Math.round((pg.objectsPerS / pg.rawObjectsPerS) * 1000) / 1000;
  } else {
    log('import postgres: skipped, PostgreSQL is not reachable (SHIELDWALL_TEST_PG)');
    figures.import_pg_skipped = 'postgres not reachable';
  }
  // The generated objects (~100k) are not needed after the import sections: the later sections'
  // servers (pages, start) run in this process and should not collect around them.
  objects = [];

  if (want('versions')) Object.assign(figures, await benchVersions({ versions: Math.max(2000, Math.round(50_000 * scale)), batch }));

  if (want('pages')) {
    // Small enough batches that even a smoke run cycles through every publishing profile twice.
    const pages = await benchPages({ objects: pageObjects, requests, seedBatch: Math.max(50, Math.min(2000, Math.floor(pageObjects / 40))) });
    Object.assign(figures, {
      page_collection_objects: pageObjects, page_requests: requests, page_visible_share: pages.visibleShare,
      taxii_page_median_ms: pages.taxiiMedianMs, taxii_page_p99_ms: pages.taxiiP99Ms,
      store_page_median_ms: pages.storeMedianMs, store_page_p99_ms: pages.storeP99Ms, taxii_vs_store_ratio: pages.ratio,
      taxii_page_cpu_median_ms: pages.taxiiCpuMedianMs, store_page_cpu_median_ms: pages.storeCpuMedianMs,
      page_seed_objects_per_s: pages.seedObjectsPerS,
    });
  }
  if (want('indicators')) Object.assign(figures, benchIndicatorsIsolated(Math.max(10_000, Math.round(1_000_000 * scale))));
  if (want('sigma')) Object.assign(figures, benchSigmaCorpus());
  // In a process of its own, like the indicator section (bench/isolate.ts).
  if (want('ingest')) Object.assign(figures, benchIngestIsolated({ events: Math.max(20_000, Math.round(200_000 * scale)), indicators: Math.max(1000, Math.round(100_000 * scale)) }));
  if (want('start')) Object.assign(figures, await benchStart({ objects: pageObjects }));
  // Scale-out on PostgreSQL + NATS (runnable alone: node dist/bench/scaleout.js).
  if (want('scaleout')) Object.assign(figures, await benchScaleOut({ events: Math.max(20_000, Math.round(200_000 * scale)), indicators: Math.max(1000, Math.round(20_000 * scale)) }));
  if (want('exposure')) Object.assign(figures, await benchExposure({ assets: Math.max(1000, Math.round(50_000 * scale)), cves: Math.max(2000, Math.round(100_000 * scale)) }));
  // Exercise scheduler: 20 teams × 200 injects at 600× (bench/exercise.ts).
  if (want('exercise')) Object.assign(figures, await benchExercise({ teams: 20, injects: Math.max(20, Math.round(200 * Math.min(1, scale))), speed: 600, exerciseSeconds: 3600 }));
  // Federation: hub + two spokes converge (bench/federation.ts, docs/federation.md).
  if (want('federation')) Object.assign(figures, await benchFederation({ objects: importN, batch }));
  // One hop's serve and receive against submit, and the ceiling they put on convergence (bench/federation-hop.ts).
  if (want('hop')) Object.assign(figures, await benchFederationHop({ objects: Math.max(2000, Math.round(25_000 * scale)), batch }));
  figures.loadavg_1m_at_end = round(os.loadavg()[0] ?? 0);

  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((e: unknown) => {
  log(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
