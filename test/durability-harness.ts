/**
 * Harness of the crash-durability test: a data directory prepared through the platform in
 * this process, the BUILT server in a child process (the `shieldwall serve` CLI when built,
 * else test/fixtures/durability-server.mjs), and TAXII 2.1 calls over real sockets.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlatform } from '../src/api/index.js';
import { freePort, spawnCaptured, waitForServer } from './helpers/net.js';
import { loadConfig } from '../src/config/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TAXII = 'application/taxii+json;version=2.1';
export const ROOT = 'api1';
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const FIXTURE = path.join(repoRoot, 'test/fixtures/durability-server.mjs');

export interface Node {
  dataDir: string;
  token: string;
  collectionId: string;
}

/** A fresh data directory with one organisation, its API token and a collection it may read and write. */
export async function prepareNode(): Promise<Node> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-durability-'));
  const p = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' }));
  try {
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Durability CERT', shortName: 'DUR' });
    // TAXII writes need the analyst (or admin) role (docs/security.md, Permissions): the token acts as an analyst.
    const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'dur.writer', password: 'correct horse battery staple', roles: ['analyst'] });
    const issued = await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'durability test' });
    const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title: 'durability', alias: 'durability' });
    await p.access.grantCollection(SYSTEM_ACTOR, c.id, org.id, { canRead: true, canWrite: true });
    return { dataDir, token: issued.token, collectionId: c.id };
  } finally {
    await p.close();
  }
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** stdout + stderr so far, for failure messages. */
  output(): string;
  /** Resolves when the process has exited (after a kill or a crash). */
  exited: Promise<void>;
}

/** Which built entry point serves: the CLI once it is built, else the fixture script. */
export function serverCommand(): { args: string[]; kind: 'cli' | 'fixture' } {
  if (!fs.existsSync(path.join(repoRoot, 'dist/src/api/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  return fs.existsSync(CLI) ? { args: [CLI, 'serve'], kind: 'cli' } : { args: [FIXTURE], kind: 'fixture' };
}

/**
 * Starts `serve` on a data directory (a free port unless one is given, extra SHIELDWALL_*
 * settings in `env`) and waits until it answers.
 */
export async function startNode(node: Pick<Node, 'dataDir'>, o: { port?: number; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const port = o.port ?? await freePort();
  const { args } = serverCommand();
  const { child, output, exited } = await spawnCaptured(args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), SHIELDWALL_DATA_DIR: node.dataDir,
      SHIELDWALL_PORT: String(port), SHIELDWALL_HOST: '127.0.0.1', SHIELDWALL_LOG_LEVEL: 'warn', ...o.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForServer(child, url, output);
  return { url, child, output, exited };
}

export async function stopNode(s: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  await s.exited;
}

export const headers = (token: string): Record<string, string> => ({
  Accept: TAXII, 'Content-Type': TAXII, Authorization: `Bearer ${token}`,
});

/** Every (id, version) in the collection's manifest, following `next` (TAXII 2.1 §3.4). */
export async function manifestIds(url: string, node: Node): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>();
  let next: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ limit: '1000', 'match[version]': 'all', ...(next ? { next } : {}) });
    const res = await fetch(`${url}/${ROOT}/collections/${node.collectionId}/manifest/?${q}`, { headers: headers(node.token) });
    if (res.status !== 200) throw new Error(`manifest: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { objects?: { id: string; version: string }[]; more?: boolean; next?: string };
    for (const o of body.objects ?? []) ids.set(o.id, [...(ids.get(o.id) ?? []), o.version]);
    if (!body.more || !body.next) return ids;
    next = body.next;
  }
}
