/**
 * Existence oracles (issue #11 item 3): what another organisation holds invisibly must not change
 * any answer a prober gets. Organisation A holds a RED ipv4-addr 203.0.113.9 and a RED indicator
 * on it; organisation B posts the same SCO (deterministic id, UUIDv5 of the value) through TAXII,
 * the REST import and a MISP event, reads it back, asks for its correlations and sights the
 * indicator — and every answer, field by field, equals the one for a value nobody holds
 * (203.0.113.77). Ids, values and timestamps are the only differences allowed, and are replaced
 * by placeholders before comparing. A's copy stays A's, byte for byte.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { deterministicScoId, TLP2_MARKING_IDS } from '../src/stix/index.js';
import { detectionReady, detectionSettled } from './helpers/node-mode.js';
import { http, indicator, makeAlliance, sdo, submitAs, type Alliance, type Answer, type Stix } from './rest-fixtures.js';

const TAXII = 'application/taxii+json;version=2.1';
const HELD = '203.0.113.9';
const ABSENT = '203.0.113.77';

let al: Alliance;
let h: ReturnType<typeof http>;
let root: string;
let redIndicator: Stix;
const redSco = (value: string): Stix => ({
  type: 'ipv4-addr', spec_version: '2.1', id: deterministicScoId('ipv4-addr', { value }), value, object_marking_refs: [TLP2_MARKING_IDS.red],
});
const plainSco = (value: string): Stix => ({ type: 'ipv4-addr', spec_version: '2.1', id: deterministicScoId('ipv4-addr', { value }), value });

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  root = al.platform.config.apiRoots[0]!.name;
  redIndicator = indicator(`RED watch ${HELD}`, { pattern: `[ipv4-addr:value = '${HELD}']`, object_marking_refs: [TLP2_MARKING_IDS.red] });
  await submitAs(al, 'a-analyst', al.shared, { objects: [redSco(HELD), redIndicator] });
});
afterAll(async () => {
  await al.close();
});

/** An answer with what legitimately differs between two probes (ids, values, times) replaced. */
function normalise(a: Answer, value: string, ids: Record<string, string> = {}): unknown {
  let text = a.body;
  for (const [id, name] of Object.entries(ids)) text = text.split(id).join(name);
  text = text.split(value).join('VALUE')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');
  return { status: a.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

const taxiiPost = (objects: Stix[]) => h.call('POST', `/${root}/collections/${al.shared}/objects/`, {
  token: al.tokens['b-analyst']!, body: { objects }, contentType: TAXII, headers: { accept: TAXII },
});
const taxiiGet = (url: string) => h.call('GET', url, { token: al.tokens['b-analyst']!, headers: { accept: TAXII } });
const restImport = (body: unknown) => h.call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['b-analyst']!, body });
const mispEvent = (value: string) => ({
  Event: {
    uuid: randomUUID(), info: `probe ${value}`, date: '2026-03-01', threat_level_id: '2', analysis: '1', distribution: '1', Tag: [{ name: 'tlp:green' }],
    Attribute: [{ uuid: randomUUID(), type: 'ip-dst', category: 'Network activity', to_ids: true, value, timestamp: '1772359200' }],
  },
});

