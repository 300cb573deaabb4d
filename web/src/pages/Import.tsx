import { useState } from 'react';
import type { ChangeEvent, FormEvent } from 'react';
import { mayDo, useApi, useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { tlpLabel } from '../components/TlpBadge.js';
import { href } from '../router.js';
import { TLPS } from '../types.js';
import type { Group, ImportResult, OrgSummary, Tlp } from '../types.js';

/** Checks the pasted or chosen text is a STIX bundle before sending it, for a faster, clearer error. */
export function checkBundle(text: string): string | null {
  if (!text.trim()) return 'Choose a file or paste a STIX bundle.';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `The bundle is not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (typeof doc !== 'object' || doc === null || (doc as { type?: unknown }).type !== 'bundle') {
    return 'The JSON is not a STIX bundle (its "type" must be "bundle").';
  }
  if (!Array.isArray((doc as { objects?: unknown }).objects)) return 'The bundle has no "objects" array.';
  return null;
}

function Recipients({ orgs, groups, chosen, toggle }: {
  orgs: OrgSummary[]; groups: Group[]; chosen: string[]; toggle: (id: string) => void;
}) {
  const box = (id: string, label: string) => (
    <label key={id} className="check">
      <input type="checkbox" checked={chosen.includes(id)} onChange={() => toggle(id)} data-testid="recipient" value={id} />
      {label}
    </label>
  );
  return (
    <fieldset className="recipients" data-testid="recipients">
      <legend>Recipients</legend>
      <p className="muted small">Organisations and sharing groups that may read TLP:AMBER, AMBER+STRICT and RED objects.</p>
      <div className="recipient-columns">
        <div role="group" aria-label="Organisations">
          <h3>Organisations</h3>
          {orgs.map((o) => box(o.id, o.name))}
        </div>
        <div role="group" aria-label="Sharing groups">
          <h3>Sharing groups</h3>
          {groups.length ? groups.map((g) => box(g.id, g.name)) : <p className="muted">none</p>}
        </div>
      </div>
    </fieldset>
  );
}

function Result({ r }: { r: ImportResult }) {
  return (
    <section className="card result" aria-labelledby="result-title" data-testid="import-result" role="status">
      <h2 id="result-title">Import result</h2>
      <dl className="counts">
        <div><dt>Objects</dt><dd data-testid="result-total">{r.total}</dd></div>
        <div><dt>Added</dt><dd data-testid="result-added">{r.added}</dd></div>
        <div><dt>Duplicates</dt><dd data-testid="result-duplicates">{r.duplicates}</dd></div>
        <div><dt>Rejected</dt><dd data-testid="result-rejected">{r.rejected}</dd></div>
      </dl>
      {r.errors.length > 0 && (
        <>
          <h3>First errors</h3>
          <ul className="import-errors" data-testid="import-errors">
            {r.errors.slice(0, 20).map((e) => (
              <li key={`${e.index}-${e.id ?? ''}`}>Object #{e.index}{e.id ? <> (<code>{e.id}</code>)</> : null}: {e.message}</li>
            ))}
          </ul>
        </>
      )}
      {r.added > 0 && <p><a href={href.explorer()}>See the intelligence in the explorer</a></p>}
    </section>
  );
}

export function Import() {
  const { session } = useSession();
  // A deep link (#/import) reaches the page without its menu entry: say why the form is absent
  // rather than offer one the server refuses (intel.write: POST /intel/import).
  if (!mayDo(session, 'intel.write')) {
    return (
      <section aria-labelledby="import-title">
        <h1 id="import-title">Import a STIX bundle</h1>
        <p role="alert" data-testid="not-allowed">Your roles do not allow importing intelligence (permission <code>intel.write</code>).</p>
      </section>
    );
  }
  return <ImportForm />;
}

function ImportForm() {
  const api = useApi();
  const refs = useAsync(async (signal) => {
    const [c, o, g] = await Promise.all([api.collections(signal), api.organisations(signal), api.sharingGroups(signal)]);
    return { collections: c.items.filter((x) => x.canWrite), orgs: o.items, groups: g.items };
  }, [api]);
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [collection, setCollection] = useState('');
  const [tlp, setTlp] = useState<Tlp | ''>('');
  const [recipients, setRecipients] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);

  async function onFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    if (!file) return;
    setFileName(file.name);
    setText(await file.text());
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setResult(null);
    const problem = checkBundle(text);
    const target = collection || (refs.status === 'done' ? refs.data.collections[0]?.id ?? '' : '');
    if (problem) { setError(new Error(problem)); return; }
    if (!target) { setError(new Error('Choose a collection you may write to.')); return; }
    setError(null);
    setBusy(true);
    try {
      setResult(await api.importBundle(text, { collection: target, tlp, recipients }));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  if (refs.status === 'loading') return <Loading what="import options" />;
  if (refs.status === 'error') return <ErrorBox error={refs.error} title="Could not load import options" />;
  const { collections, orgs, groups } = refs.data;
  const toggle = (id: string) => setRecipients((r) => (r.includes(id) ? r.filter((x) => x !== id) : [...r, id]));

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">Import a STIX bundle</h1>
      {collections.length === 0 ? (
        <p role="alert">You may not write to any collection, so you cannot import.</p>
      ) : (
        <form className="card import-form" onSubmit={submit} data-testid="import-form">
          <label htmlFor="import-file">Bundle file</label>
          <input id="import-file" type="file" accept=".json,application/json,application/stix+json" onChange={(e) => void onFile(e)} />
          {fileName && <p className="muted small">Loaded {fileName}; you can edit it below.</p>}
          <label htmlFor="import-json">…or paste the bundle JSON</label>
          <textarea id="import-json" rows={10} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)}
            placeholder='{"type": "bundle", "id": "bundle--…", "objects": […]}' />
          <div className="row">
            <div className="field">
              <label htmlFor="import-collection">Collection</label>
              <select id="import-collection" value={collection || collections[0]?.id} onChange={(e) => setCollection(e.target.value)}>
                {collections.map((c) => <option key={c.id} value={c.id}>{c.title}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="import-tlp">TLP for unmarked objects</label>
              <select id="import-tlp" value={tlp} onChange={(e) => setTlp(e.target.value as Tlp | '')}>
                <option value="">leave unmarked (creator only)</option>
                {TLPS.map((t) => <option key={t} value={t}>{tlpLabel(t)}</option>)}
              </select>
            </div>
          </div>
          <Recipients orgs={orgs} groups={groups} chosen={recipients} toggle={toggle} />
          {error && <ErrorBox error={error} title="Import failed" />}
          <button type="submit" disabled={busy}>{busy ? 'Importing…' : 'Import'}</button>
        </form>
      )}
      {result && <Result r={result} />}
    </section>
  );
}
