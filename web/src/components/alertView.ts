/**
 * Pure helpers of the alert screens (no React, no DOM), so they can be tested without a browser:
 * the live feed merge, client-side filters, the heatmap scale, chart series and raw-event summaries.
 */
import { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from '../alertTypes.js';
import type { Alert, AlertFilter, AlertSeverity, AlertSource, AlertStatus, RateBucket, SeverityCounts } from '../alertTypes.js';

/** How many alerts the live feed keeps; older ones drop off the end. */
export const FEED_MAX = 50;

/** Newest first: the later `lastSeen` first, then the later `firstSeen`, then the id (stable). */
export function newestFirst(a: Alert, b: Alert): number {
  return b.lastSeen.localeCompare(a.lastSeen) || b.firstSeen.localeCompare(a.firstSeen) || b.id.localeCompare(a.id);
}

/**
 * The feed after one live alert: an alert already shown is replaced (an update never
 * duplicates it), and an update older than the one shown (lower rev) is ignored, since SSE and
 * a reload can deliver the same alert in either order.
 */
export function mergeAlert(feed: readonly Alert[], alert: Alert, max = FEED_MAX): Alert[] {
  const old = feed.find((a) => a.id === alert.id);
  if (old && old.rev > alert.rev) return [...feed];
  const rest = feed.filter((a) => a.id !== alert.id);
  return [alert, ...rest].sort(newestFirst).slice(0, max);
}

/** A list of alerts from the server merged with those that came live (newer rev wins). */
export function mergeAlerts(feed: readonly Alert[], incoming: readonly Alert[], max = FEED_MAX): Alert[] {
  return incoming.reduce<Alert[]>((acc, a) => mergeAlert(acc, a, Number.MAX_SAFE_INTEGER), [...feed]).slice(0, max);
}

export function matchesFilter(a: Alert, f: AlertFilter): boolean {
  if (f.severity?.length && !f.severity.includes(a.severity)) return false;
  if (f.status?.length && !f.status.includes(a.status)) return false;
  if (f.source?.length && !f.source.includes(a.source)) return false;
  return true;
}

function pick<T extends string>(raw: string | null, allowed: readonly T[]): T[] | undefined {
  if (!raw) return undefined;
  const xs = raw.split(',').filter((x): x is T => (allowed as readonly string[]).includes(x));
  return xs.length ? xs : undefined;
}

/** The filter in a page's hash query (`?severity=high,critical&status=new&source=sigma`); unknown values are dropped. */
export function filterFromParams(p: URLSearchParams): AlertFilter {
  const f: AlertFilter = {};
  const severity = pick<AlertSeverity>(p.get('severity'), ALERT_SEVERITIES);
  const status = pick<AlertStatus>(p.get('status'), ALERT_STATUSES);
  const source = pick<AlertSource>(p.get('source'), ALERT_SOURCES);
  if (severity) f.severity = severity;
  if (status) f.status = status;
  if (source) f.source = source;
  return f;
}

export function filterToParams(f: AlertFilter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.severity?.length) p.set('severity', f.severity.join(','));
  if (f.status?.length) p.set('status', f.status.join(','));
  if (f.source?.length) p.set('source', f.source.join(','));
  return p;
}

export function totalAlerts(c: SeverityCounts): number {
  return ALERT_SEVERITIES.reduce((n, s) => n + (c[s] ?? 0), 0);
}

/** Heat step 0 (none) to 5 (the most detected technique), on a square-root scale so one loud technique does not wash out the rest. */
export function heatStep(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.max(1, Math.min(5, Math.ceil((Math.sqrt(count) / Math.sqrt(max)) * 5)));
}

export interface HeatCell { technique: string; parent: string; count: number; step: number }

/** Heatmap cells grouped by parent technique (T1059 with T1059.001 …), ids in ATT&CK order. */
export function heatCells(heatmap: readonly { technique: string; count: number }[]): HeatCell[] {
  const max = heatmap.reduce((m, h) => Math.max(m, h.count), 0);
  return heatmap
    .map((h) => ({ technique: h.technique, parent: h.technique.split('.')[0] ?? h.technique, count: h.count, step: heatStep(h.count, max) }))
    .sort((a, b) => a.technique.localeCompare(b.technique, 'en', { numeric: true }));
}

/** The MITRE ATT&CK page of a technique id (T1059.001 → /techniques/T1059/001/); null for anything else. */
export function attackUrl(technique: string): string | null {
  const m = /^(T\d{4})(?:\.(\d{3}))?$/.exec(technique);
  if (!m) return null;
  return `https://attack.mitre.org/techniques/${m[1]}/${m[2] ? `${m[2]}/` : ''}`;
}

/** uPlot's column data: x in Unix seconds, then events and alerts per bucket. */
export function rateSeries(buckets: readonly RateBucket[]): [number[], number[], number[]] {
  const sorted = [...buckets].sort((a, b) => a.t.localeCompare(b.t));
  return [sorted.map((b) => Date.parse(b.t) / 1000), sorted.map((b) => b.events), sorted.map((b) => b.alerts)];
}

const str = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);

/** Reads an ECS key from a normalised event, flat (`"source.ip"`) or nested (`source: {ip}`). */
export function ecs(sample: Record<string, unknown>, key: string): unknown {
  if (key in sample) return sample[key];
  let cur: unknown = sample;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** One line about a raw event: time, kind and the endpoints or query it is about. */
export function sampleSummary(sample: Record<string, unknown>): string {
  const get = (k: string) => str(ecs(sample, k));
  const parts: string[] = [];
  const at = get('@timestamp');
  if (at) parts.push(at);
  const kind = get('event.dataset') ?? get('event.category') ?? get('event.kind');
  if (kind) parts.push(kind);
  const src = get('source.ip');
  const dst = get('destination.ip');
  if (src || dst) parts.push(`${src ?? '?'} → ${dst ?? '?'}${get('destination.port') ? `:${get('destination.port')}` : ''}`);
  const q = get('dns.question.name') ?? get('url.full') ?? get('process.command_line') ?? get('host.name');
  if (q) parts.push(q);
  return parts.join(' · ') || 'event';
}

/** A history entry's data in words: status moves as "from → to", other plain values as "key: value". */
export function describeHistory(data: unknown): string {
  if (data === null || data === undefined) return '';
  if (typeof data !== 'object') return String(data);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (v === undefined) continue;
    const move = v as { from?: unknown; to?: unknown } | null;
    if (move && typeof move === 'object' && 'to' in move) parts.push(`${k}: ${String(move.from ?? '?')} → ${String(move.to)}`);
    else if (v === null) parts.push(`${k}: none`);
    else if (typeof v !== 'object') parts.push(`${k}: ${String(v)}`);
  }
  return parts.join(', ');
}
