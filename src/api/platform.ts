/**
 * The platform: every service of one node, wired once from the frozen configuration.
 * The HTTP server, the CLI and the tests all start from here.
 */
import { configEnv, type Config } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { IndexStatus } from '../core/follow.js';
import { AccessService } from '../access/index.js';
import { Correlations, IntelService, Warninglists } from '../intel/index.js';
import { openStore, type Store } from '../store/index.js';
import { TaxiiService } from '../taxii/index.js';
import { EventBus } from '../core/bus.js';
import { createRespond, type AuthedActor, type RecordRemote, type Respond } from '../respond/index.js';
import { SigmaRules } from '../detect/rules.js';
import { AlertService, DEFAULT_DETECT_OPTIONS, DetectService, type DetectMode } from '../detect/pipeline/index.js';
import { electLeader, SOLE_LEADER, type Leader } from '../scale/leader.js';
import type { ScaleApi } from '../scale/index.js';
import { workerEntry } from '../detect/worker/index.js';
import { RecordRepo } from '../respond/index.js';
import { envelopesOfRows, FederationRegistry, pushReceiver, recordRemote } from '../federation/index.js';
import { ExerciseService } from '../exercise/index.js';
import { createReadiness, type Readiness } from '../readiness/index.js';
import { createExposure, type ExposureModule } from '../readiness/exposure/index.js';

export interface Platform {
  readonly config: Readonly<Config>;
  readonly clock: Clock;
  readonly store: Store;
  readonly access: AccessService;
  readonly intel: IntelService;
  readonly taxii: TaxiiService;
  /** Live events (SSE), filtered per subscriber by the release policy. */
  readonly bus: EventBus;
  readonly respond: Respond;
  readonly readiness: Readiness;
  /** Sigma rules (directory + API), one engine snapshot for detection. */
  readonly sigma: SigmaRules;
  /** Correlation of observable values across objects (release-aware), and warninglists of known-benign values. */
  readonly correlations: Correlations;
  readonly warninglists: Warninglists;
  /** Telemetry ingestion; detection runs in a supervised worker process started by `detect.start()` (docs/pipeline.md). */
  readonly detect: DetectService;
  readonly alerts: AlertService;
  /** Whether this process runs the node's background jobs (several `serve` processes on one PostgreSQL elect one). */
  readonly leader: Leader;
  /** Scale-out mode (SHIELDWALL_NATS_URL): the telemetry stream, the live-stream bridge and the presence of every process; null embedded. */
  readonly scale: ScaleApi | null;
  /**
   * How far each index that follows the store (correlation, the indicator feed) is behind it:
   * they are built in the background, after the node listens (GET /api/v1/system).
   */
  indexes(): Promise<IndexStatus[]>;
  close(): Promise<void>;
  /** Peers, subscriptions and provenance of federation (docs/federation.md). */
  readonly federation: FederationRegistry;
  /** Exercises: scenarios, runs, the inject scheduler (started by the server), scoring (docs/exercises.md). */
  readonly exercise: ExerciseService;
  /** Readiness: inventories, vulnerability intelligence, exposures, CSAF advisories (docs/readiness-exposure.md). */
  readonly exposure: ExposureModule;
}

export interface PlatformOptions {
  clock?: Clock;
  /** A store opened by the caller (e.g. in memory): detection then runs in this process, as no worker could open it. */
  store?: Store;
  /** Where detection runs; by default a supervised worker process, or in-process when a store is handed in. */
  detection?: DetectMode['kind'];
}

export async function createPlatform(config: Readonly<Config>, opts: PlatformOptions = {}): Promise<Platform> {
  // What the start opens, in order; a failed start closes it again (a store, a NATS connection,
  // a lock or a worker left open would keep the process alive after it reported the failure),
  // and so does the platform's close(): one list, closed last first.
  const opened: (() => unknown)[] = [];
  try {
    return await openPlatform(config, opts, opened);
  } catch (e) {
    await closeAll(opened).catch(() => undefined); // the start's own error is the one to report
    throw e;
  }
}

