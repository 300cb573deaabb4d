/**
 * STIX 2.1 out: incidents as `incident` objects with the Incident Core Extension v2.0
 * (property-extension), tasks as its `task` SDOs, phase changes as `event` SDOs; attribution
 * judgements as `attributed-to` relationships with `confidence` and a `note` carrying the
 * reasoning (likelihood and confidence stated separately, ICD 203). Published into a TAXII
 * collection through the intel pipeline, so the release policy applies like to any object.
 */
import type { Tlp } from '../core/policy.js';
import { tlpMarkingId } from '../stix/index.js';
import { AppError } from '../core/errors.js';
import type { IntelService, ItemResult } from '../intel/index.js';
import type { AuthedActor } from './repo.js';
import type { IncidentService, IncidentView } from './incidents.js';
import type { AttributionService } from './attribution.js';
import { ICD203_LIKELIHOOD } from './model.js';
import { uuidv5 } from '../stix/index.js';

export const INCIDENT_EXT = 'extension-definition--ef765651-680c-498d-9894-99799f2fa126';
export const TASK_EXT = 'extension-definition--2074a052-8be4-4932-849e-f5e7798e0030';
export const EVENT_EXT = 'extension-definition--4ca6de00-5b0d-45ef-a1dc-ea7279ea910e';
/** Namespace for ids derived from Shieldwall record ids (stable across exports). */
const NS = '3b0cf5e8-7c1c-4d0e-8f5a-6f1d7c2a9e11';

/** CISA severity 0–5 → extension `criticality` 0–100 (Appendix B qualitative mapping). */
const CRITICALITY = [0, 15, 40, 70, 85, 95];
const TASK_OUTCOME = { open: 'pending', 'in-progress': 'ongoing', completed: 'successful', cancelled: 'cancelled' } as const;

const stixTime = (s: string) => new Date(s).toISOString();

/**
 * What of an incident's timeline its STIX objects follow: its phase changes (one `event` each),
 * and when their content last changed. A STIX (id, modified) names one content forever, so a
 * task whose status changes, or objects whose marking or creator changes (a TLP change, a
 * transfer), get a later `modified`; without it, a task started after a first publish came back
 * under the same version with another `outcome`, and the second publish was refused.
 */
export interface IncidentHistory {
  phases: { at: string; from: string; to: string; seq: number }[];
  /** Task id → the time of its last status change. */
  taskChangedAt: Readonly<Record<string, string>>;
  /** The last change to what every object carries (the TLP marking, the creator); null if none. */
  sharedChangedAt: string | null;
}

/** The latest of some times (ISO strings); absent ones are skipped. */
const latest = (first: string, ...more: (string | null | undefined)[]) =>
  more.reduce<string>((a, t) => (t && Date.parse(t) > Date.parse(a) ? t : a), first);

export function incidentToStix(i: IncidentView, history: IncidentHistory): Record<string, unknown>[] {
  const markings = i.tlp ? [tlpMarkingId(i.tlp)] : [];
  const common = (created: string, modified: string) => ({
    spec_version: '2.1', created: stixTime(created), modified: stixTime(modified), created_by_ref: i.ownerOrg,
    ...(markings.length ? { object_marking_refs: markings } : {}),
  });
  const tasks = i.tasks.map((t) => ({
    type: 'task', id: `task--${t.id}`, ...common(t.createdAt, latest(t.createdAt, t.completedAt, history.taskChangedAt[t.id], history.sharedChangedAt)),
    name: t.title.slice(0, 250),
    ...(t.description ? { description: t.description } : {}), outcome: TASK_OUTCOME[t.status],
    extensions: { [TASK_EXT]: { extension_type: 'new-sdo' } },
  }));
  const events = history.phases.map((e) => ({
    type: 'event', id: `event--${uuidv5(NS, `${i.id}/${e.seq}`)}`, ...common(e.at, latest(e.at, history.sharedChangedAt)), name: `Phase: ${e.from} → ${e.to}`,
    status: 'occurred', start_time: stixTime(e.at), extensions: { [EVENT_EXT]: { extension_type: 'new-sdo' } },
  }));
  const incident = {
    type: 'incident', id: i.id, ...common(i.createdAt, i.updatedAt), name: i.title, ...(i.description ? { description: i.description } : {}),
    labels: [`severity:${i.severity}`, `phase:${i.phase}`, `category:${i.category}`],
    ...(i.links.techniques.length ? {
      external_references: i.links.techniques.map((t) => ({ source_name: 'mitre-attack', external_id: t, url: `https://attack.mitre.org/techniques/${t.replace('.', '/')}/` })),
    } : {}),
    extensions: {
      [INCIDENT_EXT]: {
        extension_type: 'property-extension', determination: i.determination, investigation_status: i.investigationStatus,
        criticality: CRITICALITY[i.severity] ?? 0, incident_types: [i.category],
        ...(tasks.length ? { tasks: tasks.map((t) => ({ task_ref: t.id })) } : {}),
        ...(events.length ? { events: events.map((e) => ({ event_ref: e.id })) } : {}),
      },
    },
  };
  return [incident, ...tasks, ...events];
}

