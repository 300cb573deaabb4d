/**
 * Anomaly detection: seasonal rate baselines (spikes, drops, silent sensors) on simulated daily
 * curves, first-seen entities and rare values on real telemetry (Zeek DNS from WRCCDC 2018, OTRF
 * Sysmon), bounded memory, and the persisted state (round trip, garbage rejected).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/core/errors.js';
import { AnomalyDetector, executableKey, publicIp, registeredDomain, tldOf } from '../src/detect/anomaly/index.js';
import type { AnomalyFinding, AnomalyOptions } from '../src/detect/anomaly/index.js';
import { normaliseLine } from '../src/detect/normalise/index.js';
import type { NormalisedEvent } from '../src/detect/normalise/index.js';
import { filesUnder, sharedPath } from './helpers/shared.js';

const ORG = 'DSK-CERT';
const SENSOR = 'fw-1';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const BUCKET = 5 * MIN;
/** Monday 2026-11-02 00:00 UTC. */
const START = Date.UTC(2026, 10, 2);

function ev(extra: Record<string, unknown> = {}, org = ORG, sensor = SENSOR): NormalisedEvent {
  return {
    '@timestamp': '2026-11-02T00:00:00.000Z',
    'event.kind': 'event',
    'event.category': [],
    'event.type': [],
    'event.dataset': 'test',
    'event.module': 'test',
    'organization.id': org,
    'observer.id': sensor,
    original: {},
    logsource: {},
    ...extra,
  };
}

/** Deterministic PRNG (mulberry32) so the simulated days are the same on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(lambda: number, r: () => number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

/** Office curve: ~5 events per 5 min at night, ~125 at 13:00 on weekdays, ~25 at weekends. */
function officeRate(t: number): number {
  const d = new Date(t);
  const h = d.getUTCHours() + d.getUTCMinutes() / 60;
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  return 5 + (weekend ? 20 : 120) * Math.exp(-((h - 13) ** 2) / 8);
}

/** Feeds `count` events spread over the bucket starting at `t0`, then ticks its end. */
function bucket(det: AnomalyDetector, t0: number, count: number, e: NormalisedEvent = ev()): AnomalyFinding[] {
  const out: AnomalyFinding[] = [];
  for (let i = 0; i < count; i++) out.push(...det.observe(e, t0 + Math.floor((i * BUCKET) / (count + 1))));
  out.push(...det.tick(t0 + BUCKET));
  return out;
}

/** Simulates the office curve from `from` until `until` (a sensor that keeps sending). */
function simulateUntil(det: AnomalyDetector, from: number, until: number, seed = 1): AnomalyFinding[] {
  const r = rng(seed);
  const out: AnomalyFinding[] = [];
  for (let t = from; t < until; t += BUCKET) out.push(...bucket(det, t, poisson(officeRate(t), r)));
  return out;
}

function simulate(det: AnomalyDetector, from: number, days: number, seed = 1): AnomalyFinding[] {
  return simulateUntil(det, from, from + days * DAY, seed);
}

function expectBadRequest(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('BAD_REQUEST');
}

