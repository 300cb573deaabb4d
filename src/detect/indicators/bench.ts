/**
 * `benchIndicatorMatching`: builds an index of `indicators` STIX indicators, then matches EVE
 * lines on one core (parse + normalise + match) and, in the same run, passes the same lines
 * through a bare `JSON.parse` loop as the baseline (passes alternate, so load drift hits both).
 * Reports build time, events/s, the ratio to the baseline and the process RSS. Indicator mix (deterministic, seeded): IPv4 `=` 70 %,
 * domain 10 %, SHA-256 10 %, URL 5 %, CIDR `ISSUBSET` 5 %, plus 50 AND-keyed (port and address), 20 LIKE scans on URLs
 * and 5 FOLLOWEDBY sequences (IPv4 then a DNS name); values seen in the events are mixed in so
 * that lines match.
 */
import { normaliseLine } from '../normalise/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import type { IndexStats } from './types.js';
import { IndicatorIndex } from './matcher.js';

export interface IndicatorBenchOptions {
  readonly indicators: number;
  /** EVE JSON lines, cycled over. */
  readonly events: readonly string[];
  /** Seconds per timed loop (default 3). */
  readonly seconds?: number;
  readonly seed?: number;
  /** `mixed` (default) adds the keyed, scan and sequence patterns; `atomic` has only IOCs. */
  readonly mix?: 'mixed' | 'atomic';
}

export interface IndicatorBenchResult {
  readonly indicators: number;
  readonly buildSeconds: number;
  readonly stats: IndexStats;
  readonly events: number;
  /** Wall-clock rates. */
  readonly eventsPerSecond: number;
  readonly baselineEventsPerSecond: number;
  /** eventsPerSecond / baselineEventsPerSecond. */
  readonly ratio: number;
  /** Rates per second of process CPU time (steadier than wall time on a shared machine). */
  readonly eventsPerCpuSecond: number;
  readonly baselineEventsPerCpuSecond: number;
  readonly cpuRatio: number;
  readonly matches: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const ORG = 'bench-org';
const AUDIENCES = [[ORG], [ORG, 'org-b'], ['org-b'], ['org-c', ORG], ['org-d']];
const hex = (r: () => number, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};
const q = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function seenValues(events: readonly NormalisedEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    for (const f of ['source.ip', 'destination.ip']) { const v = e[f]; if (typeof v === 'string') out.add(`[ipv4-addr:value = ${q(v)}]`); }
    const d = e['dns.question.name'];
    if (typeof d === 'string') out.add(`[domain-name:value = ${q(d)}]`);
    const u = e['url.full'];
    if (typeof u === 'string') out.add(`[url:value = ${q(u)}]`);
  }
  return [...out];
}

function patternAt(i: number, r: () => number, seen: readonly string[], mixed: boolean): string {
  // One indicator per value seen in the events (so that lines match), spread through the index.
  const stride = 997;
  if (i % stride === 0 && i / stride < seen.length) return seen[i / stride] ?? '';
  const octet = (): number => Math.floor(r() * 256);
  if (!mixed) return atomic(r);
  // Keyed: a port and an address (one on the sample's mirror, which most lines show).
  if (i < 50) return `[network-traffic:dst_port = 80 AND network-traffic:dst_ref.value = '${i === 1 ? '54.230.202.37' : `10.9.${i}.1`}']`;
  // Scans: LIKE on URLs (one matches the sample's Debian mirror paths).
  if (i < 70) return `[url:value LIKE '%/pool/main/${i === 51 ? 'p/perl' : hex(r, 6)}%']`;
  // Sequences: an address then a DNS name of the sample, within 5 minutes.
  if (i < 75) return `([ipv4-addr:value = '${octet()}.${octet()}.${octet()}.${octet()}'] FOLLOWEDBY [domain-name:value = 'security.debian.org']) WITHIN 300 SECONDS`;
  return atomic(r);
}

