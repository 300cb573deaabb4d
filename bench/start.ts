/**
 * Start time with a large store: a SQLite data directory holding `objects` indicators (seeded
 * with store.putObjects, so neither the correlation index nor the indicator feed has read them:
 * the worst case, a first start after a bulk CLI import or an upgrade), then `shieldwall serve`
 * as a child process, timed from spawn to its first TAXII answer (GET objects, a page of 1,000,
 * with a Bearer token), and on to the moment GET /api/v1/system says every index is ready.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { freePort } from '../test/helpers/net.js';
import { feedTlp, generateIndicators } from './generate.js';
import { rawRow } from './rows.js';
import { log, nowMs, round } from './stats.js';

const TAXII = 'application/taxii+json;version=2.1';
const SEED_BATCH = 2000;

/** The shieldwall command of this build (dist/src/cli/main.js beside dist/bench/). */
function mainJs(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
}

export async function seed(dataDir: string, objects: number): Promise<{ token: string; collectionId: string; root: string }> {
  const config = loadConfig({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' });
  const p = await createPlatform(config);
  try {
    // Seeding only: nothing may index meanwhile (serve must find the whole backlog).
    p.correlations.stop();
    await p.correlations.idle();
    await p.detect.stop();
    const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: 'Start bench CERT', shortName: 'START' });
    const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: 'start.admin', password: 'start-bench-password-1', roles: ['admin', 'analyst'] });
    const issued = await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'start bench' });
    const root = p.config.apiRoots[0]!.name;
    const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: root, title: 'start bench' });
    await p.access.grantCollection(SYSTEM_ACTOR, c.id, '*', { canRead: true, canWrite: true });
    for (let done = 0, b = 0; done < objects; done += SEED_BATCH, b++) {
      const objs = generateIndicators(Math.min(SEED_BATCH, objects - done), { seed: 5000 + b, tlpOf: feedTlp });
      await p.store.putObjects(objs.map((o) => rawRow(o, { collectionId: c.id, creatorOrg: org.id })), p.clock.now() * 1000);
    }
    return { token: issued.token, collectionId: c.id, root };
  } finally {
    await p.close();
  }
}

async function get(url: string, token: string, accept: string): Promise<{ status: number; text: string } | null> {
  try {
    const res = await fetch(url, { headers: { Accept: accept, Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return null; // not listening yet
  }
}

export async function benchStart(opts: { objects: number }): Promise<Record<string, number>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldwall-start-'));
  try {
    const t0 = nowMs();
    const s = await seed(dataDir, opts.objects);
    log(`start: seeded ${opts.objects} indicators in ${round((nowMs() - t0) / 1000)} s`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = nowMs();
    const child = spawn(process.execPath, [mainJs(), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      let firstS = Number.NaN;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
        const r = await get(`${base}/${s.root}/collections/${s.collectionId}/objects/?limit=1000`, s.token, TAXII);
        if (r && r.status === 200) {
          const n = (JSON.parse(r.text) as { objects?: unknown[] }).objects?.length ?? 0;
          if (n !== 1000) throw new Error(`first page has ${n} objects, expected 1000`);
          firstS = (nowMs() - started) / 1000;
          break;
        }
        if (r && r.status !== 200) throw new Error(`GET objects: ${r.status} ${r.text.slice(0, 300)}`);
        if (nowMs() - started > 120_000) throw new Error(`serve did not answer within 120 s: ${stderr}`);
        await new Promise((res) => setTimeout(res, 10));
      }
      let readyS = Number.NaN;
      for (;;) {
        const r = await get(`${base}/api/v1/system`, s.token, 'application/json');
        if (r && r.status !== 200) throw new Error(`GET /api/v1/system: ${r.status} ${r.text.slice(0, 300)}`);
        const idx = r ? (JSON.parse(r.text) as { indexes: { ready: boolean }[] }).indexes : [];
        if (idx.length > 0 && idx.every((i) => i.ready)) {
          readyS = (nowMs() - started) / 1000;
          break;
        }
        if (nowMs() - started > 900_000) throw new Error('indexes not ready within 900 s');
        await new Promise((res) => setTimeout(res, 100));
      }
      log(`start: serve with ${opts.objects} objects in the store: first TAXII page after ${round(firstS)} s; every index ready after ${round(readyS)} s`);
      return { start_objects: opts.objects, start_to_first_answer_s: round(firstS), start_to_indexes_ready_s: round(readyS) };
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
