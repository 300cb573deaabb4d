/**
 * Collective decisions by consensus, never by counting votes (see docs/respond.md):
 * - consensus round: every participating member concurs or objects; one objection blocks;
 *   the proposal passes when all concur; at the deadline without all concurring: no consensus;
 * - silence procedure: adopted at the deadline unless a member breaks silence in writing with
 *   a reason; an amended text can be re-issued with a new deadline (a new revision).
 * Only representatives of participating members act. Positions and outcomes are append-only
 * events: immutable and audited. Deadlines run on the injected clock.
 */
import { AppError } from '../core/errors.js';
import { can, type Principal } from '../access/index.js';
import { bad, illegal, RecordRepo, requirePermission, type AuthedActor, type Rec, type RespondDeps } from './repo.js';
import { ALLIANCE, type AlertLevelService } from './alert-level.js';

export const DECISION = 'decision';
export const DECISION_KINDS = ['attribution-statement', 'collective-response', 'alert-level', 'article-4-consultation', 'other'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];
export type Procedure = 'consensus' | 'silence';
export type DecisionState = 'open' | 'adopted' | 'blocked' | 'no-consensus' | 'withdrawn';
export type PositionKind = 'concur' | 'object' | 'break-silence';

export interface Decision {
  title: string;
  kind: DecisionKind;
  procedure: Procedure;
  participants: string[];
  revision: number;
  texts: { revision: number; text: string; issuedAt: string; deadline: string }[];
  assessmentId: string | null;
  effect: { type: 'alert-level'; scope: string; level: number } | null;
  outcome: { result: Exclude<DecisionState, 'open'>; at: string; revision: number } | null;
}

