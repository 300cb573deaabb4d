/**
 * Collective decisions: the list with a live countdown per open decision, and the "Propose
 * decision" form (kind, consensus or silence procedure, participants, deadline, text, the
 * assessment behind a political attribution statement, an alert-level effect).
 */
import { ExerciseScope } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, Countdown, StateBadge, fromUtcInput, humanise, toUtcInput, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import type { Assessment, Decision } from '../respondTypes.js';

function ProposeForm({ base, assessments }: { base: RespondBase; assessments: Assessment[] }) {
  const r = useRespond();
  const action = useAction();
  const others = base.orgs.filter((o) => o.id !== base.ownOrg);
  const [title, setTitle] = useState('');
  const [kind, setKind] = useState('collective-response');
  const [procedure, setProcedure] = useState<'consensus' | 'silence'>('consensus');
  const [participants, setParticipants] = useState<string[]>([]);
  const [deadline, setDeadline] = useState(() => toUtcInput(new Date(Date.now() + 24 * 3600_000)));
  const [text, setText] = useState('');
  const [assessmentId, setAssessmentId] = useState('');
  const [withEffect, setWithEffect] = useState(false);
  const [scope, setScope] = useState('alliance');
  const [level, setLevel] = useState(2);
  const needsEffect = kind === 'alert-level' || withEffect;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const d = await r.propose({
        title, kind, procedure, participants, deadline: fromUtcInput(deadline), text,
        ...(kind === 'attribution-statement' && assessmentId ? { assessmentId } : {}),
        ...(needsEffect ? { effect: { type: 'alert-level', scope, level } } : {}),
      });
      navigate(href.decision(d.id));
    });
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="Propose decision" data-testid="propose-form">
      <h2>Propose decision</h2>
      <div className="wide"><label htmlFor="dec-title">Title</label><input id="dec-title" required value={title} onChange={(e) => setTitle(e.target.value)} /></div>
      <div><label htmlFor="dec-kind">Kind</label>
        <select id="dec-kind" value={kind} onChange={(e) => setKind(e.target.value)}>{base.vocab.decisionKinds.map((k) => <option key={k} value={k}>{humanise(k)}</option>)}</select></div>
      <div><label htmlFor="dec-proc">Procedure</label>
        <select id="dec-proc" value={procedure} onChange={(e) => setProcedure(e.target.value as 'consensus' | 'silence')}>
          <option value="consensus">consensus (all concur; one objection blocks)</option>
          <option value="silence">silence (adopted at the deadline unless silence is broken)</option>
        </select></div>
      <div><label htmlFor="dec-deadline">Deadline (UTC)</label>
        <input id="dec-deadline" type="datetime-local" step={1} required value={deadline} onChange={(e) => setDeadline(e.target.value)} /></div>
      {kind === 'attribution-statement' && (
        <div><label htmlFor="dec-assessment">Attribution assessment</label>
          <select id="dec-assessment" required value={assessmentId} onChange={(e) => setAssessmentId(e.target.value)}>
            <option value="">Choose…</option>
            {assessments.map((a) => <option key={a.id} value={a.id}>{a.title}</option>)}
          </select></div>
      )}
      <fieldset className="wide" data-testid="participant-choices">
        <legend>Participants (your organisation takes part)</legend>
        <div className="checks">
          {others.map((o) => (
            <label key={o.id} className="check"><input type="checkbox" value={o.id} checked={participants.includes(o.id)}
              onChange={(e) => setParticipants(e.target.checked ? [...participants, o.id] : participants.filter((x) => x !== o.id))} /> {o.shortName}</label>
          ))}
        </div>
      </fieldset>
      <fieldset className="wide">
        <legend>Alert-level effect</legend>
        {kind !== 'alert-level' && <label className="check"><input type="checkbox" checked={withEffect} onChange={(e) => setWithEffect(e.target.checked)} /> Change an alert level when adopted</label>}
        {needsEffect && <div className="form-grid">
          <div><label htmlFor="dec-scope">Scope</label>
            <select id="dec-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
              <option value="alliance">Alliance-wide</option>
              {[base.ownOrg, ...participants].map((o) => <option key={o} value={o}>{base.orgName(o)}</option>)}
            </select></div>
          <div><label htmlFor="dec-level">Level</label>
            <select id="dec-level" value={level} onChange={(e) => setLevel(Number(e.target.value))}>
              {base.vocab.alertLevels.map((l) => <option key={l.level} value={l.level}>{l.level} – {l.name}</option>)}
            </select></div>
        </div>}
      </fieldset>
      <div className="wide"><label htmlFor="dec-text">Text</label><textarea id="dec-text" rows={5} required value={text} onChange={(e) => setText(e.target.value)} /></div>
      <div className="wide"><ActionError error={action.error} /><button type="submit" disabled={action.busy}>Propose</button></div>
    </form>
  );
}

export function DecisionTable({ items, base, onExpire }: { items: Decision[]; base: RespondBase; onExpire?: () => void }) {
  if (items.length === 0) return <p className="muted">No decision involves your organisation.</p>;
  return (
    <table className="data" data-testid="decision-table">
      <thead><tr><th scope="col">Decision</th><th scope="col">Kind</th><th scope="col">Procedure</th><th scope="col">Proposer</th><th scope="col">State</th><th scope="col">Deadline</th></tr></thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id} data-testid="decision-row" data-id={d.id} data-state={d.state}>
            <th scope="row"><a href={href.decision(d.id)}>{d.title}</a>{d.canAct && <span className="pill">your position is awaited</span>}</th>
            <td>{humanise(d.kind)}</td><td>{d.procedure}</td><td>{base.orgName(d.proposerOrg)}</td><td><StateBadge state={d.state} /></td>
            <td>{d.state === 'open' ? <Countdown key={d.deadline} deadline={d.deadline} onExpire={onExpire} /> : formatTime(d.deadline)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Decisions() {
  const r = useRespond();
  const base = useRespondBase();
  const [showForm, setShowForm] = useState(false);
  const [state, reload] = useLiveData(async (signal) => {
    const [ds, as] = await Promise.all([r.decisions(signal), r.assessments(signal)]);
    return { decisions: ds.items, assessments: as.items };
  }, [r], ['decision']);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="decisions" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the decisions" />;
  const b = base.data;
  const items = [...state.data.decisions].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
  return (
    <section aria-labelledby="decisions-title">
      <h1 id="decisions-title">Decisions</h1>
      <ExerciseScope what="decisions" />
      {b.may('decision.write') && !showForm && <button type="button" onClick={() => setShowForm(true)}>Propose decision…</button>}
      {showForm && <ProposeForm base={b} assessments={state.data.assessments} />}
      <h2>Decisions your organisation takes part in</h2>
      <DecisionTable items={items} base={b} onExpire={reload} />
      <p><button type="button" className="secondary" onClick={reload}>Refresh</button></p>
    </section>
  );
}
