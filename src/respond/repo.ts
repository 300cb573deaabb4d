/**
 * Shared persistence of the respond domain: typed JSON records with the release-policy
 * columns, optimistic revisions, append-only events, audit and live-stream publication.
 * Reads of one record check the release policy (`mayRelease`); lists filter in the query.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { EventBus, SealedPart } from '../core/bus.js';
import type { ReleaseFacts, Tlp } from '../core/policy.js';
import { authorize, mayRelease, type AccessService, type Action, type Actor, type Principal } from '../access/index.js';
import type { RecordEventRow, RecordRow, Store } from '../store/index.js';
import type { CsirtService } from './model.js';

export type AuthedActor = Actor & { readonly principal: Principal };

export interface RespondDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
  /**
   * Respond records made in an exercise (exercise_id set) are read and written only by its
   * participants (ExerciseService.gate): throws 404 / 403 / 409. Without a gate they are not found.
   */
  readonly exerciseGate?: (actor: AuthedActor, exerciseId: string, mode: 'read' | 'write') => Promise<unknown>;
  /** The organisations that play in an exercise (its teams'): the members an exercise decision may name. */
  readonly exerciseOrgs?: (exerciseId: string) => Promise<readonly string[]>;
  /** The running or paused exercises, whose decisions the ticker settles at their deadline as real ones. */
  readonly activeExercises?: () => Promise<readonly string[]>;
  /**
   * Answers to a record another node pushed here (a copy): made on its node of origin
   * (federation/record-actions.ts). Without it, a copy is read-only.
   */
  readonly remote?: RecordRemote;
}

/** What an organisation may do to a copy of another node's record, from its own node. */
export type RemoteAction =
  | { readonly type: 'incident.comment'; readonly text: string }
  | { readonly type: 'assistance.offer'; readonly offer: { team: string; services: CsirtService[]; capacity: string; availableFrom: string; availableUntil: string; note?: string } }
  | { readonly type: 'assistance.offer.withdraw'; readonly offerId: string };

export interface RecordRemote {
  act(actor: AuthedActor, row: RecordRow, action: RemoteAction): Promise<void>;
}

export interface Rec<T> {
  readonly row: RecordRow;
  readonly doc: T;
}

export interface NewRecord<T> {
  kind: string;
  doc: T;
  tlp: Tlp | null;
  recipients: string[];
  state: string;
  parentId?: string | null;
  exerciseId?: string | null;
  id?: string;
  /** What the creation event records beside the state (an alert level's first change: its reason). */
  data?: Record<string, unknown>;
}

export interface TimelineEntry {
  seq: number;
  at: string;
  kind: string;
  orgId: string | null;
  userId: string | null;
  data: Record<string, unknown>;
}

/**
 * What a write records and announces. `requires` / `sealed` carry the release facts of the
 * sub-records the event discloses (see core/bus.ts): the stored timeline entry keeps the
 * whole event, the live stream releases it per reader.
 */
export interface RecordEvent {
  kind: string;
  data: Record<string, unknown>;
  requires?: ReleaseFacts[];
  sealed?: SealedPart[];
}

export const factsOf = (row: RecordRow): ReleaseFacts => ({ tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode });

export class RecordRepo {
  constructor(readonly deps: RespondDeps) {}

  nowUs(): number {
    return this.deps.clock.now() * 1000;
  }

