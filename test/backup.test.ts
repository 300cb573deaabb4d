/**
 * `shieldwall backup` and `shieldwall restore` (docs/deploying.md "Backup and restore"), run as
 * the operator runs them: the built CLI in its own process beside a node that is running and
 * writing. A backup is one snapshot of the store with the key files that open it; a restore
 * checks every file first, writes only into an empty data directory (an empty database), and
 * checks the keys and credentials after.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { ManualClock } from '../src/core/clock.js';
import { nodeKeys, seal, SECRET_KEY_FILE, SIGNING_KEY_FILE, unseal } from '../src/federation/index.js';
import { stageSecret } from '../src/federation/keys.js';
import { NODE_KEY_META, P_PEER, type PeerRecord } from '../src/federation/registry.js';
import { MANIFEST_FILE, type BackupManifest } from '../src/ops/backup.js';
import { openStore } from '../src/store/index.js';
import { runBuiltCli } from './helpers/built-cli.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';
import { mustRun, NATS_URL, natsAvailable, TEST_STREAM_BYTES, uniquePrefix } from './helpers/nats.js';
import { until } from './helpers/until.js';
import { hwmKey, JetStreamSource, streamKey } from '../src/scale/jetstream-source.js';
import { openNats, type NatsLink } from '../src/scale/nats.js';
import { partitionOf } from '../src/scale/partition.js';
import { StreamPublisher } from '../src/scale/publisher.js';
import { indicator, makeCollection, makeOrg, makePlatform, T0, tmpDir } from './taxii-fixtures.js';

const PEER_TOKEN = 'token-the-peer-issued-backup-1';
const open: Platform[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  for (const c of cleanups.splice(0)) await c();
});

/** A running node with intelligence, a peer whose token is sealed with the node's secret, and the keys on disk. */
async function runningNode(dataDir: string, o: { databaseUrl?: string } = {}) {
  const env = { SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_NODE_NAME: 'node-b', ...(o.databaseUrl ? { SHIELDWALL_DATABASE_URL: o.databaseUrl } : {}) };
  const p = o.databaseUrl
    ? await createPlatform(loadConfig(env), { store: await openStore({ dataDir, databaseUrl: o.databaseUrl }), clock: new ManualClock(T0) })
    : await makePlatform({ file: path.join(dataDir, 'shieldwall.db'), env: { SHIELDWALL_NODE_NAME: 'node-b' } });
  open.push(p);
  const org = await makeOrg(p, 'BKP');
  const coll = await makeCollection(p, 'intel', [[org.row.id, { canRead: true, canWrite: true }]]);
  await p.intel.submit({ principal: org.principal, source: 'test' }, coll.id, Array.from({ length: 50 }, () => indicator()));
  await p.federation.addPeer(SYSTEM_ACTOR, { name: 'dk', url: 'https://dk.example:8443', publicKey: nodeKeys(tmpDir('sw-bkp-dk-'), 'dk').publicKey, token: PEER_TOKEN, orgs: [] });
  await p.federation.signingKeys();
  return { p, org, coll, env };
}

const cli = (args: string[], env: Record<string, string | undefined>) => runBuiltCli({ args, env });

/** A running node and a backup of it made with the CLI. */
async function backedUp() {
  const dir = tmpDir('sw-bkp-');
  const { env } = await runningNode(dir);
  const target = path.join(tmpDir('sw-bkp-out-'), 'b');
  expect((await cli(['backup', target], env)).code).toBe(0);
  return { dir, env, target };
}

function objectCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from objects').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('backup and restore of an SQLite node', () => {
  it('backs up a node while it writes (one snapshot: the manifest counts what the copy holds) and restores it whole: keys, name, credentials, audit', async () => {
    const dir = tmpDir('sw-bkp-');
    const { p, org, coll, env } = await runningNode(dir);
    // The node keeps writing while the backup runs.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await p.intel.submit({ principal: org.principal, source: 'test' }, coll.id, [indicator()]);
        written++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const target = path.join(tmpDir('sw-bkp-out-'), 'b1');
    const made = await cli(['backup', target, '--json'], env);
    writing = false;
    await writer;
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(target, MANIFEST_FILE), 'utf8')) as BackupManifest;
    expect(m.store).toBe('sqlite');
    expect(m.node).toBe('node-b');
    expect(m.files.map((f) => f.name).sort()).toEqual([SECRET_KEY_FILE, SIGNING_KEY_FILE, 'federation-node-name', 'shieldwall.db'].sort());
    expect(m.counts.peers).toBe(1);
    expect(m.counts.objectVersions).toBeGreaterThanOrEqual(50);
    expect(objectCount(path.join(target, 'shieldwall.db'))).toBe(m.counts.objectVersions);
    expect(m.keys).toEqual(JSON.parse((await p.store.getMeta(NODE_KEY_META))!));
    for (const f of fs.readdirSync(target)) expect(fs.statSync(path.join(target, f)).mode & 0o077).toBe(0);
    // The backup is audited on the node (where, how much), never with a secret.
    const audit = await p.store.listAudit({ limit: 20 });
    const entry = audit.find((a) => a.action === 'node.backup');
    expect(JSON.parse(entry!.detail!)).toMatchObject({ directory: target, store: 'sqlite' });
    expect(JSON.stringify(entry)).not.toContain(PEER_TOKEN);

    expect((await cli(['restore', target, '--check'], env)).code).toBe(0);
    // The node records its last backup: status says when, and what it held.
    const status = JSON.parse((await cli(['status', '--json'], env)).stdout) as { backup: { at: string; counts: { objectVersions: number } } | null };
    expect(status.backup).toMatchObject({ at: m.createdAt, counts: { objectVersions: m.counts.objectVersions } });

    const into = path.join(tmpDir('sw-bkp-new-'), 'node');
    const restored = await cli(['restore', target], { ...env, SHIELDWALL_DATA_DIR: into });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('1 of 1 open with the restored secret');
    expect(fs.statSync(into).mode & 0o077).toBe(0);
    const again = await openStore({ dataDir: into });
    try {
      const peer = JSON.parse((await again.getMeta(`${P_PEER}dk`))!) as PeerRecord;
      expect(unseal(fs.readFileSync(path.join(into, SECRET_KEY_FILE)), peer.token!)).toBe(PEER_TOKEN);
      expect(await again.countObjects(coll.id)).toBe(m.counts.objectVersions);
      expect((await again.listAudit({ limit: 5 })).some((a) => a.action === 'node.restore')).toBe(true);
    } finally {
      await again.close();
    }
    // The restored node is the same node: same name, same signing key.
    expect(nodeKeys(into, 'node-b').publicKey).toBe((await p.federation.signingKeys()).publicKey);
    const list = await cli(['org', 'list', '--json'], { ...env, SHIELDWALL_DATA_DIR: into, SHIELDWALL_NODE_NAME: undefined });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { shortName: string }[]).map((o) => o.shortName)).toContain('BKP');
  }, 60_000);

  it('keeps a secret rotation that committed but had not replaced its file, and the restore finishes it', async () => {
    const dir = tmpDir('sw-bkp-');
    const { p, env } = await runningNode(dir);
    const old = fs.readFileSync(path.join(dir, SECRET_KEY_FILE));
    // What a crash between a rotation's commit and its file write leaves (federation-secret-rotation.test.ts).
    const next = stageSecret(dir);
    const rec = JSON.parse((await p.store.getMeta(`${P_PEER}dk`))!) as PeerRecord;
    await p.store.setMeta(`${P_PEER}dk`, JSON.stringify({ ...rec, token: seal(next.secret, unseal(old, rec.token!)) }));
    const record = JSON.parse((await p.store.getMeta(NODE_KEY_META))!) as Record<string, string>;
    await p.store.setMeta(NODE_KEY_META, JSON.stringify({ ...record, secretCheck: next.check }));

    const target = path.join(tmpDir('sw-bkp-out-'), 'b');
    expect((await cli(['backup', target], env)).code).toBe(0);
    expect(fs.readdirSync(target)).toContain(`${SECRET_KEY_FILE}.next.${next.check}`);
    const into = path.join(tmpDir('sw-bkp-new-'), 'node');
    const restored = await cli(['restore', target], { ...env, SHIELDWALL_DATA_DIR: into });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('1 of 1 open');
    expect(fs.readFileSync(path.join(into, SECRET_KEY_FILE)).equals(next.secret)).toBe(true);
    expect(fs.readdirSync(into).filter((f) => f.includes('.next.'))).toEqual([]);
  }, 60_000);

  it('never writes over a node, a non-empty target, or the data directory itself', async () => {
    const { dir, env, target } = await backedUp();

    const again = await cli(['backup', target], env);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('is not empty');
    const inside = await cli(['backup', path.join(dir, 'backups')], env);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain('inside the data directory');
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false);

    // Restoring over the running node: refused, the node's files untouched.
    const before = fs.readFileSync(path.join(dir, SECRET_KEY_FILE));
    const over = await cli(['restore', target], env);
    expect(over.code).toBe(3);
    expect(over.stderr).toContain('already holds a node');
    expect(fs.readFileSync(path.join(dir, SECRET_KEY_FILE))).toEqual(before);
    // An SQLite backup is not restored into PostgreSQL by mistake.
    const wrong = await cli(['restore', target], { ...env, SHIELDWALL_DATA_DIR: tmpDir('sw-bkp-x-'), SHIELDWALL_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('backup of an SQLite node');
  }, 60_000);

  it('refuses a damaged, incomplete, foreign or newer backup before writing anything', async () => {
    const { env, target: good } = await backedUp();
    const copy = (name: string) => {
      const to = path.join(tmpDir('sw-bkp-copy-'), name);
      fs.cpSync(good, to, { recursive: true });
      return to;
    };
    const restoreInto = tmpDir('sw-bkp-into-');
    const attempt = async (backup: string) => {
      const r = await cli(['restore', backup], { ...env, SHIELDWALL_DATA_DIR: restoreInto });
      expect(fs.readdirSync(restoreInto)).toEqual([]);
      return r;
    };

    const flipped = copy('flipped');
    const db = path.join(flipped, 'shieldwall.db');
    const bytes = fs.readFileSync(db);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    fs.writeFileSync(db, bytes);
    const r1 = await attempt(flipped);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain('shieldwall.db is not the file the backup wrote');
    expect((await cli(['restore', '--check', flipped], env)).code).toBe(1);

    const unfinished = copy('unfinished');
    fs.rmSync(path.join(unfinished, MANIFEST_FILE));
    expect((await attempt(unfinished)).stderr).toContain('did not finish');

    const extra = copy('extra');
    fs.writeFileSync(path.join(extra, 'evil.sh'), 'x');
    expect((await attempt(extra)).stderr).toContain('does not list: evil.sh');

    const escaping = copy('escaping');
    const mf = JSON.parse(fs.readFileSync(path.join(escaping, MANIFEST_FILE), 'utf8')) as BackupManifest;
    mf.files[0]!.name = '../../etc/passwd';
    fs.writeFileSync(path.join(escaping, MANIFEST_FILE), JSON.stringify(mf));
    expect((await attempt(escaping)).stderr).toContain('outside the backup');

    // The secret swapped for another (its sum fixed): the store's sealed credentials would not open.
    const swapped = copy('swapped');
    const ms = JSON.parse(fs.readFileSync(path.join(swapped, MANIFEST_FILE), 'utf8')) as BackupManifest;
    fs.writeFileSync(path.join(swapped, SECRET_KEY_FILE), Buffer.alloc(32, 7));
    const f = ms.files.find((x) => x.name === SECRET_KEY_FILE)!;
    f.sha256 = (await import('node:crypto')).createHash('sha256').update(Buffer.alloc(32, 7)).digest('hex');
    fs.writeFileSync(path.join(swapped, MANIFEST_FILE), JSON.stringify(ms));
    expect((await attempt(swapped)).stderr).toContain('key files are not the ones its store names');

    const newer = copy('newer');
    const mn = JSON.parse(fs.readFileSync(path.join(newer, MANIFEST_FILE), 'utf8')) as BackupManifest;
    mn.migrations.push('9999-from-the-future');
    fs.writeFileSync(path.join(newer, MANIFEST_FILE), JSON.stringify(mn));
    const r5 = await attempt(newer);
    expect(r5.code).toBe(3);
    expect(r5.stderr).toContain('made by a newer Shieldwall');

    const missing = await cli(['restore', path.join(restoreInto, 'nowhere')], env);
    expect(missing.code).toBe(2);
  }, 60_000);
});

