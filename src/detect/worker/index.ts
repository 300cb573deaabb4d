/** Detection in worker processes: the worker runtime, its supervisor and their protocol (docs/pipeline.md). */
export { WorkerRuntime } from './runtime.js';
export type { WorkerChannel, WorkerRuntimeDeps } from './runtime.js';
export { WorkerSupervisor, WORKERS_STATUS_KEY, STATUS_STALE_MS, readWorkersSnapshot } from './supervisor.js';
export type { SupervisorDeps, SupervisorOptions, WorkerState, WorkerStatus, WorkersSnapshot } from './supervisor.js';
export { isSupervisorMessage, isWorkerMessage } from './protocol.js';
export type { SupervisorMessage, WorkerMessage, WorkerStats } from './protocol.js';
export { createEngine } from './wiring.js';
export { workerEntry } from './entry.js';
export { exitWhenOrphaned } from './orphan-guard.js';
