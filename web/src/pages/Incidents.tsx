/**
 * Incidents: the list the organisation may see, the "Declare incident" form (the category
 * picks the playbook of tasks), and the organisation MTTD/MTTR table.
 */
import { ExerciseScope } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import {
  ActionError, SeverityBadge, formatDuration, fromUtcInput, humanise, toUtcInput, useAction, useRespondBase,
} from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import { TLPS } from '../types.js';
import type { Incident, OrgMetrics } from '../respondTypes.js';

function DeclareForm({ base, onDone }: { base: RespondBase; onDone: () => void }) {
  const r = useRespond();
  const action = useAction();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [category, setCategory] = useState('default');
  const [severity, setSeverity] = useState(2);
  const [tlp, setTlp] = useState('amber');
  const [pap, setPap] = useState('amber');
  const [occurred, setOccurred] = useState('');
  const [detected, setDetected] = useState(() => toUtcInput(new Date()));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const inc = await r.declare({
        title, description, category, severity, tlp, pap,
        ...(fromUtcInput(occurred) ? { occurredAt: fromUtcInput(occurred) } : {}),
        ...(fromUtcInput(detected) ? { detectedAt: fromUtcInput(detected) } : {}),
      });
      onDone();
      navigate(href.incident(inc.id));
    });
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="Declare incident" data-testid="declare-form">
      <h2>Declare incident</h2>
      <div className="wide"><label htmlFor="inc-title">Title</label>
        <input id="inc-title" required maxLength={300} value={title} onChange={(e) => setTitle(e.target.value)} /></div>
      <div className="wide"><label htmlFor="inc-desc">Description</label>
        <textarea id="inc-desc" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} /></div>
      <div><label htmlFor="inc-cat">Category (playbook)</label>
        <select id="inc-cat" value={category} onChange={(e) => setCategory(e.target.value)}>
          {base.vocab.categories.map((c) => <option key={c} value={c}>{humanise(c)}</option>)}
        </select></div>
      <div><label htmlFor="inc-sev">Severity</label>
        <select id="inc-sev" value={severity} onChange={(e) => setSeverity(Number(e.target.value))}>
          {base.vocab.severities.map((s) => <option key={s.level} value={s.level}>{s.level} – {s.name}</option>)}
        </select></div>
      <div><label htmlFor="inc-tlp">TLP</label>
        <select id="inc-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>
          {TLPS.map((t) => <option key={t} value={t}>TLP:{t.toUpperCase()}</option>)}
        </select></div>
      <div><label htmlFor="inc-pap">PAP</label>
        <select id="inc-pap" value={pap} onChange={(e) => setPap(e.target.value)}>
          {base.vocab.pap.map((t) => <option key={t} value={t}>PAP:{t.toUpperCase()}</option>)}
        </select></div>
      <div><label htmlFor="inc-occ">Occurred at (UTC)</label>
        <input id="inc-occ" type="datetime-local" step={1} value={occurred} onChange={(e) => setOccurred(e.target.value)} /></div>
      <div><label htmlFor="inc-det">Detected at (UTC)</label>
        <input id="inc-det" type="datetime-local" step={1} value={detected} onChange={(e) => setDetected(e.target.value)} /></div>
      <div className="wide">
        <ActionError error={action.error} />
        <button type="submit" disabled={action.busy}>Declare incident</button>
      </div>
    </form>
  );
}

function IncidentTable({ items, base }: { items: Incident[]; base: RespondBase }) {
  if (items.length === 0) return <p className="muted">No incident is visible to your organisation.</p>;
  return (
    <table className="data" data-testid="incident-table">
      <thead>
        <tr><th scope="col">Incident</th><th scope="col">Severity</th><th scope="col">Phase</th><th scope="col">Determination</th>
          <th scope="col">TLP</th><th scope="col">Owner</th><th scope="col">Updated</th></tr>
      </thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.id} data-testid="incident-row" data-id={i.id} data-phase={i.phase}>
            <th scope="row"><a href={href.incident(i.id)}>{i.title}</a>
              {!i.isOwner && <span className="pill">shared with you</span>}</th>
            <td><SeverityBadge level={i.severity} severities={base.vocab.severities} /></td>
            <td>{humanise(i.phase)}</td>
            <td>{i.determination}</td>
            <td><TlpBadge tlp={i.tlp} /></td>
            <td>{base.orgName(i.ownerOrg)}</td>
            <td>{formatTime(i.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MetricsTable({ items, base }: { items: OrgMetrics[]; base: RespondBase }) {
  if (items.length === 0) return <p className="muted">No incident to measure yet.</p>;
  return (
    <table className="data" data-testid="org-metrics">
      <caption>Mean times per owning organisation (from the incidents you can see)</caption>
      <thead>
        <tr><th scope="col">Organisation</th><th scope="col">Incidents</th><th scope="col">MTTD</th><th scope="col">Mean time to triage</th>
          <th scope="col">Mean time to contain</th><th scope="col">MTTR</th></tr>
      </thead>
      <tbody>
        {items.map((m) => (
          <tr key={m.orgId}>
            <th scope="row">{base.orgName(m.orgId)}</th><td>{m.incidents}</td><td>{formatDuration(m.mttd)}</td>
            <td>{formatDuration(m.mttt)}</td><td>{formatDuration(m.mttc)}</td><td>{formatDuration(m.mttr)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Incidents() {
  const r = useRespond();
  const base = useRespondBase();
  const [showForm, setShowForm] = useState(false);
  const [phase, setPhase] = useState('');
  const [state, reload] = useLiveData(async (signal) => {
    // The organisation metrics are real operations' figures: not shown inside an exercise.
    const [list, metrics] = await Promise.all([r.incidents(signal, phase || undefined), r.exerciseId ? Promise.resolve({ items: [] }) : r.incidentMetrics(signal)]);
    return { items: [...list.items].sort((x, y) => y.updatedAt.localeCompare(x.updatedAt)), metrics: metrics.items };
  }, [r, phase], ['incident.']);

  if (base.status === 'loading' || state.status === 'loading') return <Loading what="incidents" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the incidents" />;
  const b = base.data;
  const mayDeclare = b.may('incident.write');
  return (
    <section aria-labelledby="incidents-title">
      <h1 id="incidents-title">Incidents</h1>
      <ExerciseScope what="incidents" />
      {mayDeclare && !showForm && <button type="button" onClick={() => setShowForm(true)}>Declare incident…</button>}
      {showForm && <DeclareForm base={b} onDone={() => { setShowForm(false); reload(); }} />}
      <h2>{r.exerciseId ? 'Incidents of the exercise visible to your organisation' : 'Incidents visible to your organisation'}</h2>
      <div className="inline-form">
        <div><label htmlFor="phase-filter">Phase</label>
          <select id="phase-filter" value={phase} onChange={(e) => setPhase(e.target.value)}>
            <option value="">All phases</option>
            <option value="detection-analysis,containment-eradication-recovery,post-incident-activity">Not closed</option>
            {b.vocab.phases.map((p) => <option key={p} value={p}>{humanise(p)}</option>)}
          </select></div>
      </div>
      <IncidentTable items={state.data.items} base={b} />
      {!r.exerciseId && <><h2>Organisation MTTD / MTTR</h2>
        <MetricsTable items={state.data.metrics} base={b} /></>}
    </section>
  );
}
