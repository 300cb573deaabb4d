/**
 * Edges of POST /api/v1/ingest: an Idempotency-Key over the limit is refused (it used to be
 * ignored, so every resend was stored again), and a body that starts with a UTF-8 byte order
 * mark has its first line read without it.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { withAlliance, type Alliance } from './rest-fixtures.js';

const flow = (i: number) => JSON.stringify({ timestamp: '2026-03-01T09:59:00.000000+0000', event_type: 'flow', src_ip: '10.0.0.5', src_port: 40000 + i, dest_ip: '198.51.100.7', dest_port: 443, proto: 'TCP', flow_id: i });

async function sensor(al: Alliance): Promise<(body: string | Buffer, headers?: Record<string, string>) => Promise<{ status: number; json: () => any }>> {
  const token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-1' })).token;
  return async (body, headers = {}) => {
    const res = await al.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...headers }, payload: body });
    return { status: res.statusCode, json: () => JSON.parse(res.body) };
  };
}

describe('POST /api/v1/ingest edges', () => {
  it('answers 400 naming the limit for an Idempotency-Key over 200 characters, and stores nothing', () => withAlliance(async (al) => {
    const post = await sensor(al);
    const before = await al.platform.store.lastIngestSeq();
    const res = await post(flow(1), { 'idempotency-key': 'k'.repeat(201) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json())).toContain('Idempotency-Key must be at most 200 characters');
    expect(await al.platform.store.lastIngestSeq()).toBe(before);
    // 200 is accepted.
    expect((await post(flow(2), { 'idempotency-key': 'k'.repeat(200) })).status).toBe(202);
  }));

  it('reads the first line of a body that starts with a UTF-8 byte order mark', () => withAlliance(async (al) => {
    const post = await sensor(al);
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${flow(1)}\n${flow(2)}`)]);
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 0, errors: [] });
    // The spool keeps the line without the mark: the worker reads it as EVE too.
    const [row] = await al.platform.store.readIngest(res.json().firstSeq - 1, 1);
    expect(row!.event.startsWith('{')).toBe(true);
    expect(row!.format).toBe('suricata-eve');
  }));
});
