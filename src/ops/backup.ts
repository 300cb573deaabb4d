/**
 * Backup and restore of a whole node (docs/deploying.md "Backup and restore"): the store and
 * the files beside it that the store cannot be used without. A copy of the database alone is
 * not a node: the peer tokens and TAXII feed credentials in it are sealed with
 * `federation-secret.key`, and the node's peers know it by the public key of
 * `federation-ed25519.pem` and by the name in `federation-node-name`.
 *
 * A backup is a directory:
 * - `shieldwall.db` (SQLite: one consistent snapshot made with `VACUUM INTO` while the node runs)
 *   or `shieldwall.pgdump` (PostgreSQL: `pg_dump --format=custom` of a snapshot exported from a
 *   transaction that also reads what the manifest says of it);
 * - the key files, any key staged by a rotation in progress, the demo credentials when present;
 * - `shieldwall-backup.json`: the manifest (format, creation time, version, node, store kind,
 *   migrations, what the snapshot holds, the key record the snapshot names, each file's size and
 *   SHA-256). It is written last, and the directory is renamed into place only when complete.
 *
 * The key files are copied after the snapshot and checked against the key record in it (public
 * key and secret check, NODE_KEY_META): a rotation that committed in between gives a copy whose
 * keys are not the snapshot's, and the backup is made again (three times, then it fails).
 *
 * Restore checks every file against the manifest first, refuses a backup made by a newer
 * version (migrations this one does not know), and writes only into an empty data directory
 * (and, on PostgreSQL, a database without a Shieldwall schema): it never overwrites a node.
 * After it, the store is opened (older backups are migrated), its key record is compared with
 * the restored keys, and every sealed credential is opened with the restored secret.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../core/errors.js';
import { NODE_NAME_FILE } from '../config/index.js';
import { type KeyRecordLike, SECRET_KEY_FILE, SIGNING_KEY_FILE, rawPublicKeyOf, secretCheck, stagedSecret, stagedSigningKey, unseal } from '../federation/keys.js';
import { NODE_KEY_META, P_PEER } from '../federation/registry.js';
import { P_FEED } from '../federation/taxii-feeds.js';
import { MIGRATIONS } from '../store/migrations.js';
import type { BackupCounts } from './last-backup.js';
import { saveStreamEvents, scaleMetaSql, STREAM_EVENTS_FILE, type StreamBackup } from './backup-stream.js';
import type { NatsSettings } from '../scale/nats.js';
import { scaleNames } from '../scale/partition.js';

export type { BackupCounts } from './last-backup.js';

export const MANIFEST_FILE = 'shieldwall-backup.json';

export const BACKUP_FORMAT = 'shieldwall-backup-v1';
export const SQLITE_FILE = 'shieldwall.db';
export const PG_DUMP_FILE = 'shieldwall.pgdump';
const DEMO_CREDENTIALS = 'demo-credentials.json';
/** Attempts at a snapshot whose key files are its own (a rotation racing the copy). */
const ATTEMPTS = 3;


export type KeyRecord = KeyRecordLike;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  shieldwallVersion: string;
  node: string | null;
  store: 'sqlite' | 'postgresql';
  /** Migration ids applied in the snapshot. */
  migrations: string[];
  counts: BackupCounts;
  /** The key record the snapshot names (null: the node never signed or sealed anything). */
  keys: KeyRecord | null;
  files: { name: string; bytes: number; sha256: string }[];
  /** Scale-out: the telemetry the stream held after the snapshot's marks (ops/backup-stream.ts); absent when none. */
  stream?: StreamBackup;
}

export interface BackupSource {
  dataDir: string;
  databaseUrl?: string | undefined;
  version: string;
  now?: () => Date;
  /** Scale-out: the node's NATS, whose unprocessed telemetry the backup keeps. */
  nats?: NatsSettings | undefined;
}

/** SQL both engines run the same way, on one snapshot. */
type Query = (text: string) => Promise<Record<string, unknown>[]>;

const COUNT_SQL: Record<keyof Omit<BackupCounts, 'peers'>, string> = {
  objectVersions: 'select count(*) as n from objects',
  organisations: 'select count(*) as n from organisations',
  users: 'select count(*) as n from users',
  records: 'select count(*) as n from records',
  auditEntries: 'select count(*) as n from audit',
};

