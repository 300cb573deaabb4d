/**
 * Federation (docs/federation.md): this node's key, its peers and the organisations on them,
 * and every subscription's status (lag, last success, last error, objects in/out, rejects).
 * Every reader sees the status; administrators add and remove peers and subscriptions, run,
 * reset and retry, and read reject lists.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import { useFederation, type NewPeer, type PeerView, type RejectView, type SubscriptionStatus } from '../federationApi.js';
import { ErrorBox, Loading, formatTime, formatUs } from '../components/Status.js';
import { ActionError, useAction } from '../components/Respond.js';
import { TaxiiFeeds } from '../components/TaxiiFeeds.js';

function Subscriptions({ items, isAdmin, canAdd, onChange }: { items: SubscriptionStatus[]; isAdmin: boolean; canAdd: boolean; onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const [rejects, setRejects] = useState<{ id: string; items: RejectView[] } | null>(null);
  if (items.length === 0) return <section className="card" aria-label="Subscriptions"><h2>Subscriptions</h2><p className="muted">None yet: <code>shieldwall sync add</code>{canAdd ? ' or the form below' : isAdmin ? ', once a peer with a URL is registered above' : ''}.</p></section>;
  return (
    <section className="card" aria-label="Subscriptions">
      <h2>Subscriptions</h2>
      <ActionError error={action.error} />
      <table className="data">
        <thead><tr><th>Id</th><th>Peer</th><th>Direction</th><th>Remote collection</th><th>In</th><th>Out</th><th title="Copies deleted because their node of origin retracted them (pull), or retractions sent (push)">Retracted</th><th>Rejects</th><th>Lag</th><th>Last success</th><th>Last error</th>{isAdmin && <th />}</tr></thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.subscription.id} data-testid="subscription">
              <td><code>{s.subscription.id}</code></td><td>{s.subscription.peer}</td>
              <td>{s.subscription.direction}{s.subscription.sightingsOnly ? ' (sightings)' : ''}{s.subscription.types ? <span className="small muted" data-testid="sub-types-list"> {s.subscription.types.join(', ')}</span> : null}{s.subscription.since ? <span className="small muted" data-testid="sub-since"> since {formatTime(s.subscription.since)}</span> : null}</td><td><code>{s.subscription.remoteCollection}</code></td>
              <td data-testid="objects-in">{s.state.objectsIn}</td><td>{s.state.objectsOut}</td><td data-testid="retracted">{s.state.retracted ?? 0}</td><td data-testid="rejects">{s.rejects}</td>
              <td>{s.lagS === null ? '-' : `${s.lagS} s`}</td><td>{s.lastSuccess ? formatTime(s.lastSuccess) : 'never'}</td>
              <td className="small wrap" data-testid="last-error">{s.lastError ? `${s.lastErrorAt ? formatTime(s.lastErrorAt) : ''}: ${s.lastError}${s.failing === false ? ' (resolved)' : ''}` : '-'}</td>
              {isAdmin && (
                <td>
                  <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.run(s.subscription.id); onChange(); })}>Run now</button>{' '}
                  <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.reset(s.subscription.id); onChange(); })}>Reset</button>{' '}
                  <button type="button" disabled={action.busy || s.rejects === 0} onClick={() => void action.run(async () => { await api.retry(s.subscription.id); onChange(); })}>Retry rejects</button>{' '}
                  <button type="button" disabled={action.busy || s.rejects === 0} data-testid="show-rejects" onClick={() => void action.run(async () => { setRejects({ id: s.subscription.id, items: (await api.rejects(s.subscription.id)).items }); })}>Show rejects</button>{' '}
                  <button type="button" disabled={action.busy || s.rejects === 0} data-testid="clear-rejects" onClick={() => void action.run(async () => {
                    if (!window.confirm(`Clear the ${s.rejects} rejected objects of ${s.subscription.id}? They are not retried; a reset fetches them again.`)) return;
                    await api.clearRejects(s.subscription.id);
                    setRejects(null);
                    onChange();
                  })}>Clear rejects</button>{' '}
                  <button type="button" className="danger" disabled={action.busy} data-testid="remove-subscription"
                    onClick={() => void action.run(async () => { if (window.confirm(`Remove subscription ${s.subscription.id} (its cursor and reject list)?`)) { await api.removeSubscription(s.subscription.id); onChange(); } })}>Remove</button>
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

/** `identity--…:SHORT:Name` per line (as `shieldwall peer add --org`; `relayed`: as `--relayed-org`). */
export function parseOrgLines(text: string, relayed = false): { id: string; shortName: string; name?: string; relayed?: boolean }[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [id = '', shortName = '', ...rest] = l.split(':');
    const name = rest.join(':').trim();
    return { id: id.trim(), shortName: shortName.trim(), ...(name ? { name } : {}), ...(relayed ? { relayed } : {}) };
  });
}

