/**
 * The detection pipeline through the HTTP API: sensors ingest telemetry, indicators released
 * to the sensor's organisation (and only those) raise grouped alerts, sightings go back to the
 * producer, analysts work the alerts, and the picture counts them.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, mayRelease } from '../src/access/index.js';
import type { BusEvent } from '../src/core/bus.js';
import { DetectEngine } from '../src/detect/pipeline/engine.js';
import { SightingBook } from '../src/detect/pipeline/sightings.js';
import { createEngine } from '../src/detect/worker/wiring.js';
import { WorkerRuntime } from '../src/detect/worker/runtime.js';
import { expectError, http, withAlliance, indicator, makeAlliance, relationship, sdo, submitAs, type Alliance } from './rest-fixtures.js';

const T = '2026-03-01T10:00:00.000000+0000';
const flow = (dest: string, src = '10.0.0.5') => JSON.stringify({ timestamp: T, event_type: 'flow', src_ip: src, src_port: 50000, dest_ip: dest, dest_port: 443, proto: 'TCP', flow_id: 1 });
const dns = (name: string) => JSON.stringify({ timestamp: T, event_type: 'dns', src_ip: '10.0.0.5', src_port: 5353, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: name, rrtype: 'A' } });

describe('detection pipeline over HTTP', () => {
  let al: Alliance;
  let csirt: string;
  let sensorA: string;
  let sensorB: string;
  let ipIndicator: string;
  let privateIndicator: string;
  const seen: BusEvent[] = [];
  const ingest = (token: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...headers }, payload: body });
  const patch = async (user: string, id: string, body: unknown) => {
    const res = await al.app.inject({ method: 'PATCH', url: `/api/v1/alerts/${id}`, headers: { authorization: `Bearer ${al.tokens[user]}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, headers: res.headers as Record<string, unknown>, body: res.body, json: () => JSON.parse(res.body) };
  };

  beforeAll(async () => {
    al = await makeAlliance();
    const { access } = al.platform;
    csirt = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Alliance CSIRT', shortName: 'CSIRT', kind: 'alliance-body' })).id;
    sensorA = (await access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-a' })).token;
    sensorB = (await access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.B, kind: 'sensor', name: 'fw-b' })).token;
    const ip = indicator('C2 address', { pattern: "[ipv4-addr:value = '198.51.100.7']", confidence: 90 });
    ipIndicator = ip.id as string;
    const ap = sdo('attack-pattern', { name: 'Web Protocols', external_references: [{ source_name: 'mitre-attack', external_id: 'T1071.001' }] });
    await submitAs(al, 'a-analyst', al.shared, { objects: [ip, ap, relationship(ip, 'indicates', ap)], defaultTlp: 'green' });
    // B's AMBER indicator, released to nobody but B.
    const priv = indicator('B private domain', { pattern: "[domain-name:value = 'bad.example']" });
    privateIndicator = priv.id as string;
    await submitAs(al, 'b-analyst', al.shared, { objects: [priv], defaultTlp: 'amber' });
    await al.platform.detect.refreshDirectory();
    await al.platform.detect.feed.sync();
    al.platform.bus.subscribe((e) => { if (e.type.startsWith('alert.')) seen.push(e); });
  });
  afterAll(async () => al.close());

  it('answers each batch with counts and the first errors by line number; a bad line never drops the batch', async () => {
    const res = await ingest(sensorA, [flow('198.51.100.7'), dns('bad.example'), '{"event_type": "flow", broken', '', 'not json at all'].join('\n'));
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(2);
    expect(body.errors.map((e: { line: number }) => e.line)).toEqual([3, 5]);
    expect(typeof body.errors[0].reason).toBe('string');
    expect(body.lastSeq - body.firstSeq).toBe(1);
    expect(body.queue.capacity).toBe(200_000);
  });

  it('raises an alert only for the indicator released to the sensor organisation', async () => {
    await al.platform.detect.drain();
    const res = await http(al).get('a-analyst', '/api/v1/alerts');
    expect(res.status).toBe(200);
    const alerts = res.json().alerts;
    expect(alerts).toHaveLength(1);
    const a = alerts[0];
    expect(a).toMatchObject({ orgId: al.orgs.A, sensorId: 'fw-a', source: 'indicator', severity: 'high', status: 'new', count: 1, entity: '10.0.0.5' });
    expect(a.matched).toMatchObject({ kind: 'indicator', id: ipIndicator, name: 'C2 address', via: 'exact', path: 'ipv4-addr:value', value: '198.51.100.7' });
    expect(a.techniques).toEqual(['T1071.001']);
    expect(a.samples).toHaveLength(1);
    expect(a.samples[0]['destination.ip']).toBe('198.51.100.7');
    // B's private indicator never fires for A, and A's alert is not B's to see.
    expect(alerts.some((x: { matched: { id?: string } }) => x.matched.id === privateIndicator)).toBe(false);
    expect((await http(al).get('b-analyst', '/api/v1/alerts')).json().alerts).toEqual([]);
    expectError(await http(al).get('b-analyst', `/api/v1/alerts/${a.id}`), 404, 'NOT_FOUND');
  });

  it('groups repeats of the same indicator and entity into one alert and pushes updates live', async () => {
    seen.length = 0;
    await ingest(sensorA, [flow('198.51.100.7'), flow('198.51.100.7')].join('\n'));
    await ingest(sensorA, flow('198.51.100.7', '10.0.0.9'));
    await al.platform.detect.drain();
    const alerts = (await http(al).get('a-analyst', '/api/v1/alerts')).json().alerts;
    expect(alerts.map((a: { entity: string; count: number }) => [a.entity, a.count]).sort()).toEqual([['10.0.0.5', 3], ['10.0.0.9', 1]]);
    const types = seen.map((e) => e.type).sort();
    expect(types).toEqual(['alert.created', 'alert.updated']);
    const b = { hop: 'local' as const, orgId: al.orgs.B, groupIds: [] };
    // Every event carries release facts that keep it from B's live stream, and reach the CSIRT (the indicator is GREEN).
    for (const e of seen) {
      expect(mayRelease(e.facts, b, 'read')).toBe(false);
      expect(mayRelease(e.facts, { hop: 'local', orgId: csirt, groupIds: [] }, 'read')).toBe(true);
    }
  });

  it('B sighting A\'s indicator sends a sighting to A and the CSIRT, not to C', async () => {
    await ingest(sensorB, [flow('198.51.100.7', '172.16.0.4'), dns('bad.example')].join('\n'));
    await al.platform.detect.drain();
    const bAlerts = (await http(al).get('b-analyst', '/api/v1/alerts')).json().alerts;
    expect(bAlerts.map((a: { matched: { id: string } }) => a.matched.id).sort()).toEqual([ipIndicator, privateIndicator].sort());
    await al.platform.detect.sightings.flush(SYSTEM_ACTOR, { nowMs: al.clock.now(), force: true });
    const sightings = async (user: string) => {
      const items = (await http(al).get(user, '/api/v1/intel?type=sighting&limit=100')).json().items as { id: string }[];
      return Promise.all(items.map(async (i) => (await http(al).get(user, `/api/v1/intel/${i.id}`)).json().object as Record<string, unknown>));
    };
    const forA = await sightings('a-analyst');
    const bSighting = forA.find((o) => o['sighting_of_ref'] === ipIndicator && (o['where_sighted_refs'] as string[] | undefined)?.includes(al.orgs.B));
    expect(bSighting, JSON.stringify(forA).slice(0, 500)).toBeDefined();
    expect(bSighting!['count']).toBe(1);
    expect(bSighting!['observed_data_refs']).toHaveLength(1);
    expect((await sightings('c-analyst')).length).toBe(0);
    // The CSIRT receives it too (the indicator is GREEN, so released to the CSIRT).
    const csirtUser = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId: csirt, username: 'csirt-analyst', password: 'correct horse battery staple', roles: ['analyst'] });
    al.tokens['csirt-analyst'] = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: csirt, userId: csirtUser.id, kind: 'api', name: 't' })).token;
    expect((await sightings('csirt-analyst')).some((o) => o['id'] === bSighting!['id'])).toBe(true);
    // The producer's summary: how often its indicator fired, and where.
    const summary = (await http(al).get('a-analyst', `/api/v1/intel/${ipIndicator}/sightings`)).json();
    expect(summary.organisations.map((o: { orgId: string; count: number }) => [o.orgId, o.count]).sort()).toEqual([[al.orgs.A, 4], [al.orgs.B, 1]].sort());
    expect(summary.total).toBe(5);
    // C may read the indicator (GREEN) but none of its sightings.
    expect((await http(al).get('c-analyst', `/api/v1/intel/${ipIndicator}/sightings`)).json()).toMatchObject({ total: 0, organisations: [] });
  });

  it('analysts acknowledge, mark false positive and escalate; others cannot', async () => {
    const first = (await http(al).get('a-analyst', '/api/v1/alerts?severity=high&source=indicator')).json().alerts.find((a: { entity: string }) => a.entity === '10.0.0.5');
    expectError(await patch('b-analyst', first.id, { status: 'acknowledged' }), 404, 'NOT_FOUND');
    expectError(await patch('a-analyst', first.id, { status: 'closed' }), 400, 'BAD_REQUEST');
    expectError(await patch('a-analyst', first.id, { status: 'acknowledged', rev: first.rev + 5 }), 409, 'CONFLICT');
    const ack = await patch('a-analyst', first.id, { status: 'acknowledged', assignee: 'a-analyst', note: 'looking' });
    expect(ack.status, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'acknowledged', assignee: 'a-analyst' });
    expectError(await patch('a-analyst', first.id, { assignee: 'b-analyst' }), 400, 'BAD_REQUEST');
    const esc = await http(al).call('POST', `/api/v1/alerts/${first.id}/escalate`, { token: al.tokens['a-responder']!, body: {} });
    expect(esc.status, esc.body).toBe(200);
    const incidentId = esc.json().incidentId;
    expect(esc.json().alert.status).toBe('escalated');
    const inc = (await http(al).get('a-responder', `/api/v1/incidents/${incidentId}`)).json();
    expect(inc.links.alerts).toContain(first.id);
    expect(inc.links.indicators).toContain(ipIndicator);
    // The entity and the matched value are observables of the incident ("similar incidents" needs them).
    expect(inc.observables.map((o: { type: string; value: string; ioc: boolean }) => [o.type, o.value, o.ioc])).toEqual([
      ['ipv4-addr', '10.0.0.5', false], ['ipv4-addr', '198.51.100.7', true],
    ]);
    const detail = (await http(al).get('a-analyst', `/api/v1/alerts/${first.id}`)).json();
    expect(detail.history.map((h: { kind: string }) => h.kind)).toEqual(['alert.created', 'alert.updated', 'alert.escalated']);
    expect(detail.history[1].user).toBe('a-analyst');
    // An escalated alert keeps absorbing repeats: no new alert for the same group.
    await ingest(sensorA, flow('198.51.100.7'));
    await al.platform.detect.drain();
    const again = (await http(al).get('a-analyst', `/api/v1/alerts/${first.id}`)).json();
    expect(again.count).toBe(4);
    expect(again.status).toBe('escalated');
  });

  it('the picture counts alerts per member and rates per bucket', async () => {
    const cop = (await http(al).get('c-analyst', '/api/v1/cop?hours=6')).json();
    const a = cop.members.find((m: { orgId: string }) => m.orgId === al.orgs.A);
    const b = cop.members.find((m: { orgId: string }) => m.orgId === al.orgs.B);
    expect(a.alerts.high).toBe(2);
    expect(a.openIncidents).toBe(1);
    expect(b.alerts.medium + b.alerts.high).toBe(2);
    expect(cop.rates.buckets.reduce((n: number, x: { events: number }) => n + x.events, 0)).toBe(8);
    // The chart's alerts and the tiles' alerts are the same alerts: they add up to the same figure.
    const tiles = cop.members.reduce((n: number, m: { alerts: Record<string, number> }) => n + Object.values(m.alerts).reduce((x, y) => x + y, 0), 0);
    expect(tiles).toBeGreaterThan(0);
    expect(cop.rates.buckets.reduce((n: number, x: { alerts: number }) => n + x.alerts, 0)).toBe(tiles);
    // Each member's trend (small multiples) has one value per bucket and adds up to its tile.
    type M = { alerts: Record<string, number>; trend: number[]; sensors: { seen: number; silent: number; lastSeen: string | null } };
    for (const m of cop.members as M[]) {
      expect(m.trend).toHaveLength(cop.rates.buckets.length);
      expect(m.trend.reduce((x, y) => x + y, 0)).toBe(Object.values(m.alerts).reduce((x, y) => x + y, 0));
    }
    // Sensor health: A and B sent telemetry just now (seen, not silent); C sent none.
    expect(a.sensors).toMatchObject({ silent: 0 });
    expect(a.sensors.seen).toBeGreaterThanOrEqual(1);
    expect(Date.parse(a.sensors.lastSeen)).toBeGreaterThan(Date.parse(cop.generatedAt) - 6 * 3_600_000);
    const c = cop.members.find((m: { orgId: string }) => m.orgId === al.orgs.C);
    expect(c.sensors).toEqual({ seen: 0, silent: 0, lastSeen: null });
    expect(cop.silentMinutes).toBe(30);
    // C sees the counts, not the alerts.
    expect(cop.recent).toEqual([]);
    expectError(await http(al).get('c-analyst', '/api/v1/cop?hours=0'), 400, 'BAD_REQUEST');
    // A filter the list does not know is refused, never ignored (a wider list than asked).
    expectError(await http(al).get('a-analyst', '/api/v1/alerts?exercise=exercise--8e3f3c53-1c1a-4b8e-9b0f-2f3c4d5e6f70'), 400, 'INVALID_FILTER');
    expectError(await http(al).get('a-analyst', '/api/v1/alerts?statuses=new'), 400, 'INVALID_FILTER');
    expect((await http(al).get('a-analyst', '/api/v1/alerts?status=new&limit=5')).status).toBe(200);
  });

  it('lists alerts newest first by when they were last seen, not by when they were last changed', async () => {
    const at = (t: string, src: string) => JSON.stringify({ ...JSON.parse(flow('198.51.100.7', src)), timestamp: t });
    // The later event arrives first, and the earlier alert is then acknowledged: neither may reorder the list.
    await ingest(sensorA, at('2026-03-01T09:00:00.000000+0000', '10.0.0.22'));
    await al.platform.detect.drain();
    await ingest(sensorA, at('2026-03-01T08:00:00.000000+0000', '10.0.0.21'));
    await al.platform.detect.drain();
    const list = async (q = '') => (await http(al).get('a-analyst', `/api/v1/alerts${q}`)).json().alerts as { id: string; entity: string; lastSeen: string; rev: number }[];
    const older = (await list()).find((a) => a.entity === '10.0.0.21')!;
    expect((await patch('a-analyst', older.id, { status: 'acknowledged' })).status).toBe(200);
    const all = await list();
    const seen = all.map((a) => a.lastSeen);
    expect(seen).toEqual([...seen].sort().reverse());
    expect(all.findIndex((a) => a.entity === '10.0.0.22')).toBeLessThan(all.findIndex((a) => a.entity === '10.0.0.21'));
    // A page of one is the newest one, and a status filter keeps the order.
    expect((await list('?limit=1'))[0]!.lastSeen).toBe(seen[0]);
    const acked = (await list('?status=acknowledged,new')).map((a) => a.lastSeen);
    expect(acked).toEqual([...acked].sort().reverse());
  });

  it('accepts gzip and refuses bad requests with clear errors', async () => {
    const gz = await ingest(sensorA, gzipSync(flow('203.0.113.1')), { 'content-encoding': 'gzip' });
    expect(gz.statusCode, gz.body).toBe(202);
    expect(gz.json().accepted).toBe(1);
    const corrupt = await ingest(sensorA, Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
    expect((await ingest(sensorA, flow('203.0.113.1'), { 'content-encoding': 'br' })).statusCode).toBe(415);
    expect((await ingest(sensorA, flow('203.0.113.1'), { 'content-type': 'application/xml' })).statusCode).toBe(415);
    expect((await ingest('nope', flow('203.0.113.1'))).statusCode).toBe(401);
    expect((await ingest(al.tokens['a-analyst']!, flow('203.0.113.1'))).statusCode).toBe(403);
    const admin = await al.app.inject({ method: 'POST', url: '/api/v1/ingest?sensor=manual-upload&format=suricata-eve', headers: { authorization: `Bearer ${al.tokens['a-admin']}`, 'content-type': 'text/plain' }, payload: flow('203.0.113.1') });
    expect(admin.statusCode, admin.body).toBe(202);
    expect((await al.app.inject({ method: 'POST', url: '/api/v1/ingest?format=xml', headers: { authorization: `Bearer ${sensorA}`, 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(400);
  });
});

describe('backpressure', () => {
  it('answers 429 with Retry-After when the queue is full, and takes the batch once drained', async () => {
    const al = await makeAlliance({ SHIELDWALL_INGEST_QUEUE: '5', SHIELDWALL_MAX_CONTENT_LENGTH: '4096' });
    try {
      const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 's' })).token;
      const send = (n: number) => al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: Array.from({ length: n }, () => flow('192.0.2.1')).join('\n') });
      expect((await send(3)).statusCode).toBe(202);
      const full = await send(3);
      expect(full.statusCode).toBe(429);
      expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(full.json().error.code).toBe('RATE_LIMITED');
      expect(await al.platform.detect.drain()).toBe(3);
      expect((await send(3)).statusCode).toBe(202);
      // Oversized bodies, raw or after decompression, are 413.
      expect((await send(40)).statusCode).toBe(413);
      const bomb = gzipSync(Buffer.alloc(100_000, 0x20));
      const r = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, payload: bomb });
      expect(r.statusCode).toBe(413);
    } finally {
      await al.close();
    }
  });
});

describe('Sigma rules through the pipeline', () => {
  it('a rule added through the API alerts only the organisations it is released to, with its ATT&CK techniques', () => withAlliance(async (al) => {
    const rule = [
      'title: Whoami run by a user', 'id: 6f9a7c4e-1111-4222-8333-444455556666', 'status: test',
      'logsource:', '  product: windows', '  category: process_creation',
      'detection:', '  sel:', "    Image|endswith: '\\whoami.exe'", '  condition: sel',
      'level: high', 'tags:', '  - attack.discovery', '  - attack.t1033',
    ].join('\n');
    // A's rule, AMBER to A and B: C's events never see it.
    const added = await http(al).call('POST', '/api/v1/sigma/rules', { token: al.tokens['a-analyst']!, body: { yaml: rule, tlp: 'amber', recipients: [al.orgs.B] } });
    expect(added.status, added.body).toBe(201);
    const event = JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': '2026-03-01T10:00:00.000Z', Hostname: 'ws1', Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all', User: 'CORP\\bob' });
    for (const org of ['A', 'B', 'C'] as const) {
      const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs[org], kind: 'sensor', name: `edr-${org}` })).token;
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: event });
      expect(res.statusCode, res.body).toBe(202);
    }
    await al.platform.detect.refreshDirectory();
    await al.platform.detect.drain();
    const forA = (await http(al).get('a-analyst', '/api/v1/alerts?source=sigma')).json().alerts;
    expect(forA).toHaveLength(1);
    expect(forA[0]).toMatchObject({ orgId: al.orgs.A, severity: 'high', techniques: ['T1033'], title: 'Whoami run by a user', entity: 'ws1' });
    expect(forA[0].matched).toMatchObject({ kind: 'sigma', id: '6f9a7c4e-1111-4222-8333-444455556666', level: 'high' });
    expect(forA[0].samples[0]['process.executable'] ?? forA[0].samples[0].original?.Image).toContain('whoami.exe');
    expect((await http(al).get('b-analyst', '/api/v1/alerts?source=sigma')).json().alerts).toHaveLength(1);
    expect((await http(al).get('c-analyst', '/api/v1/alerts?source=sigma')).json().alerts).toHaveLength(0);
    const cop = (await http(al).get('c-analyst', '/api/v1/cop')).json();
    expect(cop.heatmap).toEqual([{ technique: 'T1033', count: 2 }]);
  }));
});

/** Eight days of the same lookup: the anomaly baselines' learning week is over. */
async function learningWeek(al: Alliance, send: (name: string) => Promise<unknown>): Promise<void> {
  await al.platform.detect.refreshDirectory();
  await send('intranet.alpha.example');
  for (let day = 0; day < 8; day++) {
    al.clock.advance(86_400_000);
    await send('intranet.alpha.example');
  }
}

