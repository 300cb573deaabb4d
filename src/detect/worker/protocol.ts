/**
 * The messages between a detection worker process and its supervisor (Node IPC, JSON).
 * The worker says what it starts before it starts it, so a supervisor that has to kill it
 * knows which batch, which event (careful pass) and which rule it was in.
 */
import type { BusEvent } from '../../core/bus.js';
import type { DetectStats } from '../pipeline/detect-types.js';
import { auditRuleRef } from '../pipeline/dead-letters.js';
import type { IngestRow, Store } from '../../store/index.js';
import { plainRow } from '../../store/spool-codec.js';

export interface WorkerStats extends DetectStats {
  /** Indicator feed progress (how far the index follows the store). */
  readonly feed: Readonly<Record<string, unknown>>;
  readonly rssBytes: number;
}

export type WorkerMessage =
  | { readonly t: 'ready'; readonly pid: number; readonly stats: WorkerStats }
  | { readonly t: 'heartbeat'; readonly stats: WorkerStats }
  /** About to match the events [from, to] (`events` of them; dead letters skipped). */
  | { readonly t: 'batch'; readonly from: number; readonly to: number; readonly events: number; readonly keys?: readonly string[] }
  | { readonly t: 'done'; readonly from: number; readonly to: number; readonly events: number; readonly alerts: number; readonly ms: number }
  /** Careful pass only: about to evaluate this rule / indicator / stage. */
  | { readonly t: 'rule'; readonly ref: string }
  /** Careful pass of a scale-out worker only: about to match the event of this seq. */
  | { readonly t: 'event'; readonly seq: number }
  /** A committed alert for the live stream (it carries its release facts). */
  | { readonly t: 'alert'; readonly event: BusEvent }
  | { readonly t: 'synced'; readonly id: number; readonly error?: string }
  | { readonly t: 'careful-done'; readonly throughSeq: number };

export type SupervisorMessage =
  /** Start the loop; with `carefulThrough`, first process events one by one through that seq. */
  | { readonly t: 'go'; readonly carefulThrough: number | null }
  | { readonly t: 'wake' }
  /** Re-read intel, rules, warninglists and the directory now; answered by `synced`. */
  | { readonly t: 'sync'; readonly id: number }
  | { readonly t: 'stop' }
  /**
   * Scale-out workers (scale/supervisor.ts): batches (by event seqs) that already failed twice;
   * the worker names each event in them, and each rule, before it evaluates it. Empty: none.
   */
  | { readonly t: 'careful'; readonly ranges: readonly { readonly from: number; readonly to: number }[] };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isSupervisorMessage(m: unknown): m is SupervisorMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

/** How often a supervisor checks its workers' heartbeats and batch clocks: a quarter of the batch limit, within 25–250 ms. */
export function watchdogPeriodMs(batchTimeoutMs: number): number {
  return Math.max(25, Math.min(250, Math.floor(batchTimeoutMs / 4)));
}

/** Milliseconds a stopping worker gets to finish its batch (and flush sightings) before it is killed; the batch is read again. */
const STOP_GRACE_MS = 5_000;

/** Asks a live worker process to stop, kills it after the grace period, and resolves once it exited. */
export async function stopWorkerProcess(proc: { exitCode: number | null; signalCode: NodeJS.Signals | null; kill(signal: NodeJS.Signals): boolean }, exited: Promise<unknown>, ask: () => void): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  ask();
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Quarantines one event: its dead letter and the audit entry, in one transaction (both supervisors). */
export async function writeDeadLetter(store: Store, row: IngestRow, d: { reason: string; ruleRef: string | null; attempts: number }, nowUs: number): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.putDeadLetter({ ...plainRow(row), reason: d.reason, ruleRef: d.ruleRef, attempts: d.attempts, createdUs: nowUs });
    await tx.appendAudit({
      atUs: nowUs, userId: null, orgId: row.orgId, tokenId: null, source: 'detect', action: 'detect.dead-letter', target: String(row.seq),
      detail: JSON.stringify({ reason: d.reason, ruleRef: auditRuleRef(d.ruleRef), attempts: d.attempts, sensorId: row.sensorId }),
    });
  });
}

/**
 * V8 flags of a detection worker: a larger young generation (32 MB semi-spaces instead of 16)
 * lets the short-lived garbage of a batch (rows, parsed events) die young instead of being
 * promoted and marked; the worker's time in GC drops by about half (docs/benchmarks.md).
 */
export const WORKER_EXEC_ARGV: readonly string[] = ['--max-semi-space-size=32'];
