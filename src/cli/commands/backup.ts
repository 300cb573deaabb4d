/**
 * `shieldwall backup DIR` and `shieldwall restore DIR [--check]` (docs/deploying.md "Backup and
 * restore"): the whole node, store and key files, while it runs; restored only into an empty
 * data directory (and an empty PostgreSQL database), checked file by file before and key by key
 * after. The logic is src/ops/backup.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AccessService } from '../../access/index.js';
import { systemClock } from '../../core/clock.js';
import { openStore } from '../../store/index.js';
import { NODE_KEY_META, P_PEER } from '../../federation/registry.js';
import { P_FEED } from '../../federation/taxii-feeds.js';
import { finishStagedRotation, SECRET_KEY_FILE } from '../../federation/keys.js';
import { backupNode, credentialsOpen, keyRecordOfFiles, restoreNode, verifyBackup, type BackupManifest, type KeyRecord } from '../../ops/backup.js';
import { LAST_BACKUP_META, type LastBackup } from '../../ops/last-backup.js';
import { restoreStreamEvents, type StreamRestore } from '../../ops/backup-stream.js';
import type { Config } from '../../config/index.js';
import type { NatsSettings } from '../../scale/nats.js';
import { CLI_ACTOR, cliConfig, ExitRequest, EXIT, packageVersion, stdio, type Io } from '../context.js';

/** The NATS of a scale-out node, for the telemetry a backup keeps (undefined on an embedded node). */
async function natsSettings(config: Config, what: string): Promise<NatsSettings | undefined> {
  const n = config.nats;
  if (!n) return undefined;
  const { DEFAULT_DETECT_OPTIONS } = await import('../../detect/pipeline/index.js');
  return { url: n.url, prefix: n.prefix, partitions: n.partitions, maxBytes: n.maxBytes, maxAgeMs: DEFAULT_DETECT_OPTIONS.spoolRetentionMs, name: `shieldwall-${what} ${process.pid}` };
}

const counted = (m: BackupManifest) => {
  const c = m.counts;
  return `${c.objectVersions} object versions, ${c.organisations} organisations, ${c.users} users, ${c.records} records, ${c.peers} peers, ${c.auditEntries} audit entries`;
};

function summary(io: Io, m: BackupManifest, json: boolean | undefined, extra: Record<string, unknown> = {}): void {
  if (json) {
    io.out(JSON.stringify({ ...m, ...extra }, null, 2));
    return;
  }
  io.out(`node ${m.node ?? '(unnamed)'}, ${m.store}, made ${m.createdAt} by Shieldwall ${m.shieldwallVersion}: ${counted(m)}`);
  io.out(`files: ${m.files.map((f) => `${f.name} (${f.bytes} bytes)`).join(', ')}`);
  if (m.stream) io.out(`telemetry acknowledged and not yet processed: ${m.stream.events} events in ${m.stream.chunks} chunks of stream ${m.stream.stream}`);
}