describe('anomalies through the pipeline', () => {
  it('a domain never seen after the learning week raises an anomaly alert that says what was expected and seen', () => withAlliance(async (al) => {
    const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'dns-1' })).token;
    const send = async (name: string) => {
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: dns(name) });
      expect(res.statusCode, res.body).toBe(202);
      await al.platform.detect.drain();
    };
    await learningWeek(al, send);
    expect((await http(al).get('a-analyst', '/api/v1/alerts?source=anomaly')).json().alerts.filter((a: { title: string }) => /domain/i.test(a.title))).toEqual([]);
    await send('fresh-infra.example');
    const alerts = (await http(al).get('a-analyst', '/api/v1/alerts?source=anomaly')).json().alerts as { title: string; matched: { method: string; expected: string; seen: string }; entity: string; orgId: string }[];
    const firstSeen = alerts.find((a) => a.matched.method === 'first-seen' && a.entity.includes('fresh-infra.example'));
    expect(firstSeen, JSON.stringify(alerts)).toBeDefined();
    expect(firstSeen!.orgId).toBe(al.orgs.A);
    expect(firstSeen!.matched.expected.length).toBeGreaterThan(10);
    expect(firstSeen!.matched.seen).toContain('fresh-infra.example');
    expect(firstSeen!.title).toContain('A'); // the organisation's short name, not its id
    expect((await http(al).get('b-analyst', '/api/v1/alerts?source=anomaly')).json().alerts).toEqual([]);
  }));
  it('judges an exercise\'s telemetry against the real baselines without teaching them: the exercise gets the finding, the real picture later still does too', () => withAlliance(async (al) => {
    const sensor = await al.platform.access.authenticateToken((await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'dns-1' })).token, 'test');
    const EX = 'exercise--5f0c0000-0000-4000-8000-000000000002';
    const send = async (name: string, exerciseId: string | null = null) => {
      await al.platform.detect.ingest(sensor, dns(name), { format: 'auto', sensorId: 'dns-1', exerciseId });
      await al.platform.detect.drain();
    };
    await al.platform.detect.refreshDirectory();
    // No baseline yet: an exercise event is judged against nothing, and teaches nothing.
    await send('early-exercise.example', EX);
    expect(JSON.stringify(al.platform.detect.engine!.deps.anomaly!.toJSON())).not.toContain('early-exercise');
    await learningWeek(al, send);
    const baselines = () => JSON.stringify(al.platform.detect.engine!.deps.anomaly!.toJSON());
    const before = baselines();
    await send('injected-c2.example', EX);
    await send('injected-c2.example', EX);
    await send('intranet.alpha.example', EX); // known: no finding
    expect(baselines()).toBe(before); // judged, not learned: nothing of the baselines moved
    const inExercise = (await al.platform.store.listAlertFacts({ sinceUs: 0, exerciseId: EX, limit: 100 })).filter((f) => f.source === 'anomaly');
    expect(inExercise.map((f) => [f.groupKey.split('\u001f').pop(), f.count])).toEqual([['domain:injected-c2.example', 2]]);
    const real = () => http(al).get('a-analyst', '/api/v1/alerts?source=anomaly').then((r) => (r.json().alerts as { entity: string }[]).map((x) => x.entity));
    expect(await real()).toEqual([]);
    // The real baselines never learned the injected domain: seen for real, it is new.
    await send('injected-c2.example');
    expect(await real()).toEqual(['domain:injected-c2.example']);
  }));

  it('a worker killed between two saves of the baselines loses none of what they learned: its successor learns again what came after the save', () => withAlliance(async (al) => {
    const engine = al.platform.detect.engine!;
    const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'dns-1' })).token;
    const post = async (...names: string[]) => {
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: names.map(dns).join('\n') });
      expect(res.statusCode, res.body).toBe(202);
    };
    const send = async (...names: string[]) => {
      await post(...names);
      await al.platform.detect.drain();
    };
    await learningWeek(al, send);
    await engine.periodic(); // the first round saves the baselines
    const saved = await al.platform.store.getMeta(DetectEngine.ANOMALY_KEY);
    expect(saved).toContain('alpha.example');
    // Learned after the save, then the worker dies (no stop: nothing more is saved).
    al.clock.advance(60_000);
    await send('first-after-save.example', 'www.second-after-save.example');
    // A dead-lettered event is never learned, then or now.
    await post('quarantined.example');
    const [dead] = await al.platform.store.readIngest(engine.deps.source.position, 1);
    await al.platform.store.putDeadLetter({ ...dead!, event: dead!.event, reason: 'test', ruleRef: null, attempts: 2, createdUs: al.clock.now() * 1000 });
    await send('third-after-save.example');
    expect(await al.platform.store.getMeta(DetectEngine.ANOMALY_KEY)).toBe(saved);
    const successor = await createEngine({ store: al.platform.store, clock: al.clock, intel: al.platform.intel, publish: () => undefined }, {});
    expect(await successor.drain()).toBe(0); // nothing new to process…
    const state = (e: DetectEngine) => JSON.stringify(e.deps.anomaly!.toJSON());
    expect(state(successor)).toContain('second-after-save.example');
    expect(state(successor)).not.toContain('quarantined.example');
    expect(state(successor)).toBe(state(engine)); // …and what the dead worker had learned, learned again, exactly once
    // Without the replay the successor would hold only the save.
    expect(state(successor)).not.toBe(JSON.stringify(JSON.parse(saved!)));
    // A second successor (the first killed before saving too) comes to the same state.
    const third = await createEngine({ store: al.platform.store, clock: al.clock, intel: al.platform.intel, publish: () => undefined }, {});
    // Replayed: the last hour before the cursor (the learning week's last event, then the three
    // after the save; the quarantined one skipped), and nothing older.
    expect(third.stats().warmUp).toEqual({ state: 'pending', replayed: 0 });
    expect(await third.warmUp()).toBe(4);
    expect(third.stats().warmUp).toEqual({ state: 'done', replayed: 4 });
    expect(state(third)).toBe(state(engine));
  }));
});

