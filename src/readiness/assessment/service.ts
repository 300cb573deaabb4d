/**
 * Self-assessment against a framework: frameworks (stored as CLEAR records, plus the shipped
 * pledge framework), yearly assessments per organisation (AMBER to itself and the alliance
 * bodies by default, or the release it chooses), answers with maturity level, evidence, owner
 * and target date; submission freezes an assessment (edits are 409) and the next year's starts
 * from it. Aggregates cover every submitted assessment but reveal no member (stats.ts).
 */
import crypto from 'node:crypto';
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import { RecordRepo, requirePermission, type AuthedActor, type Rec, type RespondDeps } from '../../respond/index.js';
import { PLEDGE_FRAMEWORK } from './pledge.js';
import { parseFramework, type Framework } from './framework.js';
import { distribution, round, standing, type Distribution } from './stats.js';

export const FRAMEWORK = 'readiness-framework';
export const ASSESSMENT = 'readiness-assessment';
export const ATTACHMENT = 'readiness-attachment';
export const MAX_ATTACHMENT_BYTES = 5_000_000;

export interface Evidence {
  kind: 'text' | 'link' | 'attachment';
  text?: string;
  url?: string;
  attachmentId?: string;
  name?: string;
}
export interface Answer {
  level: number | null;
  evidence: Evidence[];
  owner: string | null;
  targetDate: string | null;
  targetLevel: number | null;
}
export interface AnswerInput {
  itemId: string;
  level?: number | null;
  evidence?: Evidence[];
  owner?: string | null;
  targetDate?: string | null;
  targetLevel?: number | null;
}
export interface AssessmentDoc {
  orgId: string;
  frameworkKey: string;
  year: number;
  answers: Record<string, Answer>;
  basedOn: string | null;
  submittedAt: string | null;
}
export interface FunctionScore {
  group: string;
  title: string;
  score: number | null;
  answered: number;
  items: number;
}
export interface AssessmentView extends AssessmentDoc {
  id: string;
  state: 'draft' | 'submitted';
  tlp: Tlp | null;
  recipients: string[];
  isOwner: boolean;
  scores: FunctionScore[];
}

