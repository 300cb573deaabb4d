/**
 * The platform: every service of one node, wired once from the frozen configuration.
 * The HTTP server, the CLI and the tests all start from here.
 */
import type { Config } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { IndexStatus } from '../core/follow.js';
import { AccessService } from '../access/index.js';
import { Correlations, IntelService, Warninglists } from '../intel/index.js';
import { openStore, type Store } from '../store/index.js';
import { TaxiiService } from '../taxii/index.js';
import { EventBus } from '../core/bus.js';
import { createRespond, type Respond } from '../respond/index.js';
import { SigmaRules } from '../detect/rules.js';
import { AnomalyDetector } from '../detect/anomaly/index.js';
import { AlertService, DetectService } from '../detect/pipeline/index.js';
import { RecordRepo } from '../respond/index.js';

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
  /** Sigma rules (directory + API), one engine snapshot for detection. */
  readonly sigma: SigmaRules;
  /** Correlation of observable values across objects (release-aware), and warninglists of known-benign values. */
  readonly correlations: Correlations;
  readonly warninglists: Warninglists;
  /** Telemetry ingestion and detection (the worker runs in the server: `detect.start()`). */
  readonly detect: DetectService;
  readonly alerts: AlertService;
  /**
   * How far each index that follows the store (correlation, the indicator feed) is behind it:
   * they are built in the background, after the node listens (GET /api/v1/system).
   */
  indexes(): Promise<IndexStatus[]>;
  close(): Promise<void>;
}

export async function createPlatform(config: Readonly<Config>, opts: { clock?: Clock; store?: Store } = {}): Promise<Platform> {
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? (await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }));
  const access = new AccessService(store, clock, { authFailureLimit: config.authFailureLimit, authFailureWindowMs: config.authFailureWindowMs });
  const intel = new IntelService(store, clock);
  const taxii = await TaxiiService.create({ store, access, intel, clock }, {
    title: `Shieldwall TAXII 2.1 server (${config.nodeName})`,
    description: 'Threat intelligence of the alliance, released under TLP 2.0 and per-organisation recipients.',
    apiRoots: config.apiRoots, maxContentLength: config.maxContentLength, maxPageSize: config.maxPageSize,
  });
  const bus = new EventBus();
  const respond = createRespond({ store, access, clock, bus });
  const sigma = await SigmaRules.open({ store, access, clock, bus }, { dir: config.sigmaDir, placeholdersFile: config.sigmaPlaceholders });
  const warninglists = new Warninglists(store, clock);
  await warninglists.load();
  const correlations = new Correlations({ store, clock, intel, warninglists });
  correlations.start();
  // Anomaly titles name organisations by short name, known once the detect service has read the directory.
  let named: DetectService | undefined;
  const anomaly = await anomalyDetector(store, (id) => named?.shortName(id) ?? id);
  const detect = await DetectService.create({ store, access, clock, bus, intel, sigma, warninglists, anomaly }, {
    queueCapacity: config.ingestQueue, alertWindowMs: config.alertWindowMinutes * 60_000, sightings: config.sightings,
  });
  named = detect;
  const alerts = new AlertService({ store, repo: new RecordRepo({ store, access, clock, bus }), detect, incidents: respond.incidents, levels: respond.levels });
  const close = async () => { await detect.stop(); correlations.stop(); await correlations.idle(); await store.close(); };
  const indexes = async () => [await correlations.status(), await detect.feed.status(clock.now())];
  return Object.freeze({ config, clock, store, access, intel, taxii, bus, respond, sigma, correlations, warninglists, detect, alerts, indexes, close });
}

/** The anomaly baselines as last saved, or fresh ones when none (or unreadable: then they relearn). */
async function anomalyDetector(store: Store, orgLabel: (id: string) => string): Promise<AnomalyDetector> {
  const saved = await store.getMeta(DetectService.ANOMALY_KEY);
  if (saved === null) return new AnomalyDetector({ orgLabel });
  try {
    return AnomalyDetector.fromJSON(JSON.parse(saved), { orgLabel });
  } catch {
    return new AnomalyDetector({ orgLabel });
  }
}
