/**
 * The injects editor of a scenario: T+, title, target teams and the text of each inject;
 * add a message inject, remove one; saved with PUT /exercises/scenarios/:sid, which validates
 * the whole scenario (its errors are shown as they come). Runs keep the copy they were created
 * with, so an edit changes the next run only.
 */
import { useState } from 'react';
import { ErrorBox } from '../components/Status.js';
import { tplus, useExerciseApi, type ScenarioRecord } from './api.js';
import type { Inject, InjectPayload } from '../../../src/exercise/model.js';

/** `T+01:30:00`, `01:30`, `90m` → seconds (the MSEL relative time forms). */
export function parseTplus(s: string): number | null {
  const t = s.trim().replace(/^t\s*\+\s*/i, '');
  let m = /^(\d{1,4}):([0-5]\d)(?::([0-5]\d))?$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  m = /^(?:(\d{1,5})h)?\s*(?:(\d{1,6})m)?\s*(?:(\d{1,8})s)?$/i.exec(t);
  if (m && (m[1] ?? m[2] ?? m[3]) !== undefined) return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return null;
}

function textOf(p: InjectPayload): string {
  switch (p.kind) {
    case 'communication': return p.body;
    case 'prompt': return p.text;
    case 'technical': return p.technique ?? '';
    case 'intel': return p.title ?? '';
  }
}

function withText(p: InjectPayload, text: string, title: string): InjectPayload {
  switch (p.kind) {
    case 'communication': return { ...p, body: text, subject: title };
    case 'prompt': return { ...p, text };
    case 'technical': return /^T\d{4}(\.\d{3})?$/.test(text) ? { ...p, technique: text } : p;
    case 'intel': return { ...p, title: text || title };
  }
}

interface Row { inject: Inject; tplus: string; text: string }

export function InjectsEditor({ record, onSaved }: { record: ScenarioRecord; onSaved: () => void }) {
  const api = useExerciseApi();
  const teams = record.scenario.teams;
  const [rows, setRows] = useState<Row[]>(() => record.scenario.injects.map((i) => ({ inject: i, tplus: tplus(i.offsetSeconds), text: textOf(i.payload) })));
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const update = (k: number, f: (r: Row) => Row) => { setSaved(false); setRows((rs) => rs.map((r, i) => (i === k ? f(r) : r))); };

  const save = async () => {
    setError(null);
    const bad = rows.find((r) => parseTplus(r.tplus) === null);
    if (bad) {
      setError(new Error(`${bad.inject.id}: "${bad.tplus}" is not a time such as T+01:30:00 or 90m`));
      return;
    }
    const injects = rows.map((r) => ({ ...r.inject, offsetSeconds: parseTplus(r.tplus)!, payload: withText(r.inject.payload, r.text, r.inject.title) }));
    try {
      await api.updateScenario(record.id, { ...record.scenario, injects });
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const add = () => {
    const n = rows.length + 1;
    let id = `inj-${n}`;
    while (rows.some((r) => r.inject.id === id)) id = `${id}x`;
    const inject: Inject = { id, title: 'New message', offsetSeconds: 0, type: 'communication', teams: [], expectations: [], payload: { kind: 'communication', channel: 'message', from: 'Exercise control', subject: 'New message', body: '' } };
    setRows((rs) => [...rs, { inject, tplus: 'T+00:00:00', text: '' }]);
  };

  return (
    <div className="injects-editor" data-testid="injects-editor">
      <table className="data small">
        <caption>Injects of {record.scenario.name}</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">T+</th><th scope="col">Type</th><th scope="col">Title</th><th scope="col">Teams</th><th scope="col">Text / technique</th><th scope="col"><span className="visually-hidden">Remove</span></th></tr></thead>
        <tbody>
          {rows.map((r, k) => (
            <tr key={r.inject.id}>
              <td><code>{r.inject.id}</code></td>
              <td><input aria-label={`T+ of ${r.inject.id}`} value={r.tplus} size={10} onChange={(e) => update(k, (x) => ({ ...x, tplus: e.target.value }))} /></td>
              <td>{r.inject.type}</td>
              <td><input aria-label={`Title of ${r.inject.id}`} value={r.inject.title} maxLength={200} onChange={(e) => update(k, (x) => ({ ...x, inject: { ...x.inject, title: e.target.value } }))} /></td>
              <td>
                {teams.map((t) => (
                  <label key={t.id} className="check">
                    <input type="checkbox" checked={r.inject.teams.includes(t.id)} onChange={(e) => update(k, (x) => ({ ...x, inject: { ...x.inject, teams: e.target.checked ? [...x.inject.teams, t.id] : x.inject.teams.filter((y) => y !== t.id) } }))} />
                    {t.name}
                  </label>
                ))}
                {r.inject.teams.length === 0 && <span className="muted small">all teams</span>}
              </td>
              <td><textarea aria-label={`Text of ${r.inject.id}`} rows={2} value={r.text} onChange={(e) => update(k, (x) => ({ ...x, text: e.target.value }))} /></td>
              <td><button type="button" className="secondary" onClick={() => setRows((rs) => rs.filter((_, i) => i !== k))}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="secondary" onClick={add}>Add a message inject</button>
        <button type="button" onClick={() => void save()}>Save injects</button>
        {saved && <span role="status">Saved.</span>}
      </div>
      {error && <ErrorBox error={error} title="Could not save the injects" />}
    </div>
  );
}