/** Every answer B gets when probing `value`, in order, normalised. */
async function probe(value: string, indicatorId: string): Promise<Record<string, unknown>> {
  const id = deterministicScoId('ipv4-addr', { value });
  const ids = { [id]: 'SCO', [indicatorId]: 'INDICATOR' };
  const n = (a: Answer) => normalise(a, value, ids);
  const out: Record<string, unknown> = {};
  // TAXII: A's exact content, then another content under the id, then A's content again.
  for (const [k, objects] of [['taxii.same', [redSco(value)]], ['taxii.other', [plainSco(value)]], ['taxii.again', [redSco(value)]]] as const) {
    const posted = await taxiiPost([...objects]);
    out[`${k}.post`] = n(posted);
    out[`${k}.status`] = n(await taxiiGet(`/${root}/status/${String(posted.json().id)}/`));
  }
  out['taxii.objects'] = n(await taxiiGet(`/${root}/collections/${al.shared}/objects/?match[id]=${id}`));
  out['taxii.versions'] = n(await taxiiGet(`/${root}/collections/${al.shared}/objects/${id}/versions/`));
  out['taxii.manifest'] = n(await taxiiGet(`/${root}/collections/${al.shared}/manifest/?match[id]=${id}`));
  // REST import: the same SCO (a duplicate of B's own copy by now) and one with another content.
  out['rest.import'] = n(await restImport({ type: 'bundle', id: `bundle--${randomUUID()}`, objects: [redSco(value), { ...plainSco(value), x_note: 'other' }] }));
  out['rest.read'] = n(await h.get('b-analyst', `/api/v1/intel/${id}`));
  await al.platform.correlations.idle();
  out['rest.correlations'] = n(await h.get('b-analyst', `/api/v1/objects/${id}/correlations`));
  out['rest.search'] = n(await h.get('b-analyst', `/api/v1/intel?q=${value}`));
  // Sightings of an indicator id B cannot read (A's RED one, or one nobody holds).
  const sighting = sdo('sighting', { sighting_of_ref: indicatorId, count: 1 });
  out['rest.sighting'] = n(await restImport({ type: 'bundle', id: `bundle--${randomUUID()}`, objects: [sighting] }));
  out['rest.sightings-of'] = n(await h.get('b-analyst', `/api/v1/intel/${indicatorId}/sightings`));
  out['rest.indicator'] = n(await h.get('b-analyst', `/api/v1/intel/${indicatorId}`));
  // A MISP event naming the value (REST import of a MISP document, and the PyMISP route).
  out['misp.import'] = n(await restImport(mispEvent(value)));
  const viaPyMisp = await h.call('POST', '/api/misp/events/add', { token: al.tokens['b-analyst']!, body: mispEvent(value) });
  out['misp.add'] = { status: viaPyMisp.status, attributes: (viaPyMisp.json().Event?.Attribute ?? []).length };
  const search = await h.call('POST', '/api/misp/attributes/restSearch', { token: al.tokens['b-analyst']!, body: { value } });
  out['misp.search'] = { status: search.status, count: (search.json().response?.Attribute ?? []).length };
  return out;
}

