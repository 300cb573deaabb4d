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
import type { BusEvent, EventBus } from '../core/bus.js';
import type { Pipe } from './pipe.js';

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
  #unsubscribe: (() => void) | null = null;
  #off: (() => void) | null = null;

  private constructor(private readonly pipe: Pipe, private readonly subject: string) {}

  /** Publishes what this process's bus carries; with `bus` given, also delivers other processes' events to it. */
  static start(pipe: Pipe, subject: string, bus: EventBus | null): BusBridge {
    const b = new BusBridge(pipe, subject);
    if (bus) {
      b.#off = bus.subscribe((e) => {
        if (!b.#fromRemote.has(e)) b.publish(e);
      });
      b.#unsubscribe = pipe.subscribe(subject, (text) => {
        let env: Envelope;
        try {
          env = JSON.parse(text) as Envelope;
        } catch {
          return;
        }
        if (typeof env !== 'object' || env === null || env.origin === b.origin || !isBusEvent(env.event)) return;
        b.#fromRemote.add(env.event);
        bus.publish(env.event);
      });
    }
    return b;
  }

  /** At most once: a disconnected pipe drops it (the stored record stays the truth). */
  publish(e: BusEvent): void {
    this.pipe.publish(this.subject, JSON.stringify({ origin: this.origin, event: e } satisfies Envelope));
  }

  stop(): void {
    this.#off?.();
    this.#unsubscribe?.();
  }
}
