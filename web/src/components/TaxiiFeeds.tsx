/**
 * The TAXII feeds of the Federation page (docs/federation.md "TAXII feeds"): collections of
 * third-party TAXII 2.1 servers pulled on a schedule. Every reader sees their state; an
 * administrator adds, pulls now, resets, removes, and sees what the pulls refused.
 */
import { useState, type FormEvent } from 'react';
import { useAsync } from '../useAsync.js';
import { useFederation, type NewTaxiiFeed, type TaxiiFeedView } from '../federationApi.js';
import { ErrorBox, Loading, formatTime, formatUs } from './Status.js';
import { ActionError, useAction } from './Respond.js';

function AddTaxiiFeed({ onChange }: { onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const collections = useAsync(async (signal) => (await api.collections(signal)).items, [api]);
  const empty = { name: '', url: '', apiRoot: 'api1', remoteCollection: '', localCollection: '', org: '', tlp: '', intervalS: '3600', auth: 'none', token: '', username: '', password: '' };
  const [f, setF] = useState(empty);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const auth: NewTaxiiFeed['auth'] = f.auth === 'bearer' ? { kind: 'bearer', token: f.token } : f.auth === 'basic' ? { kind: 'basic', username: f.username.trim(), password: f.password } : { kind: 'none' };
    void action.run(async () => {
      await api.addTaxiiFeed({
        name: f.name.trim(), url: f.url.trim(), apiRoot: f.apiRoot.trim(), remoteCollection: f.remoteCollection.trim(), localCollection: f.localCollection,
        org: f.org.trim(), tlp: f.tlp || null, intervalS: Number(f.intervalS), auth,
      });
      setF(empty);
      onChange();
    });
  };
  // A feed imports into a collection the administrator may write (REST refuses the others).
  const locals = collections.status === 'done' ? collections.data.filter((c) => c.canWrite) : [];
  return (
    <form className="card" aria-label="Add a TAXII feed" onSubmit={submit}>
      <h3>Add a TAXII feed</h3>
      <ActionError error={action.error} />
      <label>Name <input required value={f.name} onChange={set('name')} placeholder="vendor" data-testid="feed-name" /></label>{' '}
      <label>Server URL <input required value={f.url} onChange={set('url')} placeholder="https://cti.vendor.example" data-testid="feed-url" /></label>{' '}
      <label>API root <input value={f.apiRoot} onChange={set('apiRoot')} data-testid="feed-api-root" /></label>{' '}
      <label>Collection id on the server <input required value={f.remoteCollection} onChange={set('remoteCollection')} data-testid="feed-remote" /></label>{' '}
      <label>Into <select required value={f.localCollection} onChange={set('localCollection')} data-testid="feed-local">
        <option value="">choose…</option>
        {locals.map((c) => <option key={c.id} value={c.id}>{c.alias ?? c.title}</option>)}
      </select></label>{' '}
      <label>Imported by (organisation short name) <input required value={f.org} onChange={set('org')} data-testid="feed-org" /></label>{' '}
      <label>TLP of objects without one <select value={f.tlp} onChange={set('tlp')} data-testid="feed-tlp">
        <option value="">none</option>{['clear', 'green', 'amber', 'amber+strict', 'red'].map((t) => <option key={t} value={t}>{t.toUpperCase()}</option>)}
      </select></label>{' '}
      <label>Every <input type="number" min={0} value={f.intervalS} onChange={set('intervalS')} style={{ width: '7em' }} /> s (0: by hand)</label>{' '}
      <label>Credentials <select value={f.auth} onChange={set('auth')} data-testid="feed-auth">
        <option value="none">none</option><option value="bearer">bearer token</option><option value="basic">HTTP Basic</option>
      </select></label>{' '}
      {f.auth === 'bearer' && <label>Token <input type="password" autoComplete="off" value={f.token} onChange={set('token')} data-testid="feed-token" /></label>}
      {f.auth === 'basic' && <><label>User <input value={f.username} onChange={set('username')} /></label>{' '}<label>Password <input type="password" autoComplete="off" value={f.password} onChange={set('password')} /></label></>}{' '}
      <button type="submit" disabled={action.busy} data-testid="add-feed">Add feed</button>
    </form>
  );
}

export function TaxiiFeeds({ isAdmin, tick, onChange }: { isAdmin: boolean; tick: number; onChange: () => void }) {
  const api = useFederation();
  const action = useAction();
  const feeds = useAsync(async (signal) => (await api.taxiiFeeds(signal)).items, [api, tick]);
  const [failures, setFailures] = useState<{ name: string; items: { id: string | null; reason: string; at: string }[] } | null>(null);
  const row = (f: TaxiiFeedView) => (
    <tr key={f.name} data-testid="taxii-feed">
      <td>{f.name}</td>
      <td className="small wrap">{f.url} <code>{f.apiRoot}/{f.remoteCollection}</code>{f.auth !== 'none' ? ` (${f.auth})` : ''}</td>
      <td>{f.intervalS ? `${f.intervalS} s` : 'by hand'}</td>
      <td data-testid="feed-added">{f.state.added}</td><td>{f.state.rejected}</td>
      <td>{formatUs(f.state.lastSuccessUs)}</td>
      <td className="small wrap" data-testid="feed-error">{f.state.lastError ?? '-'}</td>
      {isAdmin && (
        <td>
          <button type="button" disabled={action.busy} data-testid="feed-pull" onClick={() => void action.run(async () => { await api.pullTaxiiFeed(f.name); onChange(); })}>Pull now</button>{' '}
          <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.resetTaxiiFeed(f.name); onChange(); })}>Reset</button>{' '}
          <button type="button" disabled={action.busy || f.state.rejected === 0} onClick={() => void action.run(async () => setFailures({ name: f.name, items: (await api.taxiiFeedFailures(f.name)).items }))}>Refused</button>{' '}
          <button type="button" className="danger" disabled={action.busy} data-testid="feed-remove"
            onClick={() => void action.run(async () => { if (window.confirm(`Remove TAXII feed ${f.name}? What it imported stays.`)) { await api.removeTaxiiFeed(f.name); onChange(); } })}>Remove</button>
        </td>
      )}
    </tr>
  );
  return (
    <section className="card" aria-label="TAXII feeds">
      <h2>TAXII feeds</h2>
      <p className="small muted">Collections of other TAXII 2.1 servers, pulled on a schedule and imported here (<code>shieldwall taxii-feed</code>).</p>
      <ActionError error={action.error} />
      {feeds.status === 'loading' && <Loading what="TAXII feeds" />}
      {feeds.status === 'error' && <ErrorBox error={feeds.error} />}
      {feeds.status === 'done' && (feeds.data.length === 0 ? <p className="muted" data-testid="no-feeds">None yet.</p> : (
        <table className="data">
          <thead><tr><th>Name</th><th>Source</th><th>Every</th><th>Added</th><th>Refused</th><th>Last success</th><th>Last error</th>{isAdmin && <th />}</tr></thead>
          <tbody>{feeds.data.map(row)}</tbody>
        </table>
      ))}
      {failures && (
        <div data-testid="feed-failures">
          <h3>Refused by {failures.name}</h3>
          <ul className="small">{failures.items.map((x, i) => <li key={i}><code>{x.id ?? '?'}</code> {formatTime(x.at)}: {x.reason}</li>)}</ul>
        </div>
      )}
      {isAdmin && <AddTaxiiFeed onChange={onChange} />}
    </section>
  );
}
