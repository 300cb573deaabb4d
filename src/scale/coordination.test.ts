/**
 * Coordination between the processes of a node, on a real NATS and PostgreSQL: the failed-auth
 * limiter counts across processes, one API process leads the background jobs, and the live
 * stream reaches every process — through core NATS (scale-out), or through PostgreSQL
 * LISTEN/NOTIFY (several API processes on one PostgreSQL without NATS). CI fails rather than skips without them.
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
import { PgPipe } from './pg-pipe.js';
import { natsPipe, type Pipe } from './pipe.js';
import { shareFailures } from './shared-limits.js';

const [natsUp, pgUp] = await Promise.all([natsAvailable(), pgAvailable()]);
if ((!natsUp || !pgUp) && mustRun()) throw new Error(`NATS (${NATS_URL}) and PostgreSQL are required in CI`);
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** Two processes' ends of one pipe, and a wait for what was published to have been delivered. */
interface PipeKind {
  name: string;
  up: boolean;
  pair(): Promise<{ p1: Pipe; p2: Pipe; settle: () => Promise<void> }>;
}

const PIPES: PipeKind[] = [
  {
    name: 'core NATS', up: natsUp,
    async pair() {
      const [n1, n2] = [await connect({ servers: NATS_URL }), await connect({ servers: NATS_URL })];
      closers.push(() => n1.close(), () => n2.close());
      return { p1: natsPipe(n1), p2: natsPipe(n2), settle: async () => { await Promise.all([n1.flush(), n2.flush()]); await sleep(100); } };
    },
  },
  {
    name: 'PostgreSQL LISTEN/NOTIFY (several API processes without NATS)', up: pgUp,
    async pair() {
      const [q1, q2] = [await PgPipe.open(PG_ADMIN_URL, 'test 1'), await PgPipe.open(PG_ADMIN_URL, 'test 2')];
      closers.push(() => q1.close(), () => q2.close());
      return { p1: q1, p2: q2, settle: () => sleep(300) };
    },
  },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe.each(PIPES)('across API processes through $name', ({ up, pair }) => {
  it.runIf(up)('counts failed authentications of every process against one limit', async () => {
    const subject = `swt.authfail.${crypto.randomUUID()}`;
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const { p1, p2, settle } = await pair();
    const a = new FailureLimiter({ limit: 3, windowMs: 60_000, clock });
    const b = new FailureLimiter({ limit: 3, windowMs: 60_000, clock });
    const offs = [shareFailures(p1, subject, a), shareFailures(p2, subject, b)];
    await settle();
    a.fail('198.51.100.1');
    a.fail('198.51.100.1');
    expect(b.blockedFor('198.51.100.1')).toBe(0);
    b.fail('198.51.100.1');
    await settle();
    expect(a.blockedFor('198.51.100.1')).toBeGreaterThan(0);
    expect(b.blockedFor('198.51.100.1')).toBeGreaterThan(0);
    expect(a.blockedFor('198.51.100.2')).toBe(0); // another source is not affected
    // A failure older than the window counts for nothing.
    b.failElsewhere('198.51.100.3', clock.now() - 61_000);
    expect(b.blockedFor('198.51.100.3')).toBe(0);
    for (const off of offs) off();
  });

  it.runIf(up)('delivers an event published on one process\'s bus to the others, once, and not back to itself', async () => {
    const subject = `swt.live.${crypto.randomUUID()}`;
    const { p1, p2, settle } = await pair();
    const [bus1, bus2] = [new EventBus(), new EventBus()];
    const b1 = BusBridge.start(p1, subject, bus1);
    const b2 = BusBridge.start(p2, subject, bus2);
    const seen1: BusEvent[] = [];
    const seen2: BusEvent[] = [];
    bus1.subscribe((e) => seen1.push(e));
    bus2.subscribe((e) => seen2.push(e));
    await settle();
    const e: BusEvent = { type: 'alert.created', subject: 'alert--1', atUs: 1, exerciseId: null, facts: { tlp: 'amber', creatorOrg: 'identity--a', recipients: [], originNode: null }, data: { title: 't' } };
    bus1.publish(e);
    // An event larger than one NOTIFY payload (8,000 bytes) arrives whole, multi-byte text included.
    const big: BusEvent = { ...e, subject: 'alert--2', data: { title: 'Ünïcödé 𝄞 '.repeat(3_000) } };
    bus1.publish(big);
    // Garbage on the subject is ignored.
    p1.publish(subject, '{"origin":"x","event":{"type":1}}');
    p1.publish(subject, 'not json');
    await settle();
    expect(seen1).toHaveLength(2);
    expect(seen2).toEqual([e, big]);
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