/** A Sigma correlation (three whoami runs on one host within 10 minutes) and a FOLLOWEDBY indicator, GREEN. */
async function addBurstAndSequence(al: Alliance): Promise<void> {
  const correlation = [
    'title: Whoami base', 'name: whoami_base', 'id: 0b7e8d1c-5a6f-4c3b-9e2d-1f0a9b8c7d6e', 'status: test', 'level: low',
    'logsource:', '  product: windows', '  category: process_creation',
    'detection:', '  sel:', "    Image|endswith: '\\whoami.exe'", '  condition: sel',
    '---',
    'title: Whoami burst', 'id: 1c8f9e2d-6b7a-4d4c-8f3e-2a1b0c9d8e7f', 'level: high',
    'correlation:', '  type: event_count', '  rules: [whoami_base]', '  group-by: [Hostname]', '  timespan: 10m', '  condition: {gte: 3}',
  ].join('\n');
  const added = await http(al).call('POST', '/api/v1/sigma/rules', { token: al.tokens['a-analyst']!, body: { yaml: correlation, tlp: 'green' } });
  expect(added.status, added.body).toBe(201);
  const seq = indicator('Lookup then beacon', { pattern: "([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 300 SECONDS" });
  await submitAs(al, 'a-analyst', al.shared, { objects: [seq], defaultTlp: 'green' });
}

