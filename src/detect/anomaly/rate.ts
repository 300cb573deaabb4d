/**
 * Event-rate baselines per (organisation, sensor): counts in fixed buckets, one winsorised EWMA of
 * mean and variance per seasonal slot (hour of day, optionally × weekday/weekend or × day of week).
 * Closing a bucket compares its count with its slot: spikes, drops, and runs of empty buckets
 * (a silent sensor). The maths is in docs/anomaly.md.
 */
import { clock, fmtCount, fmtDuration, zoneLabel } from './format.js';
import { DAY_MS, HOUR_MS } from './types.js';
import type { AnomalyFinding, AnomalySeverity, ResolvedOptions, Seasonality } from './types.js';

/** Per slot: mean, variance, samples, days with data, index of the last such day. */
export const SLOT_FIELDS = 5;
const MEAN = 0;
const VAR = 1;
const N = 2;
const DAYS = 3;
const LAST_DAY = 4;

const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function slotCount(s: Seasonality): number {
  switch (s) {
    case 'hour':
      return 24;
    case 'weekpart':
      return 48;
    case 'weekday':
      return 168;
  }
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

export function slotOf(startMs: number, o: ResolvedOptions): number {
  const local = startMs + o.offsetMs;
  const hour = mod(Math.floor(local / HOUR_MS), 24);
  if (o.seasonality === 'hour') return hour;
  // 1970-01-01 was a Thursday; 0 = Sunday.
  const dow = mod(Math.floor(local / DAY_MS) + 4, 7);
  if (o.seasonality === 'weekday') return dow * 24 + hour;
  return (dow === 0 || dow === 6 ? 24 : 0) + hour;
}

export function slotLabel(slot: number, o: ResolvedOptions): string {
  const hour = slot % 24;
  const hh = `${hour < 10 ? '0' : ''}${hour}:00`;
  switch (o.seasonality) {
    case 'hour':
      return `${hh} slot`;
    case 'weekpart':
      return `${slot >= 24 ? 'weekend' : 'weekday'} ${hh} slot`;
    case 'weekday':
      return `${DOW[Math.floor(slot / 24)] ?? '?'} ${hh} slot`;
  }
}

/** The state of one (organisation, sensor) stream; plain fields so it serialises as is. */
export interface RateStream {
  readonly sensorId: string;
  /** Index (start / bucketMs) of the open bucket. */
  bucket: number;
  count: number;
  /** Inside a run of spike / drop buckets (only the first bucket of a run alerts). */
  spike: boolean;
  drop: boolean;
  /** First bucket of the current run of empty buckets, or -1. */
  silentStart: number;
  /** Events the baseline expected during that run. */
  silentExpected: number;
  silentAlerted: boolean;
  /** SLOT_FIELDS numbers per slot. */
  readonly slots: Float64Array;
}

export function newStream(sensorId: string, bucket: number, o: ResolvedOptions): RateStream {
  return {
    sensorId,
    bucket,
    count: 0,
    spike: false,
    drop: false,
    silentStart: -1,
    silentExpected: 0,
    silentAlerted: false,
    slots: new Float64Array(slotCount(o.seasonality) * SLOT_FIELDS),
  };
}

/** Standard deviation with a Poisson floor: counts vary at least as much as their mean (and ≥ 1). */
function sdOf(mean: number, variance: number): number {
  return Math.sqrt(Math.max(variance, mean, 1));
}

/** Smallest EWMA weight: a sample's influence halves after `halfLifeDays` days of that slot. */
function alphaMin(o: ResolvedOptions): number {
  const perDay = 60 / o.bucketMinutes;
  return 1 - Math.pow(2, -1 / (o.halfLifeDays * perDay));
}

function rateSeverity(z: number): AnomalySeverity {
  if (z >= 20) return 'high';
  if (z >= 8) return 'medium';
  return 'low';
}

export interface StreamCtx {
  readonly orgId: string;
  readonly o: ResolvedOptions;
  readonly out: AnomalyFinding[];
}

function where(ctx: StreamCtx, s: RateStream): string {
  return `${ctx.o.orgLabel(ctx.orgId)} sensor ${s.sensorId}`;
}

function history(days: number): string {
  return `${days} day${days === 1 ? '' : 's'} of history`;
}

/** Folds `x` into a slot (winsorised once the slot is trusted, so one burst cannot move it far). */
function learn(s: RateStream, base: number, x: number, ctx: StreamCtx): void {
  const slots = s.slots;
  const day = Math.floor((s.bucket * ctx.o.bucketMs + ctx.o.offsetMs) / DAY_MS);
  const n = (slots[base + N] ?? 0) + 1;
  const mean = slots[base + MEAN] ?? 0;
  const variance = slots[base + VAR] ?? 0;
  let v = x;
  if ((slots[base + DAYS] ?? 0) >= ctx.o.minHistoryDays) {
    const band = ctx.o.spikeZ * sdOf(mean, variance);
    v = Math.min(Math.max(x, mean - band), mean + band);
  }
  // Running mean while young (alpha = 1/n, unbiased), then the EWMA with the half-life's weight.
  const a = Math.max(1 / n, alphaMin(ctx.o));
  const d = v - mean;
  slots[base + MEAN] = mean + a * d;
  slots[base + VAR] = (1 - a) * (variance + a * d * d);
  slots[base + N] = n;
  if (slots[base + LAST_DAY] !== day || n === 1) {
    slots[base + DAYS] = (slots[base + DAYS] ?? 0) + 1;
    slots[base + LAST_DAY] = day;
  }
}

function closeOne(s: RateStream, count: number, ctx: StreamCtx): void {
  const o = ctx.o;
  const startMs = s.bucket * o.bucketMs;
  const endMs = startMs + o.bucketMs;
  const slot = slotOf(startMs, o);
  const base = slot * SLOT_FIELDS;
  const mean = s.slots[base + MEAN] ?? 0;
  const sd = sdOf(mean, s.slots[base + VAR] ?? 0);
  const days = s.slots[base + DAYS] ?? 0;
  const ready = days >= o.minHistoryDays;
  const z = (count - mean) / sd;
  const per = `${o.bucketMinutes} min`;
  const expected = (): string =>
    `${fmtCount(Math.max(0, Math.floor(mean - 2 * sd)))}–${fmtCount(Math.ceil(mean + 2 * sd))} events per ${per} ` +
    `(mean ${fmtCount(mean)}; ${slotLabel(slot, o)}, ${history(days)})`;
  const seenText = (): string =>
    `${fmtCount(count)} events in ${per} (${clock(startMs, o.offsetMs)}–${clock(endMs, o.offsetMs)} ${zoneLabel(o.offsetMs)})`;

  if (count === 0) {
    if (s.silentStart < 0) {
      s.silentStart = s.bucket;
      s.silentExpected = 0;
    }
    if (ready) s.silentExpected += mean;
    const buckets = s.bucket - s.silentStart + 1;
    if (!s.silentAlerted && ready && buckets >= o.silenceMinBuckets && s.silentExpected >= o.silenceExpected) {
      s.silentAlerted = true;
      const sinceMs = s.silentStart * o.bucketMs;
      const span = fmtDuration(endMs - sinceMs);
      const score = Math.sqrt(s.silentExpected);
      ctx.out.push({
        method: 'rate',
        orgId: ctx.orgId,
        sensorId: s.sensorId,
        entity: `sensor:${s.sensorId}`,
        title: `${where(ctx, s)} stopped sending events`,
        severity: s.silentExpected >= 10 * o.silenceExpected ? 'high' : 'medium',
        expected: `about ${fmtCount(s.silentExpected)} events in ${span} (baseline of the ${slotLabel(slot, o)}, ${history(days)})`,
        seen: `0 events in ${span} (since ${clock(sinceMs, o.offsetMs)} ${zoneLabel(o.offsetMs)})`,
        score: round2(score),
        atMs: endMs,
      });
    }
  } else {
    s.silentStart = -1;
    s.silentExpected = 0;
    s.silentAlerted = false;
  }

  const spike = ready && z >= o.spikeZ && count - mean >= o.minDeviation;
  const drop = ready && count > 0 && -z >= o.dropZ && mean - count >= o.minDeviation;
  if (spike && !s.spike) {
    ctx.out.push({
      method: 'rate',
      orgId: ctx.orgId,
      sensorId: s.sensorId,
      entity: `sensor:${s.sensorId}`,
      title: `Event rate spike from ${where(ctx, s)}`,
      severity: rateSeverity(z),
      expected: expected(),
      seen: seenText(),
      score: round2(z),
      atMs: endMs,
    });
  }
  if (drop && !s.drop) {
    ctx.out.push({
      method: 'rate',
      orgId: ctx.orgId,
      sensorId: s.sensorId,
      entity: `sensor:${s.sensorId}`,
      title: `Event rate drop from ${where(ctx, s)}`,
      severity: rateSeverity(-z),
      expected: expected(),
      seen: seenText(),
      score: round2(-z),
      atMs: endMs,
    });
  }
  s.spike = spike;
  s.drop = drop;
  // A sensor known to be down teaches nothing: its silence must not become the new normal.
  if (!s.silentAlerted) learn(s, base, count, ctx);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Closes every bucket before `target` (an index). After a gap longer than a day only the first day
 * of empty buckets is looked at: the silence finding (if any) came in that day, and a frozen or
 * young baseline learns nothing from the rest.
 */
export function closeUpTo(s: RateStream, target: number, ctx: StreamCtx): void {
  if (target <= s.bucket) return;
  const maxGap = Math.round(DAY_MS / ctx.o.bucketMs);
  const stop = Math.min(target, s.bucket + maxGap);
  let count = s.count;
  while (s.bucket < stop) {
    closeOne(s, count, ctx);
    count = 0;
    s.bucket++;
  }
  s.bucket = target;
  s.count = 0;
}
