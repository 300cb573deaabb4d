/**
 * Options and findings of the anomaly detector. The method and every default are documented in
 * docs/anomaly.md; keep the two in step.
 */
import { AppError } from '../../core/errors.js';

export type AnomalyMethod = 'rate' | 'first-seen' | 'rare';
export type AnomalySeverity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** One anomaly, readable as is: `expected` says what the baseline predicted, `seen` what happened. */
export interface AnomalyFinding {
  readonly method: AnomalyMethod;
  readonly orgId: string;
  readonly sensorId: string;
  /** `<kind>:<value>`, e.g. `sensor:fw-1`, `domain:evil.example`, `user_agent:curl/8.4.0`. */
  readonly entity: string;
  readonly title: string;
  readonly severity: AnomalySeverity;
  readonly expected: string;
  readonly seen: string;
  /** Higher is more anomalous; z-like for rates, surprise (−log10 share) for rare values. */
  readonly score: number;
  readonly atMs: number;
}

/** Seasonal slots of the rate baseline: hour of day; × weekday/weekend; × day of week. */
export type Seasonality = 'hour' | 'weekpart' | 'weekday';

export interface AnomalyOptions {
  /** Name of an organisation in titles and texts (e.g. its short name); default the id itself. */
  readonly orgLabel?: (orgId: string) => string;
  /** Rate bucket length in minutes; must divide 60 (default 5). */
  readonly bucketMinutes?: number;
  /** Default 'weekpart' (48 slots: 24 hours × weekday/weekend). */
  readonly seasonality?: Seasonality;
  /** Offset of the alliance's local time from UTC for the time-of-day slots (default 0; no DST). */
  readonly utcOffsetMinutes?: number;
  /** Days with data a slot needs before it may alert (default 3). */
  readonly minHistoryDays?: number;
  /** Half-life of the EWMA baseline, in days of that slot (default 14). */
  readonly halfLifeDays?: number;
  /** z at or above which a bucket is a spike (default 4). */
  readonly spikeZ?: number;
  /** z at or below −dropZ is a drop (default 4). */
  readonly dropZ?: number;
  /** Smallest absolute deviation from the mean (events per bucket) that may alert (default 20). */
  readonly minDeviation?: number;
  /** A silent sensor alerts once its baseline expected at least this many events in the silence (default 30). */
  readonly silenceExpected?: number;
  /** …and the silence lasted at least this many buckets (default 2). */
  readonly silenceMinBuckets?: number;
  /** First-seen learning period per (organisation, kind), from its first value (default 7 days). */
  readonly learningDays?: number;
  /** Distinct values remembered per (organisation, kind) (default 20,000; least recently seen go first). */
  readonly maxValuesPerKind?: number;
  /** First-seen findings per (organisation, kind) per hour before the rest are summarised (default 20). */
  readonly firstSeenPerHour?: number;
  /** A value below this share of its field's (decayed) observations is rare (default 0.001). */
  readonly rareShare?: number;
  /** Decayed observations of a field before rarity is judged (default 10,000). */
  readonly rareMinObservations?: number;
  /** Values tracked per (organisation, field) (default 4,096). */
  readonly rareCapacity?: number;
  /** Half-life of the rare-value counts in days (default 14). */
  readonly rareHalfLifeDays?: number;
  /** The same rare value alerts at most once per this many hours (default 24). */
  readonly rareCooldownHours?: number;
  /** Rare findings per (organisation, field) per hour (default 20). */
  readonly rarePerHour?: number;
}

export interface ResolvedOptions {
  readonly orgLabel: (orgId: string) => string;
  readonly bucketMs: number;
  readonly bucketMinutes: number;
  readonly seasonality: Seasonality;
  readonly offsetMs: number;
  readonly minHistoryDays: number;
  readonly halfLifeDays: number;
  readonly spikeZ: number;
  readonly dropZ: number;
  readonly minDeviation: number;
  readonly silenceExpected: number;
  readonly silenceMinBuckets: number;
  readonly learningMs: number;
  readonly maxValuesPerKind: number;
  readonly firstSeenPerHour: number;
  readonly rareShare: number;
  readonly rareMinObservations: number;
  readonly rareCapacity: number;
  readonly rareHalfLifeMs: number;
  readonly rareCooldownMs: number;
  readonly rarePerHour: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

function num(opts: AnomalyOptions, key: Exclude<keyof AnomalyOptions, 'orgLabel' | 'seasonality'>, def: number, check: (v: number) => boolean): number {
  const v: unknown = opts[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new AppError('BAD_REQUEST', `anomaly option ${key}: invalid value ${String(v)}`);
  }
  return v;
}

const pos = (v: number): boolean => v > 0;
const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;
const nonNeg = (v: number): boolean => v >= 0;

/** Defaults filled in and every value checked (bad options are a caller error, not a crash later). */
export function resolveOptions(opts: AnomalyOptions = {}): ResolvedOptions {
  const bucketMinutes = num(opts, 'bucketMinutes', 5, (v) => posInt(v) && 60 % v === 0);
  const seasonality = opts.seasonality ?? 'weekpart';
  if (seasonality !== 'hour' && seasonality !== 'weekpart' && seasonality !== 'weekday') {
    throw new AppError('BAD_REQUEST', `anomaly option seasonality: invalid value ${String(seasonality)}`);
  }
  const orgLabel = opts.orgLabel ?? ((id: string): string => id);
  if (typeof orgLabel !== 'function') throw new AppError('BAD_REQUEST', 'anomaly option orgLabel: must be a function');
  return {
    orgLabel,
    bucketMinutes,
    bucketMs: bucketMinutes * 60_000,
    seasonality,
    offsetMs: num(opts, 'utcOffsetMinutes', 0, (v) => Number.isInteger(v) && Math.abs(v) <= 14 * 60) * 60_000,
    minHistoryDays: num(opts, 'minHistoryDays', 3, posInt),
    halfLifeDays: num(opts, 'halfLifeDays', 14, pos),
    spikeZ: num(opts, 'spikeZ', 4, pos),
    dropZ: num(opts, 'dropZ', 4, pos),
    minDeviation: num(opts, 'minDeviation', 20, nonNeg),
    silenceExpected: num(opts, 'silenceExpected', 30, pos),
    silenceMinBuckets: num(opts, 'silenceMinBuckets', 2, posInt),
    learningMs: num(opts, 'learningDays', 7, nonNeg) * DAY_MS,
    maxValuesPerKind: num(opts, 'maxValuesPerKind', 20_000, posInt),
    firstSeenPerHour: num(opts, 'firstSeenPerHour', 20, posInt),
    rareShare: num(opts, 'rareShare', 0.001, (v) => v > 0 && v < 1),
    rareMinObservations: num(opts, 'rareMinObservations', 10_000, pos),
    rareCapacity: num(opts, 'rareCapacity', 4096, (v) => posInt(v) && v >= 4),
    rareHalfLifeMs: num(opts, 'rareHalfLifeDays', 14, pos) * DAY_MS,
    rareCooldownMs: num(opts, 'rareCooldownHours', 24, nonNeg) * HOUR_MS,
    rarePerHour: num(opts, 'rarePerHour', 20, posInt),
  };
}
