/**
 * A broadcast pipe between the processes of one node: every process subscribed to a subject gets
 * every text published on it, its own included (at most once: a process disconnected at the time
 * misses it). The live stream (fanout.ts) and the failed-authentication limiter (shared-limits.ts)
 * go through one: core NATS in scale-out mode, PostgreSQL LISTEN/NOTIFY (pg-pipe.ts) when several
 * API processes share one PostgreSQL without NATS.
 */
import type { NatsConnection } from '@nats-io/transport-node';

export interface Pipe {
  publish(subject: string, text: string): void;
  /** Returns the unsubscribe function. */
  subscribe(subject: string, on: (text: string) => void): () => void;
}

export function natsPipe(nc: NatsConnection): Pipe {
  return {
    publish(subject, text) {
      try {
        nc.publish(subject, text);
      } catch {
        // Disconnected: at most once.
      }
    },
    subscribe(subject, on) {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) on(msg.string());
        },
      });
      return () => sub.unsubscribe();
    },
  };
}