/** Runs each closer, last first, every one even after a failure; rethrows the first failure. */
async function closeAll(opened: (() => unknown)[]): Promise<void> {
  let first: { e: unknown } | null = null;
  for (const undo of opened.splice(0).reverse()) {
    try {
      await undo();
    } catch (e) {
      first ??= { e };
    }
  }
  if (first) throw first.e;
}

async function openPlatform(config: Readonly<Config>, opts: PlatformOptions, opened: (() => unknown)[]): Promise<Platform> {
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? (await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }));
  if (!opts.store) opened.push(() => store.close());
  const access = new AccessService(store, clock, { authFailureLimit: config.authFailureLimit, authFailureWindowMs: config.authFailureWindowMs });
  const intel = new IntelService(store, clock);
  const taxii = await TaxiiService.create({ store, access, intel, clock }, {
    title: `Shieldwall TAXII 2.1 server (${config.nodeName})`,
    description: 'Threat intelligence of the alliance, released under TLP 2.0 and per-organisation recipients.',
    apiRoots: config.apiRoots, maxContentLength: config.maxContentLength, maxPageSize: config.maxPageSize, scanRows: config.searchScanRows,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  });
  const bus = new EventBus();
  // Respond records made in an exercise pass its gate (participants only; writes while it runs).
  const exerciseGate = (a: AuthedActor, id: string, mode: 'read' | 'write') => exercise.gate(a, id, mode);
  // Answers to another node's incident or request are made on that node (federation/record-actions.ts).
  const remote: RecordRemote = { act: (a, row, action) => recordRemote({ store, clock, registry: federation, intel }).act(a, row, action) };
  const exerciseOrgs = (id: string) => exercise.playingOrgs(id);
  const activeExercises = () => exercise.activeRuns();
  const respond = createRespond({ store, access, clock, bus, exerciseGate, exerciseOrgs, activeExercises, remote });
  const sigma = await SigmaRules.open({ store, access, clock, bus }, { dir: config.sigmaDir, placeholdersFile: config.sigmaPlaceholders });
  const warninglists = new Warninglists(store, clock);
  await warninglists.load();
  const correlations = new Correlations({ store, clock, intel, warninglists });
  correlations.start();
  opened.push(async () => { correlations.stop(); await correlations.idle(); });
  // Scale-out (SHIELDWALL_NATS_URL): ingestion into JetStream, workers run elsewhere, the live stream fans out through NATS.
  // The NATS and PostgreSQL clients are loaded only by a node configured for them: the embedded
  // default starts (and every CLI command runs) without reading them.
  const scaleModule = config.nats || config.databaseUrl ? await import('../scale/index.js') : null;
  const scale = config.nats && scaleModule ? await scaleModule.openScaleApi(config.nats, { bus, limiter: access.limiter, retentionMs: DEFAULT_DETECT_OPTIONS.spoolRetentionMs, store }) : null;
  if (scale) opened.push(() => scale.close());
  // On PostgreSQL several API processes may serve one node: one of them runs the background jobs.
  const leader = config.databaseUrl && !opts.store ? await electLeader(config.databaseUrl, config.nats?.prefix ?? config.nodeName) : SOLE_LEADER;
  opened.push(() => leader.close());
  // …and without NATS, the live stream and the failed-authentication limiter go between them
  // through PostgreSQL LISTEN/NOTIFY (scale/pg-pipe.ts).
  const pgSharing = config.databaseUrl && !config.nats && !opts.store && scaleModule ? await scaleModule.openPgSharing(config.databaseUrl, config.nodeName, { bus, limiter: access.limiter }) : null;
  if (pgSharing) opened.push(() => pgSharing.close());
  const detect = await DetectService.create({ store, access, clock, bus, intel, sigma, warninglists, ...(scale ? { stream: scale.stream } : {}) }, {
    queueCapacity: config.ingestQueue, alertWindowMs: config.alertWindowMinutes * 60_000, sightings: config.sightings, testHooks: config.testHooks,
    eventLimits: config.eventLimits,
  }, scale ? { kind: 'external' } : detectMode(config, opts, leader));
  opened.push(() => detect.stop());
  const alerts = new AlertService({ store, repo: new RecordRepo({ store, access, clock, bus, exerciseGate }), detect, incidents: respond.incidents, levels: respond.levels });
  const exercise = new ExerciseService({ store, access, clock, bus, ingest: detect });
  opened.push(async () => { exercise.stop(); await exercise.idle(); });
  const indexes = async (): Promise<IndexStatus[]> => [await correlations.status(), await indicatorIndex(detect, store, { nowMs: clock.now(), scale })];
  const federation = new FederationRegistry({ store, clock, dataDir: config.dataDir, nodeName: config.nodeName, peerMaxResponseBytes: config.peerMaxResponseBytes });
  taxii.peerReceiver = pushReceiver({ store, clock, registry: federation, intel });
  taxii.peerEnvelopes = (rows) => envelopesOfRows({ store, registry: federation, rows });
  const readiness = createReadiness({ store, access, clock, bus }, respond.incidents);
  const vf = config.vulnFeeds;
  const feedDefaults = {
    ...(vf?.kev ? { kev: { url: vf.kev, intervalS: vf.intervalS } } : {}), ...(vf?.epss ? { epss: { url: vf.epss, intervalS: vf.intervalS } } : {}),
  };
  const exposure = createExposure({ store, access, clock, bus, intel, feeds: { defaults: feedDefaults } });
  opened.push(() => exposure.stix.stop());
  // A store handed in is not closed by a failed start (its caller still holds it), but is by close().
  const close = async () => {
    try {
      await closeAll(opened);
    } finally {
      if (opts.store) await store.close();
    }
  };
  return Object.freeze({ config, clock, store, access, intel, taxii, bus, respond, sigma, correlations, warninglists, detect, alerts, leader, scale, indexes, close, federation, exercise, readiness, exposure });
}

