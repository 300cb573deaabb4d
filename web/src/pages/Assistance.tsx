/**
 * Assistance board: requests visible to the organisation (its own, and those routed to it),
 * the "Request assistance" form, and the offers of each request. The requester accepts or
 * declines offers; an ally offers help or withdraws its offer. Offers are voluntary.
 */
import { ExerciseScope } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { ActionError, Countdown, StateBadge, fromUtcInput, humanise, toUtcInput, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import { TLPS } from '../types.js';
import type { AssistanceRequest, Incident, Offer } from '../respondTypes.js';

type Done = () => void;
const inHours = (h: number) => toUtcInput(new Date(Date.now() + h * 3600_000));

function Checklist({ legend, options, value, onChange, label = (s) => s, name }: {
  legend: string; options: readonly string[]; value: string[]; onChange: (v: string[]) => void; label?: (s: string) => string; name: string;
}) {
  return (
    <fieldset data-testid={`${name}-choices`}>
      <legend>{legend}</legend>
      <div className="checks">
        {options.map((o) => (
          <label key={o} className="check">
            <input type="checkbox" name={name} value={o} checked={value.includes(o)}
              onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))} /> {label(o)}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function RequestForm({ base, incidents, onDone }: { base: RespondBase; incidents: Incident[]; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const allies = base.orgs.filter((o) => o.id !== base.ownOrg && o.kind === 'member');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [services, setServices] = useState<string[]>([]);
  const [urgency, setUrgency] = useState('priority');
  const [tlp, setTlp] = useState('amber');
  const [incidentId, setIncidentId] = useState('');
  const [routeAll, setRouteAll] = useState(true);
  const [routed, setRouted] = useState<string[]>([]);
  const [deadline, setDeadline] = useState(() => inHours(24));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await r.requestAssistance({
        title, description, services, urgency, tlp, offerDeadline: fromUtcInput(deadline),
        ...(incidentId ? { incidentId } : {}), ...(routeAll ? {} : { routedTo: routed }),
      });
      onDone();
    });
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="Request assistance" data-testid="request-form">
      <h2>Request assistance</h2>
      <div className="wide"><label htmlFor="req-title">Title</label><input id="req-title" required value={title} onChange={(e) => setTitle(e.target.value)} /></div>
      <div className="wide"><label htmlFor="req-desc">Description</label><textarea id="req-desc" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} /></div>
      <div className="wide"><Checklist legend="Services needed" name="service" options={base.vocab.services} value={services} onChange={setServices} label={humanise} /></div>
      <div><label htmlFor="req-urg">Urgency</label>
        <select id="req-urg" value={urgency} onChange={(e) => setUrgency(e.target.value)}>{base.vocab.urgencies.map((u) => <option key={u} value={u}>{u}</option>)}</select></div>
      <div><label htmlFor="req-tlp">TLP</label>
        <select id="req-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>{TLPS.map((t) => <option key={t} value={t}>TLP:{t.toUpperCase()}</option>)}</select></div>
      <div><label htmlFor="req-inc">Incident</label>
        <select id="req-inc" value={incidentId} onChange={(e) => setIncidentId(e.target.value)}>
          <option value="">None</option>
          {incidents.filter((i) => i.isOwner).map((i) => <option key={i.id} value={i.id}>{i.title}</option>)}
        </select></div>
      <div><label htmlFor="req-deadline">Offer deadline (UTC)</label>
        <input id="req-deadline" type="datetime-local" step={1} required value={deadline} onChange={(e) => setDeadline(e.target.value)} /></div>
      <fieldset className="wide routing" data-testid="routing">
        <legend>Routing</legend>
        <label className="check"><input type="radio" name="routing" checked={routeAll} onChange={() => setRouteAll(true)} /> Route to all allies</label>
        <label className="check"><input type="radio" name="routing" checked={!routeAll} onChange={() => setRouteAll(false)} /> Route to chosen allies</label>
        {!routeAll && <Checklist legend="Allies" name="ally" options={allies.map((o) => o.id)} value={routed} onChange={setRouted} label={base.orgName} />}
      </fieldset>
      <div className="wide"><ActionError error={action.error} /><button type="submit" disabled={action.busy}>Send request</button></div>
    </form>
  );
}

