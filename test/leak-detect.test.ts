/**
 * The leak test, extended to detection. One creator stores an indicator for every TLP marking ×
 * recipient shape × origin; every organisation's sensor then sees every indicator's value.
 * An organisation must get an alert for exactly the indicators released to it — never one
 * more — and nothing derived from an indicator (alerts, the live stream, sightings) may reach an
 * organisation the indicator is not released to. The alliance body (a CSIRT) gets what is
 * released to it and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR, mayRelease } from '../src/access/index.js';
import type { Tlp } from '../src/core/index.js';
import { TLP2_MARKING_IDS, deterministicScoId } from '../src/stix/index.js';
import { makeCollection, makeOrg, makePlatform, refresh, submitWith, uuid, type Org } from './taxii-fixtures.js';
import { detectionReady, detectionSettled } from './helpers/node-mode.js';

const MARKINGS: (Tlp | null)[] = ['clear', 'green', 'amber', 'amber+strict', 'red', null];
const ORIGINS = [null, 'node-x'] as const;

interface Stored { id: string; ip: string; tlp: Tlp | null; recipients: string[]; originNode: string | null; label: string }
interface Reader { name: string; org: Org; sensor: string }

let p: Platform;
let server: RunningServer;
let K: Org, Rc: Org, Gm: Org, Ou: Org, Cs: Org;
const stored: Stored[] = [];
let readers: Reader[];
let scoIds: string[] = [];
const streams = new Map<string, Record<string, unknown>[]>();
const aborts: AbortController[] = [];

function releasedTo(s: Stored, r: Reader): boolean {
  return mayRelease({ tlp: s.tlp, creatorOrg: K.row.id, recipients: s.recipients, originNode: s.originNode }, { hop: 'local', orgId: r.org.row.id, groupIds: r.org.principal.groupIds }, 'read');
}
const labelOf = (id: string) => stored.find((s) => s.id === id)?.label ?? id;
const labels = (ids: Iterable<string>) => [...new Set(ids)].map(labelOf).sort();

async function get(r: Reader, url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${r.org.token}` } });
  expect(res.status, url).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Reads the SSE stream of one reader in the background, keeping alert events. */
async function listen(r: Reader): Promise<void> {
  const ac = new AbortController();
  aborts.push(ac);
  const got: Record<string, unknown>[] = [];
  streams.set(r.name, got);
  const res = await fetch(`${server.url}/api/v1/stream`, { headers: { authorization: `Bearer ${r.org.token}` }, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (type?.startsWith('alert.') && data) got.push((JSON.parse(data) as { data: Record<string, unknown> }).data);
        }
      }
    } catch {
      // aborted at the end
    }
  })();
}

