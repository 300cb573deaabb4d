/**
 * The after-action report of an exercise (GET /exercises/:id/report): scores per team and
 * objective, time to detect and respond per inject, expectations met/missed, each team's
 * timeline, lessons learned and control's evaluations; uPlot charts of the scores over time and
 * the time to detect per team and inject (each with its numbers as a table, since a canvas has
 * no text); and the PDF the server draws from the same JSON.
 */
import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { href } from '../router.js';
import { useLiveData } from '../live.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { duration, setCurrentExercise, useExerciseApi, type AfterActionReport } from '../exercise/api.js';
import { scoreSeriesData } from '../exercise/reportData.js';

const COLOURS = ['#2f6db5', '#c2571a', '#3a8a3f', '#8a3fa0', '#b0902a', '#1f8a8a', '#a03a3a', '#555555'];
const HEIGHT = 240;

function Chart({ options, data, label, testId }: { options: (w: number) => uPlot.Options; data: uPlot.AlignedData; label: string; testId: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const u = new uPlot(options(Math.max(300, el.clientWidth)), data, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [data]);
  return <div ref={box} role="img" aria-label={label} data-testid={testId} />;
}

function ScoresOverTime({ report }: { report: AfterActionReport }) {
  const data = scoreSeriesData(report);
  if (data[0].length === 0) return <p className="muted">No score yet.</p>;
  const options = (width: number): uPlot.Options => ({
    width, height: HEIGHT, scales: { x: { time: true } },
    series: [{}, ...report.teams.map((t, k) => ({ label: t.name, stroke: COLOURS[k % COLOURS.length]!, width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) }))],
    axes: [{}, { label: 'score', size: 50 }],
  });
  return <Chart options={options} data={data} label={`Chart: cumulative score of ${report.teams.length} teams over time`} testId="chart-scores" />;
}

function TimeToDetect({ report }: { report: AfterActionReport }) {
  const injects = [...new Map(report.teams.flatMap((t) => t.injects.filter((i) => i.timeToDetectSeconds !== null).map((i) => [i.injectId, i.title] as const))).entries()];
  if (injects.length === 0) return <p className="muted">No inject was detected.</p>;
  const data: uPlot.AlignedData = [
    injects.map((_, k) => k),
    ...report.teams.map((t) => injects.map(([id]) => t.injects.find((i) => i.injectId === id)?.timeToDetectSeconds ?? null)),
  ];
  const n = report.teams.length;
  const options = (width: number): uPlot.Options => ({
    width, height: HEIGHT,
    scales: { x: { time: false, range: [-0.5, injects.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(60, max * 1.1)] } },
    series: [{}, ...report.teams.map((t, k) => ({
      label: t.name, stroke: COLOURS[k % COLOURS.length]!, fill: COLOURS[k % COLOURS.length]!, width: 1, points: { show: false },
      paths: uPlot.paths.bars?.({ size: [0.8 / n, 60], align: 0, disp: { x0: { unit: 2, values: () => injects.map((_, j) => j - 0.4 + (0.8 / n) * (k + 0.5)) } } }),
    }))],
    axes: [{ values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? injects[t]?.[1] ?? '' : '')), splits: () => injects.map((_, k) => k) }, { label: 'seconds to detect', size: 60 }],
  });
  return <Chart options={options} data={data} label={`Chart: time to detect per team for ${injects.length} injects`} testId="chart-ttd" />;
}

/** The general observations question (src/exercise/model.ts OBSERVATIONS_CATEGORY): always answerable. */
const OBSERVATIONS = 'observations';

/**
 * Control and players add a lesson: an answer to a question of the scenario's questionnaire, or
 * a free observation; what went well, what should change, and a score (OpenAEV lessons answers).
 */
