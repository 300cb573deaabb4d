/**
 * Typed calls of /api/v1/exercises… (contract: src/exercise/model.ts "REST contract"), through
 * the same {@link request} as the rest of the dashboard. Types come from the server's model
 * (type-only imports, erased from the bundle).
 */
import { useMemo, useSyncExternalStore } from 'react';
import { request, requestBlob, requestText } from '../api.js';
import { useSession } from '../session.js';
import type {
  AfterActionReport, ControlBody, CreateRunBody, ExerciseRun, ExerciseSummary, ExerciseView, ExpectationResult, GradeBody, InboxItem,
  InjectExecution, Scenario, ScenarioRecord, Scoreboard, SitRep, SitRepBody, Team, EvaluationBody, ObjectiveEvaluation, LessonsAnswerBody,
} from '../../../src/exercise/model.js';

export type {
  AfterActionReport, ExerciseRun, ExerciseSummary, ExerciseView, ExpectationResult, InboxItem, InjectExecution, Scenario, ScenarioRecord, Scoreboard, SitRep, Team,
};
export type ImportFormat = 'json' | 'csv' | 'xlsx' | 'openaev';
export interface ImportBody { format: ImportFormat; content?: string; contentBase64?: string; name?: string; start?: string; teams?: Team[] }
/** An alert of the team's exercise picture (the detect module's alert view, fields the console shows). */
export interface ExerciseAlert { id: string; title?: string; ruleTitle?: string; rule?: { title?: string; id?: string }; severity?: string | number; createdAt?: string; at?: string; technique?: string; techniques?: string[]; [k: string]: unknown }

export function exerciseClient(token: string) {
  const get = <T,>(path: string, signal?: AbortSignal, query?: Record<string, string | undefined>) => request<T>(path, { token, signal, ...(query ? { query } : {}) });
  const post = <T,>(path: string, body: unknown = {}) => request<T>(path, { token, method: 'POST', body: JSON.stringify(body) });
  const ex = (id: string) => `/exercises/${encodeURIComponent(id)}`;
  return {
    scenarios: (signal?: AbortSignal) => get<{ scenarios: ScenarioRecord[] }>('/exercises/scenarios', signal),
    scenario: (sid: string, signal?: AbortSignal) => get<ScenarioRecord>(`/exercises/scenarios/${encodeURIComponent(sid)}`, signal),
    importScenario: (b: ImportBody) => post<ScenarioRecord>('/exercises/scenarios/import', b),
    updateScenario: (sid: string, s: Scenario) => request<ScenarioRecord>(`/exercises/scenarios/${encodeURIComponent(sid)}`, { token, method: 'PUT', body: JSON.stringify(s) }),
    exercises: (signal?: AbortSignal) => get<{ exercises: ExerciseSummary[] }>('/exercises', signal),
    createRun: (b: CreateRunBody) => post<ExerciseRun>('/exercises', b),
    view: (id: string, signal?: AbortSignal) => get<ExerciseView>(ex(id), signal),
    control: (id: string, c: ControlBody) => post<ExerciseRun>(`${ex(id)}/control`, c),
    injects: (id: string, signal?: AbortSignal) => get<{ injects: InjectExecution[] }>(`${ex(id)}/injects`, signal),
    inbox: (id: string, team: string | undefined, signal?: AbortSignal) => get<{ items: InboxItem[] }>(`${ex(id)}/inbox`, signal, { team }),
    alerts: (id: string, team: string | undefined, signal?: AbortSignal) => get<{ alerts: ExerciseAlert[] }>(`${ex(id)}/alerts`, signal, { team }),
    expectations: (id: string, team: string | undefined, signal?: AbortSignal) => get<{ expectations: ExpectationResult[] }>(`${ex(id)}/expectations`, signal, { team }),
    grade: (id: string, g: GradeBody) => post<ExpectationResult>(`${ex(id)}/expectations/grade`, g),
    sitreps: (id: string, signal?: AbortSignal) => get<{ sitreps: SitRep[] }>(`${ex(id)}/sitreps`, signal),
    submitSitrep: (id: string, b: SitRepBody) => post<SitRep>(`${ex(id)}/sitreps`, b),
    scoreboard: (id: string, signal?: AbortSignal) => get<Scoreboard>(`${ex(id)}/scoreboard`, signal),
    evaluate: (id: string, b: EvaluationBody) => post<ObjectiveEvaluation>(`${ex(id)}/evaluations`, b),
    report: (id: string, signal?: AbortSignal) => get<AfterActionReport>(`${ex(id)}/report`, signal),
    // 204 without a body: read as text.
    answerLessons: async (id: string, b: LessonsAnswerBody) => { await requestText(`${ex(id)}/lessons`, { token, method: 'POST', body: JSON.stringify(b) }); },
    reportPdf: (id: string) => requestBlob(`${ex(id)}/report.pdf`, { token, accept: 'application/pdf' }),
  };
}
export type ExerciseClient = ReturnType<typeof exerciseClient>;

export function useExerciseApi(): ExerciseClient {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useExerciseApi without a session');
  return useMemo(() => exerciseClient(token), [token]);
}

/** `T+hh:mm:ss` of exercise seconds. */
export function tplus(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const pad = (v: number) => String(v).padStart(2, '0');
  return `T+${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const clockTime = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '–' : new Date(ms).toISOString().slice(11, 19) + ' UTC');

/** The exercise the user is in (set when an exercise page opens, cleared on leave): the banner shows it on every page. */
const CURRENT = 'shieldwall.exercise';
export interface CurrentExercise { id: string; name: string }
export function currentExercise(): CurrentExercise | null {
  try {
    const raw = sessionStorage.getItem(CURRENT);
    return raw ? (JSON.parse(raw) as CurrentExercise) : null;
  } catch {
    return null;
  }
}
export function setCurrentExercise(e: CurrentExercise | null): void {
  if (e) sessionStorage.setItem(CURRENT, JSON.stringify(e));
  else sessionStorage.removeItem(CURRENT);
  window.dispatchEvent(new Event('shieldwall-exercise'));
}

function subscribeCurrent(cb: () => void): () => void {
  window.addEventListener('shieldwall-exercise', cb);
  return () => window.removeEventListener('shieldwall-exercise', cb);
}
let cached: { raw: string | null; value: CurrentExercise | null } = { raw: null, value: null };
function currentSnapshot(): CurrentExercise | null {
  const raw = sessionStorage.getItem(CURRENT);
  if (raw !== cached.raw) cached = { raw, value: currentExercise() };
  return cached.value;
}

/**
 * The exercise the tab is in, as React state: the banner, the respond screens (which then read
 * and create in the exercise) and the live stream (which then carries that exercise's events) follow it.
 */
export function useCurrentExercise(): CurrentExercise | null {
  return useSyncExternalStore(subscribeCurrent, currentSnapshot, () => null);
}
