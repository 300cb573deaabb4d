/**
 * Hygiene audits: plans with a checklist (from a framework's items or custom), findings with
 * severity, owner, due date and remediation status (every change on the record's timeline).
 * An open finding past its due date is overdue and feeds the owner's operational picture.
 */
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import { RecordRepo, requirePermission, type AuthedActor, type Rec, type RespondDeps, type TimelineEntry } from '../../respond/index.js';
import type { AssessmentService } from '../assessment/service.js';

export const AUDIT_PLAN = 'readiness-audit';
export const FINDING = 'readiness-finding';
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const FINDING_STATUSES = ['open', 'in-progress', 'resolved', 'accepted'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
export const CHECK_RESULTS = ['pending', 'pass', 'fail', 'n/a'] as const;
export type CheckResult = (typeof CHECK_RESULTS)[number];

export interface AuditPlan {
  orgId: string;
  title: string;
  scheduledFor: string | null;
  frameworkKey: string | null;
  checklist: { id: string; text: string; result: CheckResult; note: string | null }[];
}
export interface Finding {
  orgId: string;
  auditId: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  owner: string | null;
  dueDate: string;
  itemId: string | null;
  resolvedAt: string | null;
}
export type AuditView = AuditPlan & { id: string; tlp: Tlp | null };
export type FindingView = Finding & { id: string; status: FindingStatus; overdue: boolean; tlp: Tlp | null; history?: TimelineEntry[] };

export class AuditService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps, private readonly assessments: AssessmentService) {
    this.repo = new RecordRepo(deps);
  }

  async createPlan(actor: AuthedActor, n: { title: string; scheduledFor?: string; frameworkKey?: string; groups?: string[]; checklist?: string[]; tlp?: Tlp; recipients?: string[] }): Promise<AuditView> {
    requirePermission(actor, 'readiness.write');
    let checklist: AuditPlan['checklist'] = (n.checklist ?? []).map((text, i) => ({ id: `C${i + 1}`, text, result: 'pending', note: null }));
    if (n.frameworkKey) {
      const fw = await this.assessments.framework(n.frameworkKey);
      const items = fw.items.filter((i) => !n.groups?.length || n.groups.includes(i.group));
      checklist = [...items.map((i) => ({ id: i.id, text: i.text, result: 'pending' as const, note: null })), ...checklist];
    }
    if (!checklist.length) throw new AppError('UNPROCESSABLE', 'an audit plan needs a checklist: a frameworkKey or checklist items');
    const doc: AuditPlan = { orgId: actor.principal.orgId, title: n.title, scheduledFor: n.scheduledFor ?? null, frameworkKey: n.frameworkKey ?? null, checklist };
    const rec = await this.repo.create(actor, { kind: AUDIT_PLAN, doc, tlp: n.tlp ?? 'amber', recipients: n.recipients ?? [], state: 'planned' });
    return planView(rec);
  }

  async listPlans(actor: AuthedActor): Promise<AuditView[]> {
    return (await this.repo.list<AuditPlan>(actor, AUDIT_PLAN, { limit: 500 })).map(planView);
  }

  async getPlan(actor: AuthedActor, id: string): Promise<AuditView> {
    return planView(await this.repo.load<AuditPlan>(actor, id, AUDIT_PLAN));
  }

  async check(actor: AuthedActor, id: string, c: { checkId: string; result: CheckResult; note?: string }): Promise<AuditView> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.#own<AuditPlan>(actor, id, AUDIT_PLAN);
    const doc = structuredClone(rec.doc);
    const item = doc.checklist.find((x) => x.id === c.checkId);
    if (!item) throw new AppError('UNPROCESSABLE', `no checklist item ${c.checkId.slice(0, 64)}`);
    item.result = c.result;
    item.note = c.note ?? item.note;
    return planView(await this.repo.save(actor, rec, { doc }, { kind: 'readiness-audit.checked', data: { checkId: c.checkId, result: c.result } }));
  }

  async createFinding(actor: AuthedActor, n: { title: string; severity: Severity; dueDate: string; description?: string; owner?: string; auditId?: string; itemId?: string; tlp?: Tlp; recipients?: string[] }): Promise<FindingView> {
    requirePermission(actor, 'readiness.write');
    let tlp = n.tlp ?? 'amber';
    let recipients = n.recipients ?? [];
    if (n.auditId) {
      const plan = await this.#own<AuditPlan>(actor, n.auditId, AUDIT_PLAN);
      // A finding is released at most as the audit it came from, unless said otherwise.
      if (!n.tlp) tlp = plan.row.tlp ?? 'amber';
      if (!n.recipients) recipients = [...plan.row.recipients];
    }
    const doc: Finding = {
      orgId: actor.principal.orgId, auditId: n.auditId ?? null, title: n.title, description: n.description ?? null, severity: n.severity, owner: n.owner ?? null,
      dueDate: n.dueDate, itemId: n.itemId ?? null, resolvedAt: null,
    };
    const rec = await this.repo.create(actor, { kind: FINDING, doc, tlp, recipients, state: 'open', ...(n.auditId ? { parentId: n.auditId } : {}) });
    return this.#findingView(rec);
  }

  async listFindings(actor: AuthedActor, f: { overdue?: boolean; orgId?: string } = {}): Promise<FindingView[]> {
    const all = (await this.repo.list<Finding>(actor, FINDING, { limit: 1000 })).map((r) => this.#findingView(r));
    return all.filter((x) => (!f.overdue || x.overdue) && (!f.orgId || x.orgId === f.orgId)).sort((a, b) => a.dueDate.localeCompare(b.dueDate));
  }

  async getFinding(actor: AuthedActor, id: string): Promise<FindingView> {
    const rec = await this.repo.load<Finding>(actor, id, FINDING);
    return { ...this.#findingView(rec), history: await this.repo.timeline(rec.row.id) };
  }

  async updateFinding(actor: AuthedActor, id: string, p: { status?: FindingStatus; owner?: string; dueDate?: string; severity?: Severity; note?: string }): Promise<FindingView> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.#own<Finding>(actor, id, FINDING);
    const doc = { ...rec.doc };
    const changes: Record<string, unknown> = {};
    for (const k of ['owner', 'dueDate', 'severity'] as const) {
      if (p[k] !== undefined && p[k] !== doc[k]) {
        changes[k] = { from: doc[k], to: p[k] };
        (doc as Record<string, unknown>)[k] = p[k];
      }
    }
    const state = p.status ?? rec.row.state;
    if (state !== rec.row.state) {
      changes.status = { from: rec.row.state, to: state };
      doc.resolvedAt = state === 'resolved' || state === 'accepted' ? new Date(this.deps.clock.now()).toISOString() : null;
    }
    if (p.note) changes.note = p.note;
    if (!Object.keys(changes).length) return this.#findingView(rec);
    return this.#findingView(await this.repo.save(actor, rec, { doc, state }, { kind: 'readiness-finding.updated', data: changes }));
  }

  /** The operational picture's feed: the reader's own organisation's overdue findings, most overdue first. */
  async overdueFeed(actor: AuthedActor): Promise<{ orgId: string; count: number; items: FindingView[] }> {
    const items = await this.listFindings(actor, { overdue: true, orgId: actor.principal.orgId });
    return { orgId: actor.principal.orgId, count: items.length, items };
  }

  #findingView(rec: Rec<Finding>): FindingView {
    const status = rec.row.state as FindingStatus;
    const open = status === 'open' || status === 'in-progress';
    return { ...rec.doc, id: rec.row.id, status, tlp: rec.row.tlp, overdue: open && Date.parse(rec.doc.dueDate) < this.deps.clock.now() };
  }

  async #own<T extends { orgId: string }>(actor: AuthedActor, id: string, kind: string): Promise<Rec<T>> {
    const rec = await this.repo.load<T>(actor, id, kind);
    if (rec.doc.orgId !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation changes its audits and findings');
    return rec;
  }
}

function planView(rec: Rec<AuditPlan>): AuditView {
  return { ...rec.doc, id: rec.row.id, tlp: rec.row.tlp };
}