function LessonForm({ id, report, onDone }: { id: string; report: AfterActionReport; onDone: () => void }) {
  const api = useExerciseApi();
  const questions = [
    ...report.lessons.flatMap((c) => c.questions.filter((q) => q.id !== OBSERVATIONS).map((q) => ({ id: q.id, label: `${c.name}: ${q.content}` }))),
    { id: OBSERVATIONS, label: 'General observation' },
  ];
  const [questionId, setQuestionId] = useState(OBSERVATIONS);
  const [teamId, setTeamId] = useState('');
  const [positive, setPositive] = useState('');
  const [negative, setNegative] = useState('');
  const [score, setScore] = useState(50);
  const [error, setError] = useState<Error | null>(null);
  const [sent, setSent] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSent(false);
    try {
      await api.answerLessons(id, { questionId, positive, negative, score, ...(teamId ? { teamId } : {}) });
      setPositive('');
      setNegative('');
      setSent(true);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="lesson-form-title" data-testid="lesson-form">
      <h3 id="lesson-form-title">Add a lesson</h3>
      <div className="inline-form">
        <div><label htmlFor="lesson-question">Question</label>
          <select id="lesson-question" value={questionId} onChange={(e) => setQuestionId(e.target.value)}>{questions.map((q) => <option key={q.id} value={q.id}>{q.label}</option>)}</select></div>
        <div><label htmlFor="lesson-team">Team</label>
          <select id="lesson-team" value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            <option value="">(the whole exercise)</option>
            {report.teams.map((t) => <option key={t.teamId} value={t.teamId}>{t.name}</option>)}
          </select></div>
        <div><label htmlFor="lesson-score">Score (0–100)</label>
          <input id="lesson-score" type="number" min={0} max={100} step={1} required value={score} onChange={(e) => setScore(Number(e.target.value))} /></div>
      </div>
      <div><label htmlFor="lesson-positive">What went well</label><textarea id="lesson-positive" rows={3} maxLength={5000} value={positive} onChange={(e) => setPositive(e.target.value)} /></div>
      <div><label htmlFor="lesson-negative">What should change</label><textarea id="lesson-negative" rows={3} maxLength={5000} value={negative} onChange={(e) => setNegative(e.target.value)} /></div>
      <button type="submit" disabled={!positive.trim() && !negative.trim()}>Add the lesson</button>
      {sent && <span role="status"> Lesson added to the after-action report.</span>}
      {error && <ErrorBox error={error} title="Could not add the lesson" />}
    </form>
  );
}

