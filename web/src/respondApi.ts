/**
 * Typed calls of the respond endpoints (incidents, assistance, decisions, attribution, alert
 * levels), through the same {@link request} as the rest of the dashboard.
 */
import { useMemo } from 'react';
import { request, requestBlob } from './api.js';
import { useSession } from './session.js';
import { useCurrentExercise } from './exercise/api.js';
import type {
  AlertBoard, AlertLevel, Assessment, AssistanceRequest, Decision, Incident, OrgMetrics, SimilarIncident, TimelineEntry, Vocabularies,
} from './respondTypes.js';

type Json = Record<string, unknown>;

/**
 * With `exerciseId` (the tab is in an exercise, see exercise/api.ts useCurrentExercise) the
 * lists read that exercise's records (`?exercise=`) and the creates go into it (`exerciseId`):
 * the same screens serve real operations and the exercise, never both at once.
 */
export function respondClient(token: string, exerciseId: string | null = null) {
  const scope = exerciseId ? { exercise: exerciseId } : {};
  const get = <T,>(path: string, signal?: AbortSignal) => request<T>(path, { token, signal });
  const list = <T,>(path: string, signal?: AbortSignal, query: Record<string, string | undefined> = {}) => request<T>(path, { token, signal, query: { ...query, ...scope } });
  const post = <T,>(path: string, body: unknown = {}) => request<T>(path, { token, method: 'POST', body: JSON.stringify(body) });
  const create = <T,>(path: string, body: Json) => post<T>(path, exerciseId ? { ...body, exerciseId } : body);
  const inc = (id: string) => `/incidents/${encodeURIComponent(id)}`;
  return {
    vocabularies: (signal?: AbortSignal) => get<Vocabularies>('/respond/vocabularies', signal),
    // incidents
    exerciseId,
    incidents: (signal?: AbortSignal, phase?: string) => list<{ items: Incident[] }>('/incidents', signal, { phase }),
    incidentMetrics: (signal?: AbortSignal) => get<{ items: OrgMetrics[] }>('/incidents/metrics', signal),
    incident: (id: string, signal?: AbortSignal) => get<Incident>(inc(id), signal),
    declare: (b: Json) => create<Incident>('/incidents', b),
    patchIncident: (id: string, b: Json) => request<Incident>(inc(id), { token, method: 'PATCH', body: JSON.stringify(b) }),
    movePhase: (id: string, to: string, rev?: number, summary?: string) => post<Incident>(`${inc(id)}/phase`, { to, ...(rev === undefined ? {} : { rev }), ...(summary ? { summary } : {}) }),
    share: (id: string, shares: { orgId: string; permission: 'read' | 'contribute' }[]) => post<Incident>(`${inc(id)}/shares`, { shares }),
    unshare: (id: string, orgId: string) => request<Incident>(`${inc(id)}/shares/${encodeURIComponent(orgId)}`, { token, method: 'DELETE' }),
    transfer: (id: string, orgId: string) => post<Incident>(`${inc(id)}/transfer`, { orgId }),
    addTask: (id: string, b: Json) => post<Incident>(`${inc(id)}/tasks`, b),
    taskStatus: (id: string, task: string, status: string) => post<Incident>(`${inc(id)}/tasks/${encodeURIComponent(task)}/status`, { status }),
    addObservable: (id: string, b: Json) => post<Incident>(`${inc(id)}/observables`, b),
    timeline: (id: string, signal?: AbortSignal) => get<{ items: TimelineEntry[] }>(`${inc(id)}/timeline`, signal),
    comment: (id: string, text: string) => post<{ ok: true }>(`${inc(id)}/comments`, { text }),
    timelineEntry: (id: string, at: string, text: string) => post<{ ok: true }>(`${inc(id)}/timeline`, { at, text }),
    attach: (id: string, b: { name: string; mediaType: string; contentBase64: string }) => post<Incident>(`${inc(id)}/attachments`, b),
    attachment: (id: string, att: string) => requestBlob(`${inc(id)}/attachments/${encodeURIComponent(att)}`, { token, accept: 'application/octet-stream' }),
    similar: (id: string, signal?: AbortSignal) => get<{ items: SimilarIncident[] }>(`${inc(id)}/similar`, signal),
    stix: (id: string) => requestBlob(`${inc(id)}/stix`, { token }),
    // assistance
    assistance: (signal?: AbortSignal) => list<{ items: AssistanceRequest[] }>('/assistance', signal),
    requestAssistance: (b: Json) => create<AssistanceRequest>('/assistance', b),
    offer: (id: string, b: Json) => post<AssistanceRequest>(`/assistance/${encodeURIComponent(id)}/offers`, b),
    decideOffer: (offerId: string, how: 'accept' | 'decline' | 'withdraw') => post<AssistanceRequest>(`/offers/${encodeURIComponent(offerId)}/${how}`),
    closeRequest: (id: string, how: 'closed' | 'withdrawn', outcome: string) => post<AssistanceRequest>(`/assistance/${encodeURIComponent(id)}/close`, { how, outcome }),
    // decisions
    decisions: (signal?: AbortSignal) => list<{ items: Decision[] }>('/decisions', signal),
    decision: (id: string, signal?: AbortSignal) => get<Decision>(`/decisions/${encodeURIComponent(id)}`, signal),
    propose: (b: Json) => create<Decision>('/decisions', b),
    position: (id: string, position: string, reason?: string) => post<Decision>(`/decisions/${encodeURIComponent(id)}/positions`, reason ? { position, reason } : { position }),
    reissue: (id: string, text: string, deadline: string) => post<Decision>(`/decisions/${encodeURIComponent(id)}/reissue`, { text, deadline }),
    withdrawDecision: (id: string) => post<Decision>(`/decisions/${encodeURIComponent(id)}/withdraw`),
    // attribution
    assessments: (signal?: AbortSignal) => list<{ items: Assessment[] }>('/assessments', signal),
    assessment: (id: string, signal?: AbortSignal) => get<Assessment>(`/assessments/${encodeURIComponent(id)}`, signal),
    createAssessment: (b: Json) => create<Assessment>('/assessments', b),
    addHypothesis: (id: string, label: string) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/hypotheses`, { label }),
    addEvidence: (id: string, b: Json) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/evidence`, b),
    rate: (id: string, ratings: { evidenceId: string; hypothesisId: string; rating: string }[]) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/ratings`, { ratings }),
    judge: (id: string, b: Json) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/judgement`, b),
    assessmentHistory: (id: string, signal?: AbortSignal) => get<{ items: TimelineEntry[] }>(`/assessments/${encodeURIComponent(id)}/history`, signal),
    // alert levels
    alertBoard: (signal?: AbortSignal) => list<AlertBoard>('/alert-levels', signal),
    setOwnLevel: (level: number, reason: string) => create<AlertLevel>('/alert-levels/own', { level, reason }),
  };
}
export type RespondClient = ReturnType<typeof respondClient>;

export function useRespond(): RespondClient {
  const { session } = useSession();
  const token = session?.token;
  const exerciseId = useCurrentExercise()?.id ?? null;
  if (!token) throw new Error('useRespond without a session');
  return useMemo(() => respondClient(token, exerciseId), [token, exerciseId]);
}

/** Saves a blob as a file through a temporary object URL. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