const atSecond = (s: number) => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
const whoami = (s: number) => JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': atSecond(s), Hostname: 'ws1', Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all', User: 'CORP\\bob' });
const lookupOf = (name: string) => JSON.stringify({ timestamp: atSecond(5), event_type: 'dns', src_ip: '10.0.0.5', src_port: 5353, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: name, rrtype: 'A' } });
const beaconAt = (s: number) => JSON.stringify({ timestamp: atSecond(s), event_type: 'flow', src_ip: '10.0.0.5', src_port: 40000 + s, dest_ip: '203.0.113.9', dest_port: 443, proto: 'TCP' });

describe('a restarted worker', () => {
  it('rebuilds the correlation windows and indicator sequences from the spool: the alerts are those of a worker that ran on', () => withAlliance(async (al) => {
    await addBurstAndSequence(al);
    const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'edr-1' })).token;
    const lookup = lookupOf('evil.example');
    const beacon = beaconAt(60);
    const post = async (line: string) => {
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: line });
      expect(res.statusCode, res.body).toBe(202);
    };
    await al.platform.detect.engine!.sync();
    // The first worker sees two whoami runs and the lookup, then dies (no stop).
    for (const line of [whoami(1), whoami(2), lookup]) await post(line);
    expect(await al.platform.detect.drain()).toBe(3);
    const titles = async () => ((await http(al).get('a-analyst', '/api/v1/alerts?limit=100')).json().alerts as { title: string }[]).map((a) => a.title).sort();
    expect(await titles()).toEqual([]); // a correlation's base rule does not alert by itself
    // Its successor, a worker process's runtime on the same store, gets the third run and the beacon.
    for (const line of [whoami(3), beacon]) await post(line);
    const successor = await WorkerRuntime.open({ store: al.platform.store, clock: al.clock, channel: { send: () => undefined } }, {});
    expect(await successor.engine.drain()).toBe(2);
    const after = await titles();
    expect(after).toHaveLength(2);
    expect(after).toContain('Whoami burst');
    expect(after.some((t) => t.includes('Lookup then beacon'))).toBe(true);
    await successor.stop();
  }));
});

