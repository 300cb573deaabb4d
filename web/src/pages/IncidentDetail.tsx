/**
 * One incident: header with the allowed phase moves (NIST SP 800-61 cycle as the server
 * defines it), determination and investigation status, then tasks, observables, shares and
 * ownership (owner only), timeline, attachments, similar incidents, metrics, STIX export.
 */
import { ExerciseRecord } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { saveBlob, useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { ActionError, SeverityBadge, formatDuration, humanise, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import type { Incident, SimilarIncident, TimelineEntry } from '../respondTypes.js';
import { Attachments, Observables, Tasks, Timeline } from './IncidentParts.js';

/** The phase moves the server allows (src/respond/model.ts PHASE_MOVES); it stays the judge. */
export const PHASE_MOVES: Readonly<Record<string, readonly string[]>> = {
  'detection-analysis': ['containment-eradication-recovery', 'post-incident-activity', 'closed'],
  'containment-eradication-recovery': ['detection-analysis', 'post-incident-activity', 'closed'],
  'post-incident-activity': ['closed', 'containment-eradication-recovery'],
  closed: ['detection-analysis'],
};

type Done = () => void;

function Header({ inc, base, onDone }: { inc: Incident; base: RespondBase; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  // Made on the revision shown: a change another officer made meanwhile is a 409, not silently undone.
  const patch = (b: Record<string, unknown>) => void action.run(async () => { await r.patchIncident(inc.id, { ...b, rev: inc.rev }); onDone(); });
  const mayChange = inc.isOwner && base.may('incident.write');
  const [summary, setSummary] = useState('');
  return (
    <header className="card" data-testid="incident-header" data-phase={inc.phase}>
      <ExerciseRecord />
      <h1>{inc.title} <SeverityBadge level={inc.severity} severities={base.vocab.severities} /> <TlpBadge tlp={inc.tlp} />
        <span className="pap">PAP:{inc.pap.toUpperCase()}</span></h1>
      {inc.description && <p className="prose">{inc.description}</p>}
      <dl className="summary">
        <dt>Owner</dt><dd data-testid="incident-owner">{base.orgName(inc.ownerOrg)}{inc.isOwner && <span className="pill">your organisation</span>}</dd>
        <dt>Category</dt><dd>{humanise(inc.category)}</dd>
        <dt>Phase</dt><dd data-testid="incident-phase">{humanise(inc.phase)}</dd>
        <dt>Determination</dt>
        <dd>{mayChange
          ? <select aria-label="Determination" value={inc.determination} onChange={(e) => patch({ determination: e.target.value })}>
            {base.vocab.determinations.map((d) => <option key={d} value={d}>{d}</option>)}</select>
          : inc.determination}</dd>
        <dt>Investigation</dt>
        <dd>{mayChange && inc.investigationStatus !== 'closed'
          ? <select aria-label="Investigation status" value={inc.investigationStatus} onChange={(e) => patch({ investigationStatus: e.target.value })}>
            {base.vocab.investigationStatuses.filter((s) => s !== 'closed').map((d) => <option key={d} value={d}>{d}</option>)}</select>
          : inc.investigationStatus}</dd>
        <dt>Severity</dt>
        <dd>{mayChange
          ? <select aria-label="Severity" value={inc.severity} onChange={(e) => patch({ severity: Number(e.target.value) })}>
            {base.vocab.severities.map((s) => <option key={s.level} value={s.level}>{s.level} – {s.name}</option>)}</select>
          : base.vocab.severities.find((s) => s.level === inc.severity)?.name}</dd>
        <dt>Occurred</dt><dd>{formatTime(inc.stages.occurredAt)}</dd>
        <dt>Detected</dt><dd>{formatTime(inc.stages.detectedAt)}</dd>
        <dt>Triaged</dt><dd>{formatTime(inc.stages.triagedAt)}</dd>
        <dt>Contained</dt>
        <dd>{formatTime(inc.stages.containedAt)}{' '}
          {mayChange && !inc.stages.containedAt && <button type="button" className="small-button secondary" disabled={action.busy}
            onClick={() => patch({ contained: true })}>Mark contained</button>}</dd>
        <dt>Resolved</dt><dd>{formatTime(inc.stages.resolvedAt)}</dd>
        <dt>Updated</dt><dd>{formatTime(inc.updatedAt)}</dd>
      </dl>
      {inc.closure && (
        <section className="card" data-testid="closing-summary" aria-label="Closing summary">
          <h2>Closing summary</h2>
          <p className="prose">{inc.closure.summary}</p>
          <p className="muted">{base.orgName(inc.closure.orgId)}, {formatTime(inc.closure.at)}</p>
        </section>
      )}
      {mayChange && (
        <div className="phase-actions" role="group" aria-label="Phase actions">
          {(PHASE_MOVES[inc.phase] ?? []).includes('closed') && (
            <div><label htmlFor="closing-summary">Closing summary (with the move to closed)</label>
              <textarea id="closing-summary" rows={3} maxLength={20_000} value={summary} onChange={(e) => setSummary(e.target.value)}
                placeholder="Resolution, what was done, what is left to others" /></div>
          )}
          {(PHASE_MOVES[inc.phase] ?? []).map((to) => (
            <button key={to} type="button" disabled={action.busy} data-testid="phase-move"
              onClick={() => void action.run(async () => { await r.movePhase(inc.id, to, inc.rev, to === 'closed' && summary.trim() ? summary : undefined); onDone(); })}>
              Move to {humanise(to)}
            </button>
          ))}
        </div>
      )}
      <ActionError error={action.error} />
    </header>
  );
}

function Sharing({ inc, base, onDone }: { inc: Incident; base: RespondBase; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const candidates = base.orgs.filter((o) => o.id !== inc.ownerOrg);
  const [orgId, setOrgId] = useState(candidates.find((o) => !inc.shares.some((s) => s.orgId === o.id))?.id ?? '');
  const [permission, setPermission] = useState<'read' | 'contribute'>('read');
  const [to, setTo] = useState('');
  const mayChange = inc.isOwner && base.may('incident.write');
  const share = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => { await r.share(inc.id, [{ orgId, permission }]); onDone(); });
  };
  return (
    <section aria-labelledby="shares-title">
      <h2 id="shares-title">Shared with</h2>
      {inc.shares.length === 0 ? <p className="muted">Not shared with any other organisation.</p> : (
        <ul className="plain" data-testid="share-list">
          {inc.shares.map((s) => (
            <li key={s.orgId} data-testid="share" data-org-id={s.orgId} data-permission={s.permission}>
              {base.orgName(s.orgId)} <span className="pill">{s.permission}</span>
              {mayChange && <button type="button" className="small-button secondary" onClick={() => void action.run(async () => { await r.unshare(inc.id, s.orgId); onDone(); })}>Remove</button>}
            </li>
          ))}
        </ul>
      )}
      {mayChange && <>
        <form className="inline-form" onSubmit={share} aria-label="Share incident">
          <div><label htmlFor="share-org">Organisation</label>
            <select id="share-org" required value={orgId} onChange={(e) => setOrgId(e.target.value)}>
              <option value="">Choose…</option>
              {candidates.map((o) => <option key={o.id} value={o.id}>{o.shortName}</option>)}
            </select></div>
          <div><label htmlFor="share-perm">Permission</label>
            <select id="share-perm" value={permission} onChange={(e) => setPermission(e.target.value as 'read' | 'contribute')}>
              <option value="read">read</option><option value="contribute">contribute</option>
            </select></div>
          <button type="submit" disabled={action.busy || !orgId}>Share</button>
        </form>
        <form className="inline-form" aria-label="Transfer ownership" onSubmit={(e) => {
          e.preventDefault();
          if (to && window.confirm(`Transfer ownership to ${base.orgName(to)}? Your organisation keeps contribute access only if shared.`)) {
            void action.run(async () => { await r.transfer(inc.id, to); onDone(); });
          }
        }}>
          <div><label htmlFor="transfer-org">Transfer ownership to</label>
            <select id="transfer-org" value={to} onChange={(e) => setTo(e.target.value)}>
              <option value="">Choose…</option>
              {candidates.map((o) => <option key={o.id} value={o.id}>{o.shortName}</option>)}
            </select></div>
          <button type="submit" className="secondary" disabled={action.busy || !to}>Transfer</button>
        </form>
      </>}
      <ActionError error={action.error} />
    </section>
  );
}

function Metrics({ inc }: { inc: Incident }) {
  const m = inc.metrics;
  return (
    <dl className="counts" data-testid="incident-metrics">
      <div><dt>Time to detect</dt><dd>{formatDuration(m.timeToDetect)}</dd></div>
      <div><dt>Time to triage</dt><dd>{formatDuration(m.timeToTriage)}</dd></div>
      <div><dt>Time to contain</dt><dd>{formatDuration(m.timeToContain)}</dd></div>
      <div><dt>Time to resolve</dt><dd>{formatDuration(m.timeToResolve)}</dd></div>
    </dl>
  );
}

function Similar({ items }: { items: SimilarIncident[] }) {
  if (items.length === 0) return <p className="muted">No incident shares an observable with this one.</p>;
  return (
    <ul className="plain" data-testid="similar-list">
      {items.map((s) => <li key={s.id}><a href={href.incident(s.id)}>{s.title}</a> <span className="muted small">shared: {s.shared.join(', ')}</span></li>)}
    </ul>
  );
}

export function IncidentDetail({ id }: { id: string }) {
  const r = useRespond();
  const base = useRespondBase();
  const stix = useAction();
  const [state, reload] = useLiveData(async (signal) => {
    const [inc, timeline, similar] = await Promise.all([r.incident(id, signal), r.timeline(id, signal), r.similar(id, signal)]);
    return { inc, timeline: timeline.items as TimelineEntry[], similar: similar.items };
  }, [r, id], ['incident.'], id);

  if (base.status === 'loading' || state.status === 'loading') return <Loading what="the incident" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the incident" />;
  const b = base.data;
  const { inc, timeline, similar } = state.data;
  return (
    <section className="incident" data-testid="incident-detail" data-id={inc.id}>
      <p><a href={href.incidents()}>← Incidents</a></p>
      <Header inc={inc} base={b} onDone={reload} />
      <div className="export">
        <button type="button" className="secondary" disabled={stix.busy}
          onClick={() => void stix.run(async () => saveBlob(await r.stix(inc.id), `${inc.id}.stix.json`))}>Download STIX bundle</button>
        <ActionError error={stix.error} />
      </div>
      <h2>Metrics</h2>
      <Metrics inc={inc} />
      <Tasks inc={inc} onDone={reload} />
      <Observables inc={inc} base={b} onDone={reload} />
      <Sharing inc={inc} base={b} onDone={reload} />
      <Timeline inc={inc} base={b} entries={timeline} onDone={reload} />
      <Attachments inc={inc} onDone={reload} />
      <h2>Similar incidents</h2>
      <Similar items={similar} />
    </section>
  );
}
