/**
 * The audit log (GET /audit, an organisation's administrators) tells no more than the reads it
 * records: a dead letter's rule is named by GET /system/dead-letters only when the reader may
 * read that rule or indicator, and the audit entries of its quarantine, retry and discard must
 * not name it either (docs/pipeline.md "dead letters").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDeadLetter } from '../src/detect/worker/protocol.js';
import { http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const red = indicator('RED-RULE-NAME-4d2e', { pattern: "[ipv4-addr:value = '198.51.100.99']" });

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  // A's RED indicator for A alone; C's telemetry hangs on it.
  await submitAs(al, 'a-analyst', al.shared, { objects: [red], defaultTlp: 'red' });
});
afterAll(async () => al.close());

let nextSeq = 1_000_000;
/** A dead letter of C's telemetry, hung on `ruleRef` (as a worker's supervisor writes it): its seq. */
async function quarantine(ruleRef: string): Promise<number> {
  const seq = nextSeq++;
  const event = JSON.stringify({ timestamp: '2026-03-01T10:00:00.000000+0000', event_type: 'flow', src_ip: '10.0.0.1', src_port: 1, dest_ip: '198.51.100.99', dest_port: 443, proto: 'TCP' });
  const row = { seq, orgId: al.orgs.C, sensorId: 'fw-1', receivedUs: al.clock.now() * 1000, exerciseId: null, event, format: 'suricata-eve' };
  await writeDeadLetter(al.platform.store, row, { reason: 'the worker stopped answering', ruleRef, attempts: 3 }, al.clock.now() * 1000);
  return seq;
}

describe('dead letters in the audit log', () => {
  it('name an indicator the administrator may not read neither in the dead letter nor in the audit of its quarantine, retry and discard', async () => {
    const retried = await quarantine(red.id as string);
    const discarded = await quarantine(red.id as string);
    const one = await h.get('c-admin', `/api/v1/system/dead-letters/${retried}`);
    expect(one.status, one.body).toBe(200);
    expect(one.json().ruleRef).toBeNull();
    expect((await h.call('POST', `/api/v1/system/dead-letters/${retried}/retry`, { token: al.tokens['c-admin']! })).status).toBe(202);
    expect((await h.call('POST', `/api/v1/system/dead-letters/${discarded}/discard`, { token: al.tokens['c-admin']! })).status).toBe(200);
    const audit = await h.get('c-admin', '/api/v1/audit?limit=200');
    expect(audit.status).toBe(200);
    const actions = (audit.json().items as { action: string }[]).map((i) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['detect.dead-letter', 'detect.dead-letter.retry', 'detect.dead-letter.discard']));
    expect(audit.body).not.toContain(red.id as string);
    // A stage of the pipeline is no intelligence: it stays named.
    await quarantine('stage:normalise');
    expect((await h.get('c-admin', '/api/v1/audit?limit=5')).body).toContain('stage:normalise');
  });
});
