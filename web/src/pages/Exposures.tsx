/**
 * Exposures: the reader's exposures (asset × CVE), highest priority first, with filters and
 * status changes; the own figures and the alliance view (per KEV entry: how many members are
 * exposed — counts only), and the KEV exposure trend (own and alliance-wide, per day).
 */
import { useState } from 'react';
import { useExposureApi, type Exposure } from '../exposureApi.js';
import { useLiveData } from '../live.js';
import { useSession } from '../session.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { KevTrendChart } from '../components/KevTrendChart.js';

const STATUSES = ['open', 'mitigated', 'accepted', 'false_positive'];

function StatusChange({ e, onDone }: { e: Exposure; onDone: () => void }) {
  const api = useExposureApi();
  const [error, setError] = useState<Error | null>(null);
  return (
    <>
      <select aria-label={`Status of ${e.cve} on ${e.assetName}`} value={e.status} data-testid="exposure-status"
        onChange={(ev) => { setError(null); api.setStatus(e.id, ev.target.value, 'changed in the web app').then(onDone, (err: Error) => setError(err)); }}>
        {STATUSES.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
      </select>
      {error && <span className="error small">{error.message}</span>}
    </>
  );
}

export function Exposures() {
  const api = useExposureApi();
  const { session } = useSession();
  const [status, setStatus] = useState('open');
  const [kevOnly, setKevOnly] = useState(false);
  const filter = { ...(status ? { status } : {}), ...(kevOnly ? { kev: 'true' } : {}) };
  const [list, reload] = useLiveData((signal) => api.exposures(signal, filter), [api, status, kevOnly], ['readiness-exposure', 'alert']);
  const [sum] = useLiveData((signal) => api.summary(signal), [api], ['readiness-exposure', 'alert']);
  const [trend] = useLiveData((signal) => api.trend(signal), [api], ['readiness-exposure']);
  const mayChange = (session?.permissions ?? []).includes('exposure.write');
  return (
    <section aria-labelledby="exposures-title">
      <h1 id="exposures-title">Exposures</h1>
      {sum.status === 'done' && (
        <div className="cards">
          <div className="card" data-testid="own-summary"><h2>Your organisation</h2>
            <p><strong data-testid="own-open">{sum.data.own.open}</strong> open, <strong data-testid="own-kev">{sum.data.own.kev}</strong> known exploited, <strong>{sum.data.own.overdue}</strong> overdue</p></div>
          <div className="card" data-testid="alliance-summary"><h2>Alliance</h2>
            <p>{sum.data.alliance.members} member{sum.data.alliance.members === 1 ? '' : 's'} exposed to a KEV entry</p>
            <table className="data small"><thead><tr><th>KEV entry</th><th>Members exposed</th></tr></thead>
              <tbody>{sum.data.alliance.kev.slice(0, 20).map((k) => <tr key={k.cve} data-testid="alliance-kev"><td>{k.cve} {k.name}</td><td data-testid={`alliance-count-${k.cve}`}>{k.members}</td></tr>)}</tbody></table></div>
        </div>
      )}
      <section aria-labelledby="kev-trend-title" className="card">
        <h2 id="kev-trend-title">KEV exposure trend (90 days)</h2>
        {trend.status === 'error' && <ErrorBox error={trend.error} title="Could not load the trend" />}
        {trend.status === 'done' && (trend.data.own.length + trend.data.alliance.length === 0
          ? <p className="muted" data-testid="kev-trend-empty">No snapshot yet: the node takes one every 10 minutes.</p>
          : <KevTrendChart trend={trend.data} />)}
      </section>
      <div className="inline-form" role="group" aria-label="Filters">
        <label htmlFor="exp-status">Status</label>
        <select id="exp-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>{STATUSES.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
        </select>
        <label><input type="checkbox" checked={kevOnly} onChange={(e) => setKevOnly(e.target.checked)} /> known exploited only</label>
      </div>
      {list.status === 'loading' && <Loading what="the exposures" />}
      {list.status === 'error' && <ErrorBox error={list.error} title="Could not load the exposures" />}
      {list.status === 'done' && (list.data.items.length === 0 ? <p className="muted">No exposures match.</p> : (
        <table className="data" data-testid="exposures">
          <thead><tr><th>CVE</th><th>Asset</th><th>Product</th><th>KEV</th><th>EPSS</th><th>CVSS</th><th>Due</th><th>Match</th><th>Status</th></tr></thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.id} data-testid="exposure-row" data-cve={e.cve} data-asset={e.assetName}>
                <td>{e.cve}</td><td>{e.assetName} <span className="muted small">({e.criticality})</span></td><td className="small"><code>{e.product}</code></td>
                <td>{e.kev ? (e.ransomware ? 'KEV · ransomware' : 'KEV') : ''}</td><td>{e.epss ?? ''}</td><td>{e.cvss ?? ''}</td>
                <td>{e.dueDate}{e.cisaDueDate && <span className="muted small"> (CISA {e.cisaDueDate})</span>}</td>
                <td className="small">{e.confidence === 'product' ? 'product (version unconfirmed)' : 'version'}</td>
                <td>{mayChange && e.orgId === session?.organisation?.id ? <StatusChange e={e} onDone={reload} /> : e.status.replace('_', ' ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