/** Keeps (encrypted) the token a peer issued to this node, once it is issued (after the peer was added). */
function SetToken({ peer, onChange }: { peer: PeerView; onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await api.updatePeer(peer.name, { token: token.trim() });
      setToken('');
      onChange();
    });
  };
  return (
    <form onSubmit={submit} aria-label={`Token of ${peer.name}`} className="inline">
      <ActionError error={action.error} />
      <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" placeholder="token it issued to this node" data-testid="set-token-value" required />{' '}
      <button type="submit" disabled={action.busy} data-testid="set-token">{peer.hasToken ? 'Replace token' : 'Keep token'}</button>
    </form>
  );
}

function AddPeer({ onChange }: { onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const empty = { name: '', url: '', publicKey: '', token: '', orgs: '', relayed: '' };
  const [f, setF] = useState(empty);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: NewPeer = {
      name: f.name.trim(), publicKey: f.publicKey.trim(), ...(f.url.trim() ? { url: f.url.trim() } : {}), ...(f.token.trim() ? { token: f.token.trim() } : {}),
      orgs: [...parseOrgLines(f.orgs), ...parseOrgLines(f.relayed, true)],
    };
    void action.run(async () => {
      await api.addPeer(body);
      setF(empty);
      onChange();
    });
  };
  return (
    <form className="card" aria-label="Add a peer" onSubmit={submit}>
      <h3>Add a peer</h3>
      <ActionError error={action.error} />
      <label>Node name <input required value={f.name} onChange={set('name')} placeholder="dk" data-testid="peer-name" /></label>{' '}
      <label>URL <input value={f.url} onChange={set('url')} placeholder="https://dk.example:8443 (empty: key only)" data-testid="peer-url" /></label>{' '}
      <label>Public key <input required value={f.publicKey} onChange={set('publicKey')} placeholder="shieldwall peer whoami on the peer" data-testid="peer-key" /></label>{' '}
      <label>Token it issued to this node <input type="password" value={f.token} onChange={set('token')} autoComplete="off" data-testid="peer-token" /></label>
      <label>Organisations on it, one per line: <code>identity--…:SHORT:Name</code>
        <textarea rows={3} value={f.orgs} onChange={set('orgs')} data-testid="peer-orgs" />
      </label>
      <label>Organisations of other nodes reached through it (a hub relays AMBER for them; AMBER+STRICT and RED never go to it for them), one per line
        <textarea rows={2} value={f.relayed} onChange={set('relayed')} data-testid="peer-relayed-orgs" />
      </label>
      <button type="submit" disabled={action.busy} data-testid="add-peer">Add peer</button>
    </form>
  );
}

/** Replaces this node's signing key (admin), after a confirmation that says what it does to the peers. */
type Rotated = { previousPublicKey: string; publicKey: string };

function RotateKey({ node, rotated, onRotated }: { node: string; rotated: Rotated | null; onRotated: (r: Rotated) => void }) {
  const api = useFederation();
  const action = useAction();
  const rotate = () => void action.run(async () => {
    if (!window.confirm(`Replace the signing key of node ${node}? Every peer must then register the new public key; until it does, it refuses what this node signs (kept in its reject list, retried after the update).`)) return;
    onRotated(await api.rotateKey());
  });
  return (
    <div>
      <button type="button" className="danger" disabled={action.busy} data-testid="rotate-key" onClick={rotate}>Rotate signing key</button>
      <ActionError error={action.error} />
      {rotated && <p data-testid="rotated">New key. On every peer: <code>shieldwall peer update {node} --public-key {rotated.publicKey}</code> (was <code className="small">{rotated.previousPublicKey}</code>)</p>}
    </div>
  );
}

