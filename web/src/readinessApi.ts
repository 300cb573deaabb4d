/**
 * Typed calls of the readiness endpoints (/api/v1/readiness: frameworks, assessments,
 * aggregates, findings, vital functions, reports) through the dashboard's {@link request}.
 */
import { useMemo } from 'react';
import { ApiError, request, requestBlob } from './api.js';
import { useSession } from './session.js';

export interface FunctionScore { group: string; title: string; score: number | null; answered: number; items: number }
export interface FrameworkSummary { key: string; title: string; version: string; source: string; scale: { min: number; max: number; labels?: string[] }; functions: number; categories: number; items: number }
export interface Framework extends Omit<FrameworkSummary, 'functions' | 'categories' | 'items'> {
  groups: { id: string; title: string }[]; categories: { id: string; title: string; group: string }[]; items: { id: string; text: string; group: string; category: string }[];
}
export interface Answer { level: number | null; evidence: { kind: string; text?: string; url?: string }[]; owner: string | null; targetDate: string | null; targetLevel: number | null }
export interface Assessment {
  id: string; orgId: string; frameworkKey: string; year: number; state: 'draft' | 'submitted'; tlp: string | null; recipients: string[]; isOwner: boolean;
  basedOn: string | null; submittedAt: string | null; answers: Record<string, Answer>; scores: FunctionScore[];
}
export interface AggregateFunction { group: string; title: string; n: number; median: number | null; q1: number | null; q3: number | null; withheld?: string; own: number | null; standing: { vsMedian: string | null; band: string | null } }
export interface Aggregates { frameworkKey: string; year: number; members: number; functions: AggregateFunction[] }
export interface Finding { id: string; orgId: string; title: string; severity: string; owner: string | null; dueDate: string; status: string; overdue: boolean }
export interface VitalFunction {
  id: string; orgId: string; name: string; rtoMinutes: number; rpoMinutes: number; dependsOn: string[]; rtoCompliant: boolean | null;
  continuityPlan: { summary: string } | null; recoveries: { source: string; ref: string; minutes: number; withinRto: boolean }[];
}
export interface History { year: number; state: string; scores: FunctionScore[] }
/** The exposure side's summary (branch h/r-expo); absent on nodes without it. */
export interface ExposureSummary {
  own: { open: number; kev: number; overdue: number; byStatus: Record<string, number> };
  alliance: { members: number; kev: { cve: string; name: string; members: number }[] };
}

export function readinessClient(token: string) {
  const get = <T,>(path: string, signal?: AbortSignal, query?: Record<string, string | undefined>) => request<T>(`/readiness${path}`, { token, signal, ...(query ? { query } : {}) });
  const post = <T,>(path: string, body: unknown = {}) => request<T>(`/readiness${path}`, { token, method: 'POST', body: JSON.stringify(body) });
  return {
    frameworks: (signal?: AbortSignal) => get<{ items: FrameworkSummary[] }>('/frameworks', signal),
    framework: (key: string, signal?: AbortSignal) => get<Framework>(`/frameworks/${encodeURIComponent(key)}`, signal),
    assessments: (signal?: AbortSignal, framework?: string) => get<{ items: Assessment[] }>('/assessments', signal, { framework }),
    startAssessment: (frameworkKey: string, year: number) => post<Assessment>('/assessments', { frameworkKey, year }),
    answer: (id: string, answers: { itemId: string; level?: number | null; owner?: string; targetDate?: string }[]) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/answers`, { answers }),
    submit: (id: string) => post<Assessment>(`/assessments/${encodeURIComponent(id)}/submit`),
    history: (framework: string, org: string | undefined, signal?: AbortSignal) => get<{ items: History[] }>('/history', signal, { framework, org }),
    aggregates: (framework: string, year: number, signal?: AbortSignal) => get<Aggregates>('/aggregates', signal, { framework, year: String(year) }),
    findings: (signal?: AbortSignal) => get<{ items: Finding[] }>('/findings', signal),
    updateFinding: (id: string, status: string) => request<Finding>(`/readiness/findings/${encodeURIComponent(id)}`, { token, method: 'PATCH', body: JSON.stringify({ status }) }),
    copFeed: (signal?: AbortSignal) => get<{ orgId: string; count: number; items: Finding[] }>('/cop', signal),
    vitalFunctions: (signal?: AbortSignal) => get<{ items: VitalFunction[] }>('/vital-functions', signal),
    memberReportPdf: (year: number, framework: string, org?: string) => requestBlob('/readiness/reports/member.pdf', { token, accept: 'application/pdf', query: { year: String(year), framework, org } }),
    alliancePdf: (year: number, framework: string) => requestBlob('/readiness/reports/alliance.pdf', { token, accept: 'application/pdf', query: { year: String(year), framework } }),
    /** The exposure summary when the node has the exposure side; null when the route is absent. */
    exposureSummary: async (signal?: AbortSignal): Promise<ExposureSummary | null> => {
      try {
        return await get<ExposureSummary>('/exposures/summary', signal);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return null;
        throw e;
      }
    },
  };
}
export type ReadinessClient = ReturnType<typeof readinessClient>;

export function useReadiness(): ReadinessClient {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useReadiness without a session');
  return useMemo(() => readinessClient(token), [token]);
}