describe('a batch whose transaction fails', () => {
  it('is matched again as if for the first time: two runs of a three-run correlation raise nothing, the third does', () => withAlliance(async (al) => {
    await addBurstAndSequence(al);
    const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'edr-1' })).token;
    const post = async (line: string) => {
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: line });
      expect(res.statusCode, res.body).toBe(202);
    };
    const engine = al.platform.detect.engine!;
    await engine.sync();
    const titles = async () => ((await http(al).get('a-analyst', '/api/v1/alerts?limit=100')).json().alerts as { title: string }[]).map((a) => a.title);
    // The first transaction of the batch fails (a lost connection, a busy store): nothing of it
    // committed, the batch is read again, and the matchers must not count its events twice.
    const store = engine.deps.store;
    const transaction = store.transaction.bind(store);
    let failures = 0;
    (store as { transaction: typeof store.transaction }).transaction = async (fn) => {
      if (failures-- > 0) throw new Error('connection terminated');
      return transaction(fn);
    };
    try {
      for (const line of [whoami(1), whoami(2)]) await post(line);
      failures = 1;
      await expect(engine.drain()).rejects.toThrow('connection terminated');
      expect(await engine.drain()).toBe(2);
      expect(await titles()).toEqual([]);
      await post(whoami(3));
      await engine.drain();
      expect(await titles()).toEqual(['Whoami burst']);
    } finally {
      (store as { transaction: typeof store.transaction }).transaction = transaction;
    }
  }));
});

