/**
 * An API process that stops (SIGTERM: `serve` closes its server) ends the live streams it holds,
 * so it stops at once and their browsers reconnect — behind a load balancer, to another API
 * process. A stream is a response that never finishes by itself: the server waited for it, so a
 * process with one analyst's dashboard open never stopped (a rolling restart of a scale-out node
 * hung until it was killed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatform, startServer } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { openLiveStream } from './helpers/live-stream.js';

describe('stopping an API process with live streams open', () => {
  it('ends the streams and closes at once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-sse-stop-'));
    const platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_PORT: '0', SHIELDWALL_LOG_LEVEL: 'silent' }), { store: await openSqliteStore(':memory:') });
    try {
      const org = (await platform.access.createOrganisation(SYSTEM_ACTOR, { name: 'A', shortName: 'A' })).id;
      const user = await platform.access.createUser(SYSTEM_ACTOR, { orgId: org, username: 'a-analyst', password: 'long enough password', roles: ['analyst'] });
      const token = (await platform.access.createToken(SYSTEM_ACTOR, { orgId: org, userId: user.id, kind: 'session', name: 's' })).token;
      const server = await startServer(platform, { logger: false });
      const streams = [await openLiveStream(server.url, token), await openLiveStream(server.url, token)];
      expect(streams.map((s) => s.res.status)).toEqual([200, 200]);
      const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 5 s'), 5_000))]);
      expect(closed).toBe('closed');
      for (let i = 0; i < 50 && streams.some((s) => !s.ended); i++) await new Promise((r) => setTimeout(r, 20));
      expect(streams.map((s) => s.ended)).toEqual([true, true]);
      for (const s of streams) await s.close();
    } finally {
      await platform.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