function OfferForm({ req, onDone }: { req: AssistanceRequest; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [team, setTeam] = useState('');
  const [services, setServices] = useState<string[]>([]);
  const [capacity, setCapacity] = useState('');
  const [from, setFrom] = useState(() => inHours(1));
  const [until, setUntil] = useState(() => inHours(72));
  const [note, setNote] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await r.offer(req.id, { team, services, capacity, availableFrom: fromUtcInput(from), availableUntil: fromUtcInput(until), ...(note ? { note } : {}) });
      onDone();
    });
  };
  return (
    <form className="form-grid offer-form" onSubmit={submit} aria-label="Offer help" data-testid="offer-form">
      <div><label htmlFor={`of-team-${req.id}`}>Team</label><input id={`of-team-${req.id}`} required value={team} onChange={(e) => setTeam(e.target.value)} /></div>
      <div><label htmlFor={`of-cap-${req.id}`}>Capacity</label><input id={`of-cap-${req.id}`} required value={capacity} onChange={(e) => setCapacity(e.target.value)} /></div>
      <div className="wide"><Checklist legend="Services offered" name="offer-service" options={req.services} value={services} onChange={setServices} label={humanise} /></div>
      <div><label htmlFor={`of-from-${req.id}`}>Available from (UTC)</label><input id={`of-from-${req.id}`} type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} /></div>
      <div><label htmlFor={`of-until-${req.id}`}>Available until (UTC)</label><input id={`of-until-${req.id}`} type="datetime-local" step={1} value={until} onChange={(e) => setUntil(e.target.value)} /></div>
      <div className="wide"><label htmlFor={`of-note-${req.id}`}>Note</label><input id={`of-note-${req.id}`} value={note} onChange={(e) => setNote(e.target.value)} /></div>
      <div className="wide"><ActionError error={action.error} /><button type="submit" disabled={action.busy}>Send offer</button></div>
    </form>
  );
}

