/**
 * A worker's warm-up (DetectEngine.warmUp, docs/pipeline.md) over a large last hour: the replay
 * runs in slices that give the event loop back, so the worker keeps sending its heartbeat — with
 * its progress, "N events replayed" — and, in a careful pass, the rules evaluated by the replay
 * are never named to the supervisor (only the careful batches' own events are traced). A worker
 * runtime on a real store, its channel recording what it would send over IPC.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { WorkerRuntime } from '../src/detect/worker/runtime.js';
import type { WorkerMessage } from '../src/detect/worker/protocol.js';
import { indicator, submitAs, withAlliance, type Alliance } from './rest-fixtures.js';

const C2 = '198.51.100.7';
const T = '2026-03-01T09:59:00.000000+0000';
const flow = (i: number) => JSON.stringify({ timestamp: T, event_type: 'flow', src_ip: '10.0.0.5', src_port: 1024 + (i % 60_000), dest_ip: C2, dest_port: 443, proto: 'TCP', flow_id: i });
/** Events the first worker processed: the last hour its successor replays. */
const HISTORY = 60_000;
const HEARTBEAT_MS = 20;

interface Sent { readonly atMs: number; readonly m: WorkerMessage }

/**
 * A node whose spool holds HISTORY processed events matching an indicator, and `fresh` new ones.
 * The indicator is a conjunction: each event it is checked against names it (traceRule).
 */
async function nodeWithHistory(al: Alliance, fresh: number): Promise<{ lastSeq: number }> {
  await submitAs(al, 'a-analyst', al.shared, { objects: [indicator('C2 on 443', { pattern: `[network-traffic:dst_ref.value = '${C2}' AND network-traffic:dst_port = 443]` })], defaultTlp: 'green' });
  const sensor = await al.platform.access.authenticateToken((await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'fw-1' })).token, 'test');
  const send = (from: number, n: number) => al.platform.detect.ingest(sensor, Array.from({ length: n }, (_, i) => flow(from + i)).join('\n'), { format: 'auto', sensorId: 'fw-1' });
  await al.platform.detect.engine!.sync();
  for (let i = 0; i < HISTORY; i += 20_000) expect((await send(i, 20_000)).accepted).toBe(20_000);
  expect(await al.platform.detect.drain()).toBe(HISTORY);
  const last = await send(HISTORY, fresh);
  return { lastSeq: last.lastSeq! };
}

/** A worker runtime on the node's store, as `shieldwall worker --supervised` runs, recording what it sends. */
async function recordingWorker(al: Alliance): Promise<{ rt: WorkerRuntime; sent: Sent[] }> {
  const sent: Sent[] = [];
  const rt = await WorkerRuntime.open({ store: al.platform.store, clock: al.clock, channel: { send: (m) => sent.push({ atMs: performance.now(), m }) }, heartbeatMs: HEARTBEAT_MS }, {});
  return { rt, sent };
}

describe('the warm-up of a worker with a large last hour', () => {
  it('replays in slices: heartbeats keep coming during the replay and report how many events were replayed', () => withAlliance(async (al) => {
    await nodeWithHistory(al, 5);
    const { rt, sent } = await recordingWorker(al);
    const goAt = performance.now();
    await rt.go(null);
    const done = await waitFor(() => sent.find((s) => s.m.t === 'done'));
    await rt.stop();
    const warming = sent.filter((s) => s.atMs >= goAt && s.atMs <= done.atMs);
    const progress = warming.flatMap((s) => (s.m.t === 'heartbeat' && s.m.stats.warmUp?.state === 'replaying' ? [s.m.stats.warmUp.replayed] : []));
    // Progress seen while it ran, growing, short of the whole replay.
    expect(progress.length, `heartbeats during a ${Math.round(done.atMs - goAt)} ms warm-up`).toBeGreaterThan(1);
    expect(progress.some((n) => n > 0 && n < HISTORY)).toBe(true);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    // The loop was never held for long: no gap between two messages near a second.
    const gaps = warming.slice(1).map((s, i) => s.atMs - warming[i]!.atMs);
    expect(Math.max(...gaps)).toBeLessThan(500);
    expect(rt.stats().warmUp).toEqual({ state: 'done', replayed: HISTORY });
  }), 120_000);

  it('a careful pass names the rules of its own events only, never those the warm-up replay evaluates', () => withAlliance(async (al) => {
    const { lastSeq } = await nodeWithHistory(al, 3);
    const { rt, sent } = await recordingWorker(al);
    await rt.go(lastSeq);
    await rt.stop();
    const kinds = sent.map((s) => s.m.t).filter((t) => t !== 'heartbeat');
    const firstBatch = kinds.indexOf('batch');
    expect(firstBatch).toBeGreaterThan(0);
    // Nothing named before the first careful batch (the replay of 60,000 matching events).
    expect(kinds.slice(0, firstBatch)).toEqual(['ready']);
    // Each of the three careful events: its batch, the rules it was matched against, done.
    expect(kinds.filter((t) => t === 'batch')).toHaveLength(3);
    const rules = sent.flatMap((s) => (s.m.t === 'rule' ? [s.m.ref] : []));
    expect(rules.length).toBeGreaterThanOrEqual(3);
    expect(rules.length).toBeLessThan(100);
    expect(rules).toContain('stage:indicators');
    expect(kinds.at(-1)).toBe('careful-done');
  }), 120_000);
});

async function waitFor<T>(fn: () => T | undefined, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
