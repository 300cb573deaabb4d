/**
 * Telemetry events the worker supervisor quarantined (DESIGN §2.7): administrators of the
 * organisation whose sensor sent an event see it, and either send it through detection again
 * (after the rule it hung on was fixed or removed) or discard it. Both are audited.
 */
import type { Clock } from '../../core/clock.js';
import { AppError } from '../../core/errors.js';
import type { Actor } from '../../access/index.js';
import type { DeadLetterRow, Store } from '../../store/index.js';
import { spoolLinesOf } from '../../store/spool-codec.js';
import { SPOOL_CURSOR_KEY } from './source.js';
import type { TelemetryStream } from './telemetry-stream.js';

export interface DeadLetter {
  readonly seq: number;
  readonly orgId: string;
  readonly sensorId: string;
  readonly receivedAt: string;
  readonly quarantinedAt: string;
  readonly exerciseId: string | null;
  readonly format: string | null;
  /** The line as the sensor sent it. */
  readonly event: string;
  readonly reason: string;
  /** The rule, indicator or stage it hung on; null when unknown or not the reader's to know. */
  readonly ruleRef: string | null;
  readonly attempts: number;
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

export class DeadLetters {
  /**
   * `stream`: a scale-out node's telemetry stream. Its workers have always passed a dead letter
   * (the supervisor quarantines an event of a batch that then commits without it), so a retry
   * sends the line into the stream again, as a new event.
   */
  constructor(private readonly deps: { store: Store; clock: Clock; wake: () => void; stream?: TelemetryStream }) {}

  /** The organisation's dead letters, newest first. */
  async list(orgId: string, q: { limit: number; beforeSeq?: number }): Promise<DeadLetterRow[]> {
    return this.deps.store.listDeadLetters({ orgId, limit: q.limit, ...(q.beforeSeq !== undefined ? { beforeSeq: q.beforeSeq } : {}) });
  }

  count(orgId?: string): Promise<number> {
    return this.deps.store.countDeadLetters(orgId === undefined ? {} : { orgId });
  }

  /** One dead letter of the organisation (NOT_FOUND for another's: it is their telemetry). */
  async get(orgId: string | null, seq: number): Promise<DeadLetterRow> {
    const row = await this.deps.store.getDeadLetter(seq);
    if (!row || (orgId !== null && row.orgId !== orgId)) throw new AppError('NOT_FOUND', `no dead letter ${seq}`);
    return row;
  }

  /**
   * Sends the event through detection again and removes the dead letter; returns the seq it now
   * has. Once the worker has passed it, it goes back in the spool as a new event (new seq); while
   * the worker has not reached it yet, removing the dead letter is enough (else it would count twice).
   */
  async retry(actor: Actor, seq: number): Promise<number> {
    const orgId = actor.principal?.orgId ?? null;
    const row = await this.get(orgId, seq);
    const nowUs = this.deps.clock.now() * 1000;
    let next = seq;
    const stream = this.deps.stream;
    if (stream) {
      // Sent first, then removed: a failure in between leaves the dead letter to retry again
      // (the request key makes a second send of the same retry a duplicate the stream drops).
      const sent = await stream.append({ orgId: row.orgId, sensorId: row.sensorId, receivedUs: row.receivedUs, exerciseId: row.exerciseId }, [{ format: row.format, event: row.event }], `dead-letter-retry:${seq}:${row.createdUs}`);
      next = sent.firstEventSeq ?? seq;
      await this.deps.store.transaction(async (tx) => {
        if (!(await tx.settleDeadLetter(seq))) throw new AppError('NOT_FOUND', `no dead letter ${seq}`);
        await this.#audit(tx, actor, { action: 'detect.dead-letter.retry', seq, nowUs, detail: { newSeq: next, ruleRef: auditRuleRef(row.ruleRef) } });
      });
      return next;
    }
    await this.deps.store.transaction(async (tx) => {
      // Not reached yet by the spool's position: the event is processed under its own seq (the
      // row goes); passed already: it comes back as a new event and the old seq stays skipped.
      // The position is read with the cursor's row locked (a compare-and-set to itself): a worker
      // committing the batch that holds the event either commits first (the position is then past
      // it) or waits for this transaction, and then finds the dead letter lifted (engine.ts).
      let text = await tx.initMeta(SPOOL_CURSOR_KEY, '0');
      while (!(await tx.casMeta(SPOOL_CURSOR_KEY, text, text))) text = await tx.initMeta(SPOOL_CURSOR_KEY, '0');
      const position = Number(text);
      const done = position >= seq ? await tx.settleDeadLetter(seq) : await tx.deleteDeadLetter(seq);
      if (!done) throw new AppError('NOT_FOUND', `no dead letter ${seq}`);
      if (position >= seq) next = (await tx.appendIngest({ orgId: row.orgId, sensorId: row.sensorId, receivedUs: row.receivedUs, exerciseId: row.exerciseId, ...spoolLinesOf([{ event: row.event, format: row.format }]) }))?.firstSeq ?? seq;
      await this.#audit(tx, actor, { action: 'detect.dead-letter.retry', seq, nowUs, detail: { newSeq: next, ruleRef: auditRuleRef(row.ruleRef) } });
    });
    this.deps.wake();
    return next;
  }

  async discard(actor: Actor, seq: number): Promise<void> {
    const orgId = actor.principal?.orgId ?? null;
    const row = await this.get(orgId, seq);
    const nowUs = this.deps.clock.now() * 1000;
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.settleDeadLetter(seq))) throw new AppError('NOT_FOUND', `no dead letter ${seq}`);
      await this.#audit(tx, actor, { action: 'detect.dead-letter.discard', seq, nowUs, detail: { ruleRef: auditRuleRef(row.ruleRef), sensorId: row.sensorId } });
    });
  }

  async #audit(tx: Store, actor: Actor, a: { action: string; seq: number; nowUs: number; detail: Record<string, unknown> }): Promise<void> {
    const p = actor.principal;
    await tx.appendAudit({
      atUs: a.nowUs, userId: p?.userId ?? null, orgId: p?.orgId ?? null, tokenId: p?.tokenId ?? null, source: actor.source, action: a.action,
      target: String(a.seq), detail: JSON.stringify(a.detail),
    });
  }
}

/**
 * The rule an audit entry of a dead letter names: a stage of the pipeline, never an indicator or a
 * Sigma rule, which may be intelligence the organisation's administrators may not read (GET
 * /system/dead-letters decides per reader when it shows a dead letter; an audit line cannot).
 */
export function auditRuleRef(ref: string | null): string | null {
  return ref !== null && (ref.startsWith('stage:') || ref.startsWith('test-hook:')) ? ref : null;
}

/** The dead letter as an API shows it; `ruleRef` as the caller decided the reader may know it. */
export function deadLetterView(row: DeadLetterRow, ruleRef: string | null): DeadLetter {
  return {
    seq: row.seq, orgId: row.orgId, sensorId: row.sensorId, receivedAt: iso(row.receivedUs), quarantinedAt: iso(row.createdUs), exerciseId: row.exerciseId,
    format: row.format, event: row.event, reason: row.reason, ruleRef, attempts: row.attempts,
  };
}
