/**
 * Coordination between the processes of a scale-out node, on a real NATS and PostgreSQL:
 * the failed-auth limiter counts across processes, one API process leads the background jobs,
 * and the live stream reaches every process. CI fails rather than skips without them.
 */
import crypto from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureLimiter } from '../access/rate-limit.js';
import { EventBus, type BusEvent } from '../core/bus.js';
import { ManualClock } from '../core/clock.js';
import { NATS_URL, mustRun, natsAvailable } from '../../test/helpers/nats.js';
import { pgAvailable, PG_ADMIN_URL } from '../../test/helpers/pg.js';
import { BusBridge } from './fanout.js';
import { electLeader } from './leader.js';
import { shareFailures } from './shared-limits.js';

const [natsUp, pgUp] = await Promise.all([natsAvailable(), pgAvailable()]);
if ((!natsUp || !pgUp) && mustRun()) throw new Error(`NATS (${NATS_URL}) and PostgreSQL are required in CI`);
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe.runIf(natsUp)('across API processes through NATS', () => {
  it('counts failed authentications of every process against one limit', async () => {
    const subject = `swt.authfail.${crypto.randomUUID()}`;
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const [n1, n2] = [await connect({ servers: NATS_URL }), await connect({ servers: NATS_URL })];
    closers.push(() => n1.close(), () => n2.close());
    const a = new FailureLimiter({ limit: 3, windowMs: 60_000, clock });
    const b = new FailureLimiter({ limit: 3, windowMs: 60_000, clock });
    const offs = [shareFailures(n1, subject, a), shareFailures(n2, subject, b)];
    await Promise.all([n1.flush(), n2.flush()]);
    a.fail('198.51.100.1');
    a.fail('198.51.100.1');
    expect(b.blockedFor('198.51.100.1')).toBe(0);
    b.fail('198.51.100.1');
    await Promise.all([n1.flush(), n2.flush()]);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.blockedFor('198.51.100.1')).toBeGreaterThan(0);
    expect(b.blockedFor('198.51.100.1')).toBeGreaterThan(0);
    expect(a.blockedFor('198.51.100.2')).toBe(0); // another source is not affected
    // A failure older than the window counts for nothing.
    b.failElsewhere('198.51.100.3', clock.now() - 61_000);
    expect(b.blockedFor('198.51.100.3')).toBe(0);
    for (const off of offs) off();
  });

  it('delivers an event published on one process\'s bus to the others, once, and not back to itself', async () => {
    const subject = `swt.live.${crypto.randomUUID()}`;
    const [n1, n2] = [await connect({ servers: NATS_URL }), await connect({ servers: NATS_URL })];
    closers.push(() => n1.close(), () => n2.close());
    const [bus1, bus2] = [new EventBus(), new EventBus()];
    const b1 = BusBridge.start(n1, subject, bus1);
    const b2 = BusBridge.start(n2, subject, bus2);
    const seen1: BusEvent[] = [];
    const seen2: BusEvent[] = [];
    bus1.subscribe((e) => seen1.push(e));
    bus2.subscribe((e) => seen2.push(e));
    await Promise.all([n1.flush(), n2.flush()]);
    const e: BusEvent = { type: 'alert.created', subject: 'alert--1', atUs: 1, exerciseId: null, facts: { tlp: 'amber', creatorOrg: 'identity--a', recipients: [], originNode: null }, data: { title: 't' } };
    bus1.publish(e);
    // Garbage on the subject is ignored.
    n1.publish(subject, '{"origin":"x","event":{"type":1}}');
    await Promise.all([n1.flush(), n2.flush()]);
    await new Promise((r) => setTimeout(r, 150));
    expect(seen1).toHaveLength(1);
    expect(seen2).toHaveLength(1);
    expect(seen2[0]).toEqual(e);
    b1.stop();
    b2.stop();
  });
});

describe.runIf(pgUp)('leader election on PostgreSQL', () => {
  it('elects one API process, and another once the leader is gone', async () => {
    const name = `leader-test-${crypto.randomUUID()}`;
    const a = await electLeader(PG_ADMIN_URL, name);
    const b = await electLeader(PG_ADMIN_URL, name);
    closers.push(() => a.close(), () => b.close());
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    await a.close();
    expect(a.isLeader()).toBe(false);
    const deadline = Date.now() + 8_000;
    while (!b.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(b.isLeader()).toBe(true);
  }, 15_000);
});