describe('event rates', () => {
  it('learns a busy-day / quiet-night curve without alerting, then flags a night-time spike with expected and seen', () => {
    const det = new AnomalyDetector();
    // Three weeks up to Tuesday 2026-11-24 03:00.
    const night = START + 22 * DAY + 3 * HOUR;
    expect(simulateUntil(det, START, night)).toEqual([]);
    // 130 events in 5 min: a normal afternoon, but not a normal night.
    const findings = bucket(det, night, 130);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ method: 'rate', orgId: ORG, sensorId: SENSOR, entity: 'sensor:fw-1', atMs: night + BUCKET });
    expect(f.title).toBe('Event rate spike from DSK-CERT sensor fw-1');
    expect(f.expected).toMatch(/^\d+–\d+ events per 5 min \(mean \d+(\.\d)?; weekday 03:00 slot, 16 days of history\)$/);
    expect(f.seen).toBe('130 events in 5 min (03:00–03:05 UTC)');
    expect(f.score).toBeGreaterThan(20);
    expect(f.severity).toBe('high');
    // The same count at 13:00 on a weekday is normal (seasonality).
    expect(simulateUntil(det, night + BUCKET, START + 22 * DAY + 13 * HOUR, 5)).toEqual([]);
    expect(bucket(det, START + 22 * DAY + 13 * HOUR, 130)).toEqual([]);
  });

  it('stays quiet for a month of weekdays and weekends on other random seeds', () => {
    for (const seed of [2, 3]) expect(simulate(new AnomalyDetector(), START, 28, seed)).toEqual([]);
  });

  it('never alerts before a slot has its minimum history', () => {
    const det = new AnomalyDetector();
    // Day 3, 03:00: two days of history < minHistoryDays (3).
    const t = START + 2 * DAY + 3 * HOUR;
    simulateUntil(det, START, t);
    expect(bucket(det, t, 5_000)).toEqual([]);
  });

  it('alerts once per spike run, not on every bucket of it', () => {
    const det = new AnomalyDetector({ seasonality: 'hour' });
    const t = START + 7 * DAY + 2 * HOUR;
    simulateUntil(det, START, t);
    const all = [...bucket(det, t, 400), ...bucket(det, t + BUCKET, 400), ...bucket(det, t + 2 * BUCKET, 400)];
    expect(all.map((f) => f.title)).toEqual(['Event rate spike from DSK-CERT sensor fw-1']);
  });

  it('flags a drop to a trickle at a busy hour', () => {
    const det = new AnomalyDetector();
    const t = START + 15 * DAY + 13 * HOUR;
    simulateUntil(det, START, t);
    const f = bucket(det, t, 8);
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toBe('Event rate drop from DSK-CERT sensor fw-1');
    expect(f[0]!.seen).toBe('8 events in 5 min (13:00–13:05 UTC)');
  });

  it('reports a sensor that stops sending, once, and does not learn its silence', () => {
    const det = new AnomalyDetector();
    // Tuesday 2026-11-17 from 10:00: nothing arrives; the lead's pipeline ticks every minute.
    const from = START + 15 * DAY + 10 * HOUR;
    simulateUntil(det, START, from);
    const found: AnomalyFinding[] = [];
    for (let t = from; t <= from + 6 * HOUR; t += MIN) found.push(...det.tick(t));
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.title).toBe('DSK-CERT sensor fw-1 stopped sending events');
    expect(f.entity).toBe('sensor:fw-1');
    expect(f.seen).toBe('0 events in 10 min (since 10:00 UTC)');
    expect(f.expected).toMatch(/^about \d+ events in 10 min \(baseline of the weekday 10:00 slot, \d+ days of history\)$/);
    expect(f.atMs).toBe(from + 2 * BUCKET);
    expect(['medium', 'high']).toContain(f.severity);
    // The sensor comes back at its normal rate: no spike, because the silence was not learned.
    const back = from + 6 * HOUR;
    const r = rng(9);
    const after: AnomalyFinding[] = [];
    for (let t = back; t < back + 2 * HOUR; t += BUCKET) after.push(...bucket(det, t, poisson(officeRate(t), r)));
    expect(after).toEqual([]);
  });

  it('does not call a quiet night silence', () => {
    const det = new AnomalyDetector();
    // 01:00–02:00 on a weekday expects ~5 events per bucket; one empty bucket is not a silent sensor.
    const t = START + 15 * DAY + HOUR;
    simulateUntil(det, START, t);
    expect([...bucket(det, t, 0), ...bucket(det, t + BUCKET, 6)]).toEqual([]);
  });

  it('counts late events in the open bucket and ignores a tick that goes back in time', () => {
    const det = new AnomalyDetector({ seasonality: 'hour' });
    const t = START + 7 * DAY + 2 * HOUR;
    simulateUntil(det, START, t);
    expect(det.tick(t - HOUR)).toEqual([]);
    // 400 events stamped an hour ago arrive now: they count now, and that is a spike now.
    for (let i = 0; i < 400; i++) det.observe(ev(), t - HOUR);
    const f = det.tick(t + BUCKET);
    expect(f.map((x) => [x.title, x.atMs])).toEqual([['Event rate spike from DSK-CERT sensor fw-1', t + BUCKET]]);
  });

  it('keeps organisations and sensors apart', () => {
    const det = new AnomalyDetector({ seasonality: 'hour' });
    const t = START + 7 * DAY + 2 * HOUR;
    simulateUntil(det, START, t);
    // A different sensor of the same org starts with no baseline: no alert however busy.
    expect(bucket(det, t, 500, ev({}, ORG, 'fw-2'))).toEqual([]);
    expect(bucket(det, t + BUCKET, 500, ev({}, 'EST-CDA', SENSOR))).toEqual([]);
  });
});

// ---- first seen ----