export interface Position {
  orgId: string;
  userId: string | null;
  revision: number;
  position: PositionKind;
  reason: string | null;
  at: string;
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

export class DecisionService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps, private readonly levels: AlertLevelService) {
    this.repo = new RecordRepo(deps);
  }

  async propose(actor: AuthedActor, p: { title: string; text: string; kind: DecisionKind; procedure: Procedure; participants: string[]; deadline: string; assessmentId?: string | null; effect?: Decision['effect']; exerciseId?: string | null }) {
    requirePermission(actor, 'decision.write');
    if (Date.parse(p.deadline) <= this.deps.clock.now()) throw bad('deadline must be in the future');
    const participants = [...new Set([actor.principal.orgId, ...p.participants])];
    for (const o of participants) if (!(await this.deps.store.getOrganisation(o))) throw bad(`no organisation ${o}`);
    if (participants.length < 2) throw bad('a collective decision needs at least two participating members');
    if (p.exerciseId) {
      // Members that play in the exercise take the decision: another could never take its position
      // (the exercise answers it 404), so a consensus round could never pass. The gate first: an
      // outsider learns nothing of the exercise.
      await this.repo.exercise(actor, p.exerciseId, 'write');
      const playing = new Set(await this.deps.exerciseOrgs?.(p.exerciseId) ?? []);
      const out = participants.filter((o) => !playing.has(o));
      if (out.length) throw bad(`the participants of an exercise decision play in the exercise: ${out.join(', ')} does not`);
    }
    // An exercise decision never changes a real alert level (DESIGN §2.3: no real-world action from an exercise).
    if (p.exerciseId && (p.effect || p.kind === 'alert-level')) throw bad('a decision in an exercise has no real-world effect: alert-level decisions are not taken in an exercise');
    if (p.kind === 'alert-level' && !p.effect) throw bad('an alert-level decision needs an effect {type, scope, level}');
    // The alliance level changes only through an adopted alert-level decision (docs/respond.md).
    if (p.effect && p.kind !== 'alert-level') throw bad('only an alert-level decision has an effect; propose it with kind alert-level');
    if (p.effect && p.effect.scope !== ALLIANCE && !participants.includes(p.effect.scope)) throw bad('the effect must concern the alliance or a participant');
    if (p.kind === 'attribution-statement') {
      if (!p.assessmentId) throw bad('a political attribution statement references its attribution assessment');
      const a = await this.deps.store.getRecord(p.assessmentId);
      if (!a || a.kind !== 'assessment' || !this.repo.visible(actor.principal, a) || a.exerciseId !== (p.exerciseId ?? null)) throw bad('no such assessment');
    }
    const now = iso(this.repo.nowUs());
    const doc: Decision = {
      title: p.title, kind: p.kind, procedure: p.procedure, participants, revision: 1,
      texts: [{ revision: 1, text: p.text, issuedAt: now, deadline: new Date(p.deadline).toISOString() }],
      assessmentId: p.assessmentId ?? null, effect: p.effect ?? null, outcome: null,
    };
    const rec = await this.repo.create(actor, { kind: DECISION, doc, tlp: 'amber', recipients: participants, state: 'open', exerciseId: p.exerciseId ?? null });
    return this.#view(actor, rec);
  }

  async get(actor: AuthedActor, id: string) {
    return this.#view(actor, await this.#settle(await this.repo.load<Decision>(actor, id, DECISION)));
  }

  /** Decisions the reader may see: real ones, or those of one exercise (its participants only). */
  async list(actor: AuthedActor, opts: { exerciseId?: string | null } = {}) {
    const recs = await this.repo.list<Decision>(actor, DECISION, { limit: 500, exerciseId: opts.exerciseId ?? null });
    return Promise.all(recs.map(async (r) => this.#view(actor, await this.#settle(r))));
  }

  /**
   * Settles every open decision whose deadline has passed (called by the server's ticker): the
   * real ones and those of the running exercises, whose adoption at the deadline reaches the
   * exercise's live stream as a real one reaches the real stream.
   */
  async tick(): Promise<number> {
    let n = 0;
    const seen = new Set<string>();
    const worlds = [null, ...await this.deps.activeExercises?.() ?? []];
    const orgs = await this.deps.store.listOrganisations();
    for (const [org, exerciseId] of orgs.flatMap((o) => worlds.map((x) => [o, x] as const))) {
      const recs = await this.deps.store.listRecords({ kind: DECISION, audience: { hop: 'local', orgId: org.id, groupIds: [] }, purpose: 'read', states: ['open'], exerciseId, limit: 1000 });
      for (const row of recs) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        const before = row.state;
        const after = await this.#settle({ row, doc: JSON.parse(row.json) as Decision });
        if (after.row.state !== before) n++;
      }
    }
    return n;
  }

  async #positions(id: string): Promise<Position[]> {
    return (await this.repo.timeline(id)).filter((e) => e.kind === 'decision.position').map((e) => e.data as unknown as Position);
  }

  /** Applies the deadline rule on the clock; the outcome is written once, immutably. */
  async #settle(rec: Rec<Decision>): Promise<Rec<Decision>> {
    if (rec.row.state !== 'open') return rec;
    const current = rec.doc.texts[rec.doc.texts.length - 1]!;
    if (Date.parse(current.deadline) > this.deps.clock.now()) return rec;
    const result: DecisionState = rec.doc.procedure === 'silence' ? 'adopted' : 'no-consensus';
    return this.#conclude(this.#systemActor(rec), rec, result, current.deadline);
  }

  #systemActor(rec: Rec<Decision>): AuthedActor {
    const principal: Principal = { orgId: rec.row.creatorOrg, userId: null, username: 'clock', roles: [], tokenId: null, kind: 'api', groupIds: [] };
    return { principal, source: 'clock' };
  }

  async #conclude(actor: AuthedActor, rec: Rec<Decision>, result: Exclude<DecisionState, 'open'>, at?: string): Promise<Rec<Decision>> {
    const doc: Decision = { ...rec.doc, outcome: { result, at: at ?? iso(this.repo.nowUs()), revision: rec.doc.revision } };
    let saved: Rec<Decision>;
    try {
      saved = await this.repo.save(actor, rec, { doc, state: result }, { kind: `decision.${result}`, data: { revision: rec.doc.revision } });
    } catch (e) {
      // Someone else settled it at the same moment: read what they wrote.
      if (e instanceof AppError && e.code === 'CONFLICT') {
        const row = (await this.deps.store.getRecord(rec.row.id))!;
        return { row, doc: JSON.parse(row.json) as Decision };
      }
      throw e;
    }
    if (result === 'adopted' && doc.effect?.type === 'alert-level') {
      await this.levels.applyDecision(actor, doc.effect.scope, doc.effect.level, rec.row.id);
    }
    return saved;
  }

  async #participant(actor: AuthedActor, id: string): Promise<Rec<Decision>> {
    const rec = await this.#settle(await this.repo.load<Decision>(actor, id, DECISION));
    if (!rec.doc.participants.includes(actor.principal.orgId)) throw new AppError('FORBIDDEN', 'your organisation does not take part in this decision');
    requirePermission(actor, 'decision.write');
    return rec;
  }

  async position(actor: AuthedActor, id: string, position: PositionKind, reason?: string) {
    const rec = await this.#participant(actor, id);
    if (rec.row.state !== 'open') throw illegal(`the decision is ${rec.row.state}; positions are closed`);
    const { procedure, revision } = rec.doc;
    if (procedure === 'silence' && position !== 'break-silence') throw illegal('under the silence procedure the only action is to break silence, in writing');
    if (procedure === 'consensus' && position === 'break-silence') throw illegal('breaking silence applies to the silence procedure only');
    if ((position === 'object' || position === 'break-silence') && !reason?.trim()) throw bad('an objection must be given in writing with a reason');
    const positions = await this.#positions(rec.row.id);
    if (positions.some((p) => p.orgId === actor.principal.orgId && p.revision === revision)) {
      throw illegal('your organisation has already taken its position on this text; positions are immutable');
    }
    const entry: Position = { orgId: actor.principal.orgId, userId: actor.principal.userId, revision, position, reason: reason?.trim() ?? null, at: iso(this.repo.nowUs()) };
    // A new revision of the decision, not a bare append: the positions read above and the state
    // checked are those of the revision this write replaces, so a concurrent position of the same
    // member, or an outcome written meanwhile (another process's ticker at the deadline), makes
    // this one a 409 that records nothing (one position per member per text; none after the outcome).
    const saved = await this.repo.save(actor, rec, { doc: rec.doc }, { kind: 'decision.position', data: entry as unknown as Record<string, unknown> });
    if (position !== 'concur') {
      await this.#conclude(actor, saved, 'blocked');
    } else {
      const concurred = new Set([...positions, entry].filter((p) => p.revision === revision && p.position === 'concur').map((p) => p.orgId));
      if (rec.doc.participants.every((o) => concurred.has(o))) await this.#conclude(actor, saved, 'adopted');
    }
    return this.get(actor, id);
  }

  /** The proposer re-issues an amended text with a new deadline: a new revision, positions start afresh. */
  async reissue(actor: AuthedActor, id: string, text: string, deadline: string) {
    const rec = await this.#participant(actor, id);
    if (rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the proposing member may re-issue the text');
    if (rec.row.state !== 'open' && rec.row.state !== 'blocked' && rec.row.state !== 'no-consensus') throw illegal(`a decision that is ${rec.row.state} cannot be re-issued`);
    if (Date.parse(deadline) <= this.deps.clock.now()) throw bad('deadline must be in the future');
    const revision = rec.doc.revision + 1;
    const doc: Decision = { ...rec.doc, revision, outcome: null, texts: [...rec.doc.texts, { revision, text, issuedAt: iso(this.repo.nowUs()), deadline: new Date(deadline).toISOString() }] };
    await this.repo.save(actor, rec, { doc, state: 'open' }, { kind: 'decision.reissued', data: { revision } });
    return this.get(actor, id);
  }

  async withdraw(actor: AuthedActor, id: string) {
    const rec = await this.#participant(actor, id);
    if (rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the proposing member may withdraw');
    if (rec.row.state !== 'open') throw illegal(`the decision is ${rec.row.state}`);
    await this.#conclude(actor, rec, 'withdrawn');
    return this.get(actor, id);
  }

  async #view(actor: AuthedActor, rec: Rec<Decision>) {
    const positions = await this.#positions(rec.row.id);
    const current = rec.doc.texts[rec.doc.texts.length - 1]!;
    const mine = positions.find((p) => p.orgId === actor.principal.orgId && p.revision === rec.doc.revision) ?? null;
    const isParticipant = rec.doc.participants.includes(actor.principal.orgId);
    // The assessment an attribution statement rests on is named only to a reader who may read it
    // (its own TLP and recipients): to another participant it is null, as an unreadable end of a
    // relationship is (docs/respond.md).
    const assessment = rec.doc.assessmentId ? await this.deps.store.getRecord(rec.doc.assessmentId) : null;
    const assessmentId = assessment && this.repo.visible(actor.principal, assessment) ? rec.doc.assessmentId : null;
    return {
      id: rec.row.id, proposerOrg: rec.row.creatorOrg, state: rec.row.state as DecisionState, createdAt: iso(rec.row.createdUs), ...rec.doc, assessmentId,
      text: current.text, deadline: current.deadline, positions,
      canAct: isParticipant && can(actor.principal, 'decision.write') && rec.row.state === 'open' && mine === null,
      myPosition: mine,
    };
  }
}
