/**
 * A throw-away platform for a benchmark: a temp data directory (SQLite file with the real
 * WAL + synchronous=FULL settings) or a fresh PostgreSQL database, and organisations with
 * a token each.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, type Platform } from '../src/api/index.js';
import { SYSTEM_ACTOR, type Actor } from '../src/access/index.js';
import { nowMs } from './stats.js';

export interface BenchPlatform {
  platform: Platform;
  dispose(): Promise<void>;
}

/** Opens a platform on a new SQLite file, or on the given PostgreSQL URL. */
export async function benchPlatform(opts: { databaseUrl?: string; onDispose?: () => Promise<void> } = {}): Promise<BenchPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-bench-'));
  const config = loadConfig({
    SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_PORT: '0', SHIELDWALL_HOST: '127.0.0.1',
    ...(opts.databaseUrl ? { SHIELDWALL_DATABASE_URL: opts.databaseUrl } : {}),
  });
  const platform = await createPlatform(config);
  // As on a node: detection (and the indicator feed it holds) runs in the supervised worker
  // process, so the figures include it and the indexes converge (GET /system's `indexes`).
  platform.detect.start();
  return {
    platform,
    async dispose() {
      await platform.close();
      await opts.onDispose?.();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Member {
  orgId: string;
  token: string;
  actor: Actor;
}

/** Creates an organisation with an analyst's API token (intel and TAXII need the role) and returns it with the actor that token authenticates as. */
export async function addMember(p: Platform, shortName: string, name: string): Promise<Member> {
  const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name, shortName });
  const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `bench.${shortName.toLowerCase()}`, password: 'correct horse battery staple', roles: ['analyst'] });
  const issued = await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: `bench ${shortName}` });
  const principal = await p.access.authenticateToken(issued.token, '127.0.0.1');
  return { orgId: org.id, token: issued.token, actor: { principal, source: '127.0.0.1' } };
}

/** A collection every member may read and write. */
export async function addCollection(p: Platform, title: string): Promise<string> {
  const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: p.config.apiRoots[0]!.name, title });
  await p.access.grantCollection(SYSTEM_ACTOR, c.id, '*', { canRead: true, canWrite: true });
  return c.id;
}

/**
 * Milliseconds until every index following the store has read all of it (polled, with a
 * deadline). Asking costs the indexer's process a count of the backlog, so the poll waits
 * longer while much is behind (1 ms per 50 rows, 20–500 ms): the last polls, near the end,
 * come every 20 ms.
 */
export async function converged(p: Platform, deadlineMs: number): Promise<number> {
  const t0 = nowMs();
  for (;;) {
    const idx = await p.indexes();
    if (idx.every((i) => i.ready)) return nowMs() - t0;
    if (nowMs() - t0 > deadlineMs) throw new Error(`indexes not caught up after ${deadlineMs} ms: ${JSON.stringify(idx)}`);
    const behind = Math.max(...idx.map((i) => i.behind));
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(20, behind / 50))));
  }
}

/** A federation bench node: a platform named `name` on its own SQLite file, with one member and its `alliance` collection. */
export interface AllianceNode {
  p: Platform;
  member: Member;
  collectionId: string;
  /** Its data directory (the SQLite file `shieldwall.db`). */
  dataDir: string;
  dispose(): Promise<void>;
}

export async function allianceNode(name: string): Promise<AllianceNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shieldwall-bench-fed-${name}-`));
  const p = await createPlatform(loadConfig({
    SHIELDWALL_DATA_DIR: dir, SHIELDWALL_NODE_NAME: name, SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_PORT: '0', SHIELDWALL_HOST: '127.0.0.1', SHIELDWALL_MAX_PAGE_SIZE: '1000',
  }));
  const member = await addMember(p, name.toUpperCase(), `CERT ${name}`);
  const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: p.config.apiRoots[0]!.name, title: 'alliance', alias: 'alliance' });
  await p.access.grantCollection(SYSTEM_ACTOR, c.id, member.orgId, { canRead: true, canWrite: true });
  return {
    p, member, collectionId: c.id, dataDir: dir,
    async dispose() {
      await p.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
