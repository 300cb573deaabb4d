/**
 * One decision: outcome banner, a live countdown to the deadline (ticking every second; at
 * zero the page reloads so the server settles the deadline), the current text and earlier
 * revisions, participants with their positions, the actions of a representative of a
 * participating member, and re-issue / withdraw for the proposer.
 */
import { ExerciseRecord } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, Countdown, StateBadge, fromUtcInput, humanise, toUtcInput, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import type { Decision } from '../respondTypes.js';

type Done = () => void;

const OUTCOME_TEXT: Record<string, string> = {
  adopted: 'Adopted', blocked: 'Blocked', 'no-consensus': 'No consensus', withdrawn: 'Withdrawn',
};

function Outcome({ d }: { d: Decision }) {
  if (!d.outcome) return null;
  return (
    <div className={`outcome outcome-${d.outcome.result}`} role="status" data-testid="outcome" data-outcome={d.outcome.result}>
      <strong>{OUTCOME_TEXT[d.outcome.result] ?? d.outcome.result}</strong> on {formatTime(d.outcome.at)} (revision {d.outcome.revision})
    </div>
  );
}

function Positions({ d, base }: { d: Decision; base: RespondBase }) {
  return (
    <table className="data" data-testid="participants">
      <thead><tr><th scope="col">Participant</th><th scope="col">Position on revision {d.revision}</th><th scope="col">Reason</th><th scope="col">At</th></tr></thead>
      <tbody>
        {d.participants.map((o) => {
          const p = d.positions.find((x) => x.orgId === o && x.revision === d.revision);
          const silent = d.procedure === 'silence' ? 'silent' : 'awaited';
          return (
            <tr key={o} data-testid="participant" data-org-id={o} data-position={p?.position ?? 'none'}>
              <th scope="row">{base.orgName(o)}{o === d.proposerOrg && <span className="pill">proposer</span>}</th>
              <td>{p ? <span className={`position position-${p.position}`}>{humanise(p.position)}</span> : <span className="muted">{silent}</span>}</td>
              <td className="prose">{p?.reason ?? ''}</td>
              <td>{p ? formatTime(p.at) : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Act({ d, onDone }: { d: Decision; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [reason, setReason] = useState('');
  const send = (position: string, withReason: boolean) => void action.run(async () => {
    await r.position(d.id, position, withReason ? reason : undefined);
    setReason('');
    onDone();
  });
  const objecting = (e: FormEvent, position: string) => { e.preventDefault(); send(position, true); };
  return (
    <section className="card" aria-labelledby="act-title" data-testid="decision-actions">
      <h2 id="act-title">Your national position</h2>
      {d.procedure === 'consensus' ? <>
        <button type="button" disabled={action.busy} onClick={() => send('concur', false)}>Concur</button>
        <form onSubmit={(e) => objecting(e, 'object')} aria-label="Object">
          <label htmlFor="object-reason">Reason for the objection (required)</label>
          <textarea id="object-reason" rows={2} required value={reason} onChange={(e) => setReason(e.target.value)} />
          <button type="submit" className="danger" disabled={action.busy}>Object</button>
        </form>
      </> : (
        <form onSubmit={(e) => objecting(e, 'break-silence')} aria-label="Break silence">
          <p className="muted">Under the silence procedure the text is adopted at the deadline unless a member breaks silence in writing.</p>
          <label htmlFor="silence-reason">Reason for breaking silence (required)</label>
          <textarea id="silence-reason" rows={2} required value={reason} onChange={(e) => setReason(e.target.value)} />
          <button type="submit" className="danger" disabled={action.busy}>Break silence</button>
        </form>
      )}
      <ActionError error={action.error} />
    </section>
  );
}

function Proposer({ d, onDone }: { d: Decision; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [text, setText] = useState(d.text);
  const [deadline, setDeadline] = useState(() => toUtcInput(new Date(Date.now() + 24 * 3600_000)));
  const mayReissue = d.state === 'open' || d.state === 'blocked' || d.state === 'no-consensus';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => { await r.reissue(d.id, text, fromUtcInput(deadline) ?? ''); onDone(); });
  };
  if (!mayReissue) return null;
  return (
    <section className="card" aria-labelledby="prop-title">
      <h2 id="prop-title">Proposer</h2>
      <form onSubmit={submit} aria-label="Re-issue">
        <label htmlFor="reissue-text">Amended text</label>
        <textarea id="reissue-text" rows={4} required value={text} onChange={(e) => setText(e.target.value)} />
        <label htmlFor="reissue-deadline">New deadline (UTC)</label>
        <input id="reissue-deadline" type="datetime-local" step={1} required value={deadline} onChange={(e) => setDeadline(e.target.value)} />
        <button type="submit" disabled={action.busy}>Re-issue</button>{' '}
        {d.state === 'open' && <button type="button" className="secondary" disabled={action.busy}
          onClick={() => void action.run(async () => { await r.withdrawDecision(d.id); onDone(); })}>Withdraw</button>}
      </form>
      <ActionError error={action.error} />
    </section>
  );
}

export function DecisionDetail({ id }: { id: string }) {
  const r = useRespond();
  const base = useRespondBase();
  const [state, reload] = useLiveData((signal) => r.decision(id, signal), [r, id], ['decision'], id);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="the decision" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the decision" />;
  const b = base.data;
  const d = state.data;
  const isProposer = d.proposerOrg === b.ownOrg && b.may('decision.write');
  const earlier = d.texts.slice(0, -1).reverse();
  return (
    <section data-testid="decision-detail" data-id={d.id} data-state={d.state}>
      <p><a href={href.decisions()}>← Decisions</a></p>
      <ExerciseRecord />
      <h1>{d.title} <StateBadge state={d.state} /></h1>
      <Outcome d={d} />
      <dl className="summary">
        <dt>Kind</dt><dd>{humanise(d.kind)}</dd>
        <dt>Procedure</dt><dd data-testid="procedure">{d.procedure}</dd>
        <dt>Proposer</dt><dd>{b.orgName(d.proposerOrg)}</dd>
        <dt>Deadline</dt><dd>{formatTime(d.deadline)} {d.state === 'open' && <Countdown key={d.deadline} deadline={d.deadline} onExpire={reload} />}</dd>
        {d.assessmentId && <><dt>Assessment</dt><dd><a href={href.assessment(d.assessmentId)}>{d.assessmentId}</a></dd></>}
        {d.effect && <><dt>Effect when adopted</dt><dd>alert level of {b.orgName(d.effect.scope)} → {d.effect.level} {b.vocab.alertLevels.find((l) => l.level === d.effect?.level)?.name}</dd></>}
      </dl>
      <h2>Text (revision {d.revision})</h2>
      <div className="card prose" data-testid="decision-text">{d.text}</div>
      {earlier.length > 0 && (
        <details data-testid="revisions">
          <summary>Earlier revisions ({earlier.length})</summary>
          {earlier.map((t) => (
            <div key={t.revision} className="card revision">
              <h3>Revision {t.revision} <span className="muted small">issued {formatTime(t.issuedAt)}, deadline {formatTime(t.deadline)}</span></h3>
              <div className="prose">{t.text}</div>
              <ul className="plain small" data-testid="revision-positions">
                {d.positions.filter((p) => p.revision === t.revision).map((p) => (
                  <li key={p.orgId}>{b.orgName(p.orgId)}: <span className={`position position-${p.position}`}>{humanise(p.position)}</span>{p.reason ? ` — ${p.reason}` : ''}</li>
                ))}
              </ul>
            </div>
          ))}
        </details>
      )}
      <h2>Participants</h2>
      <Positions d={d} base={b} />
      {d.canAct && <Act d={d} onDone={reload} />}
      {d.myPosition && <p className="muted" data-testid="my-position">Your organisation's position: {humanise(d.myPosition.position)}.</p>}
      {isProposer && <Proposer key={d.revision} d={d} onDone={reload} />}
    </section>
  );
}