/** Counts, migrations and the key record of one snapshot. */
async function describe(q: Query): Promise<Pick<BackupManifest, 'counts' | 'migrations' | 'keys'>> {
  const n = async (text: string) => Number((await q(text))[0]?.n ?? 0);
  const counts = {} as BackupCounts;
  for (const [k, text] of Object.entries(COUNT_SQL)) counts[k as keyof typeof COUNT_SQL] = await n(text);
  counts.peers = await n(`select count(*) as n from meta where key like '${P_PEER}%'`);
  const migrations = (await q("select key from meta where key like 'migration:%' order by key")).map((r) => String(r.key).slice('migration:'.length));
  const raw = (await q(`select value from meta where key = '${NODE_KEY_META}'`))[0]?.value;
  return { counts, migrations, keys: typeof raw === 'string' ? (JSON.parse(raw) as KeyRecord) : null };
}

function sha256File(file: string): { bytes: number; sha256: string } {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      h.update(buf.subarray(0, got));
      bytes += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies a file owner-only and synced; false when the source does not exist. */
function copyPrivate(from: string, to: string): boolean {
  let data: Buffer;
  try {
    data = fs.readFileSync(from);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const fd = fs.openSync(to, 'wx', 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The key files of a data directory worth keeping: the keys, the node's name, staged rotations, the demo credentials. */
function keyFilesOf(dataDir: string): string[] {
  const fixed = [SIGNING_KEY_FILE, SECRET_KEY_FILE, NODE_NAME_FILE, DEMO_CREDENTIALS];
  const staged = fs.readdirSync(dataDir).filter((f) => f.startsWith(`${SIGNING_KEY_FILE}.next.`) || f.startsWith(`${SECRET_KEY_FILE}.next.`));
  return [...fixed, ...staged.sort()];
}

/** The key record that a directory's key files make (null when it has none). */
export function keyRecordOfFiles(dir: string): KeyRecord | null {
  const keyFile = path.join(dir, SIGNING_KEY_FILE);
  const secretFile = path.join(dir, SECRET_KEY_FILE);
  if (!fs.existsSync(keyFile) || !fs.existsSync(secretFile)) return null;
  return { publicKey: rawPublicKeyOf(fs.readFileSync(keyFile, 'utf8')), secretCheck: secretCheck(fs.readFileSync(secretFile)) };
}

/**
 * Whether a backup's keys are the snapshot's: its key files, or keys a rotation staged (named by
 * the public key or the secret's check) that the node will promote on its next key check.
 */
function keysMatch(dir: string, record: KeyRecord | null): boolean {
  if (record === null) return true;
  const files = keyRecordOfFiles(dir);
  const keyOk = files?.publicKey === record.publicKey || stagedSigningKey(dir, record.publicKey) !== null;
  const secretOk = files?.secretCheck === record.secretCheck || stagedSecret(dir, record.secretCheck) !== null;
  return keyOk && secretOk;
}

/** A directory to create a backup in: absent, or empty. */
function freshTarget(dest: string): void {
  if (fs.existsSync(dest)) {
    if (!fs.statSync(dest).isDirectory()) throw new AppError('CONFLICT', `${dest} exists and is not a directory`);
    if (fs.readdirSync(dest).length > 0) throw new AppError('CONFLICT', `${dest} is not empty: give a new directory for the backup`);
    fs.rmdirSync(dest);
  }
}

/** Runs a PostgreSQL client program with the URL's password in its environment, not on its command line. */
function runPgTool(tool: string, args: readonly string[], url: string): Promise<void> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  const env = { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(tool, [...args, `--dbname=${u.toString()}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT'
        ? new AppError('UNAVAILABLE', `${tool} is not installed: a PostgreSQL node's backup and restore use PostgreSQL's own client programs (Debian: apt-get install postgresql-client)`)
        : e);
    });
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new AppError('UNAVAILABLE', `${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ').slice(0, 600)}`));
    });
  });
}

/** The SQLite snapshot: `VACUUM INTO` reads one transaction's view while writers go on (WAL). */
async function snapshotSqlite(dataDir: string, into: string): Promise<Pick<BackupManifest, 'counts' | 'migrations' | 'keys'>> {
  const file = path.join(dataDir, SQLITE_FILE);
  if (!fs.existsSync(file)) throw new AppError('NOT_FOUND', `no Shieldwall store at ${file}: set SHIELDWALL_DATA_DIR to the node's data directory (or SHIELDWALL_DATABASE_URL)`);
  const src = new Database(file, { fileMustExist: true });
  try {
    src.pragma('busy_timeout = 10000');
    src.prepare('vacuum into ?').run(path.join(into, SQLITE_FILE));
  } finally {
    src.close();
  }
  const snap = new Database(path.join(into, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    const check = snap.pragma('integrity_check') as { integrity_check: string }[];
    if (check.length !== 1 || check[0]!.integrity_check !== 'ok') {
      throw new AppError('INTERNAL', `the snapshot of ${file} fails SQLite's integrity check: ${check.slice(0, 3).map((r) => r.integrity_check).join('; ')}`);
    }
    return await describe(async (text) => snap.prepare(text).all() as Record<string, unknown>[]);
  } finally {
    snap.close();
  }
}

/** A connected PostgreSQL client (the driver loaded only here: an SQLite node never needs it). */
async function pgClient(url: string, what: string) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (e) {
    throw new AppError('UNAVAILABLE', `cannot reach PostgreSQL for the ${what}: ${(e as Error).message.slice(0, 200)}`);
  }
  // A server ending the connection mid-way fails the statement in progress; not the process.
  client.on('error', () => undefined);
  return client;
}

/**
 * The PostgreSQL snapshot: a REPEATABLE READ transaction exports its snapshot, reads the
 * manifest's facts in it, and stays open while `pg_dump --snapshot` dumps that same snapshot.
 */
async function snapshotPostgres(url: string, into: string, nats: NatsSettings | undefined): Promise<Pick<BackupManifest, 'counts' | 'migrations' | 'keys' | 'stream'>> {
  const client = await pgClient(url, 'backup');
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    const snapshot = String((await client.query<{ s: string }>('select pg_export_snapshot() as s')).rows[0]!.s);
    const facts = await describe(async (text) => (await client.query(text)).rows as Record<string, unknown>[]);
    await runPgTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, `--file=${path.join(into, PG_DUMP_FILE)}`], url);
    // The stream's chunks after the marks this snapshot holds: acknowledged, not in its alerts.
    const marks = nats ? (await client.query<{ key: string; value: string }>(scaleMetaSql(scaleNames(nats.prefix).prefix))).rows : [];
    await client.query('commit');
    const stream = nats ? await saveStreamEvents(nats, marks, into) : null;
    return { ...facts, ...(stream ? { stream } : {}) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Backs the node up into `dest` (a new or empty directory). Returns the manifest written.
 */
export async function backupNode(src: BackupSource, dest: string): Promise<BackupManifest> {
  const target = path.resolve(dest);
  const dataDir = path.resolve(src.dataDir);
  if (!src.databaseUrl && (target === dataDir || target.startsWith(`${dataDir}${path.sep}`))) {
    throw new AppError('BAD_REQUEST', `the backup directory ${target} is inside the data directory ${dataDir}: keep backups elsewhere`);
  }
  freshTarget(target);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  let lastRecord: KeyRecord | null = null;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const work = fs.mkdtempSync(`${target}.partial-`);
    fs.chmodSync(work, 0o700);
    try {
      const facts = src.databaseUrl ? await snapshotPostgres(src.databaseUrl, work, src.nats) : await snapshotSqlite(dataDir, work);
      const unknown = facts.migrations.filter((m) => !MIGRATIONS.some((x) => x.id === m));
      if (unknown.length > 0) throw new AppError('CONFLICT', `the store has migrations this version does not know (${unknown.join(', ')}): back it up with the version that runs the node`);
      if (fs.existsSync(dataDir)) for (const f of keyFilesOf(dataDir)) copyPrivate(path.join(dataDir, f), path.join(work, f));
      lastRecord = facts.keys;
      if (!keysMatch(work, facts.keys)) {
        // A rotation committed between the snapshot and the copy: take both again.
        fs.rmSync(work, { recursive: true, force: true });
        continue;
      }
      const files = fs.readdirSync(work).sort().map((name) => ({ name, ...sha256File(path.join(work, name)) }));
      const nodeFile = path.join(work, NODE_NAME_FILE);
      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        createdAt: (src.now?.() ?? new Date()).toISOString(),
        shieldwallVersion: src.version,
        node: fs.existsSync(nodeFile) ? fs.readFileSync(nodeFile, 'utf8').trim() || null : null,
        store: src.databaseUrl ? 'postgresql' : 'sqlite',
        ...facts,
        files,
      };
      const fd = fs.openSync(path.join(work, MANIFEST_FILE), 'wx', 0o600);
      try {
        fs.writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fsyncPath(work);
      fs.renameSync(work, target);
      fsyncPath(path.dirname(target));
      return manifest;
    } catch (e) {
      fs.rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }
  throw new AppError('CONFLICT', `the node's federation keys changed during each of ${ATTEMPTS} attempts (a key or secret rotation in progress; the store names public key ${lastRecord?.publicKey ?? '-'}): try again when it is done`);
}

/** Reads a backup's manifest and checks every file against it; the manifest when the backup is whole. */
export function verifyBackup(dir: string): BackupManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new AppError('NOT_FOUND', `no backup directory ${dir}`);
  if (!fs.existsSync(file)) throw new AppError('UNPROCESSABLE', `${dir} holds no ${MANIFEST_FILE}: not a Shieldwall backup, or one that did not finish`);
  let m: BackupManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  } catch (e) {
    throw new AppError('UNPROCESSABLE', `${file} is not JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (m?.format !== BACKUP_FORMAT || !Array.isArray(m.files) || !Array.isArray(m.migrations) || (m.store !== 'sqlite' && m.store !== 'postgresql')) {
    throw new AppError('UNPROCESSABLE', `${file} is not a ${BACKUP_FORMAT} manifest`);
  }
  const listed = new Set<string>();
  for (const f of m.files) {
    if (typeof f?.name !== 'string' || f.name !== path.basename(f.name) || f.name.startsWith('.') || f.name === MANIFEST_FILE) {
      throw new AppError('UNPROCESSABLE', `the manifest names a file outside the backup: ${JSON.stringify(f?.name).slice(0, 100)}`);
    }
    listed.add(f.name);
    const p = path.join(dir, f.name);
    if (!fs.existsSync(p)) throw new AppError('UNPROCESSABLE', `the backup is missing ${f.name}`);
    const got = sha256File(p);
    if (got.bytes !== f.bytes || got.sha256 !== f.sha256) throw new AppError('UNPROCESSABLE', `${f.name} is not the file the backup wrote (size or SHA-256 differs): the backup is damaged`);
  }
  const extra = fs.readdirSync(dir).filter((f) => f !== MANIFEST_FILE && !listed.has(f));
  if (extra.length > 0) throw new AppError('UNPROCESSABLE', `the backup holds files its manifest does not list: ${extra.slice(0, 5).join(', ')}`);
  const storeFile = m.store === 'sqlite' ? SQLITE_FILE : PG_DUMP_FILE;
  if (!listed.has(storeFile)) throw new AppError('UNPROCESSABLE', `the backup of a ${m.store} node holds no ${storeFile}`);
  const unknown = m.migrations.filter((x) => !MIGRATIONS.some((y) => y.id === x));
  if (unknown.length > 0) throw new AppError('CONFLICT', `the backup was made by a newer Shieldwall (${m.shieldwallVersion}; migrations ${unknown.join(', ')}): restore it with that version or later`);
  if (!keysMatch(dir, m.keys)) throw new AppError('UNPROCESSABLE', 'the backup\'s key files are not the ones its store names: peer credentials could not be opened');
  return m;
}

export interface RestoreTarget {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Scale-out: where the backup's unprocessed telemetry goes (restored by the caller: restoreStreamEvents). */
  nats?: NatsSettings | undefined;
  /** Restore without the backup's unprocessed telemetry (it is then lost). */
  withoutEvents?: boolean;
}

/** The files of a data directory that make it a node's: restore never writes over them. */
function occupied(dataDir: string): string[] {
  if (!fs.existsSync(dataDir)) return [];
  return fs.readdirSync(dataDir).filter((f) => f === SQLITE_FILE || f.startsWith(`${SQLITE_FILE}-`) || f.startsWith(SIGNING_KEY_FILE) || f.startsWith(SECRET_KEY_FILE) || f === NODE_NAME_FILE);
}

async function pgHasSchema(url: string): Promise<boolean> {
  const client = await pgClient(url, 'restore');
  try {
    const r = await client.query("select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name in ('meta', 'objects')");
    return Number((r.rows[0] as { n: number }).n) > 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Restores a verified backup into an empty data directory (and an empty PostgreSQL database for
 * a PostgreSQL backup). The store is opened and checked by the caller (restoreReport).
 */
export async function restoreNode(dir: string, to: RestoreTarget): Promise<BackupManifest> {
  const m = verifyBackup(dir);
  if (m.store === 'postgresql' && !to.databaseUrl) throw new AppError('BAD_REQUEST', 'this is the backup of a PostgreSQL node: set SHIELDWALL_DATABASE_URL to the (empty) database to restore it into');
  if (m.store === 'sqlite' && to.databaseUrl) throw new AppError('BAD_REQUEST', 'this is the backup of an SQLite node: unset SHIELDWALL_DATABASE_URL to restore it into SHIELDWALL_DATA_DIR');
  if (m.stream && !to.nats && !to.withoutEvents) {
    throw new AppError('BAD_REQUEST', `the backup holds ${m.stream.events} events (${m.stream.chunks} chunks) that NATS had acknowledged and no worker had processed: set SHIELDWALL_NATS_URL (and SHIELDWALL_NATS_PREFIX, SHIELDWALL_NATS_PARTITIONS) to the NATS they go to, or give --without-events to leave them out`);
  }
  const dataDir = path.resolve(to.dataDir);
  const taken = occupied(dataDir);
  if (taken.length > 0) throw new AppError('CONFLICT', `${dataDir} already holds a node (${taken.slice(0, 4).join(', ')}): restore into an empty data directory; move this one away first if it is to be replaced`);
  if (m.store === 'postgresql' && await pgHasSchema(to.databaseUrl!)) {
    throw new AppError('CONFLICT', 'the PostgreSQL database already holds a Shieldwall store: restore into an empty database (createdb <name>)');
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dataDir).mode & 0o077) !== 0) fs.chmodSync(dataDir, 0o700);
  if (m.store === 'postgresql') {
    await runPgTool('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', path.join(dir, PG_DUMP_FILE)], to.databaseUrl!);
  }
  // The store file goes in under a temporary name and is renamed last: a restore that stops half
  // way leaves no file that looks like a node.
  const files = m.files.filter((f) => f.name !== PG_DUMP_FILE && f.name !== STREAM_EVENTS_FILE);
  const storeLast = [...files.filter((f) => f.name !== SQLITE_FILE), ...files.filter((f) => f.name === SQLITE_FILE)];
  for (const f of storeLast) {
    const tmp = path.join(dataDir, `.${f.name}.restoring`);
    fs.rmSync(tmp, { force: true });
    copyPrivate(path.join(dir, f.name), tmp);
    fs.renameSync(tmp, path.join(dataDir, f.name));
  }
  fsyncPath(dataDir);
  return m;
}

/** What a restored node's credentials say: how many open with the restored secret. */
export function credentialsOpen(secret: Buffer, meta: readonly { key: string; value: string }[]): { sealed: number; open: number; failed: string[] } {
  let sealed = 0;
  let open = 0;
  const failed: string[] = [];
  for (const { key, value } of meta) {
    const rec = JSON.parse(value) as { name?: string; token?: string | null; auth?: { kind?: string; sealed?: string } };
    const s = key.startsWith(P_PEER) ? rec.token : key.startsWith(P_FEED) && rec.auth?.kind !== 'none' ? rec.auth?.sealed : undefined;
    if (typeof s !== 'string') continue;
    sealed++;
    try {
      unseal(secret, s);
      open++;
    } catch {
      failed.push(`${key.startsWith(P_PEER) ? 'peer' : 'TAXII feed'} ${rec.name ?? key}`);
    }
  }
  return { sealed, open, failed };
}
