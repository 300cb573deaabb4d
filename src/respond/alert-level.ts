/**
 * Alliance cyber alert level, per member and alliance-wide. A member changes its own level;
 * the alliance-wide level (and a member's level set by the alliance) changes only through an
 * adopted decision. Every change is kept in the record's history.
 */
import type { AlertBoard, AlertLevel, LevelHistory } from '../contract/index.js';
import { AppError } from '../core/errors.js';
import { RecordRepo, requirePermission, type AuthedActor, type RespondDeps } from './repo.js';
import { ALERT_LEVELS } from './model.js';

export const ALERT_LEVEL = 'alert-level';
export const ALLIANCE = 'alliance';

interface LevelDoc {
  scope: string;
  level: number;
  reason: string;
  decisionId: string | null;
}

/** One record per scope; in an exercise one per exercise and scope (never the real one). */
const idOf = (scope: string, exerciseId: string | null = null) => (exerciseId ? `${ALERT_LEVEL}--${exerciseId}--${scope}` : `${ALERT_LEVEL}--${scope}`);

export class AlertLevelService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps) {
    this.repo = new RecordRepo(deps);
  }

  /**
   * A member sets its own level; with `exerciseId`, its level in that exercise's world (the
   * exercise gate: participants, while it runs), which never touches the real board.
   */
  async setOwn(actor: AuthedActor, level: number, reason: string, exerciseId: string | null = null) {
    requirePermission(actor, 'alert-level.write');
    return this.#set(actor, actor.principal.orgId, { level, reason, decisionId: null }, exerciseId);
  }

  /** Applied by an adopted decision (the only way to change the alliance-wide level). */
  async applyDecision(actor: AuthedActor, scope: string, level: number, decisionId: string) {
    return this.#set(actor, scope, { level, reason: `decision ${decisionId}`, decisionId });
  }

  async #set(actor: AuthedActor, scope: string, v: { level: number; reason: string; decisionId: string | null }, exerciseId: string | null = null) {
    if (!ALERT_LEVELS.some((l) => l.level === v.level)) throw new AppError('BAD_REQUEST', `level must be 1-${ALERT_LEVELS.length}`);
    const id = idOf(scope, exerciseId);
    const existing = await this.deps.store.getRecord(id);
    const doc: LevelDoc = { scope, level: v.level, reason: v.reason, decisionId: v.decisionId };
    // Alert levels are for the whole community to see (TLP:GREEN), owned by the member (or the proposer org for the alliance).
    if (!existing) {
      // The first change is kept like the later ones: from the default (1 NORMAL), with its reason and decision.
      const data = { scope, from: 1, to: v.level, reason: v.reason, decisionId: v.decisionId };
      await this.repo.create(actor, { id, kind: ALERT_LEVEL, doc, tlp: 'green', recipients: [], state: String(v.level), exerciseId, data });
    } else {
      const prev = { row: existing, doc: JSON.parse(existing.json) as LevelDoc };
      await this.repo.save(actor, prev, { doc, state: String(v.level) }, { kind: 'alert-level.changed', data: { scope, from: prev.doc.level, to: v.level, reason: v.reason, decisionId: v.decisionId } });
    }
    return this.get(scope, exerciseId);
  }

  async get(scope: string, exerciseId: string | null = null): Promise<AlertLevel> {
    const row = await this.deps.store.getRecord(idOf(scope, exerciseId));
    const doc = row ? (JSON.parse(row.json) as LevelDoc) : { scope, level: 1, reason: 'default', decisionId: null };
    const history = row ? await this.repo.timeline(row.id) : [];
    const name = ALERT_LEVELS.find((l) => l.level === doc.level)?.name ?? 'UNKNOWN';
    return { scope, level: doc.level, name, reason: doc.reason, decisionId: doc.decisionId, history: history.map((h) => ({ at: h.at, ...(h.data as Omit<LevelHistory, 'at'>) })) };
  }

  /** The board: the alliance and every member; with `exerciseId`, that exercise's board (its participants only). */
  async board(actor?: AuthedActor, exerciseId: string | null = null): Promise<AlertBoard> {
    if (exerciseId) {
      if (!actor) throw new AppError('NOT_FOUND', `no exercise ${exerciseId}`);
      await this.repo.exercise(actor, exerciseId, 'read');
    }
    const orgs = (await this.deps.store.listOrganisations()).filter((o) => o.node === null);
    return {
      ...(exerciseId ? { exerciseId } : {}),
      alliance: await this.get(ALLIANCE, exerciseId), members: await Promise.all(orgs.map(async (o) => ({ orgId: o.id, orgName: o.name, ...(await this.get(o.id, exerciseId)) }))),
    };
  }
}