function lines(rel: string): string[] {
  return readFileSync(sharedPath(`data/telemetry/${rel}`), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function normalised(rel: string, sensorId: string, limit = Infinity): NormalisedEvent[] {
  const out: NormalisedEvent[] = [];
  for (const l of lines(rel)) {
    if (out.length >= limit) break;
    const r = normaliseLine('auto', l, { orgId: ORG, sensorId });
    if (r.ok) out.push(r.event);
  }
  return out;
}

const ZEEK_DNS = 'zeek-wrccdc-2018/zeek-ndjson/dns.first-3_5MB.ndjson';

function sysmonEvents(): NormalisedEvent[] {
  const out: NormalisedEvent[] = [];
  for (const f of filesUnder(sharedPath('data/telemetry/otrf-security-datasets/datasets'), '.json')) {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      if (l.trim() === '') continue;
      const r = normaliseLine('auto', l, { orgId: ORG, sensorId: 'edr-1' });
      if (r.ok && typeof r.event['process.executable'] === 'string') out.push(r.event);
    }
  }
  return out;
}

describe('first-seen entities', () => {
  it('learns real Zeek DNS for the learning period, then reports only names never seen', () => {
    const dns = normalised(ZEEK_DNS, 'dns-1');
    expect(dns.length).toBeGreaterThan(5_000);
    const det = new AnomalyDetector();
    // Spread the real queries over the first six days: nothing is alerted while learning.
    const during = dns.flatMap((e, i) => det.observe(e, START + Math.floor((i * 6 * DAY) / dns.length)));
    expect(during.filter((f) => f.method === 'first-seen')).toEqual([]);
    const after = START + 8 * DAY;
    // Every real name again (as another subdomain too): nothing new.
    const again = dns.flatMap((e) => det.observe(e, after)).filter((f) => f.method === 'first-seen');
    expect(again).toEqual([]);
    // (The sensor went quiet between day 6 and day 8: rate findings are not this test's subject.)
    const f = det.observe(ev({ 'dns.question.name': 'cdn7.evil-update.example', 'destination.ip': '10.0.0.100' }, ORG, 'dns-1'), after + MIN).filter((x) => x.method === 'first-seen');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      method: 'first-seen',
      entity: 'domain:evil-update.example',
      title: 'First DNS query for domain evil-update.example from DSK-CERT sensor dns-1',
      severity: 'low',
      sensorId: 'dns-1',
      atMs: after + MIN,
    });
    expect(f[0]!.expected).toMatch(/^no domain outside the [\d,]+ known at DSK-CERT \(learning since 2026-11-02, 8 days, [\d,]+ observations\)$/);
    expect(f[0]!.seen).toBe('domain evil-update.example (from dns.question.name cdn7.evil-update.example) at 00:01 UTC');
    // Once seen it is known.
    expect(det.observe(ev({ 'dns.question.name': 'www.evil-update.example' }, ORG, 'dns-1'), after + 2 * MIN).filter((x) => x.method === 'first-seen')).toEqual([]);
  });

  it('reports a new public destination address but never internal ones', () => {
    const det = new AnomalyDetector({ learningDays: 1 });
    det.observe(ev({ 'destination.ip': '198.51.100.7' }), START);
    const t = START + 2 * DAY;
    for (const ip of ['10.1.2.3', '172.16.9.9', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', 'fe80::1', 'fd00::2', '::1', '224.0.0.251']) {
      expect(det.observe(ev({ 'destination.ip': ip }), t)).toEqual([]);
    }
    expect(det.observe(ev({ 'destination.ip': '198.51.100.7' }), t)).toEqual([]);
    const f = det.observe(ev({ 'destination.ip': '203.0.113.66' }), t);
    expect(f.map((x) => [x.entity, x.title])).toEqual([['ip:203.0.113.66', 'First connection to 203.0.113.66 from DSK-CERT sensor fw-1']]);
  });

  it('learns real Sysmon processes, then reports a new executable and a new parent → child pair', () => {
    const sysmon = sysmonEvents();
    expect(sysmon.length).toBeGreaterThan(100);
    const det = new AnomalyDetector();
    for (const e of sysmon) expect(det.observe(e, START).filter((f) => f.method === 'first-seen')).toEqual([]);
    const t = START + 7 * DAY;
    const known = sysmon.find((e) => typeof e['process.parent.executable'] === 'string')!;
    expect(det.observe(known, t).filter((f) => f.method === 'first-seen')).toEqual([]);
    const f = det.observe(
      ev({ 'process.executable': 'C:\\Users\\alice\\AppData\\Local\\Temp\\upd4te.exe', 'process.parent.executable': 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE' }, ORG, 'edr-1'),
      t,
    );
    expect(f.map((x) => x.title)).toEqual([
      'First execution of upd4te.exe at DSK-CERT (sensor edr-1)',
      'First time winword.exe started upd4te.exe at DSK-CERT (sensor edr-1)',
    ]);
    expect(f[0]!.entity).toBe('process:c:\\users\\*\\appdata\\local\\temp\\upd4te.exe');
    expect(f[1]!.severity).toBe('medium');
    // Bob's copy in his own profile is the same program.
    expect(det.observe(ev({ 'process.executable': 'C:\\Users\\bob\\AppData\\Local\\Temp\\UPD4TE.exe' }, ORG, 'edr-1'), t + MIN)).toEqual([]);
  });

  it('names the organisation with orgLabel in texts but keeps its id in orgId', () => {
    const names: Record<string, string> = { 'b7e1c9d2-0000-4000-8000-000000000005': 'DSK-CERT' };
    const det = new AnomalyDetector({ learningDays: 0, orgLabel: (id) => names[id] ?? id });
    const f = det.observe(ev({ 'destination.domain': 'evil.example' }, 'b7e1c9d2-0000-4000-8000-000000000005'), START);
    expect(f.map((x) => [x.orgId, x.title])).toEqual([['b7e1c9d2-0000-4000-8000-000000000005', 'First connection to domain evil.example from DSK-CERT sensor fw-1']]);
    expect(f[0]!.seen).toBe('domain evil.example at 00:00 UTC');
  });

  it('learns per (organisation, kind) from the first value of that kind', () => {
    const det = new AnomalyDetector();
    det.observe(ev({ 'dns.question.name': 'a.example.org' }), START);
    // An EDR sensor joins on day 10: its processes are learned for 7 days from then.
    const t = START + 10 * DAY;
    expect(det.observe(ev({ 'process.executable': '/usr/bin/curl' }, ORG, 'edr-9'), t)).toEqual([]);
    expect(det.observe(ev({ 'process.executable': '/usr/bin/wget' }, ORG, 'edr-9'), t + DAY)).toEqual([]);
    expect(det.observe(ev({ 'process.executable': '/tmp/.x/kworker' }, ORG, 'edr-9'), t + 8 * DAY)).toHaveLength(1);
    // Another organisation learns on its own.
    expect(det.observe(ev({ 'dns.question.name': 'b.example.net' }, 'EST-CDA'), t)).toEqual([]);
  });

  it('bounds memory at the cap, forgets the least recently seen, and says so', () => {
    const det = new AnomalyDetector({ learningDays: 1, maxValuesPerKind: 100, firstSeenPerHour: 1_000_000 });
    for (let i = 0; i < 1_000; i++) det.observe(ev({ 'dns.question.name': `host.d${i}.example` }), START + i * 1_000);
    expect(det.stats().knownValues).toBe(100);
    expect(det.stats().knownEvicted).toBe(900);
    // d999 was kept (recent); d0 was forgotten and is reported again, flagged as possibly a return.
    const t = START + 2 * DAY;
    expect(det.observe(ev({ 'dns.question.name': 'd999.example' }), t)).toEqual([]);
    const f = det.observe(ev({ 'dns.question.name': 'd0.example' }), t);
    expect(f).toHaveLength(1);
    expect(f[0]!.expected).toMatch(/; memory keeps at least the 50 most recently seen, 9\d\d older ones were forgotten, so this may be a return\)$/);
    for (let i = 0; i < 5_000; i++) det.observe(ev({ 'dns.question.name': `n${i}.example` }), t + i);
    expect(det.stats().knownValues).toBeLessThanOrEqual(100);
    // A lower cap on reload keeps the most recent values within the new cap.
    const small = AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(det.toJSON())), { learningDays: 1, maxValuesPerKind: 10 });
    expect(small.stats().knownValues).toBeLessThanOrEqual(10);
    expect(small.observe(ev({ 'dns.question.name': 'n4999.example' }), t + DAY).filter((x) => x.method === 'first-seen')).toEqual([]);
  });

  it('rate-limits a burst of new values and says so once', () => {
    const det = new AnomalyDetector({ learningDays: 0, firstSeenPerHour: 3 });
    // No learning period: the very first value is new too.
    const out = det.observe(ev({ 'dns.question.name': 'seed.example' }), START);
    for (let i = 0; i < 10; i++) out.push(...det.observe(ev({ 'dns.question.name': `x${i}.example` }), START + MIN));
    expect(out.map((f) => f.entity)).toEqual(['domain:seed.example', 'domain:x0.example', 'domain:x1.example', 'domain:*']);
    expect(out[3]!.title).toBe('Burst of new domains at DSK-CERT: further ones are learned without findings until 01:00 UTC');
    // The next hour has a fresh budget; the suppressed values were learned.
    expect(det.observe(ev({ 'dns.question.name': 'x5.example' }), START + 2 * HOUR)).toEqual([]);
    expect(det.observe(ev({ 'dns.question.name': 'y.example' }), START + 2 * HOUR)).toHaveLength(1);
  });
});

