/**
 * The failed-authentication limiter across API processes: each process announces its failures
 * on a pipe (pipe.ts: core NATS, or PostgreSQL NOTIFY without NATS) and counts the others'
 * (access/rate-limit.ts), so a guesser spreading
 * attempts over N processes behind one address still gets `limit` tries per window, not N × limit.
 * At-most-once: a failure announced while a process is disconnected is counted only where it
 * happened (the limit is then per process, as without NATS).
 */
import type { FailureLimiter } from '../access/rate-limit.js';
import type { Pipe } from './pipe.js';

export function shareFailures(pipe: Pipe, subject: string, limiter: FailureLimiter): () => void {
  const me = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  limiter.shareWith((source, atMs) => pipe.publish(subject, JSON.stringify({ o: me, s: source, t: atMs })));
  const off = pipe.subscribe(subject, (text) => {
    try {
      const m = JSON.parse(text) as { o: unknown; s: unknown; t: unknown };
      if (m.o !== me && typeof m.s === 'string' && m.s.length <= 200 && typeof m.t === 'number') limiter.failElsewhere(m.s, m.t);
    } catch {
      // Not ours: ignored.
    }
  });
  return () => {
    limiter.shareWith(null);
    off();
  };
}
