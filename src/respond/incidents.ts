/**
 * Incidents through the NIST SP 800-61 life cycle: owner organisation, CISA severity, STIX
 * Incident Core Extension determination and investigation status, TLP and PAP, tasks from
 * playbooks (mandatory tasks block closure, dependencies gate progress), observables with
 * their own TLP/PAP, links, a timeline, comments, attachments, stage timestamps and the
 * durations computed from them, sharing with per-share permission, ownership transfer.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { ReleaseFacts, Tlp } from '../core/policy.js';
import { mayRelease } from '../access/index.js';
import { bad, factsOf, illegal, RecordRepo, requirePermission, StaleRevision, type AuthedActor, type Rec, type RespondDeps, type TimelineEntry } from './repo.js';
import type { RecordRow } from '../store/index.js';
import {
  PHASE_MOVES, PLAYBOOKS, type Determination, type InvestigationStatus, type ObservableType, type Pap, type Phase, type TaskStatus,
} from './model.js';

export const INCIDENT = 'incident';
const ATTACHMENT = 'attachment';
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/**
 * What one incident holds at most: it is one record, rewritten (and sent back whole) on every
 * change, so each addition costs in proportion to what it already holds. Far above a real case
 * (a few hundred observables, a few dozen tasks); a larger IOC set belongs in the intel, linked.
 */
export const INCIDENT_LIMITS = { observables: 5000, tasks: 500, links: 5000, attachments: 500 } as const;

/** Refuses adding `adding` more of `what` to an incident that holds `held` when that would pass its limit. */
function full(what: keyof typeof INCIDENT_LIMITS, held: number, adding = 1): void {
  if (held + adding > INCIDENT_LIMITS[what]) {
    throw illegal(`an incident holds at most ${INCIDENT_LIMITS[what]} ${what}${what === 'observables' ? ': share a larger set as intel and link it (POST /incidents/:id/links)' : ''}`);
  }
}

export interface Task {
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  mandatory: boolean;
  dependsOn: string[];
  assignee: string | null;
  createdAt: string;
  completedAt: string | null;
  orgId: string;
}

export interface Observable {
  id: string;
  type: ObservableType;
  value: string;
  ioc: boolean;
  sighted: boolean;
  tlp: Tlp;
  pap: Pap;
  description: string;
  orgId: string;
  addedAt: string;
  /** Named recipients for AMBER+STRICT / RED observables. */
  recipients?: string[];
  /**
   * AMBER+STRICT / RED: the incident's owner when the observable was added, to whom it was
   * released then. A later transfer does not move it to the new owner (docs/respond.md).
   */
  heldFor?: string;
}

export interface Share {
  orgId: string;
  permission: 'read' | 'contribute';
  sharedAt: string;
}

export interface Stages {
  occurredAt: string | null;
  detectedAt: string;
  triagedAt: string | null;
  containedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
}

export interface Incident {
  title: string;
  description: string;
  category: string;
  severity: number;
  phase: Phase;
  determination: Determination;
  investigationStatus: InvestigationStatus;
  pap: Pap;
  assignees: string[];
  tasks: Task[];
  observables: Observable[];
  links: { alerts: string[]; sightings: string[]; indicators: string[]; techniques: string[] };
  shares: Share[];
  attachments: { id: string; name: string; size: number; sha256: string; mediaType: string; addedAt: string; orgId: string }[];
  stages: Stages;
  /** The closing summary (resolution, what was done, what is left to others), set by the move to closed; absent on records before it. */
  closure?: Closure | null;
}

export interface Closure {
  summary: string;
  at: string;
  orgId: string;
  userId: string | null;
}

export interface IncidentView extends Incident {
  closure: Closure | null;
  id: string;
  ownerOrg: string;
  tlp: Tlp | null;
  createdAt: string;
  updatedAt: string;
  rev: number;
  exerciseId: string | null;
  /** What the caller may do. */
  canContribute: boolean;
  /** Comment: as contribute, and also on a copy of another node's incident (sent to that node). */
  canComment: boolean;
  /** The node the incident lives on when this is a copy it pushed here; null when it lives here. */
  originNode: string | null;
  isOwner: boolean;
  metrics: IncidentMetrics;
}