describe('sightings written by two workers in turn', () => {
  it('each continues the count the other wrote last (an organisation\'s partition moving between scale-out workers): never a version counting less', () => withAlliance(async (al) => {
    const ip = indicator('Two writers', { pattern: "[ipv4-addr:value = '198.51.100.8']", confidence: 90 });
    await submitAs(al, 'a-analyst', al.shared, { objects: [ip], defaultTlp: 'green' });
    const engine = al.platform.detect.engine!;
    await engine.feed.sync();
    const info = engine.feed.info(ip.id as string)!;
    const a = engine.sightings;
    const b = new SightingBook(a.deps, { mode: a.mode, intervalMs: a.intervalMs });
    const hits = async (book: SightingBook, n: number) => {
      for (let i = 0; i < n; i++) book.hit(info, al.orgs.B, { atMs: al.clock.now(), path: 'ipv4-addr:value', value: '198.51.100.8' });
      book.commitHits();
      await book.flush(SYSTEM_ACTOR, { nowMs: al.clock.now(), force: true });
    };
    const total = async () => (await http(al).get('a-analyst', `/api/v1/intel/${ip.id as string}/sightings`)).json().total as number;
    await hits(a, 2);
    expect(await total()).toBe(2);
    await hits(b, 3); // the partition moved to b
    expect(await total()).toBe(5);
    await hits(a, 1); // and back to a, which had written 2 last
    expect(await total()).toBe(6);
  }));
});

