/**
 * Federation over REST (docs/federation.md): peers and subscriptions as data, admins manage and
 * readers see the status; bad input is a clear 4xx; a local organisation can never be a peer's;
 * the peer token is kept sealed at rest and never returned; node keys are 0600.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY_FILE, SECRET_KEY_FILE, nodeKeys } from '../src/federation/index.js';
import { makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
const peerKey = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-peer-')), 'dk').publicKey;

async function call(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, user: string, body?: unknown) {
  const res = await al.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

beforeAll(async () => {
  al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'here' });
});
afterAll(async () => al.close());

describe('federation REST', () => {
  it('an admin registers a peer; its token is sealed at rest and never shown; keys are 0600', async () => {
    const dkOrg = `identity--${crypto.randomUUID()}`;
    const r = await call('POST', '/federation/peers', 'a-admin', { name: 'dk', url: 'https://dk.example:8443', publicKey: peerKey, token: 'secret-token-of-dk', orgs: [{ id: dkOrg, shortName: 'DKCERT' }] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'dk', hasToken: true, orgs: [{ id: dkOrg, shortName: 'DKCERT' }] });
    expect(JSON.stringify(r.body)).not.toContain('secret-token-of-dk');
    const raw = await al.platform.store.getMeta('federation.peer.dk');
    expect(raw).not.toContain('secret-token-of-dk');
    expect(al.platform.federation.token((await al.platform.federation.getPeer('dk'))!)).toBe('secret-token-of-dk');
    for (const f of [SIGNING_KEY_FILE, SECRET_KEY_FILE]) expect(fs.statSync(path.join(al.platform.config.dataDir, f)).mode & 0o777).toBe(0o600);
    // The organisations of the peer never get users here.
    await expect(al.platform.access.createUser({ principal: null, source: 'test' }, { orgId: dkOrg, username: 'dk.user', password: 'correct horse battery staple', roles: ['analyst'] })).rejects.toThrow(/lives on node dk/);
    const list = await call('GET', '/federation/peers', 'b-analyst');
    expect(list.status).toBe(200);
    expect((list.body.items as { name: string }[]).map((p) => p.name)).toEqual(['dk']);
  });

  it('the push status of shared records (a refusal names the record) goes to federation administrators only', async () => {
    const secretRecord = `incident--${crypto.randomUUID()}`;
    // As pushRecords leaves it after the peer refused one of A's incidents.
    await al.platform.store.setMeta('federation.recst.dk', JSON.stringify({ lastRunUs: 1, lastSuccessUs: 1, lastError: null, out: 3, refused: 1, lastRefusal: `${secretRecord}: refused by dk` }));
    const seen = async (user: string) => ((await call('GET', '/federation/peers', user)).body.items as { name: string; records?: { lastRefusal: string | null } }[]).find((p) => p.name === 'dk');
    expect((await seen('a-admin'))?.records?.lastRefusal).toContain(secretRecord);
    for (const user of ['b-analyst', 'a-analyst']) {
      const dk = await seen(user);
      expect(dk?.name, user).toBe('dk');
      expect(dk?.records, user).toBeUndefined();
    }
  });

  it('the directory says which organisations live on a peer node (node), and which are this node\'s (null)', async () => {
    const orgs = (await call('GET', '/organisations', 'b-analyst')).body.items as { shortName: string; node: string | null }[];
    expect(orgs.find((o) => o.shortName === 'DKCERT')?.node).toBe('dk');
    const local = orgs.filter((o) => o.node === null).map((o) => o.shortName);
    expect(local.length).toBeGreaterThan(0);
    expect(local).not.toContain('DKCERT');
    const me = (await call('GET', '/me', 'b-analyst')).body as { organisation: { node: string | null } };
    expect(me.organisation.node).toBeNull();
  });

  it('refuses bad input with a clear 4xx', async () => {
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'x', publicKey: 'not-a-key' })).status).toBe(400);
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'Bad Name!', publicKey: peerKey })).status).toBe(400);
    for (const apiRoot of ['..', 'a/b', '']) expect((await call('POST', '/federation/peers', 'a-admin', { name: 'x', publicKey: peerKey, apiRoot })).status).toBe(400);
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'here', publicKey: peerKey })).status).toBe(400);
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'dk', publicKey: peerKey })).status).toBe(409);
    // A peer URL carrying credentials (shown to every reader and in the audit log), a query or fragment
    // (swallowing the TAXII paths), or a link-local / metadata-service address.
    const urlKey = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-url-')), 'u').publicKey;
    for (const url of ['https://user:hunter2@u.example', 'https://u.example/?x=', 'https://u.example/#x', 'http://169.254.169.254', 'http://[fe80::1]:8443']) {
      expect((await call('POST', '/federation/peers', 'a-admin', { name: 'u', url, publicKey: urlKey })).status, url).toBe(400);
      expect((await call('PATCH', '/federation/peers/dk', 'a-admin', { url })).status, url).toBe(400);
    }
    expect(JSON.stringify(await al.platform.store.listAudit({ limit: 500 }))).not.toContain('hunter2');
    // A local organisation (with users) can never live on a peer: the provenance leak of issue #10.
    const noKey = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-no-')), 'no').publicKey;
    const local = await call('POST', '/federation/peers', 'a-admin', { name: 'no', publicKey: noKey, orgs: [{ id: al.orgs.B, shortName: 'B' }] });
    expect(local.status).toBe(409);
    expect(String(local.body.description ?? local.body.message ?? JSON.stringify(local.body))).toMatch(/organisation of this node/);
    expect((await call('GET', '/federation/peers/nope', 'a-admin')).status).toBe(404);
    expect((await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'dk', direction: 'sideways', remoteCollection: 'x', localCollection: 'alliance' })).status).toBe(400);
    expect((await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'dk', direction: 'pull', remoteCollection: 'x', localCollection: 'no-such' })).status).toBe(404);
    expect((await call('POST', '/federation/subscriptions/sub-00000000/run', 'a-admin', {})).status).toBe(404);
  });

  it('an admin syncs only collections their organisation may: push what it reads, pull into what it writes; another\'s is not there', async () => {
    const sub = (user: string, direction: string, localCollection: string) => call('POST', '/federation/subscriptions', user, { peer: 'dk', direction, remoteCollection: 'x', localCollection });
    // Alpha's private collection: C's admin may neither push it to a peer nor pull into it.
    for (const direction of ['push', 'pull']) {
      const r = await sub('c-admin', direction, al.privateA);
      expect([r.status, r.body]).toEqual([404, { error: { code: 'NOT_FOUND', message: `no local collection ${al.privateA}` } }]);
    }
    const into = await sub('c-admin', 'pull', al.readOnly);
    expect([into.status, (into.body.error as { message: string }).message]).toEqual([403, `your organisation may not write collection ${al.readOnly}: it cannot pull into it`]);
    const mine = await sub('a-admin', 'push', al.privateA);
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect((await call('DELETE', `/federation/subscriptions/${(mine.body.subscription as { id: string }).id}`, 'a-admin')).status).toBe(200);
    expect((await al.platform.federation.listSubscriptions()).filter((x) => x.remoteCollection === 'x')).toEqual([]);
  });

  it('only admins manage; readers see the status; a peer-only route refuses users', async () => {
    expect((await call('POST', '/federation/peers', 'a-analyst', { name: 'se', publicKey: peerKey })).status).toBe(403);
    const sub = await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'dk', direction: 'pull', remoteCollection: 'alliance', localCollection: 'alliance', intervalS: 60 });
    expect(sub.status).toBe(200);
    const id = (sub.body.subscription as { id: string }).id;
    const st = await call('GET', '/federation/subscriptions', 'b-analyst');
    expect(st.status).toBe(200);
    expect(st.body.items).toEqual([expect.objectContaining({ rejects: 0, lastSuccess: null, lagS: null, subscription: expect.objectContaining({ id, peer: 'dk', direction: 'pull' }) })]);
    expect((await call('GET', `/federation/subscriptions/${id}/rejects`, 'b-analyst')).status).toBe(403);
    expect((await call('POST', '/federation/envelopes', 'a-admin', { collection: 'alliance', objects: [] })).status).toBe(403);
    // The peer is unreachable: the run fails with the reason, and the status keeps it with a backoff.
    const run = await call('POST', `/federation/subscriptions/${id}/run`, 'a-admin', {});
    expect(run.status).toBe(503);
    const after = await call('GET', `/federation/subscriptions/${id}`, 'a-admin');
    expect(after.body).toMatchObject({ lastError: expect.stringMatching(/dk\.example|ENOTFOUND|EAI_AGAIN|fetch failed|getaddrinfo/), failing: true, state: expect.objectContaining({ failures: 1 }) });
    // One stream, one subscription (two would race for one cursor); sightings-only is a push's.
    const twice = await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'dk', direction: 'pull', remoteCollection: 'alliance', localCollection: 'alliance', intervalS: 30 });
    expect(twice.status).toBe(409);
    expect(JSON.stringify(twice.body)).toContain(id);
    expect((await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'dk', direction: 'pull', remoteCollection: 'alliance', localCollection: 'alliance', sightingsOnly: true })).status).toBe(400);
    expect((await call('DELETE', '/federation/peers/dk', 'a-admin')).status).toBe(409);
    expect((await call('DELETE', `/federation/subscriptions/${id}`, 'a-admin')).status).toBe(200);
    expect((await call('DELETE', '/federation/peers/dk', 'a-admin')).status).toBe(200);
  });
});

describe('peers changed in place, and what a relaying peer is served', () => {
  const hubKey = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-hub-')), 'hub').publicKey;
  const otherKey = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-other-')), 'se').publicKey;
  const LIVES = `identity--${crypto.randomUUID()}`;
  const BEHIND = `identity--${crypto.randomUUID()}`;
  const patch = async (url: string, user: string, body: unknown) => {
    const res = await al.app.inject({ method: 'PATCH', url: `/api/v1${url}`, headers: { authorization: `Bearer ${al.tokens[user]}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('PATCH changes a peer without touching its subscriptions; organisations are added, made relayed, detached; one key, one node', async () => {
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'hub', publicKey: hubKey, url: 'https://hub.example', orgs: [{ id: LIVES, shortName: 'HUBCERT' }] })).status).toBe(200);
    const sub = await call('POST', '/federation/subscriptions', 'a-admin', { peer: 'hub', direction: 'pull', remoteCollection: 'alliance', localCollection: 'alliance', intervalS: 60 });
    expect(sub.status).toBe(200);
    const r = await patch('/federation/peers/hub', 'a-admin', { url: 'https://hub2.example:8443', token: 'a-new-token-from-hub', orgs: [{ id: BEHIND, shortName: 'NOCERT', name: 'Norwegian CERT', relayed: true }] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ url: 'https://hub2.example:8443', hasToken: true });
    expect(r.body.orgs).toEqual([
      { id: LIVES, shortName: 'HUBCERT', name: 'HUBCERT', relayed: false },
      { id: BEHIND, shortName: 'NOCERT', name: 'Norwegian CERT', relayed: true },
    ]);
    expect((await call('GET', `/federation/subscriptions/${(sub.body.subscription as { id: string }).id}`, 'a-admin')).status).toBe(200);
    // Not an analyst's; not an empty change; not another node's key, nor this node's own.
    expect((await patch('/federation/peers/hub', 'a-analyst', { url: 'https://x.example' })).status).toBe(403);
    expect((await patch('/federation/peers/hub', 'a-admin', {})).status).toBe(400);
    expect((await patch('/federation/peers/nope', 'a-admin', { url: 'https://x.example' })).status).toBe(404);
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'se', publicKey: hubKey })).status).toBe(409);
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'se', publicKey: al.platform.federation.keys().publicKey })).status).toBe(400);
    expect((await patch('/federation/peers/hub', 'a-admin', { removeOrgs: ['NOPE'] })).status).toBe(404);
    // Detached: it stays (its objects keep their creator), served by no peer, and may be registered again.
    const d = await patch('/federation/peers/hub', 'a-admin', { removeOrgs: ['NOCERT'] });
    expect(d.status).toBe(200);
    expect((d.body.orgs as { id: string }[]).map((o) => o.id)).toEqual([LIVES]);
    expect((await al.platform.store.getOrganisation(BEHIND))?.node).not.toBe('hub');
    expect((await patch('/federation/peers/hub', 'a-admin', { orgs: [{ id: BEHIND, shortName: 'NOCERT', relayed: true }] })).status).toBe(200);
  });

  it('an organisation of a removed peer can be registered on another one', async () => {
    const zed = `identity--${crypto.randomUUID()}`;
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'zed', publicKey: otherKey, orgs: [{ id: zed, shortName: 'ZED1' }] })).status).toBe(200);
    expect((await call('DELETE', '/federation/peers/zed', 'a-admin')).status).toBe(200);
    const again = await call('POST', '/federation/peers', 'a-admin', { name: 'zed2', publicKey: otherKey, orgs: [{ id: zed, shortName: 'ZED1' }] });
    expect(again.status).toBe(200);
    expect((await al.platform.store.getOrganisation(zed))?.node).toBe('zed2');
    expect((await call('DELETE', '/federation/peers/zed2', 'a-admin')).status).toBe(200);
  });

  it('AMBER+STRICT and RED go to a peer only for the organisations living on it, never for those it relays for', async () => {
    const objects = [
      ['red', LIVES], ['red', BEHIND], ['amber+strict', LIVES], ['amber+strict', BEHIND], ['amber', BEHIND],
    ] as const;
    const names = new Map<string, string>();
    for (const [tlp, to] of objects) {
      const o = { type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: '2026-02-01T08:00:00.000Z', modified: '2026-02-01T08:00:00.000Z', pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: '2026-02-01T08:00:00.000Z', name: `${tlp} for ${to === LIVES ? 'lives' : 'behind'}` };
      const res = await al.platform.intel.submit({ principal: al.principals['a-analyst']!, source: 'test' }, al.shared, [o], { defaultTlp: tlp, recipients: [to] });
      expect(res[0]!.status).toBe('added');
      names.set(o.id, String(o.name));
    }
    const hub = (await al.platform.federation.getPeer('hub'))!;
    const token = (await al.platform.access.createToken({ principal: null, source: 'test' }, { orgId: hub.identity, kind: 'peer', name: 'node hub' })).token;
    const res = await al.app.inject({ method: 'GET', url: `/${al.platform.config.apiRoots[0]!.name}/collections/${al.shared}/objects/?limit=1000`, headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' } });
    expect(res.statusCode).toBe(200);
    const served = ((res.json() as { objects?: { id: string }[] }).objects ?? []).map((o) => names.get(o.id)).filter((n) => n !== undefined).sort();
    expect(served).toEqual(['amber for behind', 'amber+strict for lives', 'red for lives']);
  });
});

describe('a body-less DELETE that names a JSON content type', () => {
  it('is not refused as malformed JSON', async () => {
    const key = nodeKeys(fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'sw-fedrest-del-')), 'gone').publicKey;
    expect((await call('POST', '/federation/peers', 'a-admin', { name: 'gone', publicKey: key })).status).toBe(200);
    const res = await al.app.inject({ method: 'DELETE', url: '/api/v1/federation/peers/gone', headers: { authorization: `Bearer ${al.tokens['a-admin']}`, 'content-type': 'application/json' } });
    expect(res.statusCode, res.body).toBe(200);
  });
});