beforeAll(async () => {
  p = await makePlatform({ env: { SHIELDWALL_PORT: '0' } });
  K = await makeOrg(p, 'K');
  Rc = await makeOrg(p, 'RC');
  Gm = await makeOrg(p, 'GM');
  Ou = await makeOrg(p, 'OU');
  const csRow = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Alliance CSIRT', shortName: 'CS', kind: 'alliance-body' });
  const csUser = await p.access.createUser(SYSTEM_ACTOR, { orgId: csRow.id, username: 'user-cs', password: 'correct horse battery staple', roles: ['analyst'] });
  const csToken = (await p.access.createToken(SYSTEM_ACTOR, { orgId: csRow.id, userId: csUser.id, kind: 'api', name: 't' })).token;
  Cs = { row: csRow, user: 'user-cs', password: '', token: csToken, principal: await p.access.authenticateToken(csToken, 'test') };
  const groups = {
    G1: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: Gm.row.id, name: 'G1', members: [] })).id,
    G2: (await p.access.createGroup(SYSTEM_ACTOR, { ownerOrg: Rc.row.id, name: 'G2', members: [Gm.row.id] })).id,
  };
  K = await refresh(p, K);
  Rc = await refresh(p, Rc);
  Gm = await refresh(p, Gm);
  Ou = await refresh(p, Ou);
  const everyone = [K, Rc, Gm, Ou, Cs].map((o): [string, { canRead: boolean; canWrite: boolean }] => [o.row.id, { canRead: true, canWrite: o === K }]);
  const coll = await makeCollection(p, 'Everything', everyone, 'everything');
  const shapes: [string, string[]][] = [['none', []], ...[K, Rc, Gm, Ou, Cs].map((o): [string, string[]] => [`org ${o.row.shortName}`, [o.row.id]]),
    ...Object.entries(groups).map(([n, id]): [string, string[]] => [`group ${n}`, [id]])];
  let n = 0;
  for (const tlp of MARKINGS) for (const [shape, recipients] of shapes) for (const originNode of ORIGINS) {
    n++;
    const ip = `45.${n >> 8}.${n & 255}.7`;
    const label = `${tlp ?? 'none'} | ${shape} | ${originNode ?? 'here'}`;
    const id = `indicator--${uuid()}`;
    const o = {
      type: 'indicator', spec_version: '2.1', id, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: label,
      pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z',
      ...(tlp ? { object_marking_refs: [TLP2_MARKING_IDS[tlp]] } : {}),
    };
    await submitWith(p, { who: K, collectionId: coll.id, objects: [o], recipients, originNode });
    stored.push({ id, ip, tlp, recipients, originNode, label });
  }
  // Another member publishes each address as a GREEN observable: the same value in objects of two
  // organisations, so intel correlation links them — for readers who may see both sides only.
  const scos = stored.map((s) => ({ type: 'ipv4-addr', spec_version: '2.1', id: deterministicScoId('ipv4-addr', { value: s.ip }), value: s.ip, object_marking_refs: [TLP2_MARKING_IDS.green] }));
  await submitWith(p, { who: Rc, collectionId: coll.id, objects: scos });
  scoIds = scos.map((o) => o.id);
  await p.correlations.sync();
  readers = [];
  for (const [name, org] of [['creator', K], ['recipient', Rc], ['group member', Gm], ['outsider', Ou], ['alliance body', Cs]] as const) {
    const sensor = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.row.id, kind: 'sensor', name: `sensor-${org.row.shortName}` })).token;
    readers.push({ name, org, sensor });
  }
  server = await startServer(p, { logger: false });
  await detectionReady(p);
  for (const r of readers) await listen(r);
  // Every sensor sees every indicator's address.
  for (const r of readers) {
    const body = stored.map((s) => JSON.stringify({ timestamp: '2026-01-02T00:00:00.000000+0000', event_type: 'flow', src_ip: '10.1.1.1', src_port: 4000, dest_ip: s.ip, dest_port: 443, proto: 'TCP' })).join('\n');
    const res = await fetch(`${server.url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${r.sensor}`, 'content-type': 'application/x-ndjson' }, body });
    expect(res.status).toBe(202);
  }
  await detectionSettled(p);
  await new Promise((r) => setTimeout(r, 300)); // let the streams deliver
}, 60_000);

afterAll(async () => {
  for (const a of aborts) a.abort();
  await server.close();
  await p.close();
});