export async function attributionToStix(attribution: AttributionService, actor: AuthedActor, assessmentId: string): Promise<Record<string, unknown>[]> {
  const a = await attribution.get(actor, assessmentId);
  if (!a.judgement) throw new AppError('CONFLICT', 'the assessment has no judgement yet');
  const h = a.hypotheses.find((x) => x.id === a.judgement!.hypothesisId);
  if (!a.incidentId || !h?.stixRef) throw new AppError('CONFLICT', 'the judged hypothesis needs a STIX threat actor / intrusion set and the assessment an incident');
  const range = ICD203_LIKELIHOOD.find((l) => l.term === a.judgement!.likelihood)!.range;
  const markings = a.tlp ? [tlpMarkingId(a.tlp)] : [];
  const at = stixTime(a.updatedAt);
  const base = { spec_version: '2.1', created: at, modified: at, created_by_ref: a.ownerOrg, ...(markings.length ? { object_marking_refs: markings } : {}) };
  const rel = {
    type: 'relationship', id: `relationship--${uuidv5(NS, `${a.id}/attributed-to`)}`, ...base, relationship_type: 'attributed-to',
    source_ref: a.incidentId, target_ref: h.stixRef, confidence: Math.round((range[0] + range[1]) / 2),
  };
  const note = {
    type: 'note', id: `note--${uuidv5(NS, `${a.id}/note`)}`, ...base, abstract: `Attribution assessment: ${a.title}`,
    content: `We assess it is ${a.judgement.likelihood} (${range[0]}–${range[1]}%) that ${h.label} is responsible.\n`
      + `Confidence in this judgement: ${a.judgement.confidence}.\n\n${a.judgement.rationale}\n\n`
      + `ACH (weighted inconsistency, least first): ${a.scores.map((s) => `${s.label} ${s.inconsistency}`).join('; ')}`,
    object_refs: [rel.id, a.incidentId],
  };
  return [rel, note];
}

/** Publishes STIX objects into a collection with the record's TLP and recipients. */
export async function publish(intel: IntelService, actor: AuthedActor, p: { collectionId: string; objects: Record<string, unknown>[]; tlp: Tlp | null; recipients: string[] }): Promise<ItemResult[]> {
  return intel.submit(actor, p.collectionId, p.objects, { defaultTlp: p.tlp ?? 'amber', recipients: p.recipients });
}

/** The history incidentToStix needs, read from the incident's timeline. */
export async function incidentHistoryOf(incidents: IncidentService, actor: AuthedActor, id: string): Promise<IncidentHistory> {
  const h: IncidentHistory & { taskChangedAt: Record<string, string> } = { phases: [], taskChangedAt: {}, sharedChangedAt: null };
  for (const e of await incidents.timeline(actor, id)) {
    if (e.kind === 'incident.phase') h.phases.push({ at: e.at, seq: e.seq, from: String(e.data.from), to: String(e.data.to) });
    else if (e.kind === 'incident.task.status' && typeof e.data.taskId === 'string') h.taskChangedAt[e.data.taskId] = latest(e.at, h.taskChangedAt[e.data.taskId]);
    else if (e.kind === 'incident.transferred' || (e.kind === 'incident.updated' && 'tlp' in e.data)) h.sharedChangedAt = latest(e.at, h.sharedChangedAt);
  }
  return h;
}