describe('exercise telemetry and the state detection keeps', () => {
  it('keeps its own sequence windows and correlation groups, before and after a restart, and never teaches the real anomaly baselines', () => withAlliance(async (al) => {
    await addBurstAndSequence(al);
    const sensor = await al.platform.access.authenticateToken((await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'edr-1' })).token, 'test');
    const EX = 'exercise--5f0c0000-0000-4000-8000-000000000001';
    const send = async (lines: string[], exerciseId: string | null = null) => {
      await al.platform.detect.ingest(sensor, lines.join('\n'), { format: 'auto', sensorId: 'edr-1', exerciseId });
    };
    const raised: { title: string; exerciseId: string | null }[] = [];
    al.platform.bus.subscribe((e) => { if (e.type === 'alert.created') raised.push({ title: String(e.data.title), exerciseId: e.exerciseId ?? null }); });
    await al.platform.detect.engine!.sync();
    // Two real runs and an exercise's lookup; then the exercise's third run and a real beacon.
    await send([whoami(1), whoami(2)]);
    await send([lookupOf('evil.example'), lookupOf('injected-c2.example')], EX);
    await al.platform.detect.drain();
    await send([whoami(3)], EX);
    await send([beaconAt(60)]);
    await al.platform.detect.drain();
    expect(raised).toEqual([]); // neither completes across the boundary
    const baselines = () => JSON.stringify(al.platform.detect.engine!.deps.anomaly!.toJSON());
    expect(baselines()).not.toContain('injected-c2.example');
    // A restarted worker rebuilds each scope's state apart: one more real run completes the real
    // burst (three real runs), one more exercise beacon the exercise's sequence; nothing else.
    await send([whoami(4)]);
    await send([beaconAt(70)], EX);
    const successor = await WorkerRuntime.open({ store: al.platform.store, clock: al.clock, channel: { send: () => undefined } }, {});
    expect(await successor.engine.drain()).toBe(2);
    const real = ((await http(al).get('a-analyst', '/api/v1/alerts?limit=100')).json().alerts as { title: string }[]).map((a) => a.title);
    expect(real).toEqual(['Whoami burst']);
    const exercise = await al.platform.store.listAlertFacts({ sinceUs: 0, exerciseId: EX, limit: 100 });
    expect(exercise.map((f) => [f.source, f.exerciseId])).toEqual([['indicator', EX]]);
    expect(JSON.stringify(successor.engine.deps.anomaly!.toJSON())).not.toContain('injected-c2.example');
    await successor.stop();
  }));
});

