/**
 * A dead letter retried while the detection worker (another process) is committing the batch
 * that holds it: the event is processed once, whichever commits first — never skipped by the
 * worker (it read the dead letters before the retry lifted this one) and never left without its
 * dead letter. The worker's commit is held open at a gate (before or after it moves the spool's
 * cursor), so the interleaving is certain. PostgreSQL: there the two transactions overlap.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { ManualClock } from '../src/core/clock.js';
import { DeadLetters } from '../src/detect/pipeline/index.js';
import { SpoolSource, type EventSource } from '../src/detect/pipeline/source.js';
import { createEngine } from '../src/detect/worker/wiring.js';
import { IntelService } from '../src/intel/index.js';
import { openPostgresStore, type IngestRow, type Store } from '../src/store/index.js';
import { spoolLinesOf } from '../src/store/spool-codec.js';
import { freshPostgresDb, pgAvailable } from './helpers/pg.js';

/** The SQL spool, whose first commit waits at a gate (before or after moving the cursor). */
class GatedSource implements EventSource {
  readonly name: string;
  #gate: Promise<void> | null;
  constructor(private readonly inner: SpoolSource, gate: Promise<void>, readonly at: () => void, private readonly when: 'before' | 'after') {
    this.name = inner.name;
    this.#gate = gate;
  }
  get position(): number { return this.inner.position; }
  read(limit: number): Promise<readonly IngestRow[]> { return this.inner.read(limit); }
  async commit(tx: Store, throughSeq: number): Promise<void> {
    const gate = this.#gate;
    this.#gate = null;
    if (gate && this.when === 'before') { this.at(); await gate; }
    await this.inner.commit(tx, throughSeq);
    if (gate && this.when === 'after') { this.at(); await gate; }
  }
  committed(throughSeq: number): void { this.inner.committed(throughSeq); }
  reset(): Promise<void> { return this.inner.reset(); }
  history(afterSeq: number, limit: number): Promise<readonly IngestRow[]> { return this.inner.history(afterSeq, limit); }
}

describe.runIf(await pgAvailable())('PostgreSQL, a dead letter retried while the worker commits its batch', () => {
  for (const when of ['before', 'after'] as const) {
    it(`the event is processed once (the worker paused ${when} moving the cursor)`, async () => {
      const db = await freshPostgresDb();
      const store = await openPostgresStore(db.url);
      const clock = new ManualClock('2026-08-01T00:00:00Z');
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      try {
        const line = (n: number) => ({ event: JSON.stringify({ '@timestamp': '2026-08-01T00:00:00Z', event: { kind: 'event' }, message: `event ${n}` }), format: 'ecs' });
        const got = await store.appendIngest({ orgId: 'o', sensorId: 's', receivedUs: 1, exerciseId: null, ...spoolLinesOf([line(1), line(2)]) });
        const second = got!.lastSeq;
        // The supervisor quarantined the second event (it hung a worker); the batch is read again.
        await store.putDeadLetter({ seq: second, orgId: 'o', sensorId: 's', receivedUs: 1, exerciseId: null, event: line(2).event, format: 'ecs', reason: 'hung', ruleRef: null, attempts: 1, createdUs: 1 });
        let atGate!: () => void;
        const paused = new Promise<void>((r) => { atGate = r; });
        const source = new GatedSource(await SpoolSource.open(store), gate, () => atGate(), when);
        const engine = await createEngine({ store, clock, intel: new IntelService(store, clock), publish: () => undefined, source }, {});
        const drained = engine.drain().catch((e: unknown) => e);
        await paused;
        // An administrator retries the dead letter now (through an API process).
        const retried = new DeadLetters({ store, clock, wake: () => undefined }).retry(SYSTEM_ACTOR, second);
        await new Promise((r) => setTimeout(r, 300));
        release();
        await Promise.all([drained, retried]);
        // Whatever the first drain did, the worker goes on until the spool is read.
        await engine.drain();
        const batches = (await store.listAudit({ limit: 100 })).filter((a) => a.action === 'detect.batch').map((a) => JSON.parse(a.detail!) as { events: number });
        expect(batches.reduce((n, b) => n + b.events, 0)).toBe(2);
        expect(await store.getDeadLetter(second)).toBeNull();
      } finally {
        release();
        await store.close();
        await db.drop();
      }
    });
  }
});