describe('an unreadable thing answers exactly as an absent one', () => {
  it('probing a RED SCO and RED indicator of another organisation: every answer equals the probe of an absent value', async () => {
    const held = await probe(HELD, String(redIndicator.id));
    const absent = await probe(ABSENT, `indicator--${randomUUID()}`);
    if (process.env.DUMP_PROBE) console.log(JSON.stringify(held, null, 1));
    for (const k of Object.keys(absent)) expect(held[k], k).toEqual(absent[k]);
    expect(Object.keys(held)).toEqual(Object.keys(absent));
    // The probes were answered as new, not as duplicates of A's copy.
    expect((held['taxii.same.status'] as { body: { success_count: number; successes: { message?: string }[] } }).body.successes[0]!.message).toBeUndefined();
  });

  it('the submitter keeps its own copy; the other organisation\'s RED copy is neither exposed nor overwritten', async () => {
    const id = deterministicScoId('ipv4-addr', { value: HELD });
    const a = await h.get('a-analyst', `/api/v1/intel/${id}`);
    expect(a.status, a.body).toBe(200);
    expect(a.json().object).toEqual(redSco(HELD));
    expect(a.json().versions).toHaveLength(1);
    const b = await h.get('b-analyst', `/api/v1/intel/${id}`);
    expect(b.status, b.body).toBe(200);
    expect(b.json().versions).toHaveLength(1);
    // B's copy is its own fact: C (a bystander) reads B's copy only as B's marking allows (RED
    // without recipients: B alone), so C sees neither copy.
    expect((await h.get('c-analyst', `/api/v1/intel/${id}`)).status).toBe(404);
    // TAXII: A still sees exactly its own copy.
    const objs = await h.call('GET', `/${root}/collections/${al.shared}/objects/?match[id]=${id}`, { token: al.tokens['a-analyst']!, headers: { accept: TAXII } });
    expect(objs.json().objects).toEqual([redSco(HELD)]);
  });

  it('deleting an SCO over TAXII deletes the caller\'s own copy only', async () => {
    const id = deterministicScoId('ipv4-addr', { value: HELD });
    const del = await h.call('DELETE' as 'GET', `/${root}/collections/${al.shared}/objects/${id}/`, { token: al.tokens['b-analyst']!, headers: { accept: TAXII } });
    expect(del.status, del.body).toBe(200);
    expect((await h.get('b-analyst', `/api/v1/intel/${id}`)).status).toBe(404);
    const a = await h.get('a-analyst', `/api/v1/intel/${id}`);
    expect(a.status).toBe(200);
    expect(a.json().object).toEqual(redSco(HELD));
  });

  it('a Sigma rule id or name held by an unreadable rule answers as a free one, and each organisation\'s rule fires for itself', async () => {
    const rule = (id: string, name: string, title: string) => [
      `title: ${title}`, `id: ${id}`, `name: ${name}`, 'status: test', 'logsource:', '  product: windows', '  category: process_creation',
      'detection:', '  sel:', "    Image|endswith: '\\whoami.exe'", '  condition: sel', 'level: high',
    ].join('\n');
    const corr = (id: string, ref: string) => `title: Twice ${ref}\nid: ${id}\ncorrelation:\n  type: event_count\n  rules: [${ref}]\n  generate: true\n  timespan: 1m\n  condition: {gte: 2}\n`;
    const post = (user: string, body: unknown) => h.call('POST', '/api/v1/sigma/rules', { token: al.tokens[user]!, body });
    const held = { id: randomUUID(), name: 'secret_whoami' };
    expect((await post('a-analyst', { yaml: rule(held.id, held.name, 'Alpha whoami'), tlp: 'red' })).status).toBe(201);
    const probe = async (k: { id: string; name: string }) => {
      const ids = { [k.id]: 'RULE', [k.name]: 'NAME' };
      // A correlation on the name (B has no rule of that name yet), then a rule with the id and name.
      const correlated = await post('b-analyst', { yaml: corr(randomUUID(), k.name), tlp: 'red' });
      const failed = ((await h.get('b-analyst', '/api/v1/sigma/status')).json().failed as { rule: string; reason: string }[])
        .filter((f) => f.rule === `Twice ${k.name}`).map((f) => JSON.parse(JSON.stringify(f).split(k.name).join('NAME')) as unknown);
      const added = await post('b-analyst', { yaml: rule(k.id, k.name, 'Bravo whoami'), tlp: 'red' });
      return { correlated: normalise(correlated, k.id, ids), failed, added: normalise(added, k.id, ids) };
    };
    const a = await probe(held);
    const b = await probe({ id: randomUUID(), name: 'absent_whoami' });
    expect(a).toEqual(b);
    expect((a.added as { status: number }).status).toBe(201);
    expect((a.correlated as { status: number }).status).toBe(201);
    expect(a.failed).toHaveLength(1);
    // Each organisation's rule fires for its own telemetry, and the alert names the rule as written.
    const event = JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': '2026-03-01T10:00:00.000Z', Hostname: 'ws1', Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami', User: 'CORP\\bob' });
    // Detection holds both rules (on a scale-out node its workers start now), then settles.
    await detectionReady(al.platform);
    for (const org of ['A', 'B'] as const) {
      const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs[org], kind: 'sensor', name: `edr-${org}` })).token;
      const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: event });
      expect(res.statusCode, res.body).toBe(202);
    }
    await detectionSettled(al.platform);
    const sigmaAlerts = async (user: string) => ((await h.get(user, '/api/v1/alerts?source=sigma')).json().alerts as { orgId: string; title: string; matched: { id: string } }[]);
    const forA = (await sigmaAlerts('a-analyst')).filter((x) => x.matched.id === held.id);
    expect(forA.map((x) => [x.orgId, x.title])).toEqual([[al.orgs.A, 'Alpha whoami']]);
    const forB = (await sigmaAlerts('b-analyst')).filter((x) => x.matched.id === held.id);
    expect(forB.map((x) => [x.orgId, x.title])).toEqual([[al.orgs.B, 'Bravo whoami']]);
  });
});
