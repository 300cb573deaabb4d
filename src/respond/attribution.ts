/**
 * Technical attribution assessments, kept apart from political attribution (a decision that
 * references the assessment). Hypotheses are threat actors / intrusion sets; evidence items
 * link stored objects and are graded with the Admiralty code; the Analysis of Competing
 * Hypotheses (Heuer 1999, ch. 8) matrix rates each evidence × hypothesis, and each hypothesis
 * gets a weighted inconsistency score (PARC ACH): Σ credibility × relevance × consistency,
 * with consistency II = −2, I = −1, others 0 and weights Low 1/√2, Medium 1, High √2.
 * The hypothesis with the least inconsistency (score closest to 0) ranks first. The judgement
 * uses one ICD 203 likelihood term and a separate confidence level.
 */
import type { Assessment as AssessmentWire } from '../contract/index.js';
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Tlp } from '../core/policy.js';
import { bad, RecordRepo, requirePermission, type AuthedActor, type Rec, type RespondDeps, type TimelineEntry } from './repo.js';
import { INCIDENT } from './incidents.js';
import { ACH_RATINGS, ICD203_LIKELIHOOD, type AchRating, type ConfidenceLevel, type Credibility, type Likelihood, type Reliability } from './model.js';

export const ASSESSMENT = 'assessment';
export type Weight = 'low' | 'medium' | 'high';
const WEIGHT: Record<Weight, number> = { low: Math.SQRT1_2, medium: 1, high: Math.SQRT2 };

/**
 * Credibility weight from the Admiralty grade: information credibility 1–2 with a source
 * A–B is high; 1–3 with A–C medium; anything else (incl. F/6, cannot be judged) low.
 */
export function credibilityWeight(reliability: Reliability, credibility: Credibility): Weight {
  const r = 'ABCDEF'.indexOf(reliability);
  if (credibility <= 2 && r <= 1) return 'high';
  if (credibility <= 3 && r <= 2) return 'medium';
  return 'low';
}

export interface Hypothesis {
  id: string;
  label: string;
  /** intrusion-set / threat-actor id in the store, when there is one. */
  stixRef: string | null;
}

export interface Evidence {
  id: string;
  description: string;
  stixRef: string | null;
  reliability: Reliability;
  credibility: Credibility;
  relevance: Weight;
}

export interface Assessment {
  title: string;
  incidentId: string | null;
  hypotheses: Hypothesis[];
  evidence: Evidence[];
  /** ratings[evidenceId][hypothesisId] */
  ratings: Record<string, Record<string, AchRating>>;
  judgement: { hypothesisId: string; likelihood: Likelihood; confidence: ConfidenceLevel; rationale: string } | null;
}

export interface AchScore {
  hypothesisId: string;
  label: string;
  inconsistency: number;
  rank: number;
}