const pgTools = spawnSync('pg_dump', ['--version']).status === 0;
const pgUp = await pgAvailable();
const pgOk = pgUp && pgTools;
if (process.env.CI === 'true' && !pgOk) throw new Error('CI: PostgreSQL and its client programs (pg_dump, pg_restore) are required by the backup tests');

describe.skipIf(!pgOk)('backup and restore of a PostgreSQL node', () => {
  it('dumps the snapshot the manifest describes and restores it into an empty database, keys and credentials with it', async () => {
    const a = await freshPostgresDb();
    cleanups.push(a.drop);
    const b = await freshPostgresDb();
    cleanups.push(b.drop);
    const dir = tmpDir('sw-bkp-pg-');
    const { p, coll, env } = await runningNode(dir, { databaseUrl: a.url });
    const target = path.join(tmpDir('sw-bkp-pg-out-'), 'b');
    const made = await cli(['backup', target], env);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(target, MANIFEST_FILE), 'utf8')) as BackupManifest;
    expect(m.store).toBe('postgresql');
    expect(m.files.map((f) => f.name)).toContain('shieldwall.pgdump');
    expect(m.counts.objectVersions).toBe(50);

    const into = path.join(tmpDir('sw-bkp-pg-new-'), 'node');
    const restored = await cli(['restore', target], { ...env, SHIELDWALL_DATA_DIR: into, SHIELDWALL_DATABASE_URL: b.url });
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('1 of 1 open');
    const again = await openStore({ dataDir: into, databaseUrl: b.url });
    try {
      expect(await again.countObjects(coll.id)).toBe(50);
      expect(await again.getMeta(NODE_KEY_META)).toBe(await p.store.getMeta(NODE_KEY_META));
    } finally {
      await again.close();
    }
    // A second restore into the now populated database is refused.
    const twice = await cli(['restore', target], { ...env, SHIELDWALL_DATA_DIR: tmpDir('sw-bkp-pg-2-'), SHIELDWALL_DATABASE_URL: b.url });
    expect(twice.code).toBe(3);
    expect(twice.stderr).toContain('already holds a Shieldwall store');
  }, 90_000);
});