export class AssessmentService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps) {
    this.repo = new RecordRepo(deps);
  }

  // ---- frameworks ----
  async frameworks(): Promise<Framework[]> {
    const rows = await this.deps.store.listRecords({ kind: FRAMEWORK, audience: { hop: 'public' }, purpose: 'read', limit: 200 });
    return [PLEDGE_FRAMEWORK, ...rows.map((r) => JSON.parse(r.json) as Framework)];
  }

  async framework(key: string): Promise<Framework> {
    const f = (await this.frameworks()).find((x) => x.key === key);
    if (!f) throw new AppError('NOT_FOUND', `no framework ${key.slice(0, 64)}`);
    return f;
  }

  /** Imports a framework file (CPRT JSON, CIS v8 style, Shieldwall JSON/YAML); a key is imported once. */
  async importFramework(actor: AuthedActor, text: string, opts: { key?: string } = {}): Promise<Framework> {
    requirePermission(actor, 'readiness.admin');
    const f = parseFramework(text, opts);
    if ((await this.frameworks()).some((x) => x.key === f.key)) throw new AppError('CONFLICT', `framework ${f.key} exists; import under another key`);
    await this.repo.create(actor, { kind: FRAMEWORK, doc: f, tlp: 'clear', recipients: [], state: 'active', id: `${FRAMEWORK}--${uuidOf(f.key)}` });
    return f;
  }

  // ---- assessments ----
  async create(actor: AuthedActor, n: { frameworkKey: string; year: number; tlp?: Tlp; recipients?: string[] }): Promise<AssessmentView> {
    requirePermission(actor, 'readiness.write');
    const fw = await this.framework(n.frameworkKey);
    const org = actor.principal.orgId;
    const mine = await this.#own(org, fw.key);
    if (mine.some((r) => r.doc.year === n.year)) throw new AppError('CONFLICT', `an assessment of ${fw.key} for ${n.year} exists`);
    // The next year's starts from the latest submitted one before it (answers and evidence carried over).
    const prev = mine.filter((r) => r.row.state === 'submitted' && r.doc.year < n.year).sort((a, b) => b.doc.year - a.doc.year)[0];
    const doc: AssessmentDoc = { orgId: org, frameworkKey: fw.key, year: n.year, answers: prev ? structuredClone(prev.doc.answers) : {}, basedOn: prev?.row.id ?? null, submittedAt: null };
    const recipients = n.recipients ?? (await this.#bodies()).filter((b) => b !== org);
    // One id per (organisation, framework, year): of two requests starting the same assessment at
    // once (both past the check above; API processes on one PostgreSQL), the second is refused.
    const rec = await this.repo.create(actor, { kind: ASSESSMENT, doc, tlp: n.tlp ?? 'amber', recipients, state: 'draft', id: `${ASSESSMENT}--${stableUuid(`shieldwall-assessment:${org}:${fw.key}:${n.year}`)}` })
      .catch((e: unknown) => {
        throw e instanceof AppError && e.code === 'CONFLICT' ? new AppError('CONFLICT', `an assessment of ${fw.key} for ${n.year} exists`) : e;
      });
    return this.view(actor, rec, fw);
  }

  async get(actor: AuthedActor, id: string): Promise<AssessmentView> {
    const rec = await this.repo.load<AssessmentDoc>(actor, id, ASSESSMENT);
    return this.view(actor, rec, await this.framework(rec.doc.frameworkKey));
  }

  async list(actor: AuthedActor, f: { orgId?: string; frameworkKey?: string; year?: number } = {}): Promise<AssessmentView[]> {
    const recs = (await this.repo.list<AssessmentDoc>(actor, ASSESSMENT, { limit: 1000 }))
      .filter((r) => (!f.orgId || r.doc.orgId === f.orgId) && (!f.frameworkKey || r.doc.frameworkKey === f.frameworkKey) && (f.year === undefined || r.doc.year === f.year));
    const fws = new Map((await this.frameworks()).map((x) => [x.key, x]));
    return recs.filter((r) => fws.has(r.doc.frameworkKey)).map((r) => this.view(actor, r, fws.get(r.doc.frameworkKey)!))
      .sort((a, b) => b.year - a.year || a.orgId.localeCompare(b.orgId));
  }

  /** Answers items; unknown items or levels outside the scale are 422, a submitted assessment 409. */
  async answer(actor: AuthedActor, id: string, inputs: AnswerInput[]): Promise<AssessmentView> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.#editable(actor, id);
    const fw = await this.framework(rec.doc.frameworkKey);
    const items = new Set(fw.items.map((i) => i.id));
    const doc = structuredClone(rec.doc);
    for (const a of inputs) {
      if (!items.has(a.itemId)) throw new AppError('UNPROCESSABLE', `unknown item ${a.itemId.slice(0, 64)} in ${fw.key}`, { details: { itemId: a.itemId.slice(0, 64) } });
      for (const [k, v] of [['level', a.level], ['targetLevel', a.targetLevel]] as const) {
        if (v !== undefined && v !== null && (!Number.isInteger(v) || v < fw.scale.min || v > fw.scale.max)) {
          throw new AppError('UNPROCESSABLE', `${k} of ${a.itemId} must be an integer ${fw.scale.min}-${fw.scale.max} (${fw.key})`, { details: { itemId: a.itemId, field: k } });
        }
      }
      for (const e of a.evidence ?? []) if (e.kind === 'attachment') await this.#attachmentOf(actor, rec, e.attachmentId ?? '');
      const cur = doc.answers[a.itemId] ?? { level: null, evidence: [], owner: null, targetDate: null, targetLevel: null };
      doc.answers[a.itemId] = {
        level: a.level === undefined ? cur.level : a.level, evidence: a.evidence ?? cur.evidence, owner: a.owner === undefined ? cur.owner : a.owner,
        targetDate: a.targetDate === undefined ? cur.targetDate : a.targetDate, targetLevel: a.targetLevel === undefined ? cur.targetLevel : a.targetLevel,
      };
    }
    const saved = await this.repo.save(actor, rec, { doc }, { kind: 'readiness-assessment.answered', data: { items: inputs.map((i) => i.itemId).slice(0, 200) } });
    return this.view(actor, saved, fw);
  }

  async submit(actor: AuthedActor, id: string): Promise<AssessmentView> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.#editable(actor, id);
    const doc = { ...rec.doc, submittedAt: new Date(this.deps.clock.now()).toISOString() };
    const saved = await this.repo.save(actor, rec, { doc, state: 'submitted' }, { kind: 'readiness-assessment.submitted', data: { year: doc.year } });
    return this.view(actor, saved, await this.framework(doc.frameworkKey));
  }

  /** Who receives the detail: the owner may widen or narrow it at any time (content stays frozen). */
  async release(actor: AuthedActor, id: string, r: { tlp: Tlp; recipients: string[] }): Promise<AssessmentView> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.repo.load<AssessmentDoc>(actor, id, ASSESSMENT);
    if (rec.doc.orgId !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the assessed organisation releases its assessment');
    const saved = await this.repo.save(actor, rec, { doc: rec.doc, tlp: r.tlp, recipients: r.recipients }, { kind: 'readiness-assessment.released', data: { tlp: r.tlp, recipients: r.recipients } });
    return this.view(actor, saved, await this.framework(rec.doc.frameworkKey));
  }

  async addAttachment(actor: AuthedActor, id: string, a: { name: string; mediaType: string; content: Buffer }): Promise<{ id: string; name: string; sha256: string; size: number }> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.#editable(actor, id);
    if (a.content.length > MAX_ATTACHMENT_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `attachments are at most ${MAX_ATTACHMENT_BYTES} bytes`);
    const sha256 = crypto.createHash('sha256').update(a.content).digest('hex');
    const att = await this.repo.create(actor, {
      kind: ATTACHMENT, parentId: rec.row.id, tlp: rec.row.tlp, recipients: rec.row.recipients, state: 'stored',
      doc: { name: a.name, mediaType: a.mediaType, sha256, size: a.content.length, contentBase64: a.content.toString('base64') },
    });
    return { id: att.row.id, name: a.name, sha256, size: a.content.length };
  }

  async attachment(actor: AuthedActor, id: string, attId: string): Promise<{ name: string; mediaType: string; sha256: string; content: Buffer }> {
    const rec = await this.repo.load<AssessmentDoc>(actor, id, ASSESSMENT);
    return this.#attachmentOf(actor, rec, attId);
  }

  /** Per function score by year, for the organisations whose assessments the reader may see. */
  async history(actor: AuthedActor, frameworkKey: string, orgId: string): Promise<{ year: number; state: string; scores: FunctionScore[] }[]> {
    return (await this.list(actor, { frameworkKey, orgId })).map((a) => ({ year: a.year, state: a.state, scores: a.scores })).sort((a, b) => a.year - b.year);
  }

  /**
   * Alliance aggregates of the submitted assessments of a year: per function the distribution
   * (stats.ts withholds what could single a member out) and where the reader's own stands.
   */
  async aggregates(actor: AuthedActor, frameworkKey: string, year: number): Promise<Aggregates> {
    const fw = await this.framework(frameworkKey);
    const all = await this.#submitted(fw.key, year);
    const mine = all.find((r) => r.doc.orgId === actor.principal.orgId);
    const ownScores = mine ? scoresOf(fw, mine.doc) : null;
    const functions = fw.groups.map((g) => {
      const values = all.map((r) => scoresOf(fw, r.doc).find((s) => s.group === g.id)?.score ?? null).filter((v): v is number => v !== null);
      const d = distribution(values);
      const own = ownScores?.find((s) => s.group === g.id)?.score ?? null;
      return { group: g.id, title: g.title, ...d, own, standing: standing(own, d) };
    });
    return { frameworkKey: fw.key, year, members: all.length, functions };
  }

  view(actor: AuthedActor, rec: Rec<AssessmentDoc>, fw: Framework): AssessmentView {
    return {
      ...rec.doc, id: rec.row.id, state: rec.row.state as 'draft' | 'submitted', tlp: rec.row.tlp, recipients: [...rec.row.recipients],
      isOwner: rec.row.creatorOrg === actor.principal.orgId, scores: scoresOf(fw, rec.doc),
    };
  }

  async #editable(actor: AuthedActor, id: string): Promise<Rec<AssessmentDoc>> {
    const rec = await this.repo.load<AssessmentDoc>(actor, id, ASSESSMENT);
    // Another organisation's assessment that the reader was given is read-only to it.
    if (rec.doc.orgId !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the assessed organisation edits its assessment');
    if (rec.row.state === 'submitted') throw new AppError('CONFLICT', `assessment ${id} was submitted and is immutable; start next year's from it`);
    return rec;
  }

  async #attachmentOf(actor: AuthedActor, rec: Rec<AssessmentDoc>, attId: string): Promise<{ name: string; mediaType: string; sha256: string; content: Buffer }> {
    const row = await this.deps.store.getRecord(attId);
    if (!row || row.kind !== ATTACHMENT || row.parentId !== rec.row.id || !this.repo.visible(actor.principal, row)) throw new AppError('NOT_FOUND', `no attachment ${attId.slice(0, 80)}`);
    const d = JSON.parse(row.json) as { name: string; mediaType: string; sha256: string; contentBase64: string };
    return { name: d.name, mediaType: d.mediaType, sha256: d.sha256, content: Buffer.from(d.contentBase64, 'base64') };
  }

  /** Every assessment an organisation made of a framework (read as the creator: no release question). */
  async #own(orgId: string, frameworkKey: string): Promise<Rec<AssessmentDoc>[]> {
    const rows = await this.deps.store.listRecords({ kind: ASSESSMENT, audience: { hop: 'local', orgId, groupIds: [] }, purpose: 'read', limit: 1000 });
    return rows.filter((r) => r.creatorOrg === orgId).map((row) => ({ row, doc: JSON.parse(row.json) as AssessmentDoc })).filter((r) => r.doc.frameworkKey === frameworkKey);
  }

  /** Submitted assessments of every organisation (aggregates only; never returned as detail). */
  async #submitted(frameworkKey: string, year: number): Promise<Rec<AssessmentDoc>[]> {
    const out: Rec<AssessmentDoc>[] = [];
    for (const o of await this.deps.store.listOrganisations()) {
      const r = (await this.#own(o.id, frameworkKey)).find((x) => x.doc.year === year && x.row.state === 'submitted');
      if (r) out.push(r);
    }
    return out;
  }

  async #bodies(): Promise<string[]> {
    return (await this.deps.store.listOrganisations()).filter((o) => o.kind === 'alliance-body').map((o) => o.id);
  }
}

export interface Aggregates {
  frameworkKey: string;
  year: number;
  members: number;
  functions: (Distribution & { group: string; title: string; own: number | null; standing: ReturnType<typeof standing> })[];
}

/** Mean answered level per function (null when nothing in it is answered). */
export function scoresOf(fw: Framework, doc: Pick<AssessmentDoc, 'answers'>): FunctionScore[] {
  return fw.groups.map((g) => {
    const items = fw.items.filter((i) => i.group === g.id);
    const levels = items.map((i) => doc.answers[i.id]?.level).filter((l): l is number => typeof l === 'number');
    return { group: g.id, title: g.title, score: levels.length ? round(levels.reduce((a, b) => a + b, 0) / levels.length) : null, answered: levels.length, items: items.length };
  });
}

/** A stable record id for a framework key (a key names one framework on this node). */
function uuidOf(key: string): string {
  return stableUuid(`shieldwall-framework:${key}`);
}

/** A UUID (version 5 form) from the SHA-256 of a text. */
function stableUuid(text: string): string {
  const h = crypto.createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