export interface IncidentMetrics {
  /** Seconds; null where a stage has not been reached. */
  timeToDetect: number | null;
  timeToTriage: number | null;
  timeToContain: number | null;
  timeToResolve: number | null;
}

export interface NewIncident {
  title: string;
  description?: string;
  category?: string;
  severity: number;
  tlp?: Tlp;
  pap?: Pap;
  occurredAt?: string | null;
  detectedAt?: string | null;
  determination?: Determination;
  exerciseId?: string | null;
}

export interface IncidentPatch {
  title?: string;
  description?: string;
  severity?: number;
  determination?: Determination;
  investigationStatus?: InvestigationStatus;
  pap?: Pap;
  tlp?: Tlp;
  assignees?: string[];
  contained?: boolean;
  /** The revision the change was made on (optimistic concurrency): another one is a 409. */
  rev?: number;
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();
const secondsBetween = (a: string | null, b: string | null) => (a && b ? Math.round((Date.parse(b) - Date.parse(a)) / 1000) : null);

export function metricsOf(s: Stages): IncidentMetrics {
  return {
    timeToDetect: secondsBetween(s.occurredAt, s.detectedAt),
    timeToTriage: secondsBetween(s.detectedAt, s.triagedAt),
    timeToContain: secondsBetween(s.detectedAt, s.containedAt),
    timeToResolve: secondsBetween(s.detectedAt, s.resolvedAt),
  };
}

/**
 * A change made on the revision the officer read (`rev`), when given: two officers editing one
 * incident from the same screen would otherwise each overwrite the other's field without
 * knowing it (the last writer wins). Without `rev` a change applies to the latest revision.
 */
function current(rec: Rec<Incident>, rev: number | undefined): void {
  if (rev !== undefined && rev !== rec.row.rev) throw illegal(`incident ${rec.row.id} is at revision ${rec.row.rev}, not ${rev}; reload and retry`);
}

const isStrict = (o: Observable) => o.tlp === 'red' || o.tlp === 'amber+strict';

/**
 * The release facts of an observable, which carries its own TLP and author. At AMBER and
 * below it goes where the incident goes (its recipients and current owner); at AMBER+STRICT
 * and RED only to its author, the recipients named on the observable itself and the owner it
 * was added under (`heldFor`), not to every organisation the incident is shared with, nor to
 * a later owner: a transfer moves the incident, not other organisations' strict sub-records.
 */
export function observableFacts(row: RecordRow, o: Observable): ReleaseFacts {
  const recipients = isStrict(o) ? [...(o.recipients ?? []), o.heldFor ?? row.creatorOrg] : [...row.recipients, row.creatorOrg];
  return { ...factsOf(row), tlp: o.tlp, creatorOrg: o.orgId, recipients };
}

export class IncidentService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps) {
    this.repo = new RecordRepo(deps);
  }

  #now(): string {
    return iso(this.repo.nowUs());
  }

  async create(actor: AuthedActor, n: NewIncident): Promise<IncidentView> {
    requirePermission(actor, 'incident.write');
    const now = this.#now();
    const category = n.category ?? 'default';
    const playbook = PLAYBOOKS[category];
    if (!playbook) throw bad(`unknown category ${category}; known: ${Object.keys(PLAYBOOKS).join(', ')}`);
    const ids = playbook.map(() => crypto.randomUUID());
    const doc: Incident = {
      title: n.title, description: n.description ?? '', category, severity: n.severity, phase: 'detection-analysis',
      determination: n.determination ?? 'suspected', investigationStatus: 'new', pap: n.pap ?? 'amber', assignees: [],
      tasks: playbook.map((t, i) => ({
        id: ids[i]!, title: t.title, description: '', status: 'open', mandatory: t.mandatory, dependsOn: (t.after ?? []).map((k) => ids[k]!),
        assignee: null, createdAt: now, completedAt: null, orgId: actor.principal.orgId,
      })),
      observables: [], links: { alerts: [], sightings: [], indicators: [], techniques: [] }, shares: [], attachments: [],
      stages: { occurredAt: n.occurredAt ?? null, detectedAt: n.detectedAt ?? now, triagedAt: null, containedAt: null, resolvedAt: null, closedAt: null },
    };
    // Instants, not texts: '…:00Z' and '…:00.5Z' differ in their fraction digits.
    if (doc.stages.occurredAt && Date.parse(doc.stages.occurredAt) > Date.parse(doc.stages.detectedAt)) throw bad('occurredAt must not be after detectedAt');
    const rec = await this.repo.create(actor, { kind: INCIDENT, doc, tlp: n.tlp ?? 'amber', recipients: [], state: doc.phase, exerciseId: n.exerciseId ?? null });
    return this.view(actor, rec);
  }

  async get(actor: AuthedActor, id: string): Promise<IncidentView> {
    return this.view(actor, await this.repo.load<Incident>(actor, id, INCIDENT));
  }

  async list(actor: AuthedActor, opts: { phases?: Phase[]; limit?: number; exerciseId?: string | null } = {}): Promise<IncidentView[]> {
    const recs = await this.repo.list<Incident>(actor, INCIDENT, { ...(opts.phases ? { states: opts.phases } : {}), limit: opts.limit ?? 200, exerciseId: opts.exerciseId ?? null });
    return recs.map((r) => this.view(actor, r));
  }

  async timeline(actor: AuthedActor, id: string): Promise<TimelineEntry[]> {
    const rec = await this.repo.load<Incident>(actor, id, INCIDENT);
    const entries = await this.repo.timeline(rec.row.id);
    // Entries about observables the caller may not see are withheld (their TLP can be stricter).
    const hidden = new Set(rec.doc.observables.filter((o) => !this.#observableVisible(actor, rec, o)).map((o) => o.id));
    return entries.filter((e) => !(typeof e.data.observableId === 'string' && hidden.has(e.data.observableId)));
  }

  view(actor: AuthedActor, rec: Rec<Incident>): IncidentView {
    const d = rec.doc;
    const isOwner = rec.row.creatorOrg === actor.principal.orgId;
    const shared = isOwner || d.shares.some((s) => s.orgId === actor.principal.orgId && s.permission === 'contribute');
    return {
      ...d,
      observables: d.observables.filter((o) => this.#observableVisible(actor, rec, o)),
      closure: d.closure ?? null,
      id: rec.row.id, ownerOrg: rec.row.creatorOrg, tlp: rec.row.tlp, createdAt: iso(rec.row.createdUs), updatedAt: iso(rec.row.updatedUs),
      rev: rec.row.rev, exerciseId: rec.row.exerciseId, isOwner,
      canContribute: rec.row.originNode === null && shared,
      // On a copy of another node's incident, comments are sent to that node (federation/record-actions.ts).
      canComment: shared && (rec.row.originNode === null || this.deps.remote !== undefined),
      originNode: rec.row.originNode,
      metrics: metricsOf(d.stages),
    };
  }

  #observableVisible(actor: AuthedActor, rec: Rec<Incident>, o: Observable): boolean {
    return mayRelease(observableFacts(rec.row, o), this.deps.access.audienceOf(actor.principal), 'read');
  }

  /**
   * Runs a change made on a fresh read again when another writer committed between its read and
   * its write (a stale revision; up to 8 attempts, a few random milliseconds apart so that the
   * writers that lost do not meet again): an addition (a task, an observable, a link, an
   * attachment) or a change sent without `rev` does not depend on what the other writer did.
   * SQLite serialised such writers; on PostgreSQL all but one failed with 409. A change made on a
   * stated revision is never run again: its 409 tells the user what they saw is old.
   */
  async #onFresh<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!(e instanceof StaleRevision) || attempt >= 8) throw e;
      }
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }

  async #owned(actor: AuthedActor, id: string): Promise<Rec<Incident>> {
    const rec = await this.repo.load<Incident>(actor, id, INCIDENT);
    if (rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation may do this');
    requirePermission(actor, 'incident.write');
    return rec;
  }

  /**
   * Writing into an incident needs the action (permission table) AND a write share: the owner or
   * a `contribute` share. A GREEN incident is readable by the whole community, but reading is
   * not taking part: an organisation without a share, or with a read share, only reads.
   */
  async #contributable(actor: AuthedActor, id: string, action: 'incident.contribute' | 'incident.comment' = 'incident.contribute'): Promise<Rec<Incident>> {
    const rec = await this.repo.load<Incident>(actor, id, INCIDENT);
    requirePermission(actor, action);
    // A copy another node pushed here is read-only (docs/federation.md): it is changed on its node.
    if (rec.row.originNode !== null) throw new AppError('CONFLICT', `this incident lives on node ${rec.row.originNode}: it is changed there`);
    const v = this.view(actor, rec);
    if (!v.canContribute) throw new AppError('FORBIDDEN', 'writing to this incident needs a contribute share for your organisation');
    return rec;
  }

  async update(actor: AuthedActor, id: string, patch: IncidentPatch): Promise<IncidentView> {
    return patch.rev === undefined ? this.#onFresh(() => this.#update(actor, id, patch)) : this.#update(actor, id, patch);
  }

  async #update(actor: AuthedActor, id: string, patch: IncidentPatch): Promise<IncidentView> {
    const rec = await this.#owned(actor, id);
    current(rec, patch.rev);
    const doc = structuredClone(rec.doc);
    const changes: Record<string, unknown> = {};
    for (const k of ['title', 'description', 'severity', 'determination', 'pap', 'assignees'] as const) {
      if (patch[k] !== undefined && JSON.stringify(patch[k]) !== JSON.stringify(doc[k])) {
        changes[k] = { from: doc[k], to: patch[k] };
        (doc as unknown as Record<string, unknown>)[k] = patch[k];
      }
    }
    if (patch.investigationStatus && patch.investigationStatus !== doc.investigationStatus) {
      if (patch.investigationStatus === 'closed') throw illegal('close an incident by moving it to the closed phase');
      if (doc.phase === 'closed') throw illegal('reopen a closed incident by moving it to the detection-analysis phase');
      changes.investigationStatus = { from: doc.investigationStatus, to: patch.investigationStatus };
      doc.investigationStatus = patch.investigationStatus;
      if (patch.investigationStatus === 'open') doc.stages.triagedAt ??= this.#now();
    }
    if (patch.contained && !doc.stages.containedAt) {
      doc.stages.containedAt = this.#now();
      changes.contained = true;
    }
    let tlp = rec.row.tlp;
    if (patch.tlp && patch.tlp !== tlp) {
      changes.tlp = { from: tlp, to: patch.tlp };
      tlp = patch.tlp;
    }
    if (Object.keys(changes).length === 0) return this.view(actor, rec);
    return this.view(actor, await this.repo.save(actor, rec, { doc, tlp }, { kind: 'incident.updated', data: changes }));
  }

  /**
   * Moves the incident to another phase. A move to `closed` may carry the closing summary (the
   * resolution a commander reads, TheHive's summary on close); reopening keeps the earlier one
   * on the timeline (its `incident.phase` entry) and clears it from the incident.
   */
  async transition(actor: AuthedActor, id: string, to: Phase, opts: { rev?: number; summary?: string } = {}): Promise<IncidentView> {
    return opts.rev === undefined ? this.#onFresh(() => this.#transition(actor, id, to, opts)) : this.#transition(actor, id, to, opts);
  }

  async #transition(actor: AuthedActor, id: string, to: Phase, opts: { rev?: number; summary?: string }): Promise<IncidentView> {
    const rec = await this.#owned(actor, id);
    current(rec, opts.rev);
    const from = rec.doc.phase;
    if (!PHASE_MOVES[from].includes(to)) throw illegal(`cannot move an incident from ${from} to ${to}`);
    if (opts.summary !== undefined && to !== 'closed') throw bad('a closing summary goes with the move to closed');
    const doc = structuredClone(rec.doc);
    const now = this.#now();
    if (to === 'closed') {
      const open = doc.tasks.filter((t) => t.mandatory && t.status !== 'completed');
      if (open.length) throw illegal(`mandatory tasks are not completed: ${open.map((t) => t.title).join('; ')}`);
      doc.investigationStatus = 'closed';
      doc.stages.closedAt = now;
      doc.stages.resolvedAt ??= now;
      doc.closure = opts.summary ? { summary: opts.summary, at: now, orgId: actor.principal.orgId, userId: actor.principal.userId } : null;
    } else if (from === 'closed') {
      doc.investigationStatus = 'open';
      doc.stages.closedAt = null;
      doc.closure = null;
    }
    if (to !== 'detection-analysis') doc.stages.triagedAt ??= now;
    if (to === 'post-incident-activity') {
      doc.stages.containedAt ??= now;
      doc.stages.resolvedAt ??= now;
    }
    if (doc.investigationStatus === 'new' && to !== 'closed') doc.investigationStatus = 'open';
    doc.phase = to;
    return this.view(actor, await this.repo.save(actor, rec, { doc, state: to }, { kind: 'incident.phase', data: { from, to, ...(doc.closure && to === 'closed' ? { summary: doc.closure.summary } : {}) } }));
  }

  async share(actor: AuthedActor, id: string, shares: { orgId: string; permission: 'read' | 'contribute' }[]): Promise<IncidentView> {
    const rec = await this.#owned(actor, id);
    for (const s of shares) {
      if (!(await this.deps.store.getOrganisation(s.orgId))) throw bad(`no organisation ${s.orgId}`);
      if (s.orgId === rec.row.creatorOrg) throw bad('the owner does not need a share');
    }
    const doc = structuredClone(rec.doc);
    const now = this.#now();
    const byOrg = new Map(doc.shares.map((s) => [s.orgId, s]));
    for (const s of shares) byOrg.set(s.orgId, { orgId: s.orgId, permission: s.permission, sharedAt: byOrg.get(s.orgId)?.sharedAt ?? now });
    doc.shares = [...byOrg.values()];
    return this.view(actor, await this.repo.save(actor, rec, { doc, recipients: doc.shares.map((s) => s.orgId) }, { kind: 'incident.shared', data: { shares } }));
  }

  async unshare(actor: AuthedActor, id: string, orgId: string): Promise<IncidentView> {
    const rec = await this.#owned(actor, id);
    const doc = structuredClone(rec.doc);
    if (!doc.shares.some((s) => s.orgId === orgId)) throw new AppError('NOT_FOUND', 'no such share');
    doc.shares = doc.shares.filter((s) => s.orgId !== orgId);
    return this.view(actor, await this.repo.save(actor, rec, { doc, recipients: doc.shares.map((s) => s.orgId) }, { kind: 'incident.unshared', data: { orgId } }));
  }

  /** Ownership moves to another organisation; the former owner keeps a contribute share. */
  async transfer(actor: AuthedActor, id: string, toOrg: string): Promise<IncidentView> {
    const rec = await this.#owned(actor, id);
    if (!(await this.deps.store.getOrganisation(toOrg))) throw bad(`no organisation ${toOrg}`);
    if (toOrg === rec.row.creatorOrg) throw bad('already the owner');
    // An exercise incident goes only to a member that plays in the exercise: another could not even read it.
    if (rec.row.exerciseId && !(await this.deps.exerciseOrgs?.(rec.row.exerciseId) ?? []).includes(toOrg)) throw bad(`${toOrg} does not play in the exercise of this incident`);
    const doc = structuredClone(rec.doc);
    // Strict observables recorded before `heldFor` existed were released to the owner of the
    // time, which until this first transfer is the current owner: pin it before ownership moves.
    for (const o of doc.observables) if (isStrict(o) && !o.heldFor) o.heldFor = rec.row.creatorOrg;
    doc.shares = [...doc.shares.filter((s) => s.orgId !== toOrg && s.orgId !== rec.row.creatorOrg), { orgId: rec.row.creatorOrg, permission: 'contribute', sharedAt: this.#now() }];
    return this.view(actor, await this.repo.save(actor, rec, { doc, creatorOrg: toOrg, recipients: doc.shares.map((s) => s.orgId) }, { kind: 'incident.transferred', data: { from: rec.row.creatorOrg, to: toOrg } }));
  }

  async addTask(actor: AuthedActor, id: string, t: { title: string; description?: string; mandatory?: boolean; dependsOn?: string[]; assignee?: string | null }): Promise<IncidentView> {
    return this.#onFresh(() => this.#addTask(actor, id, t));
  }

  async #addTask(actor: AuthedActor, id: string, t: { title: string; description?: string; mandatory?: boolean; dependsOn?: string[]; assignee?: string | null }): Promise<IncidentView> {
    const rec = await this.#contributable(actor, id);
    full('tasks', rec.doc.tasks.length);
    const doc = structuredClone(rec.doc);
    const taskIds = new Set(doc.tasks.map((x) => x.id));
    for (const dep of t.dependsOn ?? []) if (!taskIds.has(dep)) throw bad(`unknown task ${dep} in dependsOn`);
    if (t.mandatory && rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owner may add mandatory tasks');
    const task: Task = {
      id: crypto.randomUUID(), title: t.title, description: t.description ?? '', status: 'open', mandatory: t.mandatory ?? false, dependsOn: t.dependsOn ?? [],
      assignee: t.assignee ?? null, createdAt: this.#now(), completedAt: null, orgId: actor.principal.orgId,
    };
    doc.tasks.push(task);
    return this.view(actor, await this.repo.save(actor, rec, { doc }, { kind: 'incident.task.added', data: { taskId: task.id, title: task.title } }));
  }

  async setTaskStatus(actor: AuthedActor, id: string, taskId: string, status: TaskStatus): Promise<IncidentView> {
    return this.#onFresh(() => this.#setTaskStatus(actor, id, taskId, status));
  }

  async #setTaskStatus(actor: AuthedActor, id: string, taskId: string, status: TaskStatus): Promise<IncidentView> {
    const rec = await this.#contributable(actor, id);
    const doc = structuredClone(rec.doc);
    const task = doc.tasks.find((t) => t.id === taskId);
    if (!task) throw new AppError('NOT_FOUND', `no task ${taskId}`);
    if (task.status === status) return this.view(actor, rec);
    if (task.status === 'completed' || task.status === 'cancelled') throw illegal(`task is ${task.status}`);
    if (status === 'cancelled' && task.mandatory) throw illegal('a mandatory task cannot be cancelled');
    if (status === 'in-progress' || status === 'completed') {
      // A cancelled task will never complete: it no longer holds back the tasks after it (an optional
      // step not needed, such as upstream scrubbing, left mandatory lessons learned, and closure, unreachable).
      const blocking = task.dependsOn.map((d) => doc.tasks.find((t) => t.id === d)!).filter((t) => t.status !== 'completed' && t.status !== 'cancelled');
      if (blocking.length) throw illegal(`waiting for: ${blocking.map((t) => t.title).join('; ')}`);
    }
    const from = task.status;
    task.status = status;
    if (status === 'completed') task.completedAt = this.#now();
    return this.view(actor, await this.repo.save(actor, rec, { doc }, { kind: 'incident.task.status', data: { taskId, title: task.title, from, to: status } }));
  }

  async addObservable(actor: AuthedActor, id: string, o: { type: ObservableType; value: string; ioc?: boolean; sighted?: boolean; tlp?: Tlp; pap?: Pap; description?: string; recipients?: string[] }): Promise<IncidentView> {
    return this.#onFresh(() => this.#addObservable(actor, id, o));
  }

  async #addObservable(actor: AuthedActor, id: string, o: { type: ObservableType; value: string; ioc?: boolean; sighted?: boolean; tlp?: Tlp; pap?: Pap; description?: string; recipients?: string[] }): Promise<IncidentView> {
    const rec = await this.#contributable(actor, id);
    if (rec.doc.observables.some((x) => x.type === o.type && x.value === o.value)) throw illegal(`observable ${o.type} ${o.value} is already on this incident`);
    full('observables', rec.doc.observables.length);
    const doc = structuredClone(rec.doc);
    const obs: Observable = {
      id: crypto.randomUUID(), type: o.type, value: o.value, ioc: o.ioc ?? false, sighted: o.sighted ?? false, tlp: o.tlp ?? rec.row.tlp ?? 'amber',
      pap: o.pap ?? doc.pap, description: o.description ?? '', orgId: actor.principal.orgId, addedAt: this.#now(),
      ...(o.recipients?.length ? { recipients: o.recipients.filter((r) => rec.row.recipients.includes(r)) } : {}),
    };
    if (isStrict(obs)) obs.heldFor = rec.row.creatorOrg;
    doc.observables.push(obs);
    // The event names the observable: it reaches only readers of the observable itself.
    return this.view(actor, await this.repo.save(actor, rec, { doc }, {
      kind: 'incident.observable.added', data: { observableId: obs.id, type: obs.type, tlp: obs.tlp }, requires: [observableFacts(rec.row, obs)],
    }));
  }

  async link(actor: AuthedActor, id: string, kind: keyof Incident['links'], refs: string[]): Promise<IncidentView> {
    return this.#onFresh(() => this.#link(actor, id, kind, refs));
  }

  async #link(actor: AuthedActor, id: string, kind: keyof Incident['links'], refs: string[]): Promise<IncidentView> {
    const rec = await this.#contributable(actor, id);
    const doc = structuredClone(rec.doc);
    const have = new Set(doc.links[kind]);
    const added = [...new Set(refs)].filter((r) => !have.has(r));
    if (!added.length) return this.view(actor, rec);
    full('links', doc.links[kind].length, added.length);
    doc.links[kind].push(...added);
    return this.view(actor, await this.repo.save(actor, rec, { doc }, { kind: 'incident.linked', data: { kind, refs: added } }));
  }

  async comment(actor: AuthedActor, id: string, text: string): Promise<void> {
    const copy = await this.repo.load<Incident>(actor, id, INCIDENT);
    if (copy.row.originNode !== null && this.deps.remote) {
      // A copy of another node's incident: the comment is made there (federation/record-actions.ts).
      requirePermission(actor, 'incident.comment');
      if (!this.view(actor, copy).canComment) throw new AppError('FORBIDDEN', 'commenting on this incident needs a contribute share for your organisation');
      await this.deps.remote.act(actor, copy.row, { type: 'incident.comment', text });
      return;
    }
    const rec = await this.#contributable(actor, id, 'incident.comment');
    await this.repo.append(actor, rec, { kind: 'incident.comment', data: { text } });
  }

  async addTimelineEntry(actor: AuthedActor, id: string, e: { at: string; text: string }): Promise<void> {
    const rec = await this.#contributable(actor, id);
    await this.repo.append(actor, rec, { kind: 'incident.timeline', data: { at: e.at, text: e.text } });
  }

  async addAttachment(actor: AuthedActor, id: string, a: { name: string; mediaType: string; content: Buffer }): Promise<IncidentView> {
    return this.#onFresh(() => this.#addAttachment(actor, id, a));
  }

  async #addAttachment(actor: AuthedActor, id: string, a: { name: string; mediaType: string; content: Buffer }): Promise<IncidentView> {
    if (a.content.length > MAX_ATTACHMENT_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `attachments are limited to ${MAX_ATTACHMENT_BYTES} bytes`);
    if (a.content.length === 0) throw bad('empty attachment');
    const rec = await this.#contributable(actor, id);
    full('attachments', rec.doc.attachments.length);
    const sha256 = crypto.createHash('sha256').update(a.content).digest('hex');
    const attId = `${ATTACHMENT}--${crypto.randomUUID()}`;
    const now = this.repo.nowUs();
    // The content is stored with the incident's revision that names it, in one transaction: an
    // incident changed meanwhile (409) leaves no orphan content behind.
    const content: RecordRow = {
      id: attId, kind: ATTACHMENT, parentId: rec.row.id, creatorOrg: actor.principal.orgId, tlp: rec.row.tlp, recipients: [], originNode: null,
      exerciseId: rec.row.exerciseId, state: 'stored', createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify({ data: a.content.toString('base64') }),
    };
    const doc = structuredClone(rec.doc);
    doc.attachments.push({ id: attId, name: a.name, size: a.content.length, sha256, mediaType: a.mediaType, addedAt: this.#now(), orgId: actor.principal.orgId });
    return this.view(actor, await this.repo.save(actor, rec, { doc, with: [content] }, { kind: 'incident.attachment.added', data: { attachmentId: attId, name: a.name, size: a.content.length, sha256 } }));
  }

  async attachment(actor: AuthedActor, id: string, attId: string): Promise<{ name: string; mediaType: string; content: Buffer; sha256: string }> {
    const rec = await this.repo.load<Incident>(actor, id, INCIDENT);
    const meta = rec.doc.attachments.find((x) => x.id === attId);
    const row = meta ? await this.deps.store.getRecord(attId) : null;
    if (!meta || !row || row.parentId !== rec.row.id) throw new AppError('NOT_FOUND', 'no such attachment');
    return { name: meta.name, mediaType: meta.mediaType, sha256: meta.sha256, content: Buffer.from((JSON.parse(row.json) as { data: string }).data, 'base64') };
  }

  /** Other open incidents the caller may see that share an observable value with this one. */
  async similar(actor: AuthedActor, id: string): Promise<{ id: string; title: string; shared: string[] }[]> {
    const me = await this.get(actor, id);
    const values = new Set(me.observables.map((o) => o.value));
    if (!values.size) return [];
    // In the incident's own world: an exercise incident's are of its exercise, a real one's real (DESIGN §2.3).
    const others = await this.list(actor, { phases: ['detection-analysis', 'containment-eradication-recovery', 'post-incident-activity'], limit: 1000, exerciseId: me.exerciseId });
    return others.filter((o) => o.id !== id)
      .map((o) => ({ id: o.id, title: o.title, shared: o.observables.map((x) => x.value).filter((v) => values.has(v)) }))
      .filter((o) => o.shared.length > 0);
  }

  /** MTTD / MTTR (and triage / containment means) per owning organisation, over incidents the caller may see. */
  async metrics(actor: AuthedActor): Promise<{ orgId: string; incidents: number; mttd: number | null; mttt: number | null; mttc: number | null; mttr: number | null }[]> {
    const all = await this.list(actor, { limit: 1000 });
    const by = new Map<string, IncidentView[]>();
    for (const i of all) by.set(i.ownerOrg, [...(by.get(i.ownerOrg) ?? []), i]);
    const mean = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length ? Math.round(v.reduce((a, b) => a + b, 0) / v.length) : null;
    };
    return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([orgId, list]) => ({
      orgId, incidents: list.length,
      mttd: mean(list.map((i) => i.metrics.timeToDetect)), mttt: mean(list.map((i) => i.metrics.timeToTriage)),
      mttc: mean(list.map((i) => i.metrics.timeToContain)), mttr: mean(list.map((i) => i.metrics.timeToResolve)),
    }));
  }
}