function detectMode(config: Readonly<Config>, opts: PlatformOptions, leader: Leader): DetectMode {
  const kind = opts.detection ?? (opts.store ? 'in-process' : config.workers === 0 ? 'external' : 'worker');
  if (kind !== 'worker') return { kind };
  return {
    kind, log: (line) => process.stderr.write(`${line}\n`),
    supervisor: { entry: workerEntry, env: { ...process.env, ...configEnv(config) }, batchTimeoutMs: config.workerBatchTimeoutMs },
    // API processes sharing one PostgreSQL (without NATS: with it, workers run on their own)
    // supervise one worker between them on the shared SQL spool: the leader's.
    ...(config.databaseUrl ? { leads: () => leader.isLeader() } : {}),
  };
}

/**
 * How far the indicator feed of detection is behind the store. In this process when detection
 * runs here; else from the cursor the worker last reported (its stats), counted against the store.
 */
async function indicatorIndex(detect: DetectService, store: Store, o: { nowMs: number; scale: ScaleApi | null }): Promise<IndexStatus> {
  const { nowMs } = o;
  if (detect.engine) return detect.feed.status(nowMs);
  // Scale-out: the workers say how far their feeds have read (presence); the slowest one is how
  // far detection as a whole is behind. The supervisor's snapshot below is the embedded worker's.
  const fromWorkers = o.scale?.presence.list().flatMap((p) => (p.worker?.feedCursorUs !== undefined ? [p.worker.feedCursorUs] : []));
  const stats = o.scale ? null : await detect.stats().catch(() => null);
  const reported = o.scale ? (fromWorkers?.length ?? 0) > 0 : stats !== null;
  const cursor = o.scale ? Math.min(...(fromWorkers?.length ? fromWorkers : [0])) : Number((stats?.feed as { cursor?: unknown } | null | undefined)?.cursor ?? 0) || 0;
  const b = await store.backlog({ afterUs: cursor, types: ['indicator'] });
  return {
    name: 'indicators', cursorUs: cursor, behind: b.count,
    lagMs: b.oldestUs !== null ? Math.max(0, nowMs - Math.floor(b.oldestUs / 1000)) : 0,
    ready: reported && b.count === 0, error: reported ? null : o.scale ? 'no detection worker reports (start `shieldwall worker`)' : 'no report from the detection worker yet',
  };
}