/** The ACH scores, ranked (least inconsistent first; ties share a rank). */
export function achScores(a: Pick<Assessment, 'hypotheses' | 'evidence' | 'ratings'>): AchScore[] {
  const scores = a.hypotheses.map((h) => {
    let s = 0;
    for (const e of a.evidence) {
      const r = a.ratings[e.id]?.[h.id];
      if (!r) continue;
      s += WEIGHT[credibilityWeight(e.reliability, e.credibility)] * WEIGHT[e.relevance] * ACH_RATINGS[r];
    }
    return { hypothesisId: h.id, label: h.label, inconsistency: Math.round(s * 1000) / 1000 };
  });
  const sorted = [...scores].sort((x, y) => y.inconsistency - x.inconsistency);
  return sorted.map((s) => ({ ...s, rank: sorted.findIndex((t) => t.inconsistency === s.inconsistency) + 1 }));
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

export class AttributionService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps) {
    this.repo = new RecordRepo(deps);
  }

  async create(actor: AuthedActor, a: { title: string; incidentId?: string | null; tlp?: Tlp; recipients?: string[]; exerciseId?: string | null }) {
    requirePermission(actor, 'assessment.write');
    if (a.incidentId) {
      // The incident assessed is one the author may read, of the same world: real and exercise
      // records never reference each other (DESIGN §2.3); the STIX export makes it a source_ref.
      const inc = await this.deps.store.getRecord(a.incidentId);
      if (!inc || inc.kind !== INCIDENT || !this.repo.visible(actor.principal, inc) || inc.exerciseId !== (a.exerciseId ?? null)) {
        throw bad('incidentId must be an incident your organisation may read');
      }
    }
    // Named recipients are member organisations: an unknown id would be kept as a recipient no one is.
    for (const o of a.recipients ?? []) if (!(await this.deps.store.getOrganisation(o))) throw bad(`no organisation ${o}`, { field: 'recipients' });
    const doc: Assessment = { title: a.title, incidentId: a.incidentId ?? null, hypotheses: [], evidence: [], ratings: {}, judgement: null };
    return this.#view(await this.repo.create(actor, { kind: ASSESSMENT, doc, tlp: a.tlp ?? 'amber', recipients: a.recipients ?? [], state: 'draft', exerciseId: a.exerciseId ?? null }));
  }

  async get(actor: AuthedActor, id: string) {
    return this.#view(await this.repo.load<Assessment>(actor, id, ASSESSMENT));
  }

  async list(actor: AuthedActor, opts: { exerciseId?: string | null } = {}) {
    return (await this.repo.list<Assessment>(actor, ASSESSMENT, { exerciseId: opts.exerciseId ?? null })).map((r) => this.#view(r));
  }

  /**
   * How the assessment came to say what it says, oldest first: its hypotheses, evidence, ratings
   * and every judgement with its likelihood, confidence and rationale, including those a later
   * judgement revised (the assessment itself holds only the latest). Readers of the assessment only.
   */
  async history(actor: AuthedActor, id: string): Promise<TimelineEntry[]> {
    const rec = await this.repo.load<Assessment>(actor, id, ASSESSMENT);
    return this.repo.timeline(rec.row.id);
  }

  async #owned(actor: AuthedActor, id: string): Promise<Rec<Assessment>> {
    const rec = await this.repo.load<Assessment>(actor, id, ASSESSMENT);
    if (rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the assessing organisation edits its assessment');
    requirePermission(actor, 'assessment.write');
    return rec;
  }

  async addHypothesis(actor: AuthedActor, id: string, h: { label: string; stixRef?: string | null }) {
    const rec = await this.#owned(actor, id);
    if (h.stixRef && !/^(intrusion-set|threat-actor)--[0-9a-f-]{36}$/.test(h.stixRef)) throw bad('a hypothesis refers to an intrusion-set or threat-actor');
    const doc = structuredClone(rec.doc);
    const hyp = { id: crypto.randomUUID(), label: h.label, stixRef: h.stixRef ?? null };
    doc.hypotheses.push(hyp);
    return this.#view(await this.repo.save(actor, rec, { doc }, { kind: 'assessment.hypothesis', data: { hypothesisId: hyp.id, label: h.label } }));
  }

  async addEvidence(actor: AuthedActor, id: string, e: Omit<Evidence, 'id' | 'stixRef'> & { stixRef?: string | null }) {
    const rec = await this.#owned(actor, id);
    const doc = structuredClone(rec.doc);
    const ev: Evidence = { ...e, stixRef: e.stixRef ?? null, id: crypto.randomUUID() };
    doc.evidence.push(ev);
    return this.#view(await this.repo.save(actor, rec, { doc }, { kind: 'assessment.evidence', data: { evidenceId: ev.id, grade: `${ev.reliability}${ev.credibility}` } }));
  }

  async rate(actor: AuthedActor, id: string, ratings: { evidenceId: string; hypothesisId: string; rating: AchRating }[]) {
    const rec = await this.#owned(actor, id);
    const doc = structuredClone(rec.doc);
    for (const r of ratings) {
      if (!doc.evidence.some((e) => e.id === r.evidenceId)) throw bad(`unknown evidence ${r.evidenceId}`);
      if (!doc.hypotheses.some((h) => h.id === r.hypothesisId)) throw bad(`unknown hypothesis ${r.hypothesisId}`);
      if (!(r.rating in ACH_RATINGS)) throw bad(`rating must be one of ${Object.keys(ACH_RATINGS).join(', ')}`);
      (doc.ratings[r.evidenceId] ??= {})[r.hypothesisId] = r.rating;
    }
    return this.#view(await this.repo.save(actor, rec, { doc }, { kind: 'assessment.rated', data: { count: ratings.length } }));
  }

  async judge(actor: AuthedActor, id: string, j: { hypothesisId: string; likelihood: Likelihood; confidence: ConfidenceLevel; rationale: string }) {
    const rec = await this.#owned(actor, id);
    if (!rec.doc.hypotheses.some((h) => h.id === j.hypothesisId)) throw bad('unknown hypothesis');
    if (!ICD203_LIKELIHOOD.some((l) => l.term === j.likelihood)) throw bad('likelihood must be an ICD 203 term');
    const doc = { ...structuredClone(rec.doc), judgement: j };
    return this.#view(await this.repo.save(actor, rec, { doc, state: 'judged' }, { kind: 'assessment.judged', data: { ...j } }));
  }

  #view(rec: Rec<Assessment>): AssessmentWire {
    const likelihood = rec.doc.judgement ? ICD203_LIKELIHOOD.find((l) => l.term === rec.doc.judgement!.likelihood) ?? null : null;
    return {
      id: rec.row.id, ownerOrg: rec.row.creatorOrg, tlp: rec.row.tlp, state: rec.row.state, createdAt: iso(rec.row.createdUs), updatedAt: iso(rec.row.updatedUs),
      ...rec.doc, scores: achScores(rec.doc), likelihoodRange: likelihood?.range ?? null,
    };
  }
}
