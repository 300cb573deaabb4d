/** The ingest publisher on a real NATS JetStream (SHIELDWALL_TEST_NATS); CI fails rather than skips. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { NATS_URL, mustRun, natsAvailable, uniquePrefix } from '../../test/helpers/nats.js';
import { decodeChunk, eventSeq, H_ORG } from './codec.js';
import { openNats, type NatsLink } from './nats.js';
import { partitionOf } from './partition.js';
import { CHUNK_BYTES, StreamPublisher } from './publisher.js';

const up = await natsAvailable();
if (!up && mustRun()) throw new Error(`NATS is required in CI and does not answer at ${NATS_URL}`);
const links: NatsLink[] = [];
const open = async (maxBytes = 64 * 1024 * 1024) => {
  const l = await openNats({ url: NATS_URL, prefix: uniquePrefix('pub'), partitions: 8, maxBytes, maxAgeMs: 3_600_000, name: 'publisher test' });
  links.push(l);
  return l;
};
afterAll(async () => {
  for (const l of links) {
    await l.jsm.streams.delete(l.names.stream).catch(() => undefined);
    await l.close();
  }
});

describe.runIf(up)('StreamPublisher (JetStream)', () => {
  const meta = { orgId: 'identity--0a000000-0000-4000-8000-000000000001', sensorId: 'fw 1.dmz', receivedUs: 1_700_000_000_000_000, exerciseId: null };
  let link: NatsLink;
  beforeAll(async () => {
    link = await open();
  });

  it('stores a request as chunks on the organisation\'s partition, acknowledged, and a retry with the same key once', async () => {
    const pub = new StreamPublisher(link);
    const line = 'x'.repeat(1000);
    const lines = Array.from({ length: 600 }, (_, i) => ({ format: 'ecs', event: `{"n":${i},"pad":"${line}"}` }));
    const r = await pub.append(meta, lines, 'req-1');
    expect(r.chunks).toBe(Math.ceil((600 * 1020) / CHUNK_BYTES));
    expect(r.duplicates).toBe(0);
    const again = await pub.append(meta, lines, 'req-1');
    expect(again.duplicates).toBe(again.chunks);
    expect(again.firstSeq).toBe(r.firstSeq);
    const info = await link.jsm.streams.info(link.names.stream);
    expect(info.state.messages).toBe(r.chunks);
    const m = await link.jsm.streams.getMessage(link.names.stream, { seq: r.firstSeq! });
    expect(m!.subject).toBe(`${link.names.prefix}.events.${partitionOf(meta.orgId, 8)}.identity--0a000000-0000-4000-8000-000000000001.fw_1_dmz`);
    expect(m!.header.get(H_ORG)).toBe(meta.orgId);
    const rows = decodeChunk(meta, m!.string(), m!.seq);
    expect(rows[0]).toMatchObject({ seq: eventSeq(r.firstSeq!, 0), orgId: meta.orgId, sensorId: 'fw 1.dmz', format: 'ecs', event: lines[0]!.event });
    // A different request key is new data.
    expect((await pub.append(meta, lines.slice(0, 1), 'req-2')).duplicates).toBe(0);
  });

  it('stores other lines sent under a key already used (a sensor that numbers its batches afresh after a restart): acknowledged means stored', async () => {
    const pub = new StreamPublisher(link);
    const before = (await link.jsm.streams.info(link.names.stream)).state.messages;
    const first = await pub.append(meta, [{ format: 'ecs', event: '{"batch":1,"n":1}' }], 'batch-1');
    const other = await pub.append(meta, [{ format: 'ecs', event: '{"batch":1,"n":2}' }, { format: 'ecs', event: '{"batch":1,"n":3}' }], 'batch-1');
    expect(other.duplicates).toBe(0);
    expect(other.firstSeq).not.toBe(first.firstSeq);
    expect((await link.jsm.streams.info(link.names.stream)).state.messages).toBe(before + 2);
    const m = await link.jsm.streams.getMessage(link.names.stream, { seq: other.firstSeq! });
    expect(decodeChunk(meta, m!.string(), m!.seq).map((r) => r.event)).toEqual(['{"batch":1,"n":2}', '{"batch":1,"n":3}']);
    // The same lines again under that key are the retry they look like: stored once.
    expect((await pub.append(meta, [{ format: 'ecs', event: '{"batch":1,"n":1}' }], 'batch-1')).duplicates).toBe(1);
  });

  it('answers RATE_LIMITED with Retry-After when the stream is full (discard: new)', async () => {
    const small = await open(1024 * 1024);
    const pub = new StreamPublisher(small);
    const lines = Array.from({ length: 300 }, (_, i) => ({ format: null, event: `{"n":${i},"pad":"${'y'.repeat(4000)}"}` }));
    let refused: unknown = null;
    for (let i = 0; i < 5 && refused === null; i++) {
      await pub.append(meta, lines, `fill-${i}`).catch((e: unknown) => (refused = e));
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('RATE_LIMITED');
    expect((refused as AppError).headers?.['Retry-After']).toBe('5');
  });
});