describe('rare values', () => {
  const opts: AnomalyOptions = { rareMinObservations: 1_000, rareShare: 0.01, learningDays: 365 };

  it('flags a value below the share threshold after enough observations, once per cooldown', () => {
    const det = new AnomalyDetector(opts);
    const r = rng(4);
    const uas = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0 (Macintosh)', 'Microsoft-CryptoAPI/10.0'];
    for (let i = 0; i < 1_010; i++) {
      // Before 1,000 observations nothing is judged rare.
      if (i === 500) expect(det.observe(ev({ 'user_agent.original': 'Wget/1.21' }, ORG, 'proxy-1'), START + i * 1_000)).toEqual([]);
      expect(det.observe(ev({ 'user_agent.original': uas[Math.floor(r() * 3)] }, ORG, 'proxy-1'), START + i * 1_000)).toEqual([]);
    }
    expect(det.observe(ev({ 'user_agent.original': 'curl/8.4.0' }, ORG, 'proxy-1'), START + HOUR)).toHaveLength(1);
    const t = START + 2 * HOUR;
    const f = det.observe(ev({ 'user_agent.original': 'python-requests/2.31' }, ORG, 'proxy-1'), t);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      method: 'rare',
      entity: 'user_agent:python-requests/2.31',
      title: 'Rare user agent "python-requests/2.31" at DSK-CERT (sensor proxy-1)',
      seen: '"python-requests/2.31" not among the values seen recently',
      severity: 'low',
    });
    expect(f[0]!.expected).toMatch(/^user agents that make up at least 1\.0% of 1,00\d recent observations \(counts halve every 14 days\)$/);
    // Again within the cooldown: nothing; a common value: nothing.
    expect(det.observe(ev({ 'user_agent.original': 'python-requests/2.31' }, ORG, 'proxy-1'), t + MIN)).toEqual([]);
    expect(det.observe(ev({ 'user_agent.original': uas[0] }, ORG, 'proxy-1'), t + MIN)).toEqual([]);
    // A day later (counts have decayed by 2^(-1/14)): more traffic, and curl is still rare; the
    // cooldown is over, so it is reported again, with its share.
    for (let i = 0; i < 200; i++) det.observe(ev({ 'user_agent.original': uas[i % 3] }, ORG, 'proxy-1'), t + 24 * HOUR + i);
    const g = det.observe(ev({ 'user_agent.original': 'curl/8.4.0' }, ORG, 'proxy-1'), t + 25 * HOUR);
    expect(g).toHaveLength(1);
    expect(g[0]!.seen).toMatch(/^"curl\/8\.4\.0" in 0\.\d+% of recent observations \(decayed count 0\.9\)$/);
  });

  it('shows telemetry text without control characters', () => {
    const det = new AnomalyDetector(opts);
    for (let i = 0; i < 1_100; i++) det.observe(ev({ 'user_agent.original': 'Mozilla/5.0' }), START + i);
    const f = det.observe(ev({ 'user_agent.original': 'x\r\nInjected: header' }), START + HOUR);
    expect(f[0]!.title).toBe('Rare user agent "x??Injected: header" at DSK-CERT (sensor fw-1)');
  });

  it('tracks rare DNS top-level domains and destination ports, skipping ephemeral ports', () => {
    const det = new AnomalyDetector(opts);
    for (let i = 0; i < 1_200; i++) det.observe(ev({ 'dns.question.name': `h${i % 50}.example.com`, 'destination.port': i % 2 ? 443 : 53 }), START + i);
    const t = START + HOUR;
    const f = det.observe(ev({ 'dns.question.name': 'kz81.top', 'destination.port': 4444 }), t);
    expect(f.map((x) => x.title)).toEqual(['Rare DNS top-level domain .top at DSK-CERT (sensor fw-1)', 'Rare destination port 4444 at DSK-CERT (sensor fw-1)']);
    expect(det.observe(ev({ 'destination.port': 50123 }), t)).toEqual([]);
  });

  it('judges an event without learning from it: the same findings as a first observation, the state untouched', () => {
    const det = new AnomalyDetector({ ...opts, learningDays: 1 });
    expect(det.judge(ev({ 'user_agent.original': 'curl/8.4.0' }), START)).toEqual([]); // nothing learned yet
    for (let i = 0; i < 1_200; i++) det.observe(ev({ 'user_agent.original': 'Mozilla/5.0', 'dns.question.name': `h${i % 20}.example.com` }), START + i);
    const before = JSON.stringify(det.toJSON());
    const t = START + 2 * DAY;
    const odd = ev({ 'user_agent.original': 'curl/8.4.0', 'dns.question.name': 'c2.evil.com' });
    const judged = det.judge(odd, t);
    expect(judged.map((f) => [f.method, f.entity])).toEqual([['first-seen', 'domain:evil.com'], ['rare', 'user_agent:curl/8.4.0']]);
    expect(judged[0]!.expected).toMatch(/^no domain outside the 1 known at DSK-CERT \(learning since 2026-11-02, 2 days, 1,200 observations\)$/);
    expect(det.judge(odd, t + 1)).toEqual(judged.map((f) => ({ ...f, atMs: t + 1 }))); // no cooldown or budget spent
    expect(JSON.stringify(det.toJSON())).toBe(before);
    // Observed (learned), the same event gives the same findings once, with the same text.
    const learned = det.observe(odd, t);
    expect(learned.map((f) => [f.method, f.entity, f.expected])).toEqual(judged.map((f) => [f.method, f.entity, f.expected]));
    // The domain is known now; one observation does not make the user agent common.
    expect(det.judge(odd, t + 2).map((f) => f.entity)).toEqual(['user_agent:curl/8.4.0']);
  });

  it('bounds the tracked values at the capacity', () => {
    const det = new AnomalyDetector({ ...opts, rareCapacity: 64, rarePerHour: 1_000_000 });
    for (let i = 0; i < 10_000; i++) det.observe(ev({ 'user_agent.original': i % 2 ? 'common' : `junk-${i}` }), START + i);
    expect(det.stats().rareValues).toBeLessThanOrEqual(64);
    // The common value survived every shrink: it is not rare.
    expect(det.observe(ev({ 'user_agent.original': 'common' }), START + DAY)).toEqual([]);
  });
});

