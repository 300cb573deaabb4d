/**
 * A partition reader through a restart of its NATS server (a nats-server of the test's own, on a
 * free port, its file storage kept; killed with SIGKILL as a crash does) while events flow. The
 * ordered consumer alone noticed the lost server only after missed heartbeats: the partition's
 * events waited tens of seconds (a worker reported nothing waiting meanwhile).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import { natsServerInstalled, ownNatsServer } from '../../test/helpers/nats.js';
import { JetStreamSource } from './jetstream-source.js';
import { openNats } from './nats.js';
import { partitionOf } from './partition.js';
import { StreamPublisher } from './publisher.js';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});


describe.runIf(natsServerInstalled)('JetStreamSource through a NATS restart', () => {
  it('reads on promptly once the server is back', async () => {
    const nats = await ownNatsServer(closers);
    const port = nats.port;
    await nats.start();
    const settings = { url: `nats://127.0.0.1:${port}`, prefix: 'restart', partitions: 2, maxBytes: 1 << 26, maxAgeMs: 3_600_000 };
    const link = await openNats({ ...settings, name: 'restart test' });
    closers.push(() => link.close());
    const store = await openSqliteStore(':memory:');
    closers.push(() => store.close());
    const org = 'identity--0a000000-0000-4000-8000-0000000000cc';
    const meta = { orgId: org, sensorId: 'fw-1', receivedUs: Date.now() * 1000, exerciseId: null };
    const src = new JetStreamSource({ link, store, warmMs: () => 0, onWarm: () => undefined });
    closers.push(() => src.close());
    await src.own(partitionOf(org, 2));
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        src.beginRound(200);
        for (const r of await src.read(50)) seen.add(r.event);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const pub = new StreamPublisher(link);
    for (let i = 0; i < 200; i++) await pub.append(meta, [{ format: 'ecs', event: `{"n":${i}}` }], `before-${i}`);

    nats.kill();
    await new Promise((r) => setTimeout(r, 200));
    await nats.start();
    const fresh = await openNats({ ...settings, name: 'restart test 2' });
    closers.push(() => fresh.close());
    for (let i = 0; i < 20; i++) await new StreamPublisher(fresh).append(meta, [{ format: 'ecs', event: `{"after":${i}}` }], `after-${i}`);
    const t0 = Date.now();
    for (let i = 0; i < 300 && !seen.has('{"after":19}'); i++) await new Promise((r) => setTimeout(r, 50));
    reading = false;
    await reader;
    expect(seen.has('{"after":19}')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 60_000);
});