function atomic(r: () => number): string {
  const octet = (): number => Math.floor(r() * 256);
  const x = r();
  if (x < 0.7) return `[ipv4-addr:value = '${octet()}.${octet()}.${octet()}.${octet()}']`;
  if (x < 0.8) return `[domain-name:value = '${hex(r, 10)}.example']`;
  if (x < 0.9) return `[file:hashes.'SHA-256' = '${hex(r, 64)}']`;
  if (x < 0.95) return `[url:value = 'http://${hex(r, 8)}.example/${hex(r, 6)}']`;
  return `[ipv4-addr:value ISSUBSET '${octet()}.${octet()}.${octet()}.0/${16 + Math.floor(r() * 13)}']`;
}

/** See the module comment. Synchronous; run it alone on a quiet core for stable figures. */
export function benchIndicatorMatching(options: IndicatorBenchOptions): IndicatorBenchResult {
  const seconds = options.seconds ?? 3;
  const ctx = { orgId: ORG, sensorId: 'bench-sensor' };
  const lines = options.events.filter((l) => normaliseLine('suricata-eve', l, ctx).ok);
  const sample: NormalisedEvent[] = [];
  for (const l of lines) { const n = normaliseLine('suricata-eve', l, ctx); if (n.ok) sample.push(n.event); }
  const seen = seenValues(sample);
  const r = rng(options.seed ?? 42);
  const index = new IndicatorIndex();
  const t0 = performance.now();
  for (let i = 0; i < options.indicators; i++) {
    const pattern = patternAt(i, r, seen, options.mix !== 'atomic');
    index.add({ id: `indicator--${i}`, pattern, pattern_type: 'stix', valid_from: '2000-01-01T00:00:00Z' }, AUDIENCES[i % AUDIENCES.length] ?? [ORG]);
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  if (lines.length === 0) throw new Error('benchIndicatorMatching: no valid EVE lines given');

  const ours = (line: string): number => {
    const res = normaliseLine('suricata-eve', line, ctx);
    return res.ok ? index.match(res.event).length : 0;
  };
  const bare = (line: string): number => {
    const v = JSON.parse(line) as Record<string, unknown>;
    return v['event_type'] === undefined ? 0 : 1;
  };
  // Warm-up, then alternate passes of the two loops over all lines, timing each separately:
  // on a shared machine the load drifts, and alternating exposes both loops to the same drift.
  // Both wall time and process CPU time are kept; on a loaded machine CPU time is the fairer.
  for (let k = 0; k < 3; k++) for (const l of lines) { ours(l); bare(l); }
  const matched = { n: 0, s: 0, cpu: 0, acc: 0 };
  const baseline = { n: 0, s: 0, cpu: 0, acc: 0 };
  const pass = (fn: (line: string) => number, into: typeof matched): void => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    let acc = 0;
    // Four rounds per pass, so the clock reads are a small share of the pass.
    for (let round = 0; round < 4; round++) for (let i = 0; i < lines.length; i++) acc += fn(lines[i] ?? '');
    into.s += (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    into.cpu += (used.user + used.system) / 1e6;
    into.n += 4 * lines.length;
    into.acc += acc;
  };
  while (matched.s < seconds) {
    pass(bare, baseline);
    pass(ours, matched);
  }
  const eventsPerSecond = Math.round(matched.n / matched.s);
  const baselineEventsPerSecond = Math.round(baseline.n / baseline.s);
  const eventsPerCpuSecond = Math.round(matched.n / matched.cpu);
  const baselineEventsPerCpuSecond = Math.round(baseline.n / baseline.cpu);
  // A full collection first (when node runs with --expose-gc, as `npm run bench` does), so that
  // the figures are live memory rather than build garbage.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
  const mem = process.memoryUsage();
  return {
    indicators: options.indicators,
    buildSeconds: Math.round(buildSeconds * 100) / 100,
    stats: index.stats(),
    events: matched.n,
    eventsPerSecond,
    baselineEventsPerSecond,
    ratio: Math.round((eventsPerSecond / baselineEventsPerSecond) * 1000) / 1000,
    eventsPerCpuSecond,
    baselineEventsPerCpuSecond,
    cpuRatio: Math.round((eventsPerCpuSecond / baselineEventsPerCpuSecond) * 1000) / 1000,
    matches: matched.acc,
    rssMb: Math.round(mem.rss / 1048576),
    heapUsedMb: Math.round(mem.heapUsed / 1048576),
  };
}