// ---- persisted state ----

/** A mixed workload: rates over 10 days plus DNS names and user agents. */
function workload(det: AnomalyDetector, from: number, days: number): AnomalyFinding[] {
  const r = rng(7);
  const out: AnomalyFinding[] = [];
  for (let t = from; t < from + days * DAY; t += BUCKET) {
    const n = poisson(officeRate(t), r);
    for (let i = 0; i < n; i++) {
      const e = ev({ 'dns.question.name': `h${Math.floor(r() * 400)}.site${Math.floor(r() * r() * 300)}.example`, 'user_agent.original': `ua-${Math.floor(r() * r() * 50)}` });
      out.push(...det.observe(e, t + i));
    }
    out.push(...det.tick(t + BUCKET));
  }
  return out;
}

describe('persisted state', () => {
  it('round-trips through JSON text and behaves exactly like the original', () => {
    const opts: AnomalyOptions = { rareMinObservations: 2_000, maxValuesPerKind: 500 };
    const a = new AnomalyDetector(opts);
    workload(a, START, 10);
    const text = JSON.stringify(a.toJSON());
    const b = AnomalyDetector.fromJSON(JSON.parse(text), opts);
    expect(JSON.stringify(b.toJSON())).toBe(text);
    const fa = workload(a, START + 10 * DAY, 3);
    const fb = workload(b, START + 10 * DAY, 3);
    expect(fa.length).toBeGreaterThan(0);
    expect(fb).toEqual(fa);
    // And a spike is still caught by the restored one.
    const spike = bucket(b, START + 14 * DAY + 3 * HOUR, 300);
    expect(spike.map((f) => f.title)).toContain('Event rate spike from DSK-CERT sensor fw-1');
  });

  it('merges what several workers save: each keeps the organisations it holds, the most recent state of each wins; a worker adopts the organisations of partitions it takes', () => {
    // Two workers, each holding one organisation (scale-out partitions by organisation).
    const traffic = (det: AnomalyDetector, org: string, from: number, days: number) => {
      const r = rng(org.length);
      const out: AnomalyFinding[] = [];
      for (let t = from; t < from + days * DAY; t += BUCKET) {
        const n = poisson(officeRate(t), r);
        for (let i = 0; i < n; i++) out.push(...det.observe(ev({ 'dns.question.name': `h${Math.floor(r() * 400)}.example` }, org), t + i));
        out.push(...det.tick(t + BUCKET));
      }
      return out;
    };
    const a = new AnomalyDetector();
    const b = new AnomalyDetector();
    traffic(a, 'ORG-A', START, 5);
    const stale = AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(b.mergedJSON(null))));
    traffic(b, 'ORG-BB', START, 8);
    // Saved one after the other into one key: neither erases the other.
    let saved = JSON.parse(JSON.stringify(a.mergedJSON(null)));
    saved = JSON.parse(JSON.stringify(b.mergedJSON(saved)));
    expect((saved as { orgs: { id: string }[] }).orgs.map((o) => o.id).sort()).toEqual(['ORG-A', 'ORG-BB']);
    // A worker holding an older state of ORG-BB (it gave the partition away) does not overwrite the newer one.
    traffic(stale, 'ORG-A', START, 1);
    const again = JSON.parse(JSON.stringify(stale.mergedJSON(saved))) as { orgs: { id: string }[] };
    const orgOf = (x: { orgs: { id: string }[] }, id: string) => JSON.stringify(x.orgs.find((o) => o.id === id));
    expect(orgOf(again, 'ORG-BB')).toBe(orgOf(saved, 'ORG-BB'));
    expect(orgOf(again, 'ORG-A')).toBe(orgOf(saved, 'ORG-A')); // a's 5 days are newer than stale's 1
    // A worker that takes ORG-BB's partition adopts its baselines and goes on exactly as b would.
    const c = new AnomalyDetector();
    traffic(c, 'ORG-A', START, 1);
    expect(c.adopt(again, (id) => id === 'ORG-BB')).toBe(1);
    expect(c.stats().orgs).toBe(2);
    const ofBB = (f: AnomalyFinding[]) => f.filter((x) => x.orgId === 'ORG-BB');
    const fc = ofBB(traffic(c, 'ORG-BB', START + 8 * DAY, 2));
    expect(fc).toEqual(ofBB(traffic(b, 'ORG-BB', START + 8 * DAY, 2)));
    expect(orgOf(c.toJSON() as { orgs: { id: string }[] }, 'ORG-BB')).toBe(orgOf(b.toJSON() as { orgs: { id: string }[] }, 'ORG-BB'));
    expect(c.adopt(again, (id) => id === 'ORG-BB')).toBe(0); // already more recent here
    expect(c.adopt({ format: 'garbage' }, () => true)).toBe(0);
  });

  it('keeps the last position learned per organisation: an event delivered twice is learned once, a replay after a save learns only what came after it', () => {
    const r = rng(11);
    const events: [NormalisedEvent, number][] = [];
    for (let t = START; t < START + 6 * DAY; t += BUCKET) {
      for (let i = 0, n = poisson(officeRate(t), r); i < n; i++) {
        const org = r() < 0.5 ? ORG : 'ORG-B';
        events.push([ev({ 'dns.question.name': `h${Math.floor(r() * 300)}.site${Math.floor(r() * r() * 200)}.example`, 'user_agent.original': `ua-${Math.floor(r() * r() * 40)}` }, org), t + i]);
      }
    }
    // Positioned workload: each event numbered in one source, as the engine passes them.
    const feed = (det: AnomalyDetector, from: number, to: number, how: 'observe' | 'relearn' = 'observe') => {
      const out: AnomalyFinding[] = [];
      for (let i = from; i < to; i++) {
        const [e, t] = events[i]!;
        if (how === 'observe') out.push(...det.observe(e, t, { source: 'spool', seq: i + 1 }));
        else det.relearn(e, t, { source: 'spool', seq: i + 1 });
      }
      return out;
    };
    const cut = Math.floor(events.length * 0.6);
    const crash = Math.floor(events.length * 0.8);
    // The worker that ran throughout.
    const whole = new AnomalyDetector();
    const fWhole = feed(whole, 0, events.length);
    // A worker that saved at `cut`, learned on to `crash` and died; its successor loads the save,
    // relearns cut..crash from the source (findings dropped: they were raised), then goes on.
    const first = new AnomalyDetector();
    const fFirst = feed(first, 0, crash);
    const saved = JSON.parse(JSON.stringify(AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(first.toJSON()))).toJSON())) as unknown;
    const atCut = new AnomalyDetector();
    feed(atCut, 0, cut);
    const next = AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(atCut.toJSON())));
    expect(next.replayFrom('spool')).toBeGreaterThan(cut - 20); // both organisations' last events are near the cut
    expect(next.replayFrom('spool')).toBeLessThanOrEqual(cut);
    expect(next.replayFrom('stream:x')).toBeNull(); // positions of another source say nothing
    feed(next, next.replayFrom('spool')! - 1 - 50, crash, 'relearn'); // from a little earlier: repeats change nothing
    expect(JSON.stringify(next.toJSON())).toBe(JSON.stringify(saved));
    const fNext = feed(next, crash, events.length);
    expect(fNext.length).toBeGreaterThan(0);
    expect([...fFirst, ...fNext]).toEqual(fWhole);
    expect(JSON.stringify(next.toJSON())).toBe(JSON.stringify(whole.toJSON()));
    // Delivered again (a batch re-read after a failed transaction): nothing learned, nothing raised.
    expect(feed(next, 0, events.length)).toEqual([]);
    expect(JSON.stringify(next.toJSON())).toBe(JSON.stringify(whole.toJSON()));
    // Without the replay, the successor would hold less: the test above can fail.
    const lost = AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(atCut.toJSON())));
    expect(JSON.stringify(lost.toJSON())).not.toBe(JSON.stringify(saved));
    // State saved without positions (an older version) is not relearned: it cannot say what it holds.
    const legacy = new AnomalyDetector();
    for (let i = 0; i < cut; i++) legacy.observe(events[i]![0], events[i]![1]);
    expect(legacy.replayFrom('spool')).toBeNull();
    const before = JSON.stringify(legacy.toJSON());
    feed(legacy, 0, cut, 'relearn');
    expect(JSON.stringify(legacy.toJSON())).toBe(before);
    expect(new AnomalyDetector().replayFrom('spool')).toBe(0); // nothing learned: replay all there is
  });

  it('takes over the state that has seen more of the same source, whatever the clock says', () => {
    const a = new AnomalyDetector();
    const b = new AnomalyDetector();
    a.observe(ev({ 'dns.question.name': 'one.example' }), START + 3 * DAY, { source: 'stream:s', seq: 10 }); // its clock ahead
    b.observe(ev({ 'dns.question.name': 'one.example' }), START + DAY, { source: 'stream:s', seq: 10 });
    b.observe(ev({ 'dns.question.name': 'two.example' }), START, { source: 'stream:s', seq: 11 }); // a sensor clock behind
    const saved = JSON.parse(JSON.stringify(b.mergedJSON(a.toJSON()))) as { orgs: { through: unknown }[] };
    expect(saved.orgs[0]!.through).toEqual({ source: 'stream:s', seq: 11 });
    expect(JSON.parse(JSON.stringify(a.mergedJSON(saved))).orgs[0].through).toEqual({ source: 'stream:s', seq: 11 });
    expect(a.adopt(saved, () => true)).toBe(1);
    expect(a.adopt(saved, () => true)).toBe(0);
  });

  it('is deterministic: two detectors fed the same input give the same findings and state', () => {
    const a = new AnomalyDetector();
    const b = new AnomalyDetector();
    expect(workload(a, START, 9)).toEqual(workload(b, START, 9));
    expect(a.toJSON()).toEqual(b.toJSON());
  });

  it('rejects garbage with BAD_REQUEST', () => {
    const d = new AnomalyDetector();
    workload(d, START, 1);
    const text = JSON.stringify(d.toJSON());
    const good = (): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;
    const orgs = (s: Record<string, unknown>): Record<string, unknown>[] => s['orgs'] as Record<string, unknown>[];
    const cases: ((s: Record<string, unknown>) => unknown)[] = [
      () => null,
      () => 'state',
      () => [],
      () => ({}),
      (s) => ({ ...s, version: 2 }),
      (s) => ({ ...s, format: 'other' }),
      (s) => ({ ...s, orgs: {} }),
      (s) => ({ ...s, config: { ...(s['config'] as object), seasonality: 'monthly' } }),
      (s) => ({ ...s, orgs: [...orgs(s), ...orgs(s)] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], id: '' }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], streams: [{ ...(orgs(s)[0]!['streams'] as object[])[0], slots: [1, 2, 3] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], streams: [{ ...(orgs(s)[0]!['streams'] as object[])[0], count: -1 }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], streams: [{ ...(orgs(s)[0]!['streams'] as object[])[0], bucket: 'x' }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], known: [{ kind: 'hash', since: 0, observations: 0, evicted: 0, hourStart: 0, hourCount: 0, previous: [], current: [] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], known: [{ kind: 'domain', since: 0, observations: 0, evicted: 0, hourStart: 0, hourCount: 0, previous: ['a'], current: ['a'] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], known: [{ kind: 'domain', since: 0, observations: 0, evicted: 0, hourStart: 0, hourCount: 0, previous: [], current: [1] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], rare: [{ field: 'destination.port', ref: 0, total: 1, hourStart: 0, hourCount: 0, values: [['80', 1, null]] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], rare: [{ field: 'user_agent', ref: 0, total: 1, hourStart: 0, hourCount: 0, values: [['x', Number.NaN, null]] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], rare: [{ field: 'user_agent', ref: 0, total: 1, hourStart: 0, hourCount: 0, values: [['x', 1]] }] }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], through: 5 }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], through: { source: '', seq: 5 } }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], through: { source: 'spool', seq: -1 } }] }),
      (s) => ({ ...s, orgs: [{ ...orgs(s)[0], through: { source: 'spool', seq: 1.5 } }] }),
    ];
    for (const c of cases) expectBadRequest(() => AnomalyDetector.fromJSON(c(good())));
    expect(() => AnomalyDetector.fromJSON(good())).not.toThrow();
  });

  it('drops rate baselines built with other buckets but keeps first-seen memory', () => {
    const a = new AnomalyDetector({ learningDays: 1 });
    a.observe(ev({ 'dns.question.name': 'known.example' }), START);
    bucket(a, START + BUCKET, 10);
    const b = AnomalyDetector.fromJSON(JSON.parse(JSON.stringify(a.toJSON())), { learningDays: 1, bucketMinutes: 10 });
    expect(b.stats()).toMatchObject({ sensors: 0, knownValues: 1 });
    expect(b.observe(ev({ 'dns.question.name': 'known.example' }), START + 2 * DAY)).toEqual([]);
  });

  it('rejects invalid options and times', () => {
    expectBadRequest(() => new AnomalyDetector({ bucketMinutes: 7 }));
    expectBadRequest(() => new AnomalyDetector({ rareShare: 2 }));
    expectBadRequest(() => new AnomalyDetector({ seasonality: 'monthly' as never }));
    expectBadRequest(() => new AnomalyDetector().observe(ev(), Number.NaN));
    expectBadRequest(() => new AnomalyDetector().tick(Number.POSITIVE_INFINITY));
  });

  it('ignores events without organisation or sensor', () => {
    const det = new AnomalyDetector();
    expect(det.observe(ev({ 'organization.id': '' }), START)).toEqual([]);
    expect(det.stats().orgs).toBe(0);
  });
});

