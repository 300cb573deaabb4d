/** The demo alliance: content, release policy across TLP levels, once-only and all-or-nothing creation. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { AppError } from '../../core/errors.js';
import type { Audience, Tlp } from '../../core/policy.js';
import { AccessService } from '../../access/index.js';
import { openSqliteStore, type ObjectRow, type Store } from '../../store/index.js';
import { createDemoAlliance, DEMO_MARKER, demoAllowed } from './create.js';
import { DEMO_COLLECTIONS, DEMO_ORGS } from './alliance.js';
import { demoId } from './intel.js';

const clock = new ManualClock('2026-03-01T12:00:00Z');

describe('demo alliance', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
  });

  const orgId = async (short: string) => (await store.listOrganisations()).find((o) => o.shortName === short)?.id ?? '';
  const visible = async (short: string, version: 'last' | 'all' = 'last'): Promise<ObjectRow[]> => {
    const id = await orgId(short);
    const audience: Audience = { hop: 'local', orgId: id, groupIds: await store.groupsOfOrg(id) };
    const collectionIds = (await store.listCollections()).map((c) => c.id);
    return (await store.queryObjects({ collectionIds, audience, purpose: 'read', limit: 10_000, version: { kind: version } })).rows;
  };
  const names = (rows: ObjectRow[]) => new Set(rows.map((r) => r.name));

  it('creates organisations with identities, users of every role, groups, collections and intel at every TLP level', async () => {
    expect(await demoAllowed(store)).toBe(true);
    const r = await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
    expect(await demoAllowed(store)).toBe(false);
    const orgs = await store.listOrganisations();
    expect(orgs).toHaveLength(DEMO_ORGS.length);
    expect(orgs.filter((o) => o.kind === 'alliance-body').map((o) => o.shortName)).toEqual(['NWA-CSIRT']);
    expect(new Set(r.users.flatMap((u) => u.roles))).toEqual(new Set(['analyst', 'responder', 'representative', 'excon', 'admin']));
    expect(new Set(r.users.map((u) => u.password)).size).toBe(r.users.length);
    const access = new AccessService(store, clock);
    const u = r.users[0]!;
    expect((await access.authenticatePassword(u.username, u.password, 'test')).orgId).toBe(u.orgId);
    expect((await store.listCollections()).map((c) => c.title).sort()).toEqual(DEMO_COLLECTIONS.map((c) => c.title).sort());
    expect(await store.listGroups()).toHaveLength(2);

    const all = await visible('NWA-CSIRT', 'all');
    for (const o of orgs) expect(all.some((row) => row.id === o.id && row.type === 'identity' && row.tlp === 'clear'), o.shortName).toBe(true);
    const rows = (await store.queryObjects({
      collectionIds: (await store.listCollections()).map((c) => c.id), audience: { hop: 'public' }, purpose: 'read', limit: 10_000,
    })).rows;
    expect(rows.length).toBeGreaterThan(5);
    // Every TLP level (and an unmarked draft) is in the store.
    const tlps = new Set<Tlp | null>();
    for (const s of DEMO_ORGS) for (const row of await visible(s.shortName)) tlps.add(row.tlp);
    expect(tlps).toEqual(new Set(['clear', 'green', 'amber', 'amber+strict', 'red', null]));
    // Versions and a revocation.
    const heron = all.filter((row) => row.id === demoId('intrusion-set', 'GLASS HERON'));
    expect(heron).toHaveLength(2);
    const sink = all.filter((row) => row.id === demoId('indicator', 'PALEFERN C2 198.51.100.99'));
    expect(sink.map((row) => row.revoked)).toEqual([false, true]);
  });

  it('makes the release policy visible: each organisation sees what its TLP and recipients allow', async () => {
    await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
    const tide = 'SILENT TIDE';
    const red = 'KNOTWEED staging host (sensitive source)';
    const sitrep = 'Aldermark situation report: KNOTWEED on a ministry network';
    const draft = 'Draft: attribution working notes';
    const see = async (short: string) => names(await visible(short));
    const crv = await see('CRV-NCSC');
    const dsk = await see('DSK-CERT');
    const ald = await see('ALD-CERT');
    const est = await see('EST-CDA');
    expect(crv.has('GLASS HERON')).toBe(true);
    expect([crv.has(tide), dsk.has(tide), est.has(tide), ald.has(tide)]).toEqual([false, true, true, false]);
    expect([crv.has(red), ald.has(red), (await see('BRN-CYBERCOM')).has(red)]).toEqual([true, false, true]);
    expect([crv.has(sitrep), dsk.has(sitrep), ald.has(sitrep)]).toEqual([true, false, true]);
    expect([ald.has(draft), crv.has(draft)]).toEqual([true, false]);
  });

  it('runs once: a second run or a node with organisations is refused', async () => {
    await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
    const again = await createDemoAlliance({ store, clock }, { apiRoot: 'api1' }).catch((e: unknown) => e);
    expect((again as AppError).code).toBe('CONFLICT');
    const other = await openSqliteStore(':memory:');
    await new AccessService(other, clock).createOrganisation({ principal: null, source: 'test' }, { name: 'Real', shortName: 'REAL' });
    expect(await demoAllowed(other)).toBe(false);
    expect(((await createDemoAlliance({ store: other, clock }, { apiRoot: 'api1' }).catch((e: unknown) => e)) as AppError).code).toBe('CONFLICT');
    expect(await other.getMeta(DEMO_MARKER)).toBeNull();
  });

  it('is all or nothing: a failure half-way leaves an empty node that may try again', async () => {
    // Fails the 5th object write, after organisations, users and the first intel are written.
    let calls = 0;
    const wrap = (inner: Store): Store => new Proxy(inner, {
      get(target, key) {
        if (key === 'transaction') return <T>(fn: (tx: Store) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)));
        if (key === 'putObjects') {
          return async (...a: Parameters<Store['putObjects']>) => {
            if (++calls === 5) throw new Error('disk full (simulated)');
            return target.putObjects(...a);
          };
        }
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
    const failing = wrap(store);
    await expect(createDemoAlliance({ store: failing, clock }, { apiRoot: 'api1' })).rejects.toThrow('disk full');
    expect(await store.listOrganisations()).toEqual([]);
    expect(await store.getMeta(DEMO_MARKER)).toBeNull();
    expect(await demoAllowed(store)).toBe(true);
    await createDemoAlliance({ store, clock }, { apiRoot: 'api1' });
    expect(await store.listOrganisations()).toHaveLength(DEMO_ORGS.length);
  });
});
