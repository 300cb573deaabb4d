/**
 * An embedded node on a real listening socket, for tests of what clients do to the connection
 * itself (slow requests, bodies in flight): SQLite in memory, one organisation, an analyst user and
 * API token per name given.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM_ACTOR } from '../../src/access/index.js';
import { createPlatform, startServer, type Platform, type RunningServer } from '../../src/api/index.js';
import { loadConfig } from '../../src/config/index.js';
import { openSqliteStore } from '../../src/store/index.js';

export interface SocketNode {
  platform: Platform;
  server: RunningServer;
  port: number;
  /** An API token per user, in the order the names were given. */
  tokens: string[];
  close(): Promise<void>;
}

export async function socketNode(env: Record<string, string>, users: readonly string[]): Promise<SocketNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-socket-'));
  const platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_PORT: '0', SHIELDWALL_LOG_LEVEL: 'silent', ...env }), { store: await openSqliteStore(':memory:') });
  const org = await platform.access.createOrganisation(SYSTEM_ACTOR, { name: 'Org', shortName: 'ORG' });
  const tokens: string[] = [];
  for (const name of users) {
    const user = await platform.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: name, password: 'long enough password', roles: ['analyst'] });
    tokens.push((await platform.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name })).token);
  }
  const server = await startServer(platform, { logger: false });
  return {
    platform, server, port: Number(new URL(server.url).port), tokens,
    async close() {
      await server.close();
      await platform.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
