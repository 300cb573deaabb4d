/**
 * Downloads the explorer's current selection as a STIX bundle. The export needs the bearer
 * token, so it is fetched and handed to the browser as a blob rather than linked directly.
 */
import { useState } from 'react';
import type { Client, IntelFilter } from '../api.js';
import { ErrorBox } from './Status.js';

function save(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/stix+json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke later: some browsers start reading the blob only after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportButton({ api, filter }: { api: Client; filter: Required<IntelFilter> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (!filter.collection) {
    return <p className="muted small">Choose a collection to export the selection as a STIX bundle.</p>;
  }
  async function run() {
    setBusy(true);
    setError(null);
    try {
      const text = await api.exportBundle(filter);
      save(text, `shieldwall-export-${new Date().toISOString().slice(0, 10)}.json`);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="export">
      <button type="button" className="secondary" onClick={() => void run()} disabled={busy} data-testid="export">
        {busy ? 'Exporting…' : 'Export as STIX bundle'}
      </button>
      <span className="muted small"> TLP:RED objects are never included in exports.</span>
      {error && <ErrorBox error={error} title="Export failed" />}
    </div>
  );
}
