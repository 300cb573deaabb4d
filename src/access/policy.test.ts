/**
 * The release policy, table-driven over every TLP × relation of the reader to the object ×
 * hop × origin × purpose; and its SQL form (store/visibility.ts) checked against the pure
 * function on the same table, on a real SQLite store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mayRelease } from './policy.js';
import { openSqliteStore, type Store } from '../store/index.js';
import type { Audience, Purpose, ReleaseFacts, Tlp } from '../core/policy.js';

const CREATOR = 'identity--00000000-0000-4000-8000-00000000000a';
const RECIP = 'identity--00000000-0000-4000-8000-00000000000b';
const VIA_GROUP = 'identity--00000000-0000-4000-8000-00000000000c';
const OTHER = 'identity--00000000-0000-4000-8000-00000000000d';
const GROUP = 'identity--00000000-0000-4000-8000-0000000000ff';
const RELATIONS = [
  { name: 'creator', orgId: CREATOR, groups: [] as string[] },
  { name: 'recipient org', orgId: RECIP, groups: [] },
  { name: 'member of recipient group', orgId: VIA_GROUP, groups: [GROUP] },
  { name: 'unrelated org', orgId: OTHER, groups: [] },
];
const LEVELS: (Tlp | null)[] = ['clear', 'green', 'amber', 'amber+strict', 'red', null];

// Expected outcome per relation (creator, recipient org, via group, unrelated), written by hand from DESIGN §2.1.
const LOCAL_READ: Record<string, string> = { clear: '1111', green: '1111', amber: '1110', 'amber+strict': '1100', red: '1100', none: '1000' };
const PEER_FORWARDED: Record<string, string> = { clear: '1111', green: '1111', amber: '1110', 'amber+strict': '1000', red: '1000', none: '1000' };

function expected(tlp: Tlp | null, hop: 'local' | 'peer', originHere: boolean, purpose: Purpose): string {
  const key = tlp ?? 'none';
  if (purpose === 'bulk' && tlp === 'red') return '0000';
  return hop === 'peer' && !originHere ? PEER_FORWARDED[key]! : LOCAL_READ[key]!;
}

const cases: { tlp: Tlp | null; hop: 'local' | 'peer'; originHere: boolean; purpose: Purpose }[] = [];
for (const tlp of LEVELS) for (const hop of ['local', 'peer'] as const) for (const originHere of [true, false]) for (const purpose of ['read', 'bulk'] as const) cases.push({ tlp, hop, originHere, purpose });

const factsOf = (tlp: Tlp | null, originHere: boolean): ReleaseFacts => ({ tlp, creatorOrg: CREATOR, recipients: [RECIP, GROUP], originNode: originHere ? null : 'node-b' });

describe('mayRelease (pure)', () => {
  it.each(cases)('TLP $tlp, hop $hop, origin here $originHere, $purpose', ({ tlp, hop, originHere, purpose }) => {
    const got = RELATIONS.map((r) => (mayRelease(factsOf(tlp, originHere), { hop, orgId: r.orgId, groupIds: r.groups }, purpose) ? '1' : '0')).join('');
    expect(got).toBe(expected(tlp, hop, originHere, purpose));
  });

  it('public exports carry CLEAR only', () => {
    for (const tlp of LEVELS) for (const purpose of ['read', 'bulk'] as const) {
      expect(mayRelease(factsOf(tlp, true), { hop: 'public' }, purpose)).toBe(tlp === 'clear');
    }
  });

  it('an unmarked object ignores its explicit recipients', () => {
    expect(mayRelease({ tlp: null, creatorOrg: CREATOR, recipients: [OTHER], originNode: null }, { hop: 'local', orgId: OTHER, groupIds: [] }, 'read')).toBe(false);
  });

  it('AMBER+STRICT and RED do not count sharing groups', () => {
    for (const tlp of ['amber+strict', 'red'] as const) {
      expect(mayRelease({ tlp, creatorOrg: CREATOR, recipients: [GROUP], originNode: null }, { hop: 'local', orgId: VIA_GROUP, groupIds: [GROUP] }, 'read')).toBe(false);
    }
  });
});

describe('visibility SQL agrees with mayRelease', () => {
  let store: Store;
  const COLL = 'c0000000-0000-4000-8000-000000000000';
  beforeAll(async () => {
    store = await openSqliteStore(':memory:');
    const rows = cases.filter((c) => c.purpose === 'read' && c.hop === 'local').flatMap(({ tlp, originHere }, i) => [{
      collectionId: COLL, id: `indicator--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'indicator', specVersion: '2.1',
      version: '2024-01-01T00:00:00.000000Z', created: null, modified: null, creatorOrg: CREATOR, tlp, recipients: [RECIP, GROUP],
      originNode: originHere ? null : 'node-b', revoked: false, name: `${tlp}|${originHere}`, labels: [], searchText: '', json: '{}',
    }]);
    await store.putObjects(rows, 1);
  });

  it.each(cases)('TLP $tlp, hop $hop, origin here $originHere, $purpose', async ({ tlp, hop, originHere, purpose }) => {
    for (const r of RELATIONS) {
      const audience: Audience = { hop, orgId: r.orgId, groupIds: r.groups };
      const page = await store.queryObjects({ collectionIds: [COLL], audience, purpose, limit: 1000 });
      const visible = page.rows.some((row) => row.name === `${tlp}|${originHere}`);
      expect(visible, `${r.name}`).toBe(mayRelease(factsOf(tlp, originHere), audience, purpose));
    }
    const pub = await store.queryObjects({ collectionIds: [COLL], audience: { hop: 'public' }, purpose, limit: 1000 });
    expect(pub.rows.some((row) => row.name === `${tlp}|${originHere}`)).toBe(mayRelease(factsOf(tlp, originHere), { hop: 'public' }, purpose));
  });
});

describe('a peer that relays for some organisations it serves (via, home)', () => {
  const PEER = 'identity--00000000-0000-4000-8000-0000000000ee';
  // The peer serves the recipient (or the creator), living on it or reached through it.
  const AUDIENCES: { name: string; audience: Audience; strict: boolean; amber: boolean }[] = [
    { name: 'recipient lives on the peer', audience: { hop: 'peer', orgId: PEER, groupIds: [], via: [RECIP], home: [RECIP] }, strict: true, amber: true },
    { name: 'recipient reached through the peer', audience: { hop: 'peer', orgId: PEER, groupIds: [], via: [RECIP], home: [] }, strict: false, amber: true },
    { name: 'creator reached through the peer', audience: { hop: 'peer', orgId: PEER, groupIds: [], via: [CREATOR], home: [] }, strict: false, amber: true },
    { name: 'creator lives on the peer', audience: { hop: 'peer', orgId: PEER, groupIds: [], via: [CREATOR], home: [CREATOR] }, strict: true, amber: true },
  ];
  let store: Store;
  const COLL = 'c0000000-0000-4000-8000-0000000000ee';
  beforeAll(async () => {
    store = await openSqliteStore(':memory:');
    await store.putObjects(LEVELS.map((tlp, i) => ({
      collectionId: COLL, id: `indicator--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'indicator', specVersion: '2.1',
      version: '2024-01-01T00:00:00.000000Z', created: null, modified: null, creatorOrg: CREATOR, tlp, recipients: [RECIP],
      originNode: null, revoked: false, name: String(tlp), labels: [], searchText: '', json: '{}',
    })), 1);
  });

  it.each(AUDIENCES)('$name: AMBER+STRICT and RED only for organisations living on it; the SQL form agrees', async ({ audience, strict, amber }) => {
    for (const tlp of LEVELS) {
      const facts: ReleaseFacts = { tlp, creatorOrg: CREATOR, recipients: [RECIP], originNode: null };
      const want = tlp === 'clear' || tlp === 'green' ? true : tlp === 'amber' ? amber : tlp === null ? audience.hop !== 'public' && (audience.via ?? []).includes(CREATOR) : strict;
      expect(mayRelease(facts, audience, 'read'), `${tlp}`).toBe(want);
      const page = await store.queryObjects({ collectionIds: [COLL], audience, purpose: 'read', limit: 1000 });
      expect(page.rows.some((r) => r.name === String(tlp)), `SQL ${tlp}`).toBe(want);
    }
  });
});