function Offers({ req, base, onDone }: { req: AssistanceRequest; base: RespondBase; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const mine = req.requesterOrg === base.ownOrg;
  const live = req.state === 'open' || req.state === 'in-progress';
  const act = (o: Offer, how: 'accept' | 'decline' | 'withdraw') => void action.run(async () => { await r.decideOffer(o.id, how); onDone(); });
  if (req.offers.length === 0) return <p className="muted">No offer yet.</p>;
  return (
    <>
      <table className="data" data-testid="offer-table">
        <thead><tr><th scope="col">Team</th><th scope="col">Organisation</th><th scope="col">Services</th><th scope="col">Capacity</th><th scope="col">Window</th><th scope="col">State</th><th scope="col"></th></tr></thead>
        <tbody>
          {req.offers.map((o) => (
            <tr key={o.id} data-testid="offer-row" data-offer-id={o.id} data-state={o.state} data-team={o.team}>
              <th scope="row">{o.team}{o.note && <div className="muted small">{o.note}</div>}</th>
              <td>{base.orgName(o.orgId)}</td>
              <td className="small">{o.services.map(humanise).join(', ')}</td>
              <td>{o.capacity}</td>
              <td className="small">{formatTime(o.availableFrom)} – {formatTime(o.availableUntil)}</td>
              <td><StateBadge state={o.state} /></td>
              <td className="actions-cell">
                {mine && live && o.state === 'proposed' && base.may('assistance.write') && <>
                  <button type="button" className="small-button" disabled={action.busy} onClick={() => act(o, 'accept')}>Accept</button>
                  <button type="button" className="small-button secondary" disabled={action.busy} onClick={() => act(o, 'decline')}>Decline</button>
                </>}
                {o.orgId === base.ownOrg && (o.state === 'proposed' || o.state === 'accepted') && base.may('assistance.write') &&
                  <button type="button" className="small-button secondary" disabled={action.busy} onClick={() => act(o, 'withdraw')}>Withdraw offer</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ActionError error={action.error} />
    </>
  );
}

/** The requester ends its request: closed with an outcome (once helped) or withdrawn. */
function CloseRequest({ req, onDone }: { req: AssistanceRequest; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [outcome, setOutcome] = useState('');
  const end = (how: 'closed' | 'withdrawn') => void action.run(async () => { await r.closeRequest(req.id, how, outcome); onDone(); });
  return (
    <form className="inline-form" aria-label="End request" onSubmit={(e) => { e.preventDefault(); if (req.state === 'in-progress') end('closed'); }}>
      <div><label htmlFor={`out-${req.id}`}>Outcome</label><input id={`out-${req.id}`} required value={outcome} onChange={(e) => setOutcome(e.target.value)} /></div>
      {req.state === 'in-progress' && <button type="submit" disabled={action.busy}>Close request</button>}
      <button type="button" className="secondary" disabled={action.busy || !outcome.trim()} onClick={() => end('withdrawn')}>Withdraw request</button>
      <ActionError error={action.error} />
    </form>
  );
}

function RequestCard({ req, base, incidentTitle, onDone }: { req: AssistanceRequest; base: RespondBase; incidentTitle?: string; onDone: Done }) {
  const [offering, setOffering] = useState(false);
  const mine = req.requesterOrg === base.ownOrg;
  const mayOffer = !mine && (req.state === 'open' || req.state === 'in-progress') && base.may('assistance.write')
    && !req.offers.some((o) => o.orgId === base.ownOrg && o.state !== 'withdrawn' && o.state !== 'declined');
  return (
    <article className="card request" data-testid="request-card" data-id={req.id} data-state={req.state}>
      <h3>{req.title} <StateBadge state={req.state} /> <span className={`urgency urgency-${req.urgency}`}>{req.urgency}</span> <TlpBadge tlp={req.tlp} /></h3>
      {req.description && <p className="prose">{req.description}</p>}
      <dl className="summary">
        <dt>Requester</dt><dd>{base.orgName(req.requesterOrg)}{mine && <span className="pill">your organisation</span>}</dd>
        <dt>Services</dt><dd>{req.services.map(humanise).join(', ')}</dd>
        <dt>Routed to</dt><dd>{req.routedTo === 'all' ? 'all allies' : req.routedTo.map(base.orgName).join(', ')}</dd>
        {req.incidentId && <><dt>Incident</dt><dd>{incidentTitle
          ? <a href={href.incident(req.incidentId)}>{incidentTitle}</a>
          : <span className="muted" title="The incident is not shared with your organisation">{req.incidentId}</span>}</dd></>}
        <dt>Offers until</dt><dd>{formatTime(req.offerDeadline)} {req.state === 'open' && <Countdown deadline={req.offerDeadline} label="Offer deadline" onExpire={onDone} />}</dd>
        {req.outcome && <><dt>Outcome</dt><dd>{req.outcome}</dd></>}
      </dl>
      <h4>Offers</h4>
      <Offers req={req} base={base} onDone={onDone} />
      {mine && (req.state === 'open' || req.state === 'in-progress') && base.may('assistance.write') &&
        <CloseRequest req={req} onDone={onDone} />}
      {mayOffer && !offering && <button type="button" onClick={() => setOffering(true)}>Offer help…</button>}
      {mayOffer && offering && <OfferForm req={req} onDone={() => { setOffering(false); onDone(); }} />}
    </article>
  );
}

export function Assistance() {
  const r = useRespond();
  const base = useRespondBase();
  const [showForm, setShowForm] = useState(false);
  const [state, reload] = useLiveData(async (signal) => {
    const [reqs, incs] = await Promise.all([r.assistance(signal), r.incidents(signal)]);
    return { requests: reqs.items, incidents: incs.items };
  }, [r], ['assistance']);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="the assistance board" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the assistance board" />;
  const b = base.data;
  const mayRequest = b.may('assistance.write');
  const requests = [...state.data.requests].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
  return (
    <section aria-labelledby="assist-title">
      <h1 id="assist-title">Assistance board</h1>
      <ExerciseScope what="requests for assistance" />
      {mayRequest && !showForm && <button type="button" onClick={() => setShowForm(true)}>Request assistance…</button>}
      {showForm && <RequestForm base={b} incidents={state.data.incidents} onDone={() => { setShowForm(false); reload(); }} />}
      <h2>Requests</h2>
      {requests.length === 0 ? <p className="muted">No request for assistance is visible to your organisation.</p>
        : <div className="requests">{requests.map((q) => <RequestCard key={q.id} req={q} base={b} onDone={reload}
          incidentTitle={state.data.incidents.find((i) => i.id === q.incidentId)?.title} />)}</div>}
    </section>
  );
}
