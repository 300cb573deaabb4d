/**
 * Recovery: vital functions with RTO/RPO, the assets they depend on (free text or asset ids
 * of the exposure side), a continuity plan, and recoveries achieved in incidents (time from
 * containment to restored function, read from the incident's stages and timeline) and
 * exercises (times given), each compared with the RTO.
 */
import { AppError } from '../../core/errors.js';
import type { Tlp } from '../../core/policy.js';
import { RecordRepo, requirePermission, type AuthedActor, type IncidentService, type Rec, type RespondDeps } from '../../respond/index.js';

export const VITAL_FUNCTION = 'readiness-vital-function';

export interface Recovery {
  source: 'incident' | 'exercise';
  ref: string;
  containedAt: string;
  restoredAt: string;
  minutes: number;
  withinRto: boolean;
}
export interface VitalFunction {
  orgId: string;
  name: string;
  description: string | null;
  rtoMinutes: number;
  rpoMinutes: number;
  dependsOn: string[];
  continuityPlan: { summary: string; url: string | null; lastTested: string | null } | null;
  recoveries: Recovery[];
}
export type VitalFunctionView = VitalFunction & { id: string; tlp: Tlp | null; rtoCompliant: boolean | null };

export class RecoveryService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps, private readonly incidents: IncidentService) {
    this.repo = new RecordRepo(deps);
  }

  async create(actor: AuthedActor, n: Omit<VitalFunction, 'orgId' | 'recoveries' | 'description' | 'continuityPlan' | 'dependsOn'> & { description?: string; dependsOn?: string[]; continuityPlan?: VitalFunction['continuityPlan']; tlp?: Tlp; recipients?: string[] }): Promise<VitalFunctionView> {
    requirePermission(actor, 'readiness.write');
    const doc: VitalFunction = {
      orgId: actor.principal.orgId, name: n.name, description: n.description ?? null, rtoMinutes: n.rtoMinutes, rpoMinutes: n.rpoMinutes,
      dependsOn: n.dependsOn ?? [], continuityPlan: n.continuityPlan ?? null, recoveries: [],
    };
    return view(await this.repo.create(actor, { kind: VITAL_FUNCTION, doc, tlp: n.tlp ?? 'amber', recipients: n.recipients ?? [], state: 'active' }));
  }

  async list(actor: AuthedActor): Promise<VitalFunctionView[]> {
    return (await this.repo.list<VitalFunction>(actor, VITAL_FUNCTION, { limit: 500 })).map(view);
  }

  async get(actor: AuthedActor, id: string): Promise<VitalFunctionView> {
    return view(await this.repo.load<VitalFunction>(actor, id, VITAL_FUNCTION));
  }

  async update(actor: AuthedActor, id: string, p: Partial<Pick<VitalFunction, 'name' | 'description' | 'rtoMinutes' | 'rpoMinutes' | 'dependsOn' | 'continuityPlan'>>): Promise<VitalFunctionView> {
    const rec = await this.#own(actor, id);
    const doc = { ...rec.doc, ...p };
    doc.recoveries = doc.recoveries.map((r) => ({ ...r, withinRto: r.minutes <= doc.rtoMinutes }));
    return view(await this.repo.save(actor, rec, { doc }, { kind: 'readiness-vital-function.updated', data: { fields: Object.keys(p) } }));
  }

  /**
   * Records a recovery. From an incident the reader may see: contained = the incident's
   * containment time; restored = `restoredAt` if given, else the first timeline entry that
   * says the function was restored, else the incident's resolution. From an exercise: both given.
   */
  async recordRecovery(actor: AuthedActor, id: string, r: { incidentId?: string; exerciseRef?: string; containedAt?: string; restoredAt?: string }): Promise<VitalFunctionView> {
    const rec = await this.#own(actor, id);
    let recovery: Omit<Recovery, 'minutes' | 'withinRto'>;
    if (r.incidentId) {
      const inc = await this.incidents.get(actor, r.incidentId);
      const contained = r.containedAt ?? inc.stages.containedAt;
      if (!contained) throw new AppError('UNPROCESSABLE', `incident ${r.incidentId} has no containment time yet`);
      const said = (await this.incidents.timeline(actor, r.incidentId))
        .filter((e) => e.kind === 'incident.timeline' && typeof e.data.text === 'string' && /restor/i.test(e.data.text)).map((e) => String(e.data.at)).sort()[0];
      const restored = r.restoredAt ?? said ?? inc.stages.resolvedAt;
      if (!restored) throw new AppError('UNPROCESSABLE', `incident ${r.incidentId} does not say when the function was restored; give restoredAt`);
      recovery = { source: 'incident', ref: r.incidentId, containedAt: contained, restoredAt: restored };
    } else {
      if (!r.exerciseRef || !r.containedAt || !r.restoredAt) throw new AppError('UNPROCESSABLE', 'a recovery comes from an incidentId, or an exerciseRef with containedAt and restoredAt');
      recovery = { source: 'exercise', ref: r.exerciseRef, containedAt: r.containedAt, restoredAt: r.restoredAt };
    }
    const minutes = Math.round((Date.parse(recovery.restoredAt) - Date.parse(recovery.containedAt)) / 60_000);
    if (!(minutes >= 0)) throw new AppError('UNPROCESSABLE', 'restoredAt precedes containedAt');
    const full: Recovery = { ...recovery, minutes, withinRto: minutes <= rec.doc.rtoMinutes };
    const doc = { ...rec.doc, recoveries: [...rec.doc.recoveries.filter((x) => !(x.source === full.source && x.ref === full.ref)), full] };
    return view(await this.repo.save(actor, rec, { doc }, { kind: 'readiness-vital-function.recovery', data: { ...full } }));
  }

  async #own(actor: AuthedActor, id: string): Promise<Rec<VitalFunction>> {
    requirePermission(actor, 'readiness.write');
    const rec = await this.repo.load<VitalFunction>(actor, id, VITAL_FUNCTION);
    if (rec.doc.orgId !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the owning organisation changes its vital functions');
    return rec;
  }
}

function view(rec: Rec<VitalFunction>): VitalFunctionView {
  const last = rec.doc.recoveries.at(-1);
  return { ...rec.doc, id: rec.row.id, tlp: rec.row.tlp, rtoCompliant: last ? last.withinRto : null };
}
