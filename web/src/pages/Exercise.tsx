/**
 * One exercise. Exercise control (control, planner, launcher grants) gets the console: the
 * MSEL timeline per team (fired / pending / blocked with its reason / failed) with launch,
 * pause, resume, speed and manual trigger, the live scoreboard, the teams' expectations and
 * the grading queue (situation reports and manual expectations). A player gets the team's
 * view: the inbox of injects, the team's exercise picture (its exercise alerts), a situation
 * report form and the team's expectations. What is offered follows the server's answer
 * (`access` of GET /exercises/:id, and session.mayDo). The page reloads on the exercise's live
 * events (the tab's stream is scoped to the exercise, see live.tsx) and polls slowly as a
 * fallback while the exercise runs (a dropped stream, the exercise clock on screen).
 */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { href } from '../router.js';
import { mayDo, useSession } from '../session.js';
import { useLiveData } from '../live.js';
import { ErrorBox, Loading } from '../components/Status.js';
import {
  clockTime, duration, setCurrentExercise, tplus, useExerciseApi,
  type ExerciseView, type ExpectationResult, type InjectExecution, type Scoreboard, type SitRep,
} from '../exercise/api.js';

/** The fallback poll; live events do the work (an inject fired, an expectation met, a report). */
const REFRESH_MS = 15_000;

