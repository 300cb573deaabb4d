/**
 * One alert: what matched (the indicator with a link to its intel page, the Sigma rule, or the
 * anomaly's expected vs seen), ATT&CK techniques, raw event samples, history, and the triage
 * actions: acknowledge, false positive, escalate (opens an incident and links it), assign to me.
 * Changes carry the alert's `rev`, so a change made meanwhile by someone else is refused (409)
 * and the page reloads instead of overwriting it.
 */
import { useState } from 'react';
import { useAlerts } from '../alertsApi.js';
import { mayDo, useSession } from '../session.js';
import { useLiveData } from '../live.js';
import { href } from '../router.js';
import { ApiError } from '../api.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, useAction } from '../components/Respond.js';
import { AlertSeverityBadge, AlertStatusBadge } from '../components/AlertParts.js';
import { attackUrl, describeHistory, sampleSummary } from '../components/alertView.js';
import { ALERT_MOVES } from '../alertTypes.js';
import type { AlertDetail as Detail, AlertMatch, AlertPatch, AlertStatus } from '../alertTypes.js';

function Matched({ m }: { m: AlertMatch }) {
  switch (m.kind) {
    case 'indicator':
      return (
        <dl className="summary" data-testid="matched" data-kind="indicator">
          <dt>Indicator</dt><dd><a href={href.detail(m.id)} data-testid="indicator-link">{m.name ?? m.id}</a></dd>
          <dt>Pattern</dt><dd><code data-testid="matched-pattern">{m.pattern}</code></dd>
          {m.value !== null && <><dt>Matched value</dt><dd><code data-testid="matched-value">{m.value}</code></dd></>}
          {m.path !== null && <><dt>Object path</dt><dd><code>{m.path}</code></dd></>}
          <dt>Matched by</dt><dd>{m.via}</dd>
          {m.tactics && m.tactics.length > 0 && <><dt>Kill-chain phases</dt><dd>{m.tactics.map((t) => <span key={t} className="label">{t}</span>)}</dd></>}
        </dl>
      );
    case 'sigma':
      return (
        <dl className="summary" data-testid="matched" data-kind="sigma">
          <dt>Sigma rule</dt><dd data-testid="rule-title">{m.title}</dd>
          {m.id && <><dt>Rule id</dt><dd><code>{m.id}</code></dd></>}
          <dt>Level</dt><dd>{m.level ?? '–'}</dd>
          <dt>Tags</dt><dd>{m.tags.length ? m.tags.map((t) => <span key={t} className="label">{t}</span>) : '–'}</dd>
          {m.correlation && <><dt>Correlation</dt><dd>{m.correlation}</dd></>}
        </dl>
      );
    case 'anomaly':
      return (
        <dl className="summary" data-testid="matched" data-kind="anomaly">
          <dt>Anomaly</dt><dd>{m.method}</dd>
          <dt>Expected</dt><dd data-testid="anomaly-expected">{m.expected}</dd>
          <dt>Seen</dt><dd data-testid="anomaly-seen">{m.seen}</dd>
          <dt>Score</dt><dd>{m.score.toFixed(2)}</dd>
        </dl>
      );
  }
}

