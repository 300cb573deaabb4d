/**
 * The live stream across processes (shared/reference/scale-out.md §5): every API process and
 * every worker joins one core NATS subject (no queue group, so each process sees every event).
 * Events published on a process's bus go out on it; events coming in are published on the local
 * bus, where each SSE subscriber filters them by the one release policy exactly as for local
 * events (api/rest/stream.ts). So an alert raised by a worker on another machine, or an analyst's
 * change made through another API process, reaches a subscriber of any API process.
 *
 * Core NATS is at-most-once: a process that is disconnected misses events (as a browser that
 * reconnects does); the alerts themselves are in PostgreSQL.
 */
import crypto from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { BusEvent, EventBus } from '../core/bus.js';

interface Envelope {
  readonly origin: string;
  readonly event: BusEvent;
}

function isBusEvent(v: unknown): v is BusEvent {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  const f = e.facts as Record<string, unknown> | undefined;
  return typeof e.type === 'string' && typeof e.subject === 'string' && typeof e.atUs === 'number' && typeof f === 'object' && f !== null
    && typeof f.tlp === 'string' && Array.isArray(f.recipients) && (e.exerciseId === null || typeof e.exerciseId === 'string') && typeof e.data === 'object';
}

export class BusBridge {
  readonly origin = crypto.randomUUID();
  readonly #fromRemote = new WeakSet<BusEvent>();
  #sub: Subscription | null = null;
  #off: (() => void) | null = null;

  private constructor(private readonly nc: NatsConnection, private readonly subject: string) {}

  /** Publishes what this process's bus carries; with `bus` given, also delivers other processes' events to it. */
  static start(nc: NatsConnection, subject: string, bus: EventBus | null): BusBridge {
    const b = new BusBridge(nc, subject);
    if (bus) {
      b.#off = bus.subscribe((e) => {
        if (!b.#fromRemote.has(e)) b.publish(e);
      });
      b.#sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          let env: Envelope;
          try {
            env = msg.json<Envelope>();
          } catch {
            return;
          }
          if (env.origin === b.origin || !isBusEvent(env.event)) return;
          b.#fromRemote.add(env.event);
          bus.publish(env.event);
        },
      });
    }
    return b;
  }

  publish(e: BusEvent): void {
    try {
      this.nc.publish(this.subject, JSON.stringify({ origin: this.origin, event: e } satisfies Envelope));
    } catch {
      // Disconnected: at-most-once, the stored record stays the truth.
    }
  }

  stop(): void {
    this.#off?.();
    this.#sub?.unsubscribe();
  }
}
