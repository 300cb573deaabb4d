/**
 * Rotating a node's federation secret (docs/federation.md "Rotating the secret"): every peer
 * token and TAXII feed credential is re-sealed with a new secret in one transaction, the store
 * records the new check value, and the secret file is replaced; the old secret then opens
 * nothing. A rotation that fails changes nothing; one whose process died after its commit is
 * finished by the next process that compares its keys with the store's record. The signing key's
 * rotation is made the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Platform } from '../src/api/index.js';
import { FederationRegistry, SECRET_KEY_FILE, SIGNING_KEY_FILE, TaxiiFeeds, nodeKeys, rotateSecret, seal, unseal } from '../src/federation/index.js';
import type { Store } from '../src/store/index.js';
import { secretCheck, stageSecret, stageSigningKey } from '../src/federation/keys.js';
import { NODE_KEY_META, P_PEER, type PeerRecord } from '../src/federation/registry.js';
import { P_FEED, type TaxiiFeed } from '../src/federation/taxii-feeds.js';
import { makeCollection, makeOrg, makePlatform, tmpDir } from './taxii-fixtures.js';
import { makeAlliance } from './rest-fixtures.js';
import { sw } from './helpers/cli-run.js';

const PEER_TOKEN = 'token-the-peer-issued-1234';
const FEED_TOKEN = 'bearer-of-the-vendor-5678';
const FEED_PASSWORD = 'password-of-the-vendor-9';

let P: Platform;
let dir: string;

const secretFile = () => fs.readFileSync(path.join(dir, SECRET_KEY_FILE));
const staged = () => fs.readdirSync(dir).filter((f) => f.startsWith(`${SECRET_KEY_FILE}.`));
const meta = async <T>(key: string) => JSON.parse((await P.store.getMeta(key))!) as T;

beforeEach(async () => {
  dir = tmpDir('sw-fed-secret-');
  P = await makePlatform({ file: path.join(dir, 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-s' } });
  const org = await makeOrg(P, 'IMP');
  const coll = await makeCollection(P, 'feeds', [[org.row.id, { canRead: true, canWrite: true }]]);
  await P.federation.addPeer(SYSTEM_ACTOR, { name: 'dk', url: 'https://dk.example:8443', publicKey: nodeKeys(tmpDir('sw-fed-secret-dk-'), 'dk').publicKey, token: PEER_TOKEN, orgs: [] });
  const feeds = new TaxiiFeeds({ store: P.store, clock: P.clock, registry: P.federation });
  const common = { url: 'https://vendor.example/taxii2/', remoteCollection: 'feed-1', localCollection: coll.id, org: org.row.id, intervalS: 0 };
  await feeds.add(SYSTEM_ACTOR, { ...common, name: 'bearer-feed', auth: { kind: 'bearer', token: FEED_TOKEN } });
  await feeds.add(SYSTEM_ACTOR, { ...common, name: 'basic-feed', auth: { kind: 'basic', username: 'cert', password: FEED_PASSWORD } });
  await feeds.add(SYSTEM_ACTOR, { ...common, name: 'open-feed' });
});

afterEach(async () => {
  await P?.close();
});

describe('rotating the federation secret', () => {
  it('re-seals every peer token and feed credential with a new secret the old one cannot open; records it; audits counts only', async () => {
    const old = Buffer.from(secretFile());
    const sealedBefore = (await meta<PeerRecord>(`${P_PEER}dk`)).token!;
    expect(unseal(old, sealedBefore)).toBe(PEER_TOKEN);

    expect(await rotateSecret(P.federation, SYSTEM_ACTOR)).toEqual({ peers: 1, feeds: 2 });

    const now = secretFile();
    expect(now.length).toBe(32);
    expect(now.equals(old)).toBe(false);
    expect(staged()).toEqual([]);
    expect((await meta<{ secretCheck: string }>(NODE_KEY_META)).secretCheck).toBe(secretCheck(now));
    // The registry (and a pull) read the token with the new secret; the old secret opens nothing.
    const peer = await P.federation.peer('dk');
    expect(P.federation.token(peer)).toBe(PEER_TOKEN);
    expect(() => unseal(old, peer.token!)).toThrow();
    for (const [name, plain] of [['bearer-feed', FEED_TOKEN], ['basic-feed', FEED_PASSWORD]] as const) {
      const f = await meta<TaxiiFeed>(`${P_FEED}${name}`);
      if (f.auth.kind === 'none') throw new Error('sealed credential expected');
      const sealed = f.auth.sealed;
      expect(unseal(now, sealed)).toBe(plain);
      expect(() => unseal(old, sealed)).toThrow();
    }
    expect((await meta<TaxiiFeed>(`${P_FEED}basic-feed`)).auth).toMatchObject({ kind: 'basic', username: 'cert' });
    expect((await meta<TaxiiFeed>(`${P_FEED}open-feed`)).auth).toEqual({ kind: 'none' });
    // The process goes on signing (its keys match the store's record) and sealing new credentials with the new secret.
    P.federation.forgetKeyCheck();
    expect((await P.federation.signingKeys()).secret.equals(now)).toBe(true);
    await P.federation.setToken(SYSTEM_ACTOR, 'dk', 'a-second-token-000');
    expect(unseal(now, (await P.federation.peer('dk')).token!)).toBe('a-second-token-000');

    const audit = (await P.store.listAudit({ limit: 50 })).filter((a) => a.action === 'federation.secret.rotate');
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail!)).toEqual({ peers: 1, feeds: 2 });
    for (const secret of [PEER_TOKEN, FEED_TOKEN, FEED_PASSWORD]) expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('a credential the secret cannot open stops the rotation: nothing changes, no staged file is left', async () => {
    const old = Buffer.from(secretFile());
    const rec = await meta<PeerRecord>(`${P_PEER}dk`);
    // Sealed on another machine with another secret (a data directory copied without its key file).
    await P.store.setMeta(`${P_PEER}no`, JSON.stringify({ ...rec, name: 'no', token: seal(Buffer.alloc(32, 7), 'unreadable') }));
    const err = await rotateSecret(P.federation, SYSTEM_ACTOR).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/peer no cannot be decrypted .*nothing was changed/);
    expect(secretFile().equals(old)).toBe(true);
    expect(staged()).toEqual([]);
    expect(P.federation.token(await P.federation.peer('dk'))).toBe(PEER_TOKEN);
    expect((await meta<{ secretCheck: string }>(NODE_KEY_META)).secretCheck).toBe(secretCheck(old));
    expect((await P.store.listAudit({ limit: 50 })).some((a) => a.action === 'federation.secret.rotate')).toBe(false);
  });

  it('a rotation whose process died after its commit is finished by the next process that checks its keys', async () => {
    await P.federation.signingKeys();
    const old = Buffer.from(secretFile());
    // The state a crash between the commit and writing the secret file leaves: the staged secret,
    // the credentials sealed with it and the record naming it; the file still holds the old one.
    const next = stageSecret(dir);
    const rec = await meta<PeerRecord>(`${P_PEER}dk`);
    await P.store.setMeta(`${P_PEER}dk`, JSON.stringify({ ...rec, token: seal(next.secret, unseal(old, rec.token!)) }));
    const record = await meta<Record<string, string>>(NODE_KEY_META);
    await P.store.setMeta(NODE_KEY_META, JSON.stringify({ ...record, secretCheck: next.check }));
    expect(secretFile().equals(old)).toBe(true);

    // Another process of the node (a restart): it compares its keys with the record and finishes.
    const again = new FederationRegistry(P.federation.deps);
    await again.signingKeys();
    expect(secretFile().equals(next.secret)).toBe(true);
    expect(staged()).toEqual([]);
    expect(again.token(await again.peer('dk'))).toBe(PEER_TOKEN);
  });

  it('a staged secret the store never recorded (a rotation that did not commit) is left unused', async () => {
    await P.federation.signingKeys();
    const old = Buffer.from(secretFile());
    stageSecret(dir);
    const again = new FederationRegistry(P.federation.deps);
    await again.signingKeys();
    expect(secretFile().equals(old)).toBe(true);
    expect(again.token(await again.peer('dk'))).toBe(PEER_TOKEN);
    // The next rotation is not disturbed by it.
    expect(await rotateSecret(again, SYSTEM_ACTOR)).toEqual({ peers: 1, feeds: 2 });
    expect(again.token(await again.peer('dk'))).toBe(PEER_TOKEN);
  });
});

describe('rotating the signing key, half-way', () => {
  const stagedKeys = () => fs.readdirSync(dir).filter((f) => f.startsWith(`${SIGNING_KEY_FILE}.`));

  it('a rotation whose store write fails leaves the current key signing, and no staged key', async () => {
    const before = (await P.federation.signingKeys()).publicKey;
    const failing = new Proxy(P.store, {
      get(target, prop, receiver) {
        if (prop === 'transaction') return () => Promise.reject(new Error('the database went away'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }) as Store;
    const reg = new FederationRegistry({ ...P.federation.deps, store: failing });
    await expect(reg.rotateKey(SYSTEM_ACTOR)).rejects.toThrow(/went away/);
    expect(stagedKeys()).toEqual([]);
    P.federation.forgetKeyCheck();
    expect((await P.federation.signingKeys()).publicKey).toBe(before);
  });

  it('a rotation whose process died after the store recorded the new key is finished by the next key check', async () => {
    const before = (await P.federation.signingKeys()).publicKey;
    // What a crash between the commit and writing the key file leaves: the staged key and the record naming it.
    const staged = stageSigningKey(dir);
    const record = await meta<Record<string, string>>(NODE_KEY_META);
    await P.store.setMeta(NODE_KEY_META, JSON.stringify({ ...record, publicKey: staged.publicKey }));
    const again = new FederationRegistry(P.federation.deps);
    const keys = await again.signingKeys();
    expect(keys.publicKey).toBe(staged.publicKey);
    expect(keys.publicKey).not.toBe(before);
    expect(stagedKeys()).toEqual([]);
    expect(fs.readFileSync(path.join(dir, SIGNING_KEY_FILE), 'utf8')).toBe(staged.pem);
  });
});

describe('rotating the secret over REST and the CLI', () => {
  it('an admin rotates (confirmed) over REST; a reader may not; the answer has counts, never a credential', async () => {
    const al = await makeAlliance({ SHIELDWALL_NODE_NAME: 'rest-secret' });
    try {
      const call = async (user: string, body?: unknown) => {
        const res = await al.app.inject({
          method: 'POST', url: '/api/v1/federation/node/rotate-secret', headers: { authorization: `Bearer ${al.tokens[user]}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body ?? {}),
        });
        return { status: res.statusCode, body: res.json() as Record<string, unknown> };
      };
      const key = nodeKeys(tmpDir('sw-fed-secret-rest-'), 'se').publicKey;
      await al.platform.federation.addPeer(SYSTEM_ACTOR, { name: 'se', url: 'https://se.example', publicKey: key, token: PEER_TOKEN, orgs: [] });
      expect((await call('b-analyst', { confirm: true })).status).toBe(403);
      expect((await call('a-admin', {})).status).toBe(400);
      expect((await call('a-admin', { confirm: 'yes' })).status).toBe(400);
      const r = await call('a-admin', { confirm: true });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ node: 'rest-secret', peers: 1, feeds: 0 });
      const fed = al.platform.federation;
      expect(fed.token(await fed.peer('se'))).toBe(PEER_TOKEN);
      expect((await al.platform.store.listAudit({ limit: 20 })).some((x) => x.action === 'federation.secret.rotate')).toBe(true);
    } finally {
      await al.close();
    }
  });

  it('shieldwall peer rotate-secret asks for --yes, then rotates and says how many credentials it re-sealed', async () => {
    const data = tmpDir('sw-fed-secret-cli-');
    const saved = { ...process.env };
    Object.assign(process.env, { SHIELDWALL_DATA_DIR: data, SHIELDWALL_NODE_NAME: 'cli-secret', SHIELDWALL_LOG_LEVEL: 'silent' });
    try {
      expect((await sw('peer', 'whoami', '--json')).code).toBe(0);
      const before = fs.readFileSync(path.join(data, SECRET_KEY_FILE));
      const asked = await sw('peer', 'rotate-secret');
      expect(asked.code).toBe(1);
      expect(asked.err).toContain('Run again with --yes');
      expect(fs.readFileSync(path.join(data, SECRET_KEY_FILE)).equals(before)).toBe(true);
      const done = await sw('peer', 'rotate-secret', '--yes', '--json');
      expect(done.code).toBe(0);
      expect(JSON.parse(done.out)).toEqual({ node: 'cli-secret', peers: 0, feeds: 0 });
      expect(fs.readFileSync(path.join(data, SECRET_KEY_FILE)).equals(before)).toBe(false);
      const text = await sw('peer', 'rotate-secret', '--yes');
      expect(text.out).toContain(`copy ${SECRET_KEY_FILE} to each`);
    } finally {
      process.env = saved;
    }
  });
});