/** Replaces this node's federation secret and re-encrypts the credentials it keeps (admin). */
function RotateSecret({ node }: { node: string }) {
  const api = useFederation();
  const action = useAction();
  const [done, setDone] = useState<{ peers: number; feeds: number } | null>(null);
  const rotate = () => void action.run(async () => {
    if (!window.confirm(`Replace the federation secret of node ${node}? Every peer token and TAXII feed credential is re-encrypted with the new one; the old secret then opens nothing.`)) return;
    setDone(await api.rotateSecret());
  });
  return (
    <div>
      <button type="button" className="danger" disabled={action.busy} data-testid="rotate-secret" onClick={rotate}>Rotate secret</button>
      <ActionError error={action.error} />
      {done && <p data-testid="secret-rotated">New secret: {done.peers} peer token(s) and {done.feeds} TAXII feed credential(s) re-encrypted. On a node with several API machines, copy <code>federation-secret.key</code> to each.</p>}
    </div>
  );
}

function AddSubscription({ peers, onChange }: { peers: PeerView[]; onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const collections = useAsync(async (signal) => (await api.collections(signal)).items, [api]);
  const withUrl = peers.filter((p) => p.url);
  const [f, setF] = useState({ peer: '', direction: 'pull' as 'pull' | 'push', remoteCollection: '', localCollection: '', intervalS: '30', sightingsOnly: false, types: '', since: '' });
  if (withUrl.length === 0) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await api.addSubscription({
        peer: f.peer || withUrl[0]!.name, direction: f.direction, remoteCollection: f.remoteCollection.trim(), localCollection: f.localCollection,
        intervalS: Number(f.intervalS), ...(f.direction === 'push' && f.sightingsOnly ? { sightingsOnly: true } : {}),
        ...(typesOf(f.types).length > 0 && !(f.direction === 'push' && f.sightingsOnly) ? { types: typesOf(f.types) } : {}),
        // A date picked here is that day's midnight UTC.
        ...(f.since ? { since: f.since } : {}),
      });
      setF({ ...f, remoteCollection: '', types: '' });
      onChange();
    });
  };
  const locals = collections.status === 'done' ? collections.data : [];
  return (
    <form className="card" aria-label="Add a subscription" onSubmit={submit}>
      <h3>Add a subscription</h3>
      <ActionError error={action.error} />
      <label>Peer <select value={f.peer || withUrl[0]!.name} onChange={(e) => setF({ ...f, peer: e.target.value })} data-testid="sub-peer">
        {withUrl.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
      </select></label>{' '}
      <label>Direction <select value={f.direction} onChange={(e) => setF({ ...f, direction: e.target.value as 'pull' | 'push' })} data-testid="sub-direction">
        <option value="pull">pull (peer → here)</option><option value="push">push (here → peer)</option>
      </select></label>{' '}
      <label>Peer collection <input required value={f.remoteCollection} onChange={(e) => setF({ ...f, remoteCollection: e.target.value })} placeholder="id or alias" data-testid="sub-remote" /></label>{' '}
      <label>Local collection <select required value={f.localCollection} onChange={(e) => setF({ ...f, localCollection: e.target.value })} data-testid="sub-local">
        <option value="">choose…</option>
        {locals.map((c) => <option key={c.id} value={c.id}>{c.alias ?? c.title}</option>)}
      </select></label>{' '}
      <label>Every <input type="number" min={1} max={86400} value={f.intervalS} onChange={(e) => setF({ ...f, intervalS: e.target.value })} style={{ width: '6em' }} /> s</label>{' '}
      {f.direction === 'push' && <label><input type="checkbox" checked={f.sightingsOnly} onChange={(e) => setF({ ...f, sightingsOnly: e.target.checked })} /> sightings of this peer's objects only</label>}{' '}
      {!(f.direction === 'push' && f.sightingsOnly) && <label>Only types <input value={f.types} onChange={(e) => setF({ ...f, types: e.target.value })} placeholder="every type; e.g. indicator, malware" data-testid="sub-types" /></label>}{' '}
      <label title="Only what was added from this day on (00:00 UTC); empty: everything">Since <input type="date" value={f.since} onChange={(e) => setF({ ...f, since: e.target.value })} data-testid="sub-since-input" /></label>{' '}
      <button type="submit" disabled={action.busy} data-testid="add-subscription">Add subscription</button>
    </form>
  );
}

/** STIX types typed in a field, comma- or space-separated. */
function typesOf(text: string): string[] {
  return text.split(/[\s,]+/).map((t) => t.trim()).filter((t) => t !== '');
}

function recordsStatus(p: PeerView): string {
  const r = p.records;
  if (!r || r.lastRunUs === null) return '-';
  const refused = r.refused > 0 ? `; ${r.refused} refused by the peer (last: ${r.lastRefusal ?? '?'})` : '';
  const relay = r.relayWaiting ? `; ${r.relayWaiting} relayed from other nodes waiting` : '';
  return r.lastError ? `error ${formatUs(r.lastRunUs)}: ${r.lastError}${relay}` : `${r.out} sent, last ${formatUs(r.lastSuccessUs)}${refused}${relay}`;
}

export function Federation() {
  const { session } = useSession();
  const api = useFederation();
  const [tick, setTick] = useState(0);
  const isAdmin = session?.user.roles.includes('admin') ?? false;
  const peerAction = useAction();
  const refresh = () => setTick((n) => n + 1);
  // Kept here: the node's card is drawn again when the page reloads after the rotation.
  const [rotated, setRotated] = useState<Rotated | null>(null);
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
            <p>Address peers use (<code>--url</code>): {state.data.node.url
              ? <code data-testid="public-url">{state.data.node.url}</code>
              : <span data-testid="public-url">not set (<code>SHIELDWALL_PUBLIC_URL</code>): give peers the address they reach this node at</span>}</p>
            {isAdmin && <RotateKey node={state.data.node.node} rotated={rotated} onRotated={(r) => { setRotated(r); refresh(); }} />}
            {isAdmin && <RotateSecret node={state.data.node.node} />}
          </section>
          <section className="card" aria-label="Peers">
            <h2>Peers</h2>
            {state.data.peers.length === 0 ? <p className="muted">None yet: <code>shieldwall peer add</code> (docs/federation.md).</p> : (
              <table className="data">
                <thead><tr><th>Node</th><th>URL</th><th>Organisations</th><th>Token</th><th>Key</th><th>Incidents / requests pushed</th>{isAdmin && <th />}</tr></thead>
                <tbody>
                  {state.data.peers.map((p) => (
                    <tr key={p.name} data-testid="peer">
                      <td>{p.name}</td><td>{p.url ?? 'key only (origin of relayed objects)'}</td>
                      <td data-testid="peer-orgs-list">{p.orgs.map((o) => (o.relayed ? `${o.shortName} (relayed)` : o.shortName)).join(', ') || '-'}</td>
                      <td>{p.hasToken ? 'kept (encrypted)' : 'none'}{isAdmin && p.url && <SetToken peer={p} onChange={refresh} />}</td><td><code className="small" title={p.publicKey}>{p.publicKey.slice(0, 12)}…</code>{(p.retiredKeys?.length ?? 0) > 0 && <span className="small muted" data-testid="retired-keys" title={`Keys ${p.name} signed with before its rotations: what they signed still verifies (peer update --drop-retired-keys forgets them)`}> +{p.retiredKeys!.length} retired</span>}</td>
                      <td className="small" data-testid="records-status">{recordsStatus(p)}</td>
                      {isAdmin && (
                        <td>
                          {p.url && p.hasToken && <><button type="button" disabled={peerAction.busy} onClick={() => void peerAction.run(async () => { await api.pushRecords(p.name); refresh(); })}>Push shared records now</button>{' '}</>}
                          <button type="button" className="danger" disabled={peerAction.busy} data-testid="remove-peer"
                            onClick={() => void peerAction.run(async () => { if (window.confirm(`Remove peer ${p.name}? (its subscriptions must be removed first)`)) { await api.removePeer(p.name); refresh(); } })}>Remove</button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <ActionError error={peerAction.error} />
            {isAdmin && <AddPeer onChange={refresh} />}
          </section>
          <Subscriptions items={state.data.subs} isAdmin={isAdmin} canAdd={isAdmin && state.data.peers.some((p) => p.url)} onChange={refresh} />
          {isAdmin && <AddSubscription peers={state.data.peers} onChange={refresh} />}
          <TaxiiFeeds isAdmin={isAdmin} tick={tick} onChange={refresh} />
        </>
      )}
    </>
  );
}