function Samples({ samples }: { samples: Record<string, unknown>[] }) {
  if (samples.length === 0) return <p className="muted">No raw event was kept with this alert.</p>;
  return (
    <ol className="samples plain" data-testid="samples">
      {samples.map((s, i) => (
        <li key={i} data-testid="sample">
          <details open={i === 0}>
            <summary>{sampleSummary(s)}</summary>
            <pre className="json" tabIndex={0} aria-label={`Raw event ${i + 1}`}>{JSON.stringify(s, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}

function Actions({ alert, onDone }: { alert: Detail; onDone: () => void }) {
  const a = useAlerts();
  const { session } = useSession();
  const action = useAction();
  const [note, setNote] = useState('');
  const me = session?.user.username ?? null;

  const run = (fn: () => Promise<unknown>) => void action.run(async () => {
    try {
      await fn();
      setNote('');
    } finally {
      // Stale rev (409) or not: show what the server has now.
      onDone();
    }
  });
  const patch = (b: AlertPatch) => run(() => a.patch(alert.id, { ...b, rev: alert.rev, ...(note.trim() ? { note: note.trim() } : {}) }));
  const setStatus = (status: AlertStatus) => patch({ status });
  const stale = action.error instanceof ApiError && action.error.status === 409;
  const may = (to: AlertStatus) => ALERT_MOVES[alert.status].includes(to);
  const mayTriage = mayDo(session, 'alerts.triage');
  if (session?.user.orgId === alert.orgId && !mayTriage && !mayDo(session, 'alerts.escalate')) {
    return <div className="card alert-actions"><p className="muted" data-testid="read-only">Your role reads alerts; triage is for analysts and responders.</p></div>;
  }
  if (session?.user.orgId !== alert.orgId) {
    return <div className="card alert-actions"><p className="muted" data-testid="read-only">Only {alert.orgName ?? 'the organisation that raised it'} can change this alert.</p></div>;
  }
  return (
    <div className="card alert-actions">
      <div><label htmlFor="alert-note">Note (optional, kept in the history)</label>
        <input id="alert-note" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} /></div>
      <div className="phase-actions" role="group" aria-label="Alert actions">
        {mayTriage && <button type="button" disabled={action.busy || !may('acknowledged')} onClick={() => setStatus('acknowledged')}>Acknowledge</button>}
        {mayTriage && <button type="button" className="secondary" disabled={action.busy || !may('false-positive')} onClick={() => setStatus('false-positive')}>False positive</button>}
        {mayTriage && may('new') && <button type="button" className="secondary" disabled={action.busy} onClick={() => setStatus('new')}>Reopen</button>}
        {alert.incidentId === null && alert.status !== 'false-positive' && mayDo(session, 'alerts.escalate') && (
          <button type="button" className="danger" disabled={action.busy}
            onClick={() => run(() => a.escalate(alert.id, { title: alert.title }))}>Escalate</button>
        )}
        {mayTriage && me && alert.assignee !== me && <button type="button" className="secondary" disabled={action.busy} onClick={() => patch({ assignee: me })}>Assign to me</button>}
        {mayTriage && alert.assignee !== null && <button type="button" className="secondary" disabled={action.busy} onClick={() => patch({ assignee: null })}>Unassign</button>}
      </div>
      {stale && <p className="notice" role="status">Someone changed this alert meanwhile; the page shows the current state. Try again if still needed.</p>}
      <ActionError error={action.error} />
    </div>
  );
}

export function AlertDetail({ id }: { id: string }) {
  const a = useAlerts();
  const [state, reload] = useLiveData((signal) => a.alert(id, signal), [a, id], ['alert.'], id);
  if (state.status === 'loading') return <Loading what="the alert" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the alert" />;
  const al = state.data;
  return (
    <section aria-labelledby="alert-title" data-testid="alert-detail" data-id={al.id} data-status={al.status} data-rev={al.rev}>
      <p><a href={href.alerts()}>← Alerts</a> · <a href={href.cop()}>Operational picture</a></p>
      <h1 id="alert-title">{al.title} <AlertSeverityBadge severity={al.severity} /> <AlertStatusBadge status={al.status} /></h1>
      <div className="detail-grid">
        <div className="card">
          <dl className="summary" data-testid="alert-summary">
            <dt>Status</dt><dd data-testid="alert-status-text">{al.status}</dd>
            <dt>Assignee</dt><dd data-testid="alert-assignee">{al.assignee ?? '–'}</dd>
            <dt>Incident</dt><dd>{al.incidentId
              ? <a href={href.incident(al.incidentId)} data-testid="incident-link">Open the incident</a>
              : <span className="muted">none</span>}</dd>
            <dt>Organisation</dt><dd>{al.orgName ?? al.orgId}</dd>
            <dt>Sensor</dt><dd><code>{al.sensorId}</code></dd>
            <dt>Source</dt><dd>{al.source}</dd>
            <dt>Entity</dt><dd><code>{al.entity}</code></dd>
            <dt>Events</dt><dd>{al.count}</dd>
            <dt>First seen</dt><dd>{formatTime(al.firstSeen)}</dd>
            <dt>Last seen</dt><dd>{formatTime(al.lastSeen)}</dd>
            {al.exerciseId && <><dt>Exercise</dt><dd>{al.exerciseId}</dd></>}
          </dl>
        </div>
        <Actions alert={al} onDone={reload} />
      </div>
      <h2>What matched</h2>
      <div className="card"><Matched m={al.matched} /></div>
      <h2>ATT&amp;CK techniques</h2>
      {al.techniques.length === 0 ? <p className="muted">None recorded.</p> : (
        <ul className="badges plain" data-testid="techniques">
          {al.techniques.map((t) => {
            const url = attackUrl(t);
            return <li key={t} className="label">{url ? <a href={url} target="_blank" rel="noreferrer">{t}</a> : t}</li>;
          })}
        </ul>
      )}
      <h2>Raw events ({al.samples.length}{al.count > al.samples.length ? ` of ${al.count}` : ''})</h2>
      <Samples samples={al.samples} />
      <h2>History</h2>
      {al.history.length === 0 ? <p className="muted">No change yet.</p> : (
        <ol className="timeline" data-testid="alert-history">
          {al.history.map((h, i) => (
            <li key={i} data-testid="history-entry" data-kind={h.kind}>
              <span className="small muted">{formatTime(h.at)}</span> <strong>{h.kind}</strong>
              {h.user && <> by {h.user}</>} {describeHistory(h.data) && <span className="small">— {describeHistory(h.data)}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
