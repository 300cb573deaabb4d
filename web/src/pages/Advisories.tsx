/** Advisories: CSAF 2.0 documents the reader may see; import one (VEX statements clear exposures); download as CSAF. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useExposureApi, type VexOutcome } from '../exposureApi.js';
import { saveBlob } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { mayDo, useSession } from '../session.js';

export function Advisories() {
  const api = useExposureApi();
  const { session } = useSession();
  const [state, reload] = useLiveData((signal) => api.advisories(signal), [api], ['readiness-advisory', 'readiness-exposure']);
  const [text, setText] = useState('');
  const [outcomes, setOutcomes] = useState<VexOutcome[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [downloadError, setDownloadError] = useState<Error | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      setError(new Error(`not JSON: ${(err as Error).message}`));
      return;
    }
    setBusy(true);
    api.importAdvisory(doc).then((r) => { setOutcomes(r.outcomes); reload(); }, (err: Error) => setError(err)).finally(() => setBusy(false));
  };
  const download = (id: string, trackingId: string) => {
    setDownloadError(null);
    api.csaf(id).then((b) => saveBlob(b, `${trackingId.toLowerCase().replace(/[^+\-a-z0-9]+/g, '_')}.json`), (err: Error) => setDownloadError(err));
  };
  return (
    <section aria-labelledby="advisories-title">
      <h1 id="advisories-title">Advisories</h1>
      {mayDo(session, 'advisory.write') && <form className="card" onSubmit={submit} aria-label="Import CSAF advisory">
        <label htmlFor="csaf-file">CSAF 2.0 document (security advisory or VEX)</label>
        <input id="csaf-file" type="file" accept=".json,application/json" onChange={(e) => { const f = e.target.files?.[0]; if (f) void f.text().then(setText); }} />
        <textarea aria-label="CSAF JSON" rows={6} value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" disabled={busy || !text.trim()}>Import advisory</button>
        {error && <ErrorBox error={error} title="Import failed" />}
        {outcomes && (
          <ul data-testid="vex-outcomes">
            {outcomes.length === 0 && <li>No exposure of your organisation is named by this advisory.</li>}
            {outcomes.map((o) => <li key={o.exposure}>{o.cve}: {o.action === 'cleared' ? `cleared (${o.status.replace('_', ' ')})` : 'linked'}</li>)}
          </ul>
        )}
      </form>}
      {downloadError && <ErrorBox error={downloadError} title="Could not download the advisory" />}
      {state.status === 'loading' && <Loading what="the advisories" />}
      {state.status === 'error' && <ErrorBox error={state.error} title="Could not load the advisories" />}
      {state.status === 'done' && (
        <table className="data" data-testid="advisories">
          <thead><tr><th>Tracking id</th><th>Title</th><th>Publisher</th><th>CVEs</th><th>TLP</th><th /></tr></thead>
          <tbody>
            {state.data.items.map((a) => (
              <tr key={a.id} data-testid="advisory-row">
                <td>{a.trackingId}</td><td>{a.title}</td><td>{a.publisher}</td><td className="small">{a.cves.join(' ')}</td><td>{a.tlp ?? 'none'}</td>
                <td><button type="button" className="link-button" onClick={() => download(a.id, a.trackingId)}>CSAF</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
