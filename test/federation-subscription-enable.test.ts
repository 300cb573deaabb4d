/**
 * Enabling or disabling a subscription changes it where it stands: one removed between the
 * registry's read and its write is not written back (it came back without its state, a
 * subscription no list could remove cleanly).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Platform } from '../src/api/index.js';
import { FederationRegistry, nodeKeys } from '../src/federation/index.js';
import type { Store } from '../src/store/index.js';
import { makeCollection, makeOrg, makePlatform, tmpDir } from './taxii-fixtures.js';

const dir = tmpDir('sw-fed-enable-');
let P: Platform;

beforeAll(async () => {
  P = await makePlatform({ file: path.join(dir, 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-e' } });
});
afterAll(async () => {
  await P?.close();
});

describe('enabling a subscription', () => {
  it('disables and enables; one removed meanwhile stays removed (404), not written back', async () => {
    const org = await makeOrg(P, 'E');
    const coll = await makeCollection(P, 'in', [[org.row.id, { canRead: true, canWrite: true }]]);
    await P.federation.addPeer(SYSTEM_ACTOR, { name: 'se', url: 'https://se.example', publicKey: nodeKeys(tmpDir('sw-fed-enable-se-'), 'se').publicKey, orgs: [] });
    const sub = await P.federation.addSubscription(SYSTEM_ACTOR, { peer: 'se', direction: 'pull', remoteCollection: 'r', localCollection: coll.id });
    await P.federation.setEnabled(SYSTEM_ACTOR, sub.id, false);
    expect((await P.federation.subscription(sub.id)).enabled).toBe(false);
    await P.federation.setEnabled(SYSTEM_ACTOR, sub.id, true);
    expect((await P.federation.subscription(sub.id)).enabled).toBe(true);

    // Another request removes it between this one's read of it and its write.
    let reads = 0;
    const key = `federation.sub.${sub.id}`;
    const racing = new Proxy(P.store, {
      get(target, prop, receiver) {
        if (prop !== 'getMeta') return Reflect.get(target, prop, receiver) as unknown;
        return async (k: string) => {
          const v = await target.getMeta(k);
          // Removed right after the registry read it, before it writes.
          if (k === key && ++reads === 1) await P.federation.removeSubscription(SYSTEM_ACTOR, sub.id);
          return v;
        };
      },
    }) as Store;
    const reg = new FederationRegistry({ ...P.federation.deps, store: racing });
    await expect(reg.setEnabled(SYSTEM_ACTOR, sub.id, false)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await P.store.getMeta(key)).toBeNull();
    expect((await P.federation.listSubscriptions()).map((s) => s.id)).not.toContain(sub.id);
  });
});
