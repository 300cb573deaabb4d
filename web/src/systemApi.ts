/** Typed calls of GET /api/v1/system and the dead letters (administrators only). */
import { useMemo } from 'react';
import { request } from './api.js';
import { useSession } from './session.js';

export interface WorkerView {
  pid: number | null;
  state: 'starting' | 'running' | 'careful' | 'restarting' | 'stopped';
  startedAt: string | null;
  lastHeartbeatAt: string | null;
  /** Embedded worker: milliseconds since it last sent anything (null: no worker process now). */
  heartbeatAgeMs?: number | null;
  /** Embedded worker: silent for over 10 s while it should talk — its batch, warm-up and memory figures are out of date. */
  stale?: boolean;
  /** null for a scale-out worker: its supervisor's row counts the restarts of its machine. */
  restarts: number | null;
  batch: { from: number; to: number; events: number; runningMs: number } | null;
  lastExit: { at: string; code: number | null; signal: string | null; reason: string } | null;
  eventsPerSecond: number;
  rssBytes: number | null;
  /** The replay that rebuilds a restarted worker's state before its first batch (embedded worker). */
  warmUp?: { state: 'pending' | 'replaying' | 'done'; replayed: number } | null;
  /** Scale-out workers only. */
  host?: string;
  partitions?: number[];
  waitingMessages?: number;
}

export interface ProcessView {
  role: 'api' | 'worker-supervisor';
  host?: string;
  pid: number;
  startedAt: string;
  uptimeS: number;
  rssBytes: number;
  heapUsedBytes: number | null;
  /** The API process that answered. */
  self?: boolean;
  /** The answering API process runs the node's background jobs (and, on PostgreSQL without NATS, the detection worker). */
  leader?: boolean;
  lastSeenAt?: string;
  supervisor?: { processes: number; pids: number[]; restarts: number; deadLetters: number; careful: number };
}

/** Scale-out: the telemetry stream's queue as its workers see it. */
export interface StreamView {
  partitions: number;
  unowned: number[];
  waitingMessages: number;
  lagMs: number;
  eventsPerSecond: number;
}

export interface SystemStatus {
  node: string;
  generatedAt: string;
  processes: ProcessView[];
  detection: {
    mode: 'worker' | 'external' | 'in-process';
    queue: { depth: number; capacity: number; processedSeq: number; lastSeq: number; lagMs: number } | null;
    stream?: StreamView;
    eventsPerSecond: number; processed: number; alertsWritten: number; indicators: number; sigmaRules: number;
  };
  workers: WorkerView[];
  deadLetters: { total: number; organisation: number; flaggedRules: { ref: string; count: number }[] };
  store: { dialect: string; ok: boolean; latencyMs: number; error?: string };
  /** Scale-out only: whether the telemetry stream's NATS answers. */
  nats?: { url: string; ok: boolean; latencyMs: number; error?: string } | null;
  /** The indexes that follow the store (correlation, the indicator feed). */
  indexes: IndexView[];
  /** The node's last `shieldwall backup`, or null: never. */
  backup?: { at: string; store: string; counts: { objectVersions: number } } | null;
}

export interface IndexView {
  name: string;
  /** date_added of the last object version read (null: none yet). */
  cursor: string | null;
  behind: number;
  lagMs: number;
  ready: boolean;
  error: string | null;
}

export interface DeadLetter {
  seq: number; orgId: string; sensorId: string; receivedAt: string; quarantinedAt: string; exerciseId: string | null;
  format: string | null; event: string; reason: string; ruleRef: string | null; attempts: number;
}

export interface AuditEntry {
  id: number; at: string; userId: string | null; username: string | null; orgId: string | null; tokenId: string | null; source: string | null;
  action: string; target: string | null; detail: unknown;
}

export interface AuditFilter { action?: string; user?: string; since?: string; until?: string }

export function systemClient(token: string) {
  const one = (seq: number) => `/system/dead-letters/${seq}`;
  return {
    status: (signal?: AbortSignal) => request<SystemStatus>('/system', { token, signal }),
    deadLetters: (signal?: AbortSignal) => request<{ items: DeadLetter[] }>('/system/dead-letters', { token, signal, query: { limit: 100 } }),
    retry: (seq: number) => request<{ retried: true; seq: number }>(`${one(seq)}/retry`, { token, method: 'POST', body: '{}' }),
    discard: (seq: number) => request<{ discarded: true }>(`${one(seq)}/discard`, { token, method: 'POST', body: '{}' }),
    audit: (f: AuditFilter, cursor?: string, signal?: AbortSignal) => request<{ items: AuditEntry[]; next?: string }>('/audit', {
      token, signal, query: { limit: 100, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)), ...(cursor ? { cursor } : {}) },
    }),
    reindexCorrelation: () => request<{ started: true; cleared: { rows: number; frequent: number } }>('/correlation/reindex', { token, method: 'POST', body: '{}' }),
  };
}

export function useSystem(): ReturnType<typeof systemClient> {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useSystem without a session');
  return useMemo(() => systemClient(token), [token]);
}
