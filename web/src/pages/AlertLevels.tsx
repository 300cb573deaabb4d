/**
 * Alert level board: the alliance-wide level (changed only by an adopted decision) and every
 * member's level with its history; admins and representatives change their own member's level.
 */
import { ExerciseScope } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import type { AlertLevel } from '../respondTypes.js';

function LevelBadge({ level, name }: { level: number; name: string }) {
  return <span className={`alert-level alert-level-${level}`} data-testid="alert-level" data-level={level}>{level} {name}</span>;
}

function History({ l }: { l: AlertLevel }) {
  // Every change carries from → to and its reason; a first setting recorded before that carries only `{state}`.
  const changes = l.history.filter((h) => h.to !== undefined || h.state !== undefined);
  if (changes.length === 0) return <span className="muted small">no change recorded</span>;
  return (
    <details>
      <summary>{changes.length} change{changes.length === 1 ? '' : 's'}</summary>
      <ol className="small">
        {changes.map((h, i) => (
          <li key={i} data-testid="level-change">{formatTime(h.at)}: {h.to !== undefined ? `${h.from ?? '?'} → ${h.to}` : `set to ${h.state ?? '?'}`}
            {h.reason && <> — {h.decisionId ? <a href={href.decision(h.decisionId)}>adopted decision</a> : h.reason}</>}</li>
        ))}
      </ol>
    </details>
  );
}

function OwnLevel({ base, current, onDone }: { base: RespondBase; current: number; onDone: () => void }) {
  const r = useRespond();
  const action = useAction();
  const [level, setLevel] = useState(current);
  const [reason, setReason] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => { await r.setOwnLevel(level, reason); setReason(''); onDone(); });
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="Change own alert level">
      <div><label htmlFor="own-level">Your organisation's level</label>
        <select id="own-level" value={level} onChange={(e) => setLevel(Number(e.target.value))}>
          {base.vocab.alertLevels.map((l) => <option key={l.level} value={l.level}>{l.level} – {l.name}</option>)}
        </select></div>
      <div><label htmlFor="own-reason">Reason</label><input id="own-reason" required value={reason} onChange={(e) => setReason(e.target.value)} /></div>
      <button type="submit" disabled={action.busy}>Change level</button>
      <ActionError error={action.error} />
    </form>
  );
}

export function AlertLevels() {
  const r = useRespond();
  const base = useRespondBase();
  const [state, reload] = useLiveData((signal) => r.alertBoard(signal), [r], ['alert-level', 'decision.adopted']);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="the alert levels" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the alert levels" />;
  const b = base.data;
  const board = state.data;
  const own = board.members.find((m) => m.orgId === b.ownOrg);
  const mayChange = !!own && b.may('alert-level.write');
  return (
    <section aria-labelledby="levels-title">
      <h1 id="levels-title">Alert levels</h1>
      <ExerciseScope what="alert levels" />
      <div className="card alliance-level" data-testid="alliance-level">
        <h2>Alliance</h2>
        <LevelBadge level={board.alliance.level} name={board.alliance.name} />
        <p className="muted small">Changed only by an adopted decision.
          {board.alliance.decisionId && <> Set by <a href={href.decision(board.alliance.decisionId)} data-testid="alliance-decision">this decision</a>.</>}</p>
        <History l={board.alliance} />
      </div>
      <h2>Members</h2>
      <table className="data" data-testid="member-levels">
        <thead><tr><th scope="col">Organisation</th><th scope="col">Level</th><th scope="col">Reason</th><th scope="col">History</th></tr></thead>
        <tbody>
          {board.members.map((m) => (
            <tr key={m.orgId} data-testid="member-level" data-org-id={m.orgId}>
              <th scope="row">{m.orgName}{m.orgId === b.ownOrg && <span className="pill">your organisation</span>}</th>
              <td><LevelBadge level={m.level} name={m.name} /></td><td>{m.reason}</td><td><History l={m} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      {mayChange && own && <OwnLevel key={own.level} base={b} current={own.level} onDone={reload} />}
    </section>
  );
}