/** Reloads `reload` every REFRESH_MS while `on`. */
function usePolling(on: boolean, reload: () => void): void {
  useEffect(() => {
    if (!on) return undefined;
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [on, reload]);
}

/** Where a prompt's action is taken: the normal respond screens, which stay in the exercise while the tab is in it. */
const PROMPT_SCREENS: Partial<Record<string, { href: string; label: string }>> = {
  'declare-incident': { href: href.incidents(), label: 'Declare the incident' },
  'request-assistance': { href: href.assistance(), label: 'Request assistance' },
  'open-decision': { href: href.decisions(), label: 'Open the decision' },
};

const teamName = (v: ExerciseView, id: string) => v.run.scenario.teams.find((t) => t.id === id)?.name ?? id;

function Controls({ view, onDone }: { view: ExerciseView; onDone: () => void }) {
  const api = useExerciseApi();
  const run = view.run;
  const [speed, setSpeed] = useState(run.speed);
  const [error, setError] = useState<Error | null>(null);
  const act = async (c: Parameters<typeof api.control>[1]) => {
    setError(null);
    try {
      await api.control(run.id, c);
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const live = run.status === 'running' || run.status === 'paused';
  return (
    <div className="card exercise-controls" data-testid="exercise-controls">
      <div className="inline-form">
        <div><label htmlFor="ex-speed">Speed (×)</label>
          <input id="ex-speed" type="number" min={0.1} max={10000} step="any" value={speed} onChange={(e) => setSpeed(Number(e.target.value))} /></div>
        {run.status === 'scheduled' && <button type="button" onClick={() => void act({ action: 'launch', speed })}>Launch</button>}
        {run.status === 'running' && <button type="button" onClick={() => void act({ action: 'pause' })}>Pause</button>}
        {run.status === 'paused' && <button type="button" onClick={() => void act({ action: 'resume' })}>Resume</button>}
        {live && <button type="button" className="secondary" onClick={() => void act({ action: 'speed', speed })}>Set speed</button>}
        {live && <button type="button" className="secondary" onClick={() => void act({ action: 'finish' })}>Finish</button>}
        {(live || run.status === 'scheduled') && <button type="button" className="danger" onClick={() => void act({ action: 'cancel' })}>Cancel exercise</button>}
      </div>
      {error && <ErrorBox error={error} title="Exercise control refused" />}
    </div>
  );
}

function Timeline({ view, executions, canControl, onDone }: { view: ExerciseView; executions: readonly InjectExecution[]; canControl: boolean; onDone: () => void }) {
  const api = useExerciseApi();
  const [error, setError] = useState<Error | null>(null);
  const live = view.run.status === 'running' || view.run.status === 'paused';
  const injects = [...view.run.scenario.injects].sort((a, b) => a.offsetSeconds - b.offsetSeconds);
  const trigger = async (injectId: string, teamId?: string) => {
    setError(null);
    try {
      await api.control(view.run.id, { action: 'trigger', injectId, ...(teamId ? { teamId } : {}) });
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <>
      {error && <ErrorBox error={error} title="Could not trigger the inject" />}
      <table className="data msel" data-testid="msel-timeline">
        <caption>MSEL timeline</caption>
        <thead><tr><th scope="col">T+</th><th scope="col">Inject</th><th scope="col">Type</th><th scope="col">Team</th><th scope="col">State</th><th scope="col">When</th>{canControl && <th scope="col">Trigger</th>}</tr></thead>
        <tbody>
          {injects.flatMap((inj) => {
            const ex = executions.filter((e) => e.injectId === inj.id);
            const rows = ex.length ? ex : [null];
            return rows.map((e, k) => (
              <tr key={`${inj.id}-${e?.teamId ?? 'none'}`} data-inject={inj.id} data-team={e?.teamId ?? ''} data-state={e?.state ?? 'planned'}>
                {k === 0 && <td rowSpan={rows.length}>{tplus(inj.offsetSeconds)}</td>}
                {k === 0 && <th scope="row" rowSpan={rows.length}>{inj.title}{inj.dependsOn?.length ? <span className="pill" title="conditional">if {inj.dependsOn.map((d) => `${d.parent}: ${d.conditions.map((c) => `${c.key} ${c.value ? 'met' : 'failed'}`).join(` ${d.mode} `)}`).join('; ')}</span> : null}</th>}
                {k === 0 && <td rowSpan={rows.length}>{inj.type}</td>}
                <td>{e ? teamName(view, e.teamId) : 'all'}</td>
                <td>{e ? <span className={`state inject-${e.state}`} data-testid="inject-state">{e.state}{e.manual ? ' (manual)' : ''}</span> : <span className="muted">planned</span>}
                  {e?.reason && <div className="small muted" data-testid="inject-reason">{e.reason}</div>}</td>
                <td className="small">{e?.firedAt ? `fired ${clockTime(e.firedAt)}` : e?.scheduledAt ? `due ${clockTime(e.scheduledAt)}` : '–'}</td>
                {canControl && <td>{live && e && e.state !== 'fired' && (
                  <button type="button" className="secondary" onClick={() => void trigger(inj.id, e.teamId)} aria-label={`Trigger ${inj.title} for ${teamName(view, e.teamId)}`}>Trigger</button>
                )}</td>}
              </tr>
            ));
          })}
        </tbody>
      </table>
    </>
  );
}

function ScoreTable({ view, board }: { view: ExerciseView; board: Scoreboard }) {
  return (
    <table className="data" data-testid="scoreboard">
      <caption>Scoreboard</caption>
      <thead><tr><th scope="col">Team</th><th scope="col">Score</th><th scope="col">Met</th><th scope="col">Partial</th><th scope="col">Missed</th><th scope="col">Pending</th></tr></thead>
      <tbody>
        {[...board.teams].sort((a, b) => b.score - a.score).map((t) => (
          <tr key={t.teamId} data-team={t.teamId}>
            <th scope="row">{teamName(view, t.teamId)}</th>
            <td data-testid="team-score">{Math.round(t.score)} / {Math.round(t.max)}</td>
            <td>{t.success}</td><td>{t.partial}</td><td>{t.failed}</td><td>{t.pending}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ExpectationTable({ view, items, caption }: { view: ExerciseView; items: readonly ExpectationResult[]; caption: string }) {
  const title = (id: string) => view.run.scenario.injects.find((i) => i.id === id)?.title ?? id;
  return (
    <table className="data small" data-testid="expectations">
      <caption>{caption}</caption>
      <thead><tr><th scope="col">Team</th><th scope="col">Inject</th><th scope="col">Expectation</th><th scope="col">Status</th><th scope="col">Score</th><th scope="col">Validated after</th><th scope="col">Expires</th></tr></thead>
      <tbody>
        {items.length === 0 && <tr><td colSpan={7} className="muted">No expectation yet: they appear when injects fire.</td></tr>}
        {items.map((e) => (
          <tr key={`${e.injectId}-${e.teamId}-${e.name}`} data-inject={e.injectId} data-team={e.teamId} data-expectation={e.name} data-status={e.status}>
            <td>{teamName(view, e.teamId)}</td><td>{title(e.injectId)}</td><td>{e.name} <span className="muted small">{e.type}</span></td>
            <td><span className={`state result-${e.status}`}>{e.status}</span></td>
            <td>{e.score ?? '–'} / {e.expectedScore}</td>
            <td data-testid="time-to-validate">{duration(e.timeToValidateSeconds)}</td>
            <td className="small">{e.status === 'pending' ? clockTime(e.expiresAt) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function GradingQueue({ view, items, sitreps, onDone }: { view: ExerciseView; items: readonly ExpectationResult[]; sitreps: readonly SitRep[]; onDone: () => void }) {
  const api = useExerciseApi();
  const queue = items.filter((e) => e.status === 'pending' && (e.type === 'REPORT' || e.type === 'MANUAL'));
  const [scores, setScores] = useState<Record<string, string>>({});
  const [comments, setComments] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const key = (e: ExpectationResult) => `${e.injectId}|${e.teamId}|${e.name}`;
  const grade = async (e: ExpectationResult) => {
    setError(null);
    try {
      const comment = comments[key(e)];
      await api.grade(view.run.id, { injectId: e.injectId, teamId: e.teamId, name: e.name, score: Number(scores[key(e)] ?? e.expectedScore), ...(comment ? { comment } : {}) });
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <section aria-labelledby="grading-title" data-testid="grading-queue">
      <h2 id="grading-title">Grading queue <span className="pill">{queue.length}</span></h2>
      {error && <ErrorBox error={error} title="Could not grade" />}
      {queue.length === 0 && <p className="muted">Nothing to grade.</p>}
      {queue.map((e) => {
        const reports = sitreps.filter((s) => s.teamId === e.teamId && (s.injectId === e.injectId || s.injectId === null));
        const inject = view.run.scenario.injects.find((i) => i.id === e.injectId);
        return (
          <article key={key(e)} className="card grade-item" data-inject={e.injectId} data-team={e.teamId} data-expectation={e.name}>
            <h3>{teamName(view, e.teamId)} — {inject?.title ?? e.injectId}: {e.name} ({e.type})</h3>
            {e.type === 'REPORT' && (reports.length === 0 ? <p className="muted small">No situation report from this team yet.</p> : reports.map((s) => (
              <blockquote key={s.id} className="sitrep" data-testid="sitrep"><strong>{s.title}</strong><div className="prose">{s.body}</div><div className="small muted">{clockTime(s.at)}</div></blockquote>
            )))}
            <div className="inline-form">
              <div><label htmlFor={`score-${key(e)}`}>Score (0–{e.expectedScore})</label>
                <input id={`score-${key(e)}`} type="number" min={0} max={e.expectedScore} value={scores[key(e)] ?? String(e.expectedScore)} onChange={(ev) => setScores((s) => ({ ...s, [key(e)]: ev.target.value }))} /></div>
              <div><label htmlFor={`comment-${key(e)}`}>Comment</label>
                <input id={`comment-${key(e)}`} value={comments[key(e)] ?? ''} maxLength={2000} onChange={(ev) => setComments((c) => ({ ...c, [key(e)]: ev.target.value }))} /></div>
              <button type="button" onClick={() => void grade(e)}>Grade</button>
            </div>
          </article>
        );
      })}
    </section>
  );
}

function Console({ view, reloadView }: { view: ExerciseView; reloadView: () => void }) {
  const api = useExerciseApi();
  const id = view.run.id;
  const running = view.run.status === 'running' || view.run.status === 'paused';
  const [data, reload] = useLiveData(async (signal) => {
    const [injects, board, expectations, sitreps] = await Promise.all([api.injects(id, signal), api.scoreboard(id, signal), api.expectations(id, undefined, signal), api.sitreps(id, signal)]);
    return { executions: injects.injects, board, expectations: expectations.expectations, sitreps: sitreps.sitreps };
  }, [api, id], ['exercise.']);
  const both = () => { reload(); reloadView(); };
  usePolling(running, both);
  return (
    <>
      {view.access.canControl && <Controls view={view} onDone={both} />}
      {data.status === 'loading' && <Loading what="the exercise" />}
      {data.status === 'error' && <ErrorBox error={data.error} title="Could not load the exercise" />}
      {data.status === 'done' && (
        <>
          <Timeline view={view} executions={data.data.executions} canControl={view.access.canControl} onDone={both} />
          <ScoreTable view={view} board={data.data.board} />
          <ExpectationTable view={view} items={data.data.expectations} caption="Teams' expectations" />
          {view.access.canGrade && <GradingQueue view={view} items={data.data.expectations} sitreps={data.data.sitreps} onDone={both} />}
        </>
      )}
    </>
  );
}

function SitrepForm({ view, teamId, onDone }: { view: ExerciseView; teamId: string; onDone: () => void }) {
  const api = useExerciseApi();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [injectId, setInjectId] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [sent, setSent] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.submitSitrep(view.run.id, { teamId, title, body, ...(injectId ? { injectId } : {}) });
      setTitle('');
      setBody('');
      setSent(true);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const reportInjects = view.run.scenario.injects.filter((i) => i.expectations.some((x) => x.type === 'REPORT') && (i.teams.length === 0 || i.teams.includes(teamId)));
  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="sitrep-title" data-testid="sitrep-form">
      <h2 id="sitrep-title">Write a situation report</h2>
      <div><label htmlFor="sitrep-inject">In answer to</label>
        <select id="sitrep-inject" value={injectId} onChange={(e) => setInjectId(e.target.value)}>
          <option value="">(no particular inject)</option>
          {reportInjects.map((i) => <option key={i.id} value={i.id}>{i.title}</option>)}
        </select></div>
      <div><label htmlFor="sitrep-title-input">Title</label><input id="sitrep-title-input" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} /></div>
      <div><label htmlFor="sitrep-body">Report</label><textarea id="sitrep-body" required rows={6} value={body} onChange={(e) => setBody(e.target.value)} /></div>
      <button type="submit">Submit the report</button>
      {sent && <span role="status"> Report sent to exercise control.</span>}
      {error && <ErrorBox error={error} title="Could not submit the report" />}
    </form>
  );
}

function PlayerView({ view, reloadView }: { view: ExerciseView; reloadView: () => void }) {
  const api = useExerciseApi();
  const { session } = useSession();
  const id = view.run.id;
  const teams = view.access.teams;
  const [team, setTeam] = useState(teams[0] ?? '');
  const running = view.run.status === 'running' || view.run.status === 'paused';
  const [data, reload] = useLiveData(async (signal) => {
    const [inbox, alerts, expectations] = await Promise.all([api.inbox(id, team, signal), api.alerts(id, team, signal), api.expectations(id, team, signal)]);
    return { inbox: inbox.items, alerts: alerts.alerts, expectations: expectations.expectations };
  }, [api, id, team], ['exercise.', 'alert.']);
  usePolling(running, () => { reload(); reloadView(); });
  if (!team) return <p className="muted">You are not in a team of this exercise.</p>;
  return (
    <>
      {teams.length > 1 && (
        <div className="inline-form"><div><label htmlFor="player-team">Team</label>
          <select id="player-team" value={team} onChange={(e) => setTeam(e.target.value)}>{teams.map((t) => <option key={t} value={t}>{teamName(view, t)}</option>)}</select></div></div>
      )}
      <p>You play in <strong data-testid="player-team">{teamName(view, team)}</strong>.
        {' '}The <a href={href.incidents()}>incident</a>, <a href={href.assistance()}>assistance</a> and <a href={href.decisions()}>decision</a> screens stay in this exercise while the banner shows it.</p>
      {data.status === 'loading' && <Loading what="your team's exercise" />}
      {data.status === 'error' && <ErrorBox error={data.error} title="Could not load your team's exercise" />}
      {data.status === 'done' && (
        <div className="detail-grid">
          <section aria-labelledby="inbox-title" data-testid="inbox">
            <h2 id="inbox-title">Inbox <span className="pill">{data.data.inbox.length}</span></h2>
            {data.data.inbox.length === 0 && <p className="muted">No inject has reached your team yet.</p>}
            {[...data.data.inbox].sort((a, b) => b.at - a.at).map((m) => (
              <article key={m.id} className="card inbox-item" data-inject={m.injectId} data-type={m.type}>
                <h3>{m.title} <span className="pill">{m.type}</span></h3>
                <div className="small muted">{clockTime(m.at)}{m.payload.kind === 'communication' ? ` · ${m.payload.channel} from ${m.payload.from}` : ''}</div>
                {m.payload.kind === 'communication' && <div className="prose">{m.payload.body}</div>}
                {m.payload.kind === 'prompt' && (
                  <div className="prose"><strong>Action asked: {m.payload.action}.</strong> {m.payload.text}
                    {PROMPT_SCREENS[m.payload.action] && <> <a href={PROMPT_SCREENS[m.payload.action]!.href} data-testid="prompt-action">{PROMPT_SCREENS[m.payload.action]!.label} in the exercise</a></>}</div>
                )}
                {m.payload.kind === 'intel' && <div className="prose">{m.payload.title ?? 'New intelligence'}: {m.payload.bundle.objects.length} STIX objects in the exercise collection.</div>}
              </article>
            ))}
          </section>
          <section aria-labelledby="excop-title" data-testid="exercise-cop">
            <h2 id="excop-title">Operational picture (exercise) <span className="pill">{data.data.alerts.length} alerts</span></h2>
            <table className="data small">
              <thead><tr><th scope="col">When</th><th scope="col">Alert</th><th scope="col">Severity</th></tr></thead>
              <tbody>
                {data.data.alerts.length === 0 && <tr><td colSpan={3} className="muted">No alert in your team's exercise world.</td></tr>}
                {data.data.alerts.map((a) => (
                  <tr key={a.id} data-testid="exercise-alert"><td>{String(a.createdAt ?? a.at ?? '')}</td><td>{String(a.title ?? a.ruleTitle ?? a.rule?.title ?? a.id)}</td><td>{String(a.severity ?? '')}</td></tr>
                ))}
              </tbody>
            </table>
            <ExpectationTable view={view} items={data.data.expectations} caption="Your team's expectations" />
          </section>
        </div>
      )}
      {mayDo(session, 'exercise.play') && <SitrepForm view={view} teamId={team} onDone={reload} />}
    </>
  );
}

export function ExercisePage({ id }: { id: string }) {
  const api = useExerciseApi();
  const [state, reload] = useLiveData((signal) => api.view(id, signal), [api, id], ['exercise.']);
  useEffect(() => {
    if (state.status === 'done') setCurrentExercise({ id, name: state.data.run.name });
  }, [state, id]);
  if (state.status === 'loading') return <Loading what="the exercise" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not open the exercise" />;
  const v = state.data;
  const control = v.access.canControl || v.access.canPlan || v.access.canGrade || v.access.role === 'observer';
  return (
    <section aria-labelledby="exercise-title" data-testid={control ? 'exercise-console' : 'player-view'}>
      <h1 id="exercise-title">{v.run.name} <span className={`state state-${v.run.status}`} data-testid="exercise-status">{v.run.status}</span></h1>
      <dl className="counts exercise-clock">
        <div><dt>Exercise clock</dt><dd data-testid="exercise-clock">{tplus(v.exerciseSeconds)}</dd></div>
        <div><dt>Speed</dt><dd>{v.run.speed}×</dd></div>
        <div><dt>Next inject</dt><dd className="small">{clockTime(v.nextInjectAt)}</dd></div>
        <div><dt>Your role</dt><dd className="small">{v.access.role}</dd></div>
      </dl>
      <p><a href={href.exerciseReport(id)}>After-action report</a> · <a href={href.exercises()}>All exercises</a></p>
      {control ? <Console view={v} reloadView={reload} /> : <PlayerView view={v} reloadView={reload} />}
    </section>
  );
}
