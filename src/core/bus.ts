/**
 * A small typed in-process event bus for cross-module reactions and the live stream (SSE).
 * Every event carries the release facts of what it is about, so each subscriber filters with
 * the one release policy before anything leaves the process. A NATS JetStream adapter can
 * replace it when work is spread over several processes (DESIGN §3).
 */
import type { ReleaseFacts } from './policy.js';

export interface BusEvent {
  /** e.g. `incident.created`, `assistance.offer`, `decision.adopted`. */
  readonly type: string;
  /** Id of the record or object the event is about. */
  readonly subject: string;
  readonly atUs: number;
  readonly facts: ReleaseFacts;
  /** Exercise the event belongs to; null = real operations. */
  readonly exerciseId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * Release facts of the sub-records whose content `data` carries (an offer on a request, an
   * observable on an incident): the event reaches a reader only if each of these releases to
   * them too, as the REST read of the parent hides the sub-record from everyone else.
   */
  readonly requires?: readonly ReleaseFacts[];
  /**
   * Parts of the event that only some of its readers may read (the accepted offer's id on a
   * request): each is merged into `data` for a reader its own facts release to, left out for
   * the others, exactly as the REST read of the same record shows or hides it.
   */
  readonly sealed?: readonly SealedPart[];
}

export interface SealedPart {
  readonly facts: ReleaseFacts;
  readonly data: Readonly<Record<string, unknown>>;
}

export type BusListener = (e: BusEvent) => void;

export class EventBus {
  readonly #listeners = new Set<BusListener>();

  publish(e: BusEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // A failing subscriber must not stop the others or the writer.
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(l: BusListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  get size(): number {
    return this.#listeners.size;
  }
}
