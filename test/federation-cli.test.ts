/**
 * `shieldwall pull` in-process (the commander program with captured output) against a real
 * node served over HTTP: a pull, a repeated pull with nothing new, and a peer error.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { nodeKeys } from '../src/federation/index.js';
import { run } from '../src/cli/program.js';
import { ROOT, indicator, makeCollection, makeOrg, makePlatform, submitWith, tmpDir } from './taxii-fixtures.js';

const dirB = tmpDir('sw-cli-pull-');
let A: Platform;
let server: RunningServer;
let peerToken = '';
let sharedId = '';
let yId = '';
let xId = '';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

beforeAll(async () => {
  A = await makePlatform({ env: { SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'node-a' } });
  const X = await makeOrg(A, 'X');
  xId = X.row.id;
  const B = await makePlatform({ file: path.join(dirB, 'shieldwall.db') });
  const Y = await makeOrg(B, 'Y');
  yId = Y.row.id;
  await B.access.createOrganisation(SYSTEM_ACTOR, { id: X.row.id, name: 'Org X', shortName: 'X', node: 'node-a' });
  await makeCollection(B, 'From A', [[Y.row.id, { canRead: true, canWrite: true }]], 'from-a');
  await B.close();
  await A.access.createOrganisation(SYSTEM_ACTOR, { id: Y.row.id, name: 'Org Y', shortName: 'Y', node: 'node-b' });
  const shared = await makeCollection(A, 'Shared', [[X.row.id, { canRead: true, canWrite: true }], [Y.row.id, { canRead: true, canWrite: false }]]);
  sharedId = shared.id;
  await submitWith(A, { who: X, collectionId: shared.id, objects: Array.from({ length: 5 }, () => indicator({ tlp: 'green' })) });
  await submitWith(A, { who: X, collectionId: shared.id, objects: [indicator({ tlp: 'red' })], recipients: [Y.row.id] });
  await submitWith(A, { who: X, collectionId: shared.id, objects: [indicator({ tlp: 'red' })] });
  peerToken = (await A.access.createToken(SYSTEM_ACTOR, { orgId: Y.row.id, kind: 'peer', name: 'node-b' })).token;
  server = await startServer(A, { logger: false });
  process.env.SHIELDWALL_DATA_DIR = dirB;
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

afterAll(async () => {
  await server.close();
  await A.close();
});

const args = (extra: string[] = []) => ['node', 'shieldwall', 'pull', '--peer', server.url, '--collection', sharedId, '--token', peerToken, '--into', 'from-a', '--org', 'Y', '--peer-org', 'X', '--page-size', '2', ...extra];

describe('shieldwall pull', () => {
  it('pulls what the peer releases, page by page, and resumes with nothing new', async () => {
    const c = capture();
    expect(await run(args(), c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/pulled 6 objects from .*: 6 added, 0 duplicates, 0 rejected/);
    expect(c.err.filter((l) => l.startsWith('page '))).toHaveLength(3);
    const again = capture();
    expect(await run(args(['--json']), again.io)).toBe(0);
    const report = JSON.parse(again.out.join('\n')) as { received: number; complete: boolean; cursor: { last?: string } };
    expect(report).toMatchObject({ received: 0, complete: true });
    expect(report.cursor.last).toMatch(/Z$/);
    const B = await makePlatform({ file: path.join(dirB, 'shieldwall.db') });
    try {
      const coll = (await B.store.listCollections()).find((x) => x.alias === 'from-a')!;
      const rows = (await B.store.queryObjects({ collectionIds: [coll.id], audience: { hop: 'local', orgId: yId, groupIds: [] }, purpose: 'read', limit: 100 })).rows;
      expect(rows).toHaveLength(6);
      expect(rows.filter((r) => r.tlp === 'red')).toHaveLength(1);
      expect(rows.every((r) => r.creatorOrg === xId && r.originNode === 'node-a')).toBe(true);
    } finally {
      await B.close();
    }
  });

  it('a wrong token: exit code and the peer\'s TAXII error on stderr', async () => {
    const c = capture();
    const code = await run(['node', 'shieldwall', 'pull', '--peer', server.url, '--collection', sharedId, '--token', `${peerToken}x`, '--into', 'from-a', '--org', 'Y'], c.io);
    expect(code).not.toBe(0);
    expect(c.err.join('\n')).toMatch(/HTTP 401 Authentication required/);
    // The peer answered nothing: no identity of the peer node is registered (it showed as a
    // member nation on the operational picture and the alliance page).
    const B = await makePlatform({ file: path.join(dirB, 'shieldwall.db') });
    try {
      expect((await B.store.listOrganisations()).filter((o) => o.node === new URL(server.url).host)).toEqual([]);
    } finally {
      await B.close();
    }
  });

  it('an unreachable peer: exit 70, and no organisation is left behind for it', async () => {
    const c = capture();
    const code = await run(['node', 'shieldwall', 'pull', '--peer', 'http://127.0.0.1:1', '--collection', sharedId, '--token', 't', '--into', 'from-a', '--org', 'Y'], c.io);
    expect(code, c.err.join('\n')).toBe(70);
    const B = await makePlatform({ file: path.join(dirB, 'shieldwall.db') });
    try {
      expect((await B.store.listOrganisations()).map((o) => o.shortName)).not.toContain('N-127-0-0-1-1');
    } finally {
      await B.close();
    }
  });

  it('usage errors: a missing option, a bad URL, an unknown organisation', async () => {
    expect(await run(['node', 'shieldwall', 'pull', '--peer', server.url], capture().io)).toBe(1);
    const bad = capture();
    expect(await run(['node', 'shieldwall', 'pull', '--peer', 'not a url', '--collection', sharedId, '--token', 't', '--into', 'from-a', '--org', 'Y'], bad.io)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--peer must be a URL/);
    const unknown = capture();
    expect(await run(args().map((a) => (a === 'Y' ? 'NOPE' : a)), unknown.io)).toBe(2);
  });
});

describe('shieldwall peer', () => {
  it('updates a peer in place: organisations living on it or relayed through it; an unknown peer is named, never asked for a token', async () => {
    const key = nodeKeys(tmpDir('sw-cli-peer-key-'), 'hub').publicKey;
    const lives = `identity--${crypto.randomUUID()}`;
    const behind = `identity--${crypto.randomUUID()}`;
    expect(await run(['node', 'shieldwall', 'peer', 'add', '--name', 'hub', '--public-key', key, '--org', `${lives}:HUBCERT`], capture().io)).toBe(0);
    const up = capture();
    expect(await run(['node', 'shieldwall', 'peer', 'update', 'hub', '--url', 'https://hub.example:8443', '--relayed-org', `${behind}:NOCERT:Norwegian CERT`, '--json'], up.io)).toBe(0);
    const view = JSON.parse(up.out.join('\n')) as { url: string; orgs: { id: string; relayed: boolean; name: string }[] };
    expect(view.url).toBe('https://hub.example:8443');
    expect(view.orgs).toEqual([expect.objectContaining({ id: lives, relayed: false }), expect.objectContaining({ id: behind, relayed: true, name: 'Norwegian CERT' })]);
    const bad = capture();
    expect(await run(['node', 'shieldwall', 'peer', 'update', 'hub', '--remove-org', 'NOPE'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/NOPE is not an organisation of peer hub/);
    for (const argv of [['peer', 'set-token', 'nope'], ['peer', 'update', 'nope', '--url', 'https://x.example']]) {
      const c = capture();
      expect(await run(['node', 'shieldwall', ...argv], c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(/no peer nope/);
    }
  });
});
