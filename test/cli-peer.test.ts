/**
 * `shieldwall peer` and `shieldwall sync` in-process (the commander program with captured
 * output) on a node's data directory: register a peer with its organisations, list it with the
 * push status of shared records, add / list / reset / remove a subscription, remove the peer;
 * bad input is a clear error and a non-zero exit, never a half-made peer.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { run } from '../src/cli/program.js';
import { nodeKeys } from '../src/federation/index.js';
import { makeCollection, makePlatform, tmpDir } from './taxii-fixtures.js';

const dir = tmpDir('sw-cli-peer-');
const otherKey = nodeKeys(tmpDir('sw-cli-peer-b-'), 'node-b').publicKey;
const bob = `identity--${crypto.randomUUID()}`;
let collectionId = '';
const saved = { ...process.env };

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function cli(...args: string[]) {
  const c = capture();
  const code = await run(['node', 'shieldwall', ...args], c.io);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

beforeAll(async () => {
  const p = await makePlatform({ file: path.join(dir, 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-a' } });
  const c = await makeCollection(p, 'From B', [], 'from-b');
  collectionId = c.id;
  await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Org A', shortName: 'ORGA' });
  await p.close();
  process.env.SHIELDWALL_DATA_DIR = dir;
  process.env.SHIELDWALL_NODE_NAME = 'node-a';
  process.env.SHIELDWALL_LOG_LEVEL = 'silent';
});

afterAll(() => {
  process.env = saved;
});

describe('shieldwall peer and sync', () => {
  it('registers a peer with its organisations, lists it with the record push status, manages a subscription, and removes the peer once it has none', async () => {
    const me = await cli('peer', 'whoami', '--json');
    expect(me.err).toBe('');
    expect(me.code).toBe(0);
    expect(JSON.parse(me.out)).toMatchObject({ node: 'node-a' });
    // Without SHIELDWALL_PUBLIC_URL the address is unknown here; the text form says so and gives the other side's command.
    expect(JSON.parse(me.out).url).toBeNull();
    const text = await cli('peer', 'whoami');
    expect(text.out).toContain('SHIELDWALL_PUBLIC_URL is not set');
    // The command to give the other operator names this node's own organisations, quoted for a shell.
    const orgA = (JSON.parse(me.out) as { orgs: { id: string; shortName: string }[] }).orgs;
    expect(orgA.map((x) => x.shortName)).toEqual(['ORGA']);
    expect(text.out).toContain(`on the peer: shieldwall peer add --name node-a --public-key ${JSON.parse(me.out).publicKey as string} --url <this node's address> --org '${orgA[0]!.id}:ORGA:Org A'`);
    expect(JSON.parse(me.out).publicKey).not.toBe(otherKey);

    const added = await cli('peer', 'add', '--name', 'node-b', '--public-key', otherKey, '--url', 'http://127.0.0.1:9', '--org', `${bob}:BOB:Bob CERT`, '--json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.out)).toMatchObject({ name: 'node-b', url: 'http://127.0.0.1:9', hasToken: false, orgs: [{ id: bob, shortName: 'BOB' }] });

    const table = await cli('peer', 'list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(new RegExp(`node-b\\s+http://127\\.0\\.0\\.1:9\\s+BOB\\s+no\\s+${otherKey.slice(0, 12).replace(/[+/]/g, '\\$&')}…\\s+0 sent, 0 refused, 0 to relay`));
    const listed = JSON.parse((await cli('peer', 'list', '--json')).out) as { name: string; records: { out: number; relayWaiting: number; lastError: string | null } }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]!.records).toMatchObject({ out: 0, relayWaiting: 0, lastError: null });

    const sub = await cli('sync', 'add', '--peer', 'node-b', '--direction', 'pull', '--remote', 'alliance', '--local', collectionId, '--interval', '5');
    expect(sub.code).toBe(0);
    const id = sub.out.trim();
    const subs = JSON.parse((await cli('sync', 'list', '--json')).out) as { subscription: { id: string; peer: string; direction: string; remoteCollection: string } }[];
    expect(subs.map((s) => s.subscription)).toEqual([expect.objectContaining({ id, peer: 'node-b', direction: 'pull', remoteCollection: 'alliance' })]);
    expect((await cli('sync', 'reset', id)).out).toContain('cursor reset');
    expect((await cli('sync', 'rejects', id, '--json')).out.trim()).toBe('[]');
    // The peer gave no token yet: the run fails with the reason, and the status shows the error
    // with its time (no success yet).
    const failed = await cli('sync', 'run', id);
    expect(failed.code).not.toBe(0);
    expect(failed.err).toContain('peer node-b has no token');
    const status = await cli('sync', 'status');
    // lag_s and last_success '-', then when it runs next (the failure's backoff), then the error with its time.
    expect(status.out).toMatch(new RegExp(`${id}\\s+node-b\\s+pull\\s+alliance\\s+all\\s+0\\s+0\\s+0\\s+0\\s+-\\s+-\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: \\S`));
    expect(status.out.split('\n')[0]).toMatch(/LAST_SUCCESS\s+NEXT_RUN\s+LAST_ERROR/);

    // A push of sightings only says so in the table (not "all").
    const push = (await cli('sync', 'add', '--peer', 'node-b', '--direction', 'push', '--remote', 'sightings', '--local', collectionId, '--sightings-only')).out.trim();
    expect((await cli('sync', 'list')).out).toMatch(new RegExp(`${push}\\s+node-b\\s+push\\s+sightings\\s+sightings only\\s+0`));
    expect((await cli('sync', 'remove', push)).code).toBe(0);

    // A peer with subscriptions is not removed behind their back.
    const refused = await cli('peer', 'remove', 'node-b');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain(`peer node-b has subscriptions (${id}); remove them first`);
    expect((await cli('sync', 'remove', id)).out).toBe(`${id} removed`);
    const removed = await cli('peer', 'remove', 'node-b');
    expect(removed.code).toBe(0);
    expect(JSON.parse((await cli('peer', 'list', '--json')).out)).toEqual([]);
    expect(JSON.parse((await cli('sync', 'list', '--json')).out)).toEqual([]);
  });

  it('refuses bad input with the reason and a non-zero exit, adding nothing', async () => {
    const badOrg = await cli('peer', 'add', '--name', 'node-c', '--public-key', otherKey, '--org', 'just-a-name');
    expect(badOrg.code).not.toBe(0);
    expect(badOrg.err).toMatch(/--org takes identity--<uuid>:SHORT/);
    const badKey = await cli('peer', 'add', '--name', 'node-c', '--public-key', 'not-a-key');
    expect(badKey.code).not.toBe(0);
    expect(badKey.err).not.toBe('');
    const noPeer = await cli('sync', 'add', '--peer', 'nobody', '--direction', 'pull', '--remote', 'x', '--local', collectionId);
    expect(noPeer.code).not.toBe(0);
    expect(noPeer.err).toMatch(/nobody/);
    expect((await cli('sync', 'reset', 'no-such-subscription')).code).not.toBe(0);
    expect(JSON.parse((await cli('peer', 'list', '--json')).out)).toEqual([]);
  });
});