const natsUp = await natsAvailable();
if (mustRun() && !natsUp) throw new Error(`CI: NATS is required by the scale-out backup test and does not answer at ${NATS_URL}`);

describe.skipIf(!pgOk || !natsUp)('backup and restore of a scale-out node (PostgreSQL + NATS JetStream)', () => {
  it('keeps the telemetry NATS acknowledged and no worker processed, and restores it onto the same stream or a new one', async () => {
    const a = await freshPostgresDb();
    cleanups.push(a.drop);
    const dir = tmpDir('sw-bkp-so-');
    const { p, env: base } = await runningNode(dir, { databaseUrl: a.url });
    const prefix = uniquePrefix('bkp');
    const nats = (pfx: string) => ({ SHIELDWALL_NATS_URL: NATS_URL, SHIELDWALL_NATS_PREFIX: pfx, SHIELDWALL_NATS_PARTITIONS: '4', SHIELDWALL_NATS_MAX_BYTES: String(TEST_STREAM_BYTES) });
    const links: NatsLink[] = [];
    const link = async (pfx: string) => {
      const l = await openNats({ url: NATS_URL, prefix: pfx, partitions: 4, maxBytes: TEST_STREAM_BYTES, maxAgeMs: 3_600_000, name: 'backup test' });
      links.push(l);
      cleanups.push(async () => {
        await l.jsm.streams.delete(l.names.stream).catch(() => undefined);
        await l.close();
      });
      return l;
    };
    const l1 = await link(prefix);
    const org = 'identity--0a000000-0000-4000-8000-00000000b0b0';
    const part = partitionOf(org, 4);
    const meta = { orgId: org, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null };
    const pub = new StreamPublisher(l1);
    await pub.append(meta, [{ format: 'ecs', event: '{"n":1}' }], 'c1');
    await pub.append(meta, [{ format: 'ecs', event: '{"n":2}' }, { format: 'ecs', event: '{"n":3}' }], 'c2');
    await pub.append(meta, [{ format: 'ecs', event: '{"n":4}' }], 'c3');
    // A worker has processed chunk 1 (its mark), not chunks 2 and 3.
    await p.store.setMeta(hwmKey(l1.names.prefix, part), '1');
    await p.store.setMeta(streamKey(l1.names.prefix, part), (await l1.jsm.streams.info(l1.names.stream)).created);

    const env = { ...base, ...nats(prefix) };
    const target = path.join(tmpDir('sw-bkp-so-out-'), 'b');
    const made = await cli(['backup', target], env);
    expect([made.code, made.stderr]).toEqual([0, '']);
    expect(made.stdout).toContain('3 events in 2 chunks');
    const m = JSON.parse(fs.readFileSync(path.join(target, MANIFEST_FILE), 'utf8')) as BackupManifest;
    expect(m.stream).toMatchObject({ chunks: 2, events: 3, partitions: 4, marks: { [String(part)]: 1 } });
    expect(m.files.map((f) => f.name)).toContain('telemetry-pending.ndjson');

    /** An empty database and data directory to restore into. */
    const emptyNode = async (tag: string) => {
      const db = await freshPostgresDb();
      cleanups.push(db.drop);
      const into = path.join(tmpDir(tag), 'node');
      return { url: db.url, into, env: { SHIELDWALL_DATA_DIR: into, SHIELDWALL_DATABASE_URL: db.url } };
    };
    /** What a worker taking the partition reads from a restored store. */
    const readsAfterRestore = async (l: NatsLink, dbUrl: string, into: string) => {
      const store = await openStore({ dataDir: into, databaseUrl: dbUrl });
      const src = new JetStreamSource({ link: l, store, warmMs: () => 0, onWarm: () => undefined });
      try {
        await src.own(part);
        await until('the restored chunks to be read', () => src.buffered() >= 2);
        src.beginRound(1_000);
        return (await src.read(100)).map((r) => r.event);
      } finally {
        await src.close();
        await store.close();
      }
    };

    // Onto another NATS stream (another prefix: a stream made anew): the chunks are published again.
    const b = await emptyNode('sw-bkp-so-new-');
    const prefix2 = uniquePrefix('bkp2');
    const l2 = await link(prefix2);
    await new StreamPublisher(l2).append({ ...meta, orgId: 'identity--0a000000-0000-4000-8000-00000000c0c0' }, [{ format: 'ecs', event: '{"other":1}' }], 'o1');
    const restored = await cli(['restore', target], { ...env, ...nats(prefix2), ...b.env });
    expect([restored.code, restored.stderr]).toEqual([0, '']);
    expect(restored.stdout).toContain('0 chunks still in the stream after their marks, 2 published again');
    expect(await readsAfterRestore(l2, b.url, b.into)).toEqual(['{"n":2}', '{"n":3}', '{"n":4}']);

    // Onto the same stream, which still holds them after the mark: left where they are.
    const c = await emptyNode('sw-bkp-so-same-');
    const same = await cli(['restore', target], { ...env, ...c.env });
    expect([same.code, same.stderr]).toEqual([0, '']);
    expect(same.stdout).toContain('2 chunks still in the stream after their marks, 0 published again');
    expect(await readsAfterRestore(l1, c.url, c.into)).toEqual(['{"n":2}', '{"n":3}', '{"n":4}']);

    // Without a NATS to put them in: refused before anything is written, unless left out on purpose.
    const d = await emptyNode('sw-bkp-so-none-');
    const noNats = { ...base, ...d.env };
    const refused = await cli(['restore', target], noNats);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('3 events (2 chunks) that NATS had acknowledged');
    expect(fs.existsSync(path.join(d.into, 'federation-secret.key'))).toBe(false);
    const without = await cli(['restore', target, '--without-events'], noNats);
    expect([without.code, without.stderr]).toEqual([0, '']);
    expect(without.stdout).toContain('3 events left out (--without-events)');
  }, 120_000);
});
