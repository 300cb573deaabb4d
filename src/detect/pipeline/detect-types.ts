/** What the detection pipeline is wired from: its sources of rules and state, its options. */
import type { ReleaseFacts } from '../../core/policy.js';
import type { EventLimits, NormalisedEvent } from '../normalise/index.js';
import type { SigmaEngine } from '../sigma/index.js';
import type { AlertSeverity } from './alert-types.js';
import type { SightingMode } from './sightings.js';

/** Sigma rules with their release (provided by the rules service). */
export interface SigmaSource {
  snapshot(): { readonly engine: SigmaEngine; releaseOf(ref: { id?: string; title: string }): ReleaseFacts };
  onChange(fn: () => void): () => void;
  /** Reloads rules another process added or removed. */
  refresh?(): Promise<unknown>;
}

export interface AnomalyFindingLike {
  readonly method: 'rate' | 'first-seen' | 'rare';
  readonly orgId: string;
  readonly sensorId: string;
  readonly entity: string;
  readonly title: string;
  readonly severity: AlertSeverity;
  readonly expected: string;
  readonly seen: string;
  readonly score: number;
  readonly atMs: number;
}

export interface AnomalySource {
  /** `at`: the event's position in its source (an event at or before the last one learned is not learned again). */
  observe(e: NormalisedEvent, timeMs: number, at?: { source: string; seq: number }): AnomalyFindingLike[];
  /** Learns an event processed once already (a replay), dropping what it raises (see AnomalyDetector.relearn). */
  relearn?(e: NormalisedEvent, timeMs: number, at: { source: string; seq: number }): void;
  /** Where a replay of `source` starts: after the lowest position any organisation learned; null: unknown. */
  replayFrom?(source: string): number | null;
  tick(timeMs: number): AnomalyFindingLike[];
  /** Judges an event against the baselines without learning from it (see AnomalyDetector.judge). */
  judge?(e: NormalisedEvent, timeMs: number): AnomalyFindingLike[];
  toJSON(): unknown;
  /** The saved state with this source's organisations written over it (see AnomalyDetector.mergedJSON). */
  mergedJSON?(saved: unknown): unknown;
  /** Takes over the saved state of the organisations `mine` selects. */
  adopt?(saved: unknown, mine: (orgId: string) => boolean): number;
}

export type ValueKind = 'ip' | 'domain' | 'url' | 'hash' | 'email' | 'string';

export interface WarninglistSource {
  match(kind: ValueKind, value: string): { listId: string; name: string } | null;
  /** Reloads lists changed by another process (the CLI). */
  refresh?(): Promise<unknown>;
}

export interface DetectOptions {
  /** Events waiting in the spool beyond which ingestion answers 429. */
  readonly queueCapacity: number;
  /**
   * Events per processing transaction: each batch pays a fixed cost (its alerts rewritten, the
   * cursor, rates and audit), so larger batches cost less per event; a batch that hangs is then
   * re-run one event per transaction (the careful pass), which takes longer the larger it is.
   */
  readonly batchSize: number;
  /** Grouping window of alerts. */
  readonly alertWindowMs: number;
  readonly sightings: SightingMode;
  readonly sightingIntervalMs: number;
  /** Processed spool chunks are kept this long (raw evidence), then pruned. */
  readonly spoolRetentionMs: number;
  /** Longest accepted line. */
  readonly maxLineLength: number;
  /** Per-event caps (fields, depth, string bytes) checked at ingest and when the worker normalises again; normaliser defaults when absent. */
  readonly eventLimits?: EventLimits;
  /** SHIELDWALL_TEST_HOOKS=1: an event carrying TEST_HANG_MARKER spins its worker forever (acceptance tests only). */
  readonly testHooks: boolean;
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = Object.freeze({
  queueCapacity: 200_000, batchSize: 8_000, alertWindowMs: 3_600_000, sightings: 'named', sightingIntervalMs: 60_000,
  spoolRetentionMs: 24 * 3_600_000, maxLineLength: 1_048_576, testHooks: false,
});

/** With test hooks on, an event whose raw line contains this never finishes matching. */
export const TEST_HANG_MARKER = 'shieldwall-test-hook:hang';

export interface DetectStats {
  readonly processed: number;
  readonly alertsWritten: number;
  readonly suppressed: number;
  readonly sightingsWritten: number;
  readonly queueDepth: number;
  readonly indicators: number;
  readonly sigmaRules: number;
  /**
   * The replay that rebuilds a restarted worker's state before its first batch
   * (DetectEngine.warmUp): not started, replaying (events so far), or done (events replayed).
   */
  readonly warmUp?: { readonly state: 'pending' | 'replaying' | 'done'; readonly replayed: number };
}