export function registerBackup(program: Command, io: Io = stdio): void {
  program.command('backup <dir>')
    .description('back the node up into a new directory while it runs: one consistent snapshot of the store (SQLite: VACUUM INTO; PostgreSQL: pg_dump) with the federation keys, node name and a manifest of SHA-256 sums')
    .option('--json', 'print the manifest as JSON')
    .action(async (dir: string, o: { json?: boolean }) => {
      const config = cliConfig();
      const m = await backupNode({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, version: packageVersion(), nats: await natsSettings(config, 'backup') }, dir);
      // Taking the node's whole store elsewhere is audited like a write (who, where, how much).
      const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, mustExist: true });
      try {
        await store.transaction(async (tx) => {
          await tx.setMeta(LAST_BACKUP_META, JSON.stringify({ at: m.createdAt, store: m.store, counts: m.counts } satisfies LastBackup));
          await new AccessService(tx, systemClock).audit(CLI_ACTOR, 'node.backup', null, { directory: path.resolve(dir), store: m.store, counts: m.counts });
        });
      } finally {
        await store.close();
      }
      summary(io, m, o.json, { directory: path.resolve(dir) });
      if (!o.json) {
        const secret = m.files.some((f) => f.name === SECRET_KEY_FILE);
        io.out(`backup written to ${path.resolve(dir)}${secret ? `: it holds ${SECRET_KEY_FILE}, which opens the peer credentials in the store; keep it as private as the node itself` : ''}`);
      }
    });

  program.command('restore <dir>')
    .description('restore a backup into an empty SHIELDWALL_DATA_DIR (and, for a PostgreSQL backup, an empty SHIELDWALL_DATABASE_URL); checks every file first, and the keys and credentials after')
    .option('--check', 'only check the backup (manifest, SHA-256 of each file, keys against the store\'s record); write nothing')
    .option('--without-events', 'a scale-out backup: leave out the telemetry NATS had acknowledged and no worker had processed (it is then lost)')
    .option('--json', 'print JSON')
    .action(async (dir: string, o: { check?: boolean; json?: boolean; withoutEvents?: boolean }) => {
      if (o.check) {
        const m = verifyBackup(dir);
        summary(io, m, o.json, { ok: true });
        if (!o.json) io.out('the backup is whole: every file matches its manifest, and its keys are the ones its store names');
        return;
      }
      const config = cliConfig();
      const nats = o.withoutEvents ? undefined : await natsSettings(config, 'restore');
      const m = await restoreNode(dir, { dataDir: config.dataDir, databaseUrl: config.databaseUrl, nats, withoutEvents: o.withoutEvents === true });
      // Opening the store applies the migrations of a backup made by an older version.
      const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      const problems: string[] = [];
      let creds: ReturnType<typeof credentialsOpen>;
      let events: StreamRestore | null = null;
      try {
        // The telemetry no worker had processed: left in the stream after its marks, or published again.
        if (m.stream && nats) events = await restoreStreamEvents(nats, m.stream, dir, store);
        const raw = await store.getMeta(NODE_KEY_META);
        const record = raw === null ? null : (JSON.parse(raw) as KeyRecord);
        const files = keyRecordOfFiles(config.dataDir);
        // A rotation that had committed but not yet replaced its file when the backup was taken: finished now.
        if (record && files) finishStagedRotation(config.dataDir, record, files);
        const now = keyRecordOfFiles(config.dataDir);
        if (record && (now?.publicKey !== record.publicKey || now?.secretCheck !== record.secretCheck)) {
          problems.push('the restored key files are not the ones the store names: the node will refuse to sign until they are');
        }
        const secret = fs.existsSync(path.join(config.dataDir, SECRET_KEY_FILE)) ? fs.readFileSync(path.join(config.dataDir, SECRET_KEY_FILE)) : null;
        const meta = [...await store.listMeta(P_PEER), ...await store.listMeta(P_FEED)];
        creds = secret ? credentialsOpen(secret, meta) : { sealed: 0, open: 0, failed: [] };
        if (creds.failed.length > 0 && problems.length === 0) problems.push(`${creds.failed.length} credentials do not open with the restored secret: ${creds.failed.slice(0, 5).join(', ')}`);
        await new AccessService(store, systemClock).audit(CLI_ACTOR, 'node.restore', null, { from: path.resolve(dir), createdAt: m.createdAt, counts: m.counts, ...(events ? { telemetry: events } : {}) });
      } finally {
        await store.close();
      }
      summary(io, m, o.json, { restoredInto: config.databaseUrl ? 'postgresql' : config.dataDir, credentials: creds, problems, ...(events ? { telemetry: events } : {}) });
      if (!o.json) {
        io.out(`restored into ${config.databaseUrl ? 'the PostgreSQL database' : config.dataDir}; peer and feed credentials: ${creds.open} of ${creds.sealed} open with the restored secret`);
        if (events) io.out(`unprocessed telemetry: ${events.inStream} chunks still in the stream after their marks, ${events.republished} published again; workers process them when they start`);
        else if (m.stream) io.out(`unprocessed telemetry: ${m.stream.events} events left out (--without-events)`);
        for (const p of problems) io.err(`warning: ${p}`);
      }
      if (problems.length > 0) throw new ExitRequest(EXIT.PARTIAL);
    });
}
