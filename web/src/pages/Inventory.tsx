/** Inventory: the own organisation's assets (and those shared with it); import from CSV or JSON. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useExposureApi, type Refused } from '../exposureApi.js';
import { mayDo, useSession } from '../session.js';
import { useLiveData } from '../live.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { href } from '../router.js';

const EXAMPLE = 'name,vital_function,criticality,owner,products\nedge-fw-1,government network,critical,netops,cpe:2.3:o:paloaltonetworks:pan-os:10.2.5:*:*:*:*:*:*:*';

export function Inventory() {
  const api = useExposureApi();
  const { session } = useSession();
  const [state, reload] = useLiveData((signal) => api.assets(signal), [api], ['readiness-asset']);
  const [content, setContent] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ created: number; updated: number; refused: Refused[]; exposures: number } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    api.importInventory(content).then((r) => { setResult(r); reload(); }, (err: Error) => setError(err)).finally(() => setBusy(false));
  };
  const onFile = (f: File | undefined) => { if (f) void f.text().then(setContent); };
  return (
    <section aria-labelledby="inventory-title">
      <h1 id="inventory-title">Inventory</h1>
      <p className="muted">Assets with their products (CPE 2.3 or 2.2 names, or vendor + product + version). They are matched against the KEV catalog and CVE records: see <a href={href.exposures()}>Exposures</a>.</p>
      {mayDo(session, 'inventory.write') && <form className="card" onSubmit={submit} aria-label="Import inventory">
        <label htmlFor="inv-file">Inventory file (CSV or JSON)</label>
        <input id="inv-file" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => onFile(e.target.files?.[0])} />
        <label htmlFor="inv-text">or paste it</label>
        <textarea id="inv-text" rows={6} value={content} placeholder={EXAMPLE} onChange={(e) => setContent(e.target.value)} />
        <button type="submit" disabled={busy || !content.trim()}>Import inventory</button>
        {error && <ErrorBox error={error} title="Import failed" />}
        {result && (
          <div data-testid="inventory-result">
            <p>{result.created} created, {result.updated} updated, {result.refused.length} refused; {result.exposures} new exposures.</p>
            {result.refused.length > 0 && <ul>{result.refused.map((r, i) => <li key={i}>{r.ref}: {r.reason}</li>)}</ul>}
          </div>
        )}
      </form>}
      {state.status === 'loading' && <Loading what="the inventory" />}
      {state.status === 'error' && <ErrorBox error={state.error} title="Could not load the inventory" />}
      {state.status === 'done' && (
        <table className="data" data-testid="assets">
          <thead><tr><th>Name</th><th>Vital function</th><th>Criticality</th><th>Owner</th><th>Products</th><th>TLP</th></tr></thead>
          <tbody>
            {state.data.items.map((a) => (
              <tr key={a.id} data-testid="asset-row">
                <td>{a.name}</td><td>{a.vitalFunction ?? ''}</td><td>{a.criticality}</td><td>{a.owner ?? ''}</td>
                <td className="small"><code>{a.products.join('\n')}</code></td><td>{a.tlp ?? 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
