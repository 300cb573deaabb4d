/**
 * The after-action report (JSON; the web app renders it as a page and a PDF): per team and
 * objective scores, time to detect and to respond per inject, expectations met and missed,
 * the timeline of what each team did, lessons learned and control's evaluations. Pure: built
 * from what the reader may read of the run (ExerciseService.reportInput).
 */
import { OBSERVATIONS_CATEGORY } from './model.js';
import type { AfterActionReport, ExerciseRun, ExpectationResult, InjectExecution, LessonsCategory, ObjectiveEvaluation, SitRep, TimelineEntry } from './model.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const RESPOND_TYPES = new Set(['INCIDENT', 'ASSISTANCE', 'DECISION', 'SHARING', 'REPORT']);

export interface ReportInput {
  run: ExerciseRun;
  doc: { evaluations: readonly ObjectiveEvaluation[]; lessonsAnswers: readonly { questionId: string; teamId?: string; positive: string; negative: string; score: number; userId: string }[]; log: readonly { at: number; userId: string | null; action: string; detail?: string }[] };
  teams: readonly { teamId: string; executions: readonly InjectExecution[]; expectations: readonly ExpectationResult[] }[];
  sitreps: readonly SitRep[];
  alerts: readonly Record<string, unknown>[];
  now: number;
}

export function afterActionReport(x: ReportInput): AfterActionReport {
  const sc = x.run.scenario;
  const teams = x.teams.map((t) => {
    const team = sc.teams.find((s) => s.id === t.teamId);
    const exps = t.expectations;
    const objectives = sc.objectives.map((o) => {
      const mine = exps.filter((r) => r.objectives.includes(o.id));
      const ev = [...x.doc.evaluations].reverse().find((e) => e.objectiveId === o.id && (e.teamId === t.teamId || e.teamId === null));
      return { objectiveId: o.id, title: o.title, priority: o.priority, score: sum(mine.map((r) => r.score ?? 0)), max: sum(mine.map((r) => r.expectedScore)), evaluation: ev?.score ?? null };
    });
    const injects = t.executions.map((e) => {
      const inj = sc.injects.find((i) => i.id === e.injectId);
      const mine = exps.filter((r) => r.injectId === e.injectId);
      const ttd = mine.find((r) => r.type === 'DETECTION' && r.timeToValidateSeconds !== null)?.timeToValidateSeconds ?? null;
      const ttr = min(mine.filter((r) => RESPOND_TYPES.has(r.type) && r.timeToValidateSeconds !== null && r.status !== 'failed').map((r) => r.timeToValidateSeconds!));
      return { injectId: e.injectId, title: inj?.title ?? e.injectId, state: e.state, firedAt: iso(e.firedAt), ...(e.reason ? { reason: e.reason } : {}), timeToDetectSeconds: ttd, timeToRespondSeconds: ttr };
    });
    const timeline: TimelineEntry[] = [
      ...t.executions.filter((e) => e.firedAt !== null).map((e) => ({ at: e.firedAt!, teamId: t.teamId, kind: `inject.${e.state}`, ref: e.injectId, text: `${sc.injects.find((i) => i.id === e.injectId)?.title ?? e.injectId}${e.manual ? ' (manual)' : ''}` })),
      ...exps.flatMap((r) => r.results.map((res) => ({ at: res.at, teamId: t.teamId, kind: `expectation.${r.type.toLowerCase()}`, ...(res.ref ? { ref: res.ref } : {}), text: `${r.name} of ${r.injectId}: ${res.score}/${r.expectedScore} (${res.source})` }))),
      ...exps.filter((r) => r.status === 'failed' && r.results.length === 0).map((r) => ({ at: r.expiresAt, teamId: t.teamId, kind: 'expectation.expired', ref: r.injectId, text: `${r.name} of ${r.injectId} missed` })),
      ...x.sitreps.filter((s) => s.teamId === t.teamId).map((s) => ({ at: s.at, teamId: t.teamId, kind: 'sitrep', ref: s.id, text: s.title })),
      ...x.alerts.filter((a) => team?.orgs.includes(String(a.orgId))).map((a) => ({ at: Date.parse(String(a.firstSeen)) || 0, teamId: t.teamId, kind: 'alert', ref: String(a.id), text: String(a.title ?? '') })),
    ].sort((a, b) => a.at - b.at);
    return {
      teamId: t.teamId, name: team?.name ?? t.teamId, score: sum(exps.map((r) => r.score ?? 0)), max: sum(exps.map((r) => r.expectedScore)), objectives, injects,
      expectations: { met: count(exps, 'success'), partial: count(exps, 'partial'), missed: count(exps, 'failed'), pending: count(exps, 'pending'), items: exps },
      timeline,
    };
  });
  const scoreSeries = x.teams.map((t) => {
    const pts = t.expectations.filter((r) => r.status !== 'pending').map((r) => ({ at: r.results.at(-1)?.at ?? r.expiresAt, score: r.score ?? 0 })).sort((a, b) => a.at - b.at);
    let acc = 0;
    return { teamId: t.teamId, points: pts.map((p) => ({ at: new Date(p.at).toISOString(), score: (acc += p.score) })) };
  });
  // The scenario's questionnaire, then free observations when someone wrote one.
  const observed = x.doc.lessonsAnswers.some((a) => a.questionId === OBSERVATIONS_CATEGORY.questions[0]!.id);
  const lessons: LessonsCategory[] = [...(sc.lessons ?? []), ...(observed ? [OBSERVATIONS_CATEGORY] : [])].map((c) => ({
    ...c, questions: c.questions.map((q) => ({ ...q, answers: x.doc.lessonsAnswers.filter((a) => a.questionId === q.id).map((a) => ({ userId: a.userId, teamId: a.teamId ?? null, positive: a.positive, negative: a.negative, score: a.score })) })),
  }));
  return {
    exercise: { id: x.run.id, name: x.run.name, status: x.run.status, speed: x.run.speed, startedAt: iso(x.run.startedAt), endedAt: iso(x.run.endedAt), scenario: { name: sc.name, storyline: sc.storyline, category: sc.category } },
    generatedAt: new Date(x.now).toISOString(), teams, scoreSeries, lessons, evaluations: x.doc.evaluations,
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const min = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
const count = (xs: readonly ExpectationResult[], s: ExpectationResult['status']) => xs.filter((r) => r.status === s).length;