describe('zero leaks through detection', () => {
  it('the matrix has indicators each released to someone and hidden from someone', () => {
    expect(stored.length).toBe(MARKINGS.length * 8 * ORIGINS.length);
    for (const r of readers) {
      expect(stored.some((s) => releasedTo(s, r)), r.name).toBe(true);
      if (r.org !== K) expect(stored.some((s) => !releasedTo(s, r)), r.name).toBe(true);
    }
  });

  it('each organisation is alerted on exactly the indicators released to it', async () => {
    for (const r of readers) {
      const alerts = (await get(r, '/api/v1/alerts?limit=1000')).alerts as { orgId: string; matched: { id: string } }[];
      const own = alerts.filter((a) => a.orgId === r.org.row.id).map((a) => a.matched.id);
      expect(labels(own), `${r.name}: own alerts`).toEqual(labels(stored.filter((s) => releasedTo(s, r)).map((s) => s.id)));
      // Whatever else it may see (an alliance body sees members' alerts) names only indicators released to it.
      const foreign = alerts.map((a) => a.matched.id).filter((id) => { const s = stored.find((x) => x.id === id); return s !== undefined && !releasedTo(s, r); });
      expect(labels(foreign), `${r.name}: alerts on indicators not released to it`).toEqual([]);
    }
  });

  it('the picture\'s top indicators and techniques count only alerts and sightings the reader may read and name only indicators it may read', async () => {
    let shownSomewhere = 0;
    for (const r of readers) {
      const cop = await get(r, '/api/v1/cop?hours=744');
      const top = cop.top as { alerts: number; sightings: number; indicators: { id: string; name: string | null; alerts: number; hits: number; sightings: number; members: number }[]; techniques: unknown[] };
      const since = Date.parse(String(cop.generatedAt)) - 744 * 3_600_000;
      const alerts = ((await get(r, '/api/v1/alerts?limit=1000')).alerts as { orgId: string; status: string; count: number; lastSeen: string; matched: { kind: string; id: string } }[])
        .filter((a) => Date.parse(a.lastSeen) >= since && a.status !== 'false-positive');
      expect(top.alerts, `${r.name}: alerts counted`).toBe(alerts.length);
      // Expected: per indicator the reader may read, its readable alerts, ranked as the server ranks.
      const by = new Map<string, { alerts: number; hits: number; members: Set<string> }>();
      for (const a of alerts) {
        if (a.matched.kind !== 'indicator') continue;
        const s = stored.find((x) => x.id === a.matched.id);
        if (s && !releasedTo(s, r)) continue;
        const e = by.get(a.matched.id) ?? { alerts: 0, hits: 0, members: new Set<string>() };
        e.alerts++;
        e.hits += a.count;
        e.members.add(a.orgId);
        by.set(a.matched.id, e);
      }
      // ... and the STIX sightings it may read (REST), last seen in the period.
      const sighted = new Map<string, { count: number; members: Set<string> }>();
      let sightings = 0;
      for (const item of (await get(r, '/api/v1/intel?type=sighting&limit=1000')).items as { id: string }[]) {
        const o = (await get(r, `/api/v1/intel/${item.id}`)).object as { sighting_of_ref: string; count?: number; last_seen?: string; modified: string; where_sighted_refs?: string[] };
        if (!o.sighting_of_ref.startsWith('indicator--') || Date.parse(o.last_seen ?? o.modified) < since) continue;
        sightings++;
        const e = sighted.get(o.sighting_of_ref) ?? { count: 0, members: new Set<string>() };
        e.count += o.count ?? 1;
        for (const w of o.where_sighted_refs ?? []) e.members.add(w);
        sighted.set(o.sighting_of_ref, e);
      }
      expect(top.sightings, `${r.name}: sightings counted`).toBe(sightings);
      // The producer learns through sightings where its indicators fired (it reads no other member's alerts).
      if (r.org === K) expect(top.indicators.some((i) => i.sightings > 0 && i.members > 1), 'creator: indicators sighted across members').toBe(true);
      const ids = [...new Set([...by.keys(), ...sighted.keys()])].filter((id) => { const s = stored.find((x) => x.id === id); return s === undefined || releasedTo(s, r); });
      const merged = ids.map((id): [string, { alerts: number; hits: number; sightings: number; members: number }] => {
        const a = by.get(id);
        const g = sighted.get(id);
        return [id, { alerts: a?.alerts ?? 0, hits: a?.hits ?? 0, sightings: g?.count ?? 0, members: new Set([...(a?.members ?? []), ...(g?.members ?? [])]).size }];
      });
      const expected = merged.sort((a, b) => b[1].alerts - a[1].alerts || b[1].sightings - a[1].sightings || b[1].hits - a[1].hits || a[0].localeCompare(b[0])).slice(0, 10)
        .map(([id, e]) => ({ id, name: labelOf(id), ...e }));
      expect(top.indicators, `${r.name}: top indicators`).toEqual(expected);
      const leaked = top.indicators.filter((i) => { const s = stored.find((x) => x.id === i.id); return s !== undefined && !releasedTo(s, r); });
      expect(labels(leaked.map((i) => i.id)), `${r.name}: top indicators not released to it`).toEqual([]);
      shownSomewhere += top.indicators.length;
    }
    expect(shownSomewhere).toBeGreaterThan(0);
  });

  it('the live stream carries only alerts the subscriber may read', () => {
    for (const r of readers) {
      const got = streams.get(r.name) ?? [];
      expect(got.length, `${r.name} received alerts live`).toBeGreaterThan(0);
      const leaked = got.map((a) => (a['matched'] as { id: string }).id).filter((id) => { const s = stored.find((x) => x.id === id); return s !== undefined && !releasedTo(s, r); });
      expect(labels(leaked), `${r.name}: stream`).toEqual([]);
      for (const a of got) expect([r.org.row.id, ...(r === readers[4] ? [a['orgId']] : [])]).toContain(a['orgId']);
    }
  });

  it('correlations link another member\'s observable to exactly the indicators the reader may see', async () => {
    for (const r of readers) {
      const linked: string[] = [];
      for (const id of scoIds) {
        const c = await get(r, `/api/v1/objects/${id}/correlations`);
        for (const v of c.values as { links: { id: string }[] }[]) for (const l of v.links) linked.push(l.id);
      }
      const fromStored = linked.filter((id) => stored.some((s) => s.id === id));
      expect(labels(fromStored), `${r.name}: correlations`).toEqual(labels(stored.filter((s) => releasedTo(s, r)).map((s) => s.id)));
    }
  });

  it('sightings reach the producer and the alliance body only for indicators released to them, and never an outsider', async () => {
    for (const r of readers) {
      const items = (await get(r, '/api/v1/intel?type=sighting&limit=1000')).items as { id: string }[];
      const objs = await Promise.all(items.map(async (i) => (await get(r, `/api/v1/intel/${i.id}`)).object as { sighting_of_ref: string; where_sighted_refs?: string[] }));
      const leaked = objs.filter((o) => { const s = stored.find((x) => x.id === o.sighting_of_ref); return s !== undefined && !releasedTo(s, r); });
      expect(labels(leaked.map((o) => o.sighting_of_ref)), `${r.name}: sightings of unreleased indicators`).toEqual([]);
      // Nobody reads sightings of other organisations except the producer and the alliance body.
      if (r.org !== K && r.org !== Cs) {
        expect(objs.every((o) => (o.where_sighted_refs ?? []).every((w) => w === r.org.row.id)), `${r.name}: reads others' sightings`).toBe(true);
      }
    }
    // The producer learns where each of its indicators fired: every (indicator, sighting org) pair it may know.
    const forK = (await get(readers[0]!, '/api/v1/intel?type=sighting&limit=1000')).items as unknown[];
    const pairs = readers.flatMap((r) => stored.filter((s) => releasedTo(s, r)).map((s) => `${s.id}|${r.org.row.id}`));
    expect(forK.length).toBe(pairs.length);
  });

  it('the detection status counts no indicator or rule the reader may not read', async () => {
    for (const r of readers) {
      const st = await get(r, '/api/v1/detect/status');
      const sigma = await get(r, '/api/v1/sigma/status');
      expect([st.indicators, st.feed, st.sigmaRules], r.name).toEqual([null, null, sigma.rules]);
      // The pipeline's own counters stay (on a scale-out node they come from the workers' last announcement).
      expect(typeof st.processed, r.name).toBe('number');
    }
  });

  it('an incident escalated from an alert carries the matched indicator\'s name, value and id only when it is CLEAR or GREEN, so sharing the incident shares no more', async () => {
    // The recipient's responder escalates every alert it holds and shares each incident with the outsider.
    const u = await p.access.createUser(SYSTEM_ACTOR, { orgId: Rc.row.id, username: 'rc-responder', password: 'correct horse battery staple', roles: ['responder'] });
    const responder = (await p.access.createToken(SYSTEM_ACTOR, { orgId: Rc.row.id, userId: u.id, kind: 'api', name: 't' })).token;
    const call = async (token: string, method: string, url: string, body?: unknown) => {
      const res = await fetch(`${server.url}/api/v1${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      expect(res.status, `${method} ${url}: ${text}`).toBeLessThan(300);
      return text;
    };
    const outsider = readers.find((r) => r.org === Ou)!;
    const alerts = (JSON.parse(await call(responder, 'GET', '/alerts?limit=1000')) as { alerts: { id: string; orgId: string; matched: { id: string } }[] }).alerts.filter((a) => a.orgId === Rc.row.id);
    const held = stored.filter((s) => alerts.some((a) => a.matched.id === s.id));
    expect(held.some((s) => !releasedTo(s, outsider)) && held.some((s) => releasedTo(s, outsider))).toBe(true);
    const shown: string[] = [];
    const leaked: string[] = [];
    for (const s of held) {
      const alert = alerts.find((a) => a.matched.id === s.id)!;
      const { incidentId } = JSON.parse(await call(responder, 'POST', `/alerts/${alert.id}/escalate`, {})) as { incidentId: string };
      await call(responder, 'POST', `/incidents/${incidentId}/shares`, { shares: [{ orgId: Ou.row.id, permission: 'read' }] });
      const seen = (await Promise.all(['', '/timeline', '/stix'].map((sub) => call(outsider.org.token, 'GET', `/incidents/${incidentId}${sub}`)))).join('\n');
      const carries = [s.label, s.ip, s.id].filter((x) => seen.includes(x));
      if (!releasedTo(s, outsider) && carries.length) leaked.push(`${s.label}: ${carries.join(', ')}`);
      if (s.tlp === 'clear' || s.tlp === 'green') {
        expect(carries.length, `${s.label}: open intelligence is linked`).toBe(3);
        shown.push(s.label);
      }
    }
    expect(leaked).toEqual([]);
    expect(shown.length).toBeGreaterThan(0);
    // The incident is the recipient's: an alliance body reading its alerts is not told which it is,
    // through REST (list, read, history) or the live stream.
    const body = readers.find((r) => r.org === Cs)!;
    const seenByBody = ((await get(body, '/api/v1/alerts?limit=1000')).alerts as { id: string; orgId: string; incidentId: string | null; status: string }[]).filter((a) => a.orgId === Rc.row.id && a.status === 'escalated');
    expect(seenByBody.length).toBeGreaterThan(0);
    expect(seenByBody.map((a) => a.incidentId).filter((x) => x !== null)).toEqual([]);
    const one = await get(body, `/api/v1/alerts/${seenByBody[0]!.id}`);
    expect(JSON.stringify(one)).not.toMatch(/incident--/);
    const mine = ((await get(readers.find((r) => r.org === Rc)!, '/api/v1/alerts?limit=1000')).alerts as { orgId: string; incidentId: string | null; status: string }[]).filter((a) => a.orgId === Rc.row.id && a.status === 'escalated');
    expect(mine.every((a) => a.incidentId?.startsWith('incident--'))).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(streams.get('alliance body'))).not.toMatch(/incident--/);
  });
});