describe('entity keys', () => {
  it('public addresses', () => {
    expect(publicIp('8.8.8.8')).toBe('8.8.8.8');
    expect(publicIp('10.0.0.1')).toBeNull();
    expect(publicIp('172.31.255.255')).toBeNull();
    expect(publicIp('172.32.0.1')).toBe('172.32.0.1');
    expect(publicIp('::ffff:192.168.0.1')).toBeNull();
    expect(publicIp('2001:DB8::1')).toBe('2001:db8::1');
    expect(publicIp('not-an-ip')).toBeNull();
    expect(publicIp('255.255.255.255')).toBeNull();
  });

  it('registered domains and TLDs', () => {
    expect(registeredDomain('WWW.Mail.Evil.Example.')).toBe('evil.example');
    expect(registeredDomain('news.bbc.co.uk')).toBe('bbc.co.uk');
    expect(registeredDomain('attacker.github.io')).toBe('attacker.github.io');
    expect(registeredDomain('dc01.corp.local')).toBeNull();
    expect(registeredDomain('1.2.168.192.in-addr.arpa')).toBeNull();
    expect(registeredDomain('192.168.1.1')).toBeNull();
    expect(registeredDomain('localhost')).toBeNull();
    expect(registeredDomain('bad name.example')).toBeNull();
    expect(tldOf('x.evil.TOP')).toBe('top');
    expect(tldOf('wpad')).toBeNull();
  });

  it('executables fold case on Windows and user profiles everywhere', () => {
    expect(executableKey('C:\\Users\\Alice\\AppData\\x.EXE')).toBe('c:\\users\\*\\appdata\\x.exe');
    expect(executableKey('/home/bob/.local/bin/tool')).toBe('/home/*/.local/bin/tool');
    expect(executableKey('/usr/bin/Python3')).toBe('/usr/bin/Python3');
  });
});