describe('exercise alerts across a worker restart', () => {
  it('an exercise\'s repeats keep joining its alert after the worker restarts, as real ones do', () => withAlliance(async (al) => {
    const c2 = indicator('Exercise C2', { pattern: "[ipv4-addr:value = '198.51.100.77']" });
    await submitAs(al, 'a-analyst', al.shared, { objects: [c2], defaultTlp: 'green' });
    const sensor = await al.platform.access.authenticateToken((await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-1' })).token, 'test');
    const EX = 'exercise--5f0c0000-0000-4000-8000-000000000003';
    const send = (exerciseId: string | null) => al.platform.detect.ingest(sensor, flow('198.51.100.77'), { format: 'auto', sensorId: 'fw-1', exerciseId });
    await al.platform.detect.engine!.sync();
    await send(EX);
    await send(null);
    expect(await al.platform.detect.drain()).toBe(2);
    await send(EX);
    await send(null);
    const successor = await WorkerRuntime.open({ store: al.platform.store, clock: al.clock, channel: { send: () => undefined } }, {});
    expect(await successor.engine.drain()).toBe(2);
    const counts = async (exerciseId: string | null) => (await al.platform.store.listAlertFacts({ sinceUs: 0, exerciseId, limit: 10 })).map((f) => f.count);
    expect(await counts(EX)).toEqual([2]);
    expect(await counts(null)).toEqual([2]);
    await successor.stop();
  }));

  it('a capture replayed from the past keeps joining its alert while it plays: idle groups are forgotten by the clock, not by event time', () => withAlliance(async (al) => {
    const c2 = indicator('Replayed C2', { pattern: "[ipv4-addr:value = '198.51.100.78']", valid_from: '2010-01-01T00:00:00Z' });
    await submitAs(al, 'a-analyst', al.shared, { objects: [c2], defaultTlp: 'green' });
    const sensor = await al.platform.access.authenticateToken((await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-1' })).token, 'test');
    const old = JSON.stringify({ timestamp: '2017-05-01T10:00:00.000000+0000', event_type: 'flow', src_ip: '10.0.0.5', src_port: 50000, dest_ip: '198.51.100.78', dest_port: 443, proto: 'TCP', flow_id: 1 });
    const engine = al.platform.detect.engine!;
    await engine.sync();
    const replay = async () => {
      await al.platform.detect.ingest(sensor, old, { format: 'auto', sensorId: 'fw-1' });
      await al.platform.detect.drain();
      await engine.periodic(); // forgets idle groups, among its rounds
    };
    const counts = async () => (await al.platform.store.listAlertFacts({ sinceUs: 0, exerciseId: null, limit: 10 })).map((f) => f.count).sort();
    await replay();
    al.clock.advance(10 * 60_000);
    await replay();
    await replay();
    expect(await counts()).toEqual([3]);
    // A group that took no hit for longer than the window (60 minutes) by the clock is forgotten.
    al.clock.advance(61 * 60_000);
    await engine.periodic();
    await replay();
    expect(await counts()).toEqual([1, 3]);
    // A restarted worker reads back the groups written within the window, whatever their event time.
    al.clock.advance(5 * 60_000);
    const successor = await WorkerRuntime.open({ store: al.platform.store, clock: al.clock, channel: { send: () => undefined } }, {});
    await al.platform.detect.ingest(sensor, old, { format: 'auto', sensorId: 'fw-1' });
    expect(await successor.engine.drain()).toBe(1);
    expect(await counts()).toEqual([2, 3]);
    await successor.stop();
  }));
});

describe('indicator hits within one batch', () => {
  let al: Alliance;
  let sensorA: string;
  let sensorB: string;
  const ingest = (token: string, body: string) =>
    al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: body });

  beforeAll(async () => {
    al = await makeAlliance();
    sensorA = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-a' })).token;
    sensorB = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.B, kind: 'sensor', name: 'fw-b' })).token;
  });
  afterAll(async () => al.close());

  it('counts every hit of an indicator, titles each by its value, and drops every hit on a warninglisted value (counted as suppressed)', async () => {
    const listed = indicator('Resolver (warninglisted)', { pattern: "[ipv4-addr:value = '8.8.8.8']", confidence: 90 });
    const c2 = indicator('C2 addresses', { pattern: "[ipv4-addr:value = '203.0.113.9' OR ipv4-addr:value = '203.0.113.10']", confidence: 20 });
    await submitAs(al, 'a-analyst', al.shared, { objects: [listed, c2], defaultTlp: 'green' });
    await al.platform.detect.refreshDirectory();
    await al.platform.detect.feed.sync();
    const before = (await al.platform.detect.stats()).suppressed;
    const lines = [flow('8.8.8.8'), flow('203.0.113.9'), flow('8.8.8.8'), flow('203.0.113.10', '10.0.0.6'), flow('203.0.113.9'), flow('8.8.8.8')];
    expect((await ingest(sensorA, lines.join('\n'))).json().accepted).toBe(6);
    expect((await ingest(sensorB, flow('203.0.113.9'))).json().accepted).toBe(1);
    await al.platform.detect.drain();
    expect((await al.platform.detect.stats()).suppressed - before).toBe(3);
    const alertsOf = (user: string) => http(al).get(user, '/api/v1/alerts').then((r) => r.json().alerts as { orgId: string; entity: string; count: number; title: string; matched: { id: string; value: string } }[]);
    // One alert per entity (the internal end of the flow), none for the resolver's indicator.
    const forA = (await alertsOf('a-analyst')).map((x) => [x.entity, x.count, x.matched.id, x.matched.value, x.title]).sort();
    expect(forA).toEqual([
      ['10.0.0.5', 2, c2.id, '203.0.113.9', 'Indicator "C2 addresses" matched ipv4-addr:value = 203.0.113.9'],
      ['10.0.0.6', 1, c2.id, '203.0.113.10', 'Indicator "C2 addresses" matched ipv4-addr:value = 203.0.113.10'],
    ]);
    expect((await alertsOf('b-analyst')).map((x) => [x.orgId, x.count, x.matched.value])).toEqual([[al.orgs.B, 1, '203.0.113.9']]);
  });
});

describe('syslog ingestion framed by octet counting', () => {
  let al: Alliance;
  let sensor: string;
  beforeAll(async () => {
    al = await makeAlliance();
    sensor = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'syslog-a' })).token;
  });
  afterAll(async () => al.close());

  it('reads syslog framed by octet counting (RFC 6587), several messages in one body', async () => {
    // Before, the frames of one body were one line: "55 <34>1 …" was refused as a whole.
    const frame = (m: string): string => `${Buffer.byteLength(m)} ${m}`;
    const a = '<34>1 2026-03-01T10:00:00.000Z mymachine su - ID47 - \'su root\' failed for lonvick on /dev/pts/8';
    const b = '<165>1 2026-03-01T10:00:01.000Z host.example evntslog - ID47 [exampleSDID@32473 iut="3"] An application event – ünïcode';
    const c = '<13>Mar  1 10:00:02 web1 sshd[42]: Accepted publickey for root';
    const body = `${frame(a)}${frame(b)}\n${frame(c)}${frame('<13>Mar  1 10:00:03 web1 app: two\nlines')}${frame(a).replace(/^\d+/, '999')}`;
    for (const format of ['auto', 'syslog']) {
      const res = await al.app.inject({ method: 'POST', url: `/api/v1/ingest?format=${format}`, headers: { authorization: `Bearer ${sensor}`, 'content-type': 'text/plain' }, payload: body });
      expect(res.statusCode, res.body).toBe(202);
      const r = res.json() as { accepted: number; rejected: number; errors: { line: number; reason: string }[] };
      expect([r.accepted, r.rejected]).toEqual([3, 2]);
      expect(r.errors).toEqual([
        { line: 4, reason: expect.stringMatching(/line break/) },
        { line: 5, reason: expect.stringMatching(/999 bytes runs past the end/) },
      ]);
    }
    // Each message is spooled as sent, without its length, one a line, as syslog.
    const rows = await al.platform.store.readIngest(0, 10);
    expect(rows.map((x) => [x.event, x.format])).toEqual([a, b, c, a, b, c].map((m) => [m, 'syslog']));
  });
});