export function ExerciseReport({ id }: { id: string }) {
  const api = useExerciseApi();
  // Reloaded on the exercise's live events and after a lesson is added, keeping the page shown meanwhile.
  const [state, reload] = useLiveData((signal) => api.report(id, signal), [api, id], ['exercise.']);
  const [pdfError, setPdfError] = useState<Error | null>(null);
  useEffect(() => {
    if (state.status === 'done') setCurrentExercise({ id, name: state.data.exercise.name });
  }, [state, id]);
  const downloadPdf = async () => {
    setPdfError(null);
    try {
      const blob = await api.reportPdf(id);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `after-action-report-${id}.pdf`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setPdfError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  if (state.status === 'loading') return <Loading what="the after-action report" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the after-action report" />;
  const r = state.data;
  return (
    <section aria-labelledby="aar-title" data-testid="aar">
      <h1 id="aar-title">After-action report: {r.exercise.name}</h1>
      <p className="muted small">{r.exercise.scenario.name} · {r.exercise.status} · {r.exercise.speed}× · started {formatTime(r.exercise.startedAt)} · ended {formatTime(r.exercise.endedAt)} · generated {formatTime(r.generatedAt)}</p>
      <p><a href={href.exercise(id)}>Back to the exercise</a> · <button type="button" className="secondary" onClick={() => void downloadPdf()} data-testid="aar-pdf">Download PDF</button></p>
      {pdfError && <ErrorBox error={pdfError} title="Could not render the PDF" />}
      <h2>Scores per team</h2>
      <table className="data" data-testid="aar-scores">
        <thead><tr><th scope="col">Team</th><th scope="col">Score</th><th scope="col">Met</th><th scope="col">Partial</th><th scope="col">Missed</th><th scope="col">Pending</th></tr></thead>
        <tbody>{r.teams.map((t) => (
          <tr key={t.teamId} data-team={t.teamId}><th scope="row">{t.name}</th><td>{Math.round(t.score)} / {Math.round(t.max)}</td>
            <td data-testid="met">{t.expectations.met}</td><td>{t.expectations.partial}</td><td data-testid="missed">{t.expectations.missed}</td><td>{t.expectations.pending}</td></tr>
        ))}</tbody>
      </table>
      <div className="detail-grid">
        <figure className="card"><figcaption><h3>Scores over time</h3></figcaption><ScoresOverTime report={r} /></figure>
        <figure className="card"><figcaption><h3>Time to detect per team and inject</h3></figcaption><TimeToDetect report={r} /></figure>
      </div>
      {r.teams.map((t) => (
        <article key={t.teamId} className="card aar-team" data-team={t.teamId} aria-labelledby={`aar-team-${t.teamId}`}>
          <h2 id={`aar-team-${t.teamId}`}>{t.name}</h2>
          {t.objectives.length > 0 && (
            <table className="data small"><caption>Objectives</caption>
              <thead><tr><th scope="col">Objective</th><th scope="col">Priority</th><th scope="col">Score</th><th scope="col">Control's evaluation</th></tr></thead>
              <tbody>{t.objectives.map((o) => <tr key={o.objectiveId}><th scope="row">{o.title}</th><td>{o.priority}</td><td>{Math.round(o.score)} / {Math.round(o.max)}</td><td>{o.evaluation ?? '–'}</td></tr>)}</tbody>
            </table>
          )}
          <table className="data small" data-testid="aar-injects"><caption>Injects</caption>
            <thead><tr><th scope="col">Inject</th><th scope="col">State</th><th scope="col">Fired</th><th scope="col">Time to detect</th><th scope="col">Time to respond</th></tr></thead>
            <tbody>{t.injects.map((i) => (
              <tr key={i.injectId} data-inject={i.injectId}><th scope="row">{i.title}{i.reason && <div className="small muted">{i.reason}</div>}</th><td>{i.state}</td><td>{formatTime(i.firedAt)}</td>
                <td data-testid="ttd">{duration(i.timeToDetectSeconds)}</td><td>{duration(i.timeToRespondSeconds)}</td></tr>
            ))}</tbody>
          </table>
          <table className="data small"><caption>Expectations</caption>
            <thead><tr><th scope="col">Inject</th><th scope="col">Expectation</th><th scope="col">Status</th><th scope="col">Score</th><th scope="col">Validated after</th></tr></thead>
            <tbody>{t.expectations.items.map((e) => (
              <tr key={`${e.injectId}-${e.name}`} data-inject={e.injectId} data-status={e.status}><td>{e.injectId}</td><td>{e.name} ({e.type}{e.validation === 'all' ? ', every player' : ''})</td><td>{e.status}</td><td>{e.score ?? '–'} / {e.expectedScore}</td><td>{duration(e.timeToValidateSeconds)}</td></tr>
            ))}</tbody>
          </table>
          <details><summary>Timeline ({t.timeline.length})</summary>
            <ol className="small">{t.timeline.map((e, k) => <li key={k}>{new Date(e.at).toISOString()} · {e.kind} · {e.text}</li>)}</ol>
          </details>
        </article>
      ))}
      <h2>Lessons learned</h2>
      {r.lessons.length === 0 && <p className="muted">No lessons-learned questionnaire.</p>}
      {r.lessons.map((c) => (
        <section key={c.id} className="card"><h3>{c.name}</h3>
          {c.questions.map((q) => (
            <div key={q.id} data-question={q.id}><strong>{q.content}</strong>
              <ul className="small" data-testid="lesson-answers">{(q.answers ?? []).map((a, k) => (
                <li key={k} data-testid="lesson-answer">{a.teamId ? `${r.teams.find((t) => t.teamId === a.teamId)?.name ?? a.teamId}: ` : ''}+ {a.positive || '–'} / − {a.negative || '–'} ({a.score})</li>
              ))}</ul></div>
          ))}
        </section>
      ))}
      <LessonForm id={id} report={r} onDone={reload} />
      <h2>Control's evaluations</h2>
      {r.evaluations.length === 0 ? <p className="muted">No evaluation yet.</p> : (
        <table className="data small"><thead><tr><th scope="col">Objective</th><th scope="col">Team</th><th scope="col">Score</th><th scope="col">Comment</th></tr></thead>
          <tbody>{r.evaluations.map((e, k) => <tr key={k}><td>{e.objectiveId}</td><td>{r.teams.find((t) => t.teamId === e.teamId)?.name ?? 'all'}</td><td>{e.score}</td><td>{e.comment ?? ''}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}
