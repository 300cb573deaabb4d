/**
 * Warm-up replay (docs/architecture.md "Scale-out", docs/pipeline.md): events already processed
 * — by a partition's previous owner, or by the embedded worker before it was killed — are run
 * through the stateful matchers — the indicator index (its per-organisation
 * windows for FOLLOWEDBY / REPEATS / observation AND) and the Sigma engine (correlation windows) —
 * and what they raise is discarded: those alerts are in the store already. The anomaly baselines
 * learn the events after their saved position in the source, so what was learned between the last
 * save and a worker's death is not lost.
 */
import type { IngestRow } from '../../store/index.js';
import { eventTimeMs, type NormalisedEvent } from '../normalise/index.js';
import type { SigmaEngine } from '../sigma/index.js';
import { sigmaView } from './hits.js';
import { stateScope } from '../scope.js';

export interface WarmTarget {
  readonly index: { match(e: NormalisedEvent, scope?: string): unknown };
  readonly sigma: (() => SigmaEngine | null);
  /**
   * The anomaly baselines: each organisation learns the replayed events after the position its
   * saved state holds (the events since the previous owner's last save), nothing before it.
   */
  readonly anomaly?: (e: NormalisedEvent, receivedMs: number, seq: number) => void;
  /** The event of a row, exactly as the engine builds it to match it (null: refused). */
  readonly eventOf: (row: IngestRow) => NormalisedEvent | null;
}

export function warm(t: WarmTarget, rows: readonly IngestRow[]): number {
  const sigma = t.sigma();
  let n = 0;
  for (const row of rows) {
    const receivedMs = Math.floor(row.receivedUs / 1000);
    const event = t.eventOf(row);
    if (event === null) continue;
    const tms = eventTimeMs(event);
    // As the engine matches them: an exercise's events in their own windows, never learned by
    // the anomaly baselines.
    const scope = stateScope(event['organization.id'], row.exerciseId);
    t.index.match(event, scope);
    if (row.exerciseId === null) t.anomaly?.(event, receivedMs, row.seq);
    sigma?.process(sigmaView(event), Number.isFinite(tms) ? tms : receivedMs, event.logsource as Parameters<SigmaEngine['process']>[2], scope);
    n++;
  }
  return n;
}