  async create<T>(actor: AuthedActor, r: NewRecord<T>): Promise<Rec<T>> {
    if (r.exerciseId) await this.exercise(actor, r.exerciseId, 'write');
    const now = this.nowUs();
    const row: RecordRow = {
      id: r.id ?? `${r.kind}--${crypto.randomUUID()}`, kind: r.kind, parentId: r.parentId ?? null, creatorOrg: actor.principal.orgId,
      tlp: r.tlp, recipients: [...new Set(r.recipients)], originNode: null, exerciseId: r.exerciseId ?? null, state: r.state,
      createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify(r.doc),
    };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `${row.id} exists`);
      await tx.appendRecordEvent({ recordId: row.id, atUs: now, kind: `${r.kind}.created`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify({ ...r.data, state: r.state }) });
      await this.#audit(tx, actor, { action: `${r.kind}.create`, target: row.id, detail: { ...r.data, state: r.state, tlp: r.tlp } });
    });
    this.#publish(row, { kind: `${r.kind}.created`, data: { ...r.data, state: r.state } });
    return { row, doc: r.doc };
  }

  /** One record the actor may see (404 otherwise, without disclosing that it exists). */
  async load<T>(actor: AuthedActor, id: string, kind: string): Promise<Rec<T>> {
    const row = await this.deps.store.getRecord(id);
    if (!row || row.kind !== kind || !this.visible(actor.principal, row)) throw new AppError('NOT_FOUND', `no ${kind} ${id}`);
    if (row.exerciseId) await this.exercise(actor, row.exerciseId, 'read').catch(() => { throw new AppError('NOT_FOUND', `no ${kind} ${id}`); });
    return { row, doc: JSON.parse(row.json) as T };
  }

  /**
   * The exercise gate (see RespondDeps.exerciseGate). The clock's own actor (a decision settled at
   * its deadline) passes: it writes the outcome the rules dictate, not a participant's action.
   */
  async exercise(actor: AuthedActor, exerciseId: string, mode: 'read' | 'write'): Promise<void> {
    if (actor.source === 'clock' && actor.principal.userId === null) return;
    if (!this.deps.exerciseGate) throw new AppError('NOT_FOUND', `no exercise ${exerciseId}`);
    await this.deps.exerciseGate(actor, exerciseId, mode);
  }

  visible(p: Principal, row: RecordRow): boolean {
    return mayRelease({ tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, this.deps.access.audienceOf(p), 'read');
  }

  /**
   * Writes a new revision of a record (and the sub-records `with` it) with an event, audit line
   * and publication, in one transaction; a concurrent writer makes this fail with CONFLICT and
   * nothing changes.
   */
  async save<T>(actor: AuthedActor, prev: Rec<T>, next: { doc: T; state?: string; tlp?: Tlp | null; recipients?: string[]; creatorOrg?: string; with?: RecordRow[] }, event: RecordEvent): Promise<Rec<T>> {
    federatedCopy(prev.row);
    if (prev.row.exerciseId) await this.exercise(actor, prev.row.exerciseId, 'write');
    const now = this.nowUs();
    const row: RecordRow = {
      ...prev.row, json: JSON.stringify(next.doc), state: next.state ?? prev.row.state, tlp: next.tlp === undefined ? prev.row.tlp : next.tlp,
      recipients: next.recipients ?? prev.row.recipients, creatorOrg: next.creatorOrg ?? prev.row.creatorOrg, updatedUs: now, rev: prev.row.rev + 1,
    };
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(row))) throw new StaleRevision(`${row.id} was changed by someone else; reload and retry`);
      // Sub-records written with this revision (an attachment's content): both, or neither.
      for (const sub of next.with ?? []) if (!(await tx.putRecord(sub))) throw new AppError('CONFLICT', `${sub.id} exists`);
      await tx.appendRecordEvent({ recordId: row.id, atUs: now, kind: event.kind, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify(fullData(event)) });
      await this.#audit(tx, actor, { action: event.kind, target: row.id, detail: fullData(event) });
    });
    this.#publish(row, event);
    return { row, doc: next.doc };
  }

  /** An append-only entry (comment, national position...) without changing the record. */
  async append(actor: AuthedActor, rec: Rec<unknown>, event: RecordEvent): Promise<void> {
    federatedCopy(rec.row);
    if (rec.row.exerciseId) await this.exercise(actor, rec.row.exerciseId, 'write');
    const now = this.nowUs();
    await this.deps.store.transaction(async (tx) => {
      await tx.appendRecordEvent({ recordId: rec.row.id, atUs: now, kind: event.kind, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify(fullData(event)) });
      await this.#audit(tx, actor, { action: event.kind, target: rec.row.id, detail: fullData(event) });
    });
    this.#publish(rec.row, event);
  }

  async list<T>(actor: AuthedActor, kind: string, opts: { parentId?: string; states?: string[]; limit?: number; exerciseId?: string | null } = {}): Promise<Rec<T>[]> {
    if (opts.exerciseId) await this.exercise(actor, opts.exerciseId, 'read');
    const rows = await this.deps.store.listRecords({
      kind, audience: this.deps.access.audienceOf(actor.principal), purpose: 'read', limit: Math.min(opts.limit ?? 200, 1000),
      ...(opts.parentId ? { parentId: opts.parentId } : {}), ...(opts.states ? { states: opts.states } : {}), ...(opts.exerciseId ? { exerciseId: opts.exerciseId } : {}),
    });
    return rows.map((row) => ({ row, doc: JSON.parse(row.json) as T }));
  }

  async timeline(id: string): Promise<TimelineEntry[]> {
    return (await this.deps.store.listRecordEvents(id)).map(toEntry);
  }

  async #audit(store: Store, actor: AuthedActor, e: { action: string; target: string; detail: Record<string, unknown> }): Promise<void> {
    const { action, target, detail } = e;
    const p = actor.principal;
    await store.appendAudit({ atUs: this.nowUs(), userId: p.userId, orgId: p.orgId, tokenId: p.tokenId, source: actor.source, action, target, detail: JSON.stringify(detail).slice(0, 8000) });
  }

  #publish(row: RecordRow, event: RecordEvent): void {
    this.deps.bus.publish({
      type: event.kind, subject: row.id, atUs: row.updatedUs, exerciseId: row.exerciseId, facts: factsOf(row), data: event.data,
      ...(event.requires?.length ? { requires: event.requires } : {}), ...(event.sealed?.length ? { sealed: event.sealed } : {}),
    });
  }
}

/**
 * A record another node pushed here (docs/federation.md "Incidents and requests for
 * assistance") is a read-only copy: it changes on its node of origin, and only there.
 */
function federatedCopy(row: RecordRow): void {
  if (row.originNode !== null) throw new AppError('CONFLICT', `${row.id} lives on node ${row.originNode}: it is changed there, this node holds a read-only copy`);
}

/** The event as stored on the record's own timeline and audit: sealed parts included. */
function fullData(e: RecordEvent): Record<string, unknown> {
  return Object.assign({}, e.data, ...(e.sealed ?? []).map((p) => p.data)) as Record<string, unknown>;
}

function toEntry(e: RecordEventRow): TimelineEntry {
  return { seq: e.seq, at: new Date(e.atUs / 1000).toISOString(), kind: e.kind, orgId: e.orgId, userId: e.userId, data: JSON.parse(e.json) as Record<string, unknown> };
}

/** The permission table's check (access/permissions.ts), with a clear 403. */
export function requirePermission(actor: AuthedActor, action: Action): void {
  authorize(actor.principal, action);
}

export function bad(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('BAD_REQUEST', message, details ? { details } : {});
}

export function illegal(message: string): AppError {
  return new AppError('CONFLICT', message);
}

/** A record written on a revision another writer moved past in the meantime (a 409). */
export class StaleRevision extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
