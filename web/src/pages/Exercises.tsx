/**
 * Exercises: the runs the user may see (open one to play or control it), and for exercise
 * control the scenarios: import (MSEL CSV/XLSX, OpenAEV export, JSON), the injects editor, and
 * creating a run. Only actions the server allows are offered (session.mayDo).
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { href, navigate } from '../router.js';
import { mayDo, useSession } from '../session.js';
import { fromUtcInput } from '../components/Respond.js';
import { useLiveData } from '../live.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { tplus, useExerciseApi, type ImportFormat, type ScenarioRecord } from '../exercise/api.js';
import { InjectsEditor } from '../exercise/InjectsEditor.js';

export const EXERCISE_ACTIONS = { plan: 'exercise.plan', create: 'exercise.plan' } as const;

function bytesToBase64(buf: ArrayBuffer): string {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function ImportForm({ onDone }: { onDone: (r: ScenarioRecord) => void }) {
  const api = useExerciseApi();
  const [format, setFormat] = useState<ImportFormat>('csv');
  const [file, setFile] = useState<File | null>(null);
  const [text, setText] = useState('');
  const [name, setName] = useState('');
  const [start, setStart] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [details, setDetails] = useState<{ row: number; column?: string; message: string }[]>([]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDetails([]);
    try {
      const body = format === 'xlsx'
        ? { format, contentBase64: file ? bytesToBase64(await file.arrayBuffer()) : '' }
        : { format, content: file ? await file.text() : text };
      const r = await api.importScenario({ ...body, ...(name ? { name } : {}), ...(fromUtcInput(start) ? { start: fromUtcInput(start) } : {}) });
      setText('');
      onDone(r);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      const d = (err as { details?: { errors?: { row: number; column?: string; message: string }[] } }).details;
      if (d?.errors) setDetails(d.errors);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card import-form" onSubmit={(e) => void submit(e)} aria-labelledby="import-msel-title" data-testid="msel-import">
      <h2 id="import-msel-title">Import a scenario</h2>
      <p className="small muted">An MSEL sheet (CSV or XLSX, columns in the MSEL documentation), an OpenAEV scenario export, or a Shieldwall scenario JSON.</p>
      <div className="row">
        <div><label htmlFor="msel-format">Format</label>
          <select id="msel-format" value={format} onChange={(e) => setFormat(e.target.value as ImportFormat)}>
            <option value="csv">MSEL (CSV)</option><option value="xlsx">MSEL (XLSX)</option><option value="openaev">OpenAEV export</option><option value="json">Shieldwall JSON</option>
          </select></div>
        <div><label htmlFor="msel-file">File</label><input id="msel-file" type="file" accept=".csv,.xlsx,.json,text/csv,application/json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} /></div>
      </div>
      <div className="row">
        <div><label htmlFor="msel-name">Scenario name (sheets)</label><input id="msel-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} /></div>
        <div><label htmlFor="msel-start">Exercise start for absolute times (optional, UTC)</label><input id="msel-start" type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} /></div>
      </div>
      {format !== 'xlsx' && !file && (
        <div><label htmlFor="msel-text">…or paste the content</label><textarea id="msel-text" rows={6} value={text} onChange={(e) => setText(e.target.value)} /></div>
      )}
      <button type="submit" disabled={busy || (!file && !text)}>{busy ? 'Importing…' : 'Import'}</button>
      {error && <ErrorBox error={error} title="The import was refused" />}
      {details.length > 0 && (
        <table className="data small import-errors" data-testid="msel-errors">
          <caption>Rows to fix</caption>
          <thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
          <tbody>{details.map((d, i) => <tr key={i}><td>{d.row}</td><td>{d.column ?? ''}</td><td>{d.message}</td></tr>)}</tbody>
        </table>
      )}
    </form>
  );
}

function CreateRun({ scenario }: { scenario: ScenarioRecord }) {
  const api = useExerciseApi();
  const [name, setName] = useState(scenario.scenario.name);
  const [speed, setSpeed] = useState(60);
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const run = await api.createRun({ scenarioId: scenario.id, name, speed });
      navigate(href.exercise(run.id));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label={`Create an exercise from ${scenario.scenario.name}`}>
      <div><label htmlFor={`run-name-${scenario.id}`}>Exercise name</label><input id={`run-name-${scenario.id}`} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} /></div>
      <div><label htmlFor={`run-speed-${scenario.id}`}>Speed (×)</label><input id={`run-speed-${scenario.id}`} type="number" min={0.1} max={10000} step="any" value={speed} onChange={(e) => setSpeed(Number(e.target.value))} /></div>
      <button type="submit">Create exercise</button>
      {error && <ErrorBox error={error} title="Could not create the exercise" />}
    </form>
  );
}

export function Exercises() {
  const { session } = useSession();
  const api = useExerciseApi();
  const mayPlan = mayDo(session, EXERCISE_ACTIONS.plan);
  const [runs, reloadRuns] = useLiveData((s) => api.exercises(s), [api], ['exercise.']);
  const [scenarios, reloadScenarios] = useLiveData((s) => (mayPlan ? api.scenarios(s) : Promise.resolve({ scenarios: [] })), [api, mayPlan], ['exercise.']);
  const [editing, setEditing] = useState<string | null>(null);
  const [imported, setImported] = useState<ScenarioRecord | null>(null);

  return (
    <section aria-labelledby="exercises-title">
      <h1 id="exercises-title">Exercises</h1>
      <h2>Exercises you take part in</h2>
      {runs.status === 'loading' && <Loading what="exercises" />}
      {runs.status === 'error' && <ErrorBox error={runs.error} title="Could not load the exercises" />}
      {runs.status === 'done' && (
        <table className="data" data-testid="exercise-list">
          <thead><tr><th scope="col">Exercise</th><th scope="col">Status</th><th scope="col">Speed</th><th scope="col">Teams</th><th scope="col">Report</th></tr></thead>
          <tbody>
            {runs.data.exercises.length === 0 && <tr><td colSpan={5} className="muted">No exercise you may see.</td></tr>}
            {runs.data.exercises.map((r) => (
              <tr key={r.id}>
                <th scope="row"><a href={href.exercise(r.id)}>{r.name}</a></th>
                <td><span className={`state state-${r.status}`}>{r.status}</span>{r.archived && <span className="pill">archived</span>}</td>
                <td>{r.speed}×</td>
                <td>{r.teams.map((t) => t.name).join(', ')}</td>
                <td><a href={href.exerciseReport(r.id)}>After-action report</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mayPlan && (
        <>
          <ImportForm onDone={(r) => { setImported(r); reloadScenarios(); reloadRuns(); }} />
          {imported && <p role="status" data-testid="msel-imported">Imported {imported.scenario.name}: {imported.scenario.injects.length} injects, {imported.scenario.teams.length} teams.</p>}
          <h2>Scenarios</h2>
          {scenarios.status === 'error' && <ErrorBox error={scenarios.error} title="Could not load the scenarios" />}
          {scenarios.status === 'loading' && <Loading what="scenarios" />}
          {scenarios.status === 'done' && scenarios.data.scenarios.length === 0 && <p className="muted" data-testid="no-scenarios">No scenario you may read yet: import one above.</p>}
          {scenarios.status === 'done' && scenarios.data.scenarios.map((s) => (
            <article key={s.id} className="card scenario" data-testid="scenario" aria-label={s.scenario.name}>
              <h3>{s.scenario.name} <span className="pill">{s.scenario.category}</span></h3>
              <p className="small muted">{s.scenario.injects.length} injects from {tplus(0)} to {tplus(Math.max(0, ...s.scenario.injects.map((i) => i.offsetSeconds)))}; teams {s.scenario.teams.map((t) => t.name).join(', ')}</p>
              <CreateRun scenario={s} />
              <button type="button" className="secondary" onClick={() => setEditing(editing === s.id ? null : s.id)} aria-expanded={editing === s.id}>
                {editing === s.id ? 'Close the injects editor' : 'Edit injects'}
              </button>
              {editing === s.id && <InjectsEditor record={s} onSaved={() => reloadScenarios()} />}
            </article>
          ))}
        </>
      )}
    </section>
  );
}
