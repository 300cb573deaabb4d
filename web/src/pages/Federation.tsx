/**
 * Federation (docs/federation.md): this node's key, its peers and the organisations on them,
 * and every subscription's status (lag, last success, last error, objects in/out, rejects).
 * Every reader sees the status; administrators run, reset and retry, and read reject lists.
 */
import { useEffect, useState } from 'react';
import { useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import { useFederation, type RejectView, type SubscriptionStatus } from '../federationApi.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, useAction } from '../components/Respond.js';

function Subscriptions({ items, isAdmin, onChange }: { items: SubscriptionStatus[]; isAdmin: boolean; onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const [rejects, setRejects] = useState<{ id: string; items: RejectView[] } | null>(null);
  if (items.length === 0) return <section className="card" aria-label="Subscriptions"><h2>Subscriptions</h2><p className="muted">None yet: <code>shieldwall sync add</code>.</p></section>;
  return (
    <section className="card" aria-label="Subscriptions">
      <h2>Subscriptions</h2>
      <ActionError error={action.error} />
      <table className="data">
        <thead><tr><th>Id</th><th>Peer</th><th>Direction</th><th>Remote collection</th><th>In</th><th>Out</th><th>Rejects</th><th>Lag</th><th>Last success</th><th>Last error</th>{isAdmin && <th />}</tr></thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.subscription.id} data-testid="subscription">
              <td><code>{s.subscription.id}</code></td><td>{s.subscription.peer}</td>
              <td>{s.subscription.direction}{s.subscription.sightingsOnly ? ' (sightings)' : ''}</td><td><code>{s.subscription.remoteCollection}</code></td>
              <td data-testid="objects-in">{s.state.objectsIn}</td><td>{s.state.objectsOut}</td><td data-testid="rejects">{s.rejects}</td>
              <td>{s.lagS === null ? '-' : `${s.lagS} s`}</td><td>{s.lastSuccess ? formatTime(s.lastSuccess) : 'never'}</td>
              <td className="small">{s.lastError ? `${s.lastErrorAt ? formatTime(s.lastErrorAt) : ''}: ${s.lastError}` : '-'}</td>
              {isAdmin && (
                <td>
                  <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.run(s.subscription.id); onChange(); })}>Run now</button>{' '}
                  <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.reset(s.subscription.id); onChange(); })}>Reset</button>{' '}
                  <button type="button" disabled={action.busy || s.rejects === 0} onClick={() => void action.run(async () => { await api.retry(s.subscription.id); onChange(); })}>Retry rejects</button>{' '}
                  <button type="button" disabled={action.busy || s.rejects === 0} onClick={() => void action.run(async () => { setRejects({ id: s.subscription.id, items: (await api.rejects(s.subscription.id)).items }); })}>Show rejects</button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {rejects && (
        <div aria-label="Reject list">
          <h3>Rejected by {rejects.id}</h3>
          <table className="data">
            <thead><tr><th>Object</th><th>Version</th><th>Reason</th><th>When</th></tr></thead>
            <tbody>{rejects.items.map((r, i) => <tr key={i} data-testid="reject"><td><code>{r.id ?? '-'}</code></td><td>{r.version ?? '-'}</td><td className="small">{r.reason}</td><td>{formatTime(r.at)}</td></tr>)}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Federation() {
  const { session } = useSession();
  const api = useFederation();
  const [tick, setTick] = useState(0);
  const isAdmin = session?.user.roles.includes('admin') ?? false;
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5_000);
    return () => clearInterval(t);
  }, []);
  const state = useAsync(async (signal) => ({ node: await api.node(signal), peers: (await api.peers(signal)).items, subs: (await api.subscriptions(signal)).items }), [api, tick]);
  return (
    <>
      <h1>Federation</h1>
      {state.status === 'loading' && <Loading what="peers and subscriptions" />}
      {state.status === 'error' && <ErrorBox error={state.error} />}
      {state.status === 'done' && (
        <>
          <section className="card" aria-label="This node">
            <h2>Node {state.data.node.node}</h2>
            <p>Public key (peers register it with <code>shieldwall peer add --public-key</code>): <code data-testid="public-key">{state.data.node.publicKey}</code></p>
          </section>
          <section className="card" aria-label="Peers">
            <h2>Peers</h2>
            {state.data.peers.length === 0 ? <p className="muted">None yet: <code>shieldwall peer add</code> (docs/federation.md).</p> : (
              <table className="data">
                <thead><tr><th>Node</th><th>URL</th><th>Organisations</th><th>Token</th><th>Key</th></tr></thead>
                <tbody>
                  {state.data.peers.map((p) => (
                    <tr key={p.name} data-testid="peer">
                      <td>{p.name}</td><td>{p.url ?? 'key only (origin of relayed objects)'}</td>
                      <td>{p.orgs.map((o) => o.shortName).join(', ') || '-'}</td><td>{p.hasToken ? 'kept (encrypted)' : 'none'}</td><td><code className="small">{p.publicKey.slice(0, 12)}…</code></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <Subscriptions items={state.data.subs} isAdmin={isAdmin} onChange={() => setTick((n) => n + 1)} />
        </>
      )}
    </>
  );
}
