/** The detection engine wired on a store: what both a worker process and an in-process node build. */
import type { BusEvent } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import type { IntelService } from '../../intel/index.js';
import type { Store } from '../../store/index.js';
import { AnomalyDetector } from '../anomaly/index.js';
import { DetectEngine, type EngineObserver } from '../pipeline/engine.js';
import type { DetectOptions, SigmaSource, WarninglistSource } from '../pipeline/detect-types.js';
import { SpoolSource, type EventSource } from '../pipeline/source.js';

export interface EngineWiring {
  readonly store: Store;
  readonly clock: Clock;
  readonly intel: IntelService;
  readonly sigma?: SigmaSource;
  readonly warninglists?: WarninglistSource;
  readonly publish: (e: BusEvent) => void;
  readonly observer?: EngineObserver;
  /** Defaults to the SQL spool. */
  readonly source?: EventSource;
}

export async function createEngine(w: EngineWiring, options: Partial<DetectOptions>): Promise<DetectEngine> {
  // Anomaly titles name organisations by short name, known once the engine has read the directory.
  let named: DetectEngine | undefined;
  const anomaly = await anomalyDetector(w.store, (id) => named?.directory.shortName(id) ?? id);
  const source = w.source ?? (await SpoolSource.open(w.store));
  const engine = await DetectEngine.create({
    store: w.store, clock: w.clock, intel: w.intel, source, publish: w.publish, anomaly,
    ...(w.sigma ? { sigma: w.sigma } : {}), ...(w.warninglists ? { warninglists: w.warninglists } : {}), ...(w.observer ? { observer: w.observer } : {}),
  }, options);
  named = engine;
  return engine;
}

/** The anomaly baselines as last saved, or fresh ones when none (or unreadable: then they relearn). */
async function anomalyDetector(store: Store, orgLabel: (id: string) => string): Promise<AnomalyDetector> {
  const saved = await store.getMeta(DetectEngine.ANOMALY_KEY);
  if (saved === null) return new AnomalyDetector({ orgLabel });
  try {
    return AnomalyDetector.fromJSON(JSON.parse(saved), { orgLabel });
  } catch {
    return new AnomalyDetector({ orgLabel });
  }
}
