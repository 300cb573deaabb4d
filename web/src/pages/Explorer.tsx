import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useApi } from '../session.js';
import { useAsync } from '../useAsync.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge, tlpLabel } from '../components/TlpBadge.js';
import { href, navigate } from '../router.js';
import { STIX_TYPES } from '../stixTypes.js';
import { ExportButton } from '../components/ExportButton.js';
import { TLPS } from '../types.js';
import type { Collection, IntelSummary, OrgSummary, Page, Tlp } from '../types.js';
import type { IntelFilter } from '../api.js';

/**
 * What an analyst opens the explorer for: threat intelligence, not the directory (identities)
 * or the marking definitions every object points to. `type=any` lists every type.
 */
export const ANALYST_TYPES = STIX_TYPES.filter((t) => !['marking-definition', 'identity', 'extension-definition', 'language-content'].includes(t)).join(',');
const ANY = 'any';

/** The filter sent to the API: the default analyst types, `any` as no type filter. */
export function apiFilter(f: Required<IntelFilter>): Required<IntelFilter> {
  return { ...f, type: f.type === ANY ? '' : f.type === '' ? ANALYST_TYPES : f.type };
}

function filterFrom(params: URLSearchParams): Required<IntelFilter> {
  const tlp = (params.get('tlp') ?? '').split(',').filter((t): t is Tlp => (TLPS as readonly string[]).includes(t));
  return {
    type: params.get('type') ?? '',
    q: params.get('q') ?? '',
    label: params.get('label') ?? '',
    tlp,
    creator: params.get('creator') ?? '',
    collection: params.get('collection') ?? '',
  };
}

function paramsFrom(f: Required<IntelFilter>): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of ['type', 'q', 'label', 'creator', 'collection'] as const) if (f[k].trim()) p.set(k, f[k].trim());
  if (f.tlp.length) p.set('tlp', f.tlp.join(','));
  return p;
}

interface Props { params: URLSearchParams }

function Filters({ initial, orgs, collections }: { initial: Required<IntelFilter>; orgs: OrgSummary[]; collections: Collection[] }) {
  const [f, setF] = useState(initial);
  const set = <K extends keyof IntelFilter>(k: K, v: Required<IntelFilter>[K]) => setF((old) => ({ ...old, [k]: v }));
  function submit(e: FormEvent) {
    e.preventDefault();
    navigate(href.explorer(paramsFrom(f)));
  }
  function toggleTlp(t: Tlp) {
    set('tlp', f.tlp.includes(t) ? f.tlp.filter((x) => x !== t) : [...f.tlp, t]);
  }
  return (
    <form className="filters card" onSubmit={submit} role="search" aria-label="Filter intelligence" data-testid="filters">
      <div className="field">
        <label htmlFor="f-q">Text</label>
        <input id="f-q" type="search" value={f.q} onChange={(e) => set('q', e.target.value)} placeholder="name, description, pattern…" />
      </div>
      <div className="field">
        <label htmlFor="f-type">Type</label>
        <select id="f-type" value={f.type} onChange={(e) => set('type', e.target.value)}>
          <option value="">threat intelligence (all but identities and markings)</option>
          <option value={ANY}>any type</option>
          {STIX_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-label">Label</label>
        <input id="f-label" value={f.label} onChange={(e) => set('label', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-creator">Creator</label>
        <select id="f-creator" value={f.creator} onChange={(e) => set('creator', e.target.value)}>
          <option value="">any organisation</option>
          {orgs.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-collection">Collection</label>
        <select id="f-collection" value={f.collection} onChange={(e) => set('collection', e.target.value)}>
          <option value="">any collection</option>
          {collections.filter((c) => c.canRead).map((c) => <option key={c.id} value={c.id}>{c.title}</option>)}
        </select>
      </div>
      <fieldset className="field tlp-filter">
        <legend>TLP</legend>
        {TLPS.map((t) => (
          <label key={t} className="check">
            <input type="checkbox" checked={f.tlp.includes(t)} onChange={() => toggleTlp(t)} data-testid={`tlp-filter-${t}`} />
            <TlpBadge tlp={t} />
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit">Apply filters</button>
        <a className="button secondary" href={href.explorer()}>Clear</a>
      </div>
    </form>
  );
}

function Rows({ items, orgName }: { items: IntelSummary[]; orgName: (id: string | null) => string }) {
  return (
    <tbody>
      {items.map((it) => (
        <tr key={it.id} data-testid="intel-row" data-id={it.id} data-type={it.type} data-tlp={it.tlp ?? 'none'}
          className={it.revoked ? 'revoked' : undefined}>
          <td><TlpBadge tlp={it.tlp} /></td>
          <td><code>{it.type}</code></td>
          <td>
            <a href={href.detail(it.id)}>{it.name ?? it.id}</a>
            {it.revoked && <span className="pill">revoked</span>}
            {it.labels.length > 0 && <div className="labels">{it.labels.map((l) => <span key={l} className="label">{l}</span>)}</div>}
          </td>
          <td>{it.creatorName ?? orgName(it.creatorOrg)}</td>
          <td><time dateTime={it.modified ?? undefined}>{formatTime(it.modified)}</time></td>
        </tr>
      ))}
    </tbody>
  );
}

/**
 * A search's pages until `want` objects or the end. The server reads a bounded window of the store
 * per request (SHIELDWALL_SEARCH_SCAN_ROWS), so a rare term over a large store comes back as short
 * (even empty) pages with a cursor; they are followed here, 25 requests at most, then "Load more"
 * goes on.
 */
async function fill(api: ReturnType<typeof useApi>, f: IntelFilter, cursor: string | undefined, signal?: AbortSignal, want = 50): Promise<Page<IntelSummary>> {
  let items: IntelSummary[] = [];
  let next = cursor;
  for (let k = 0; k < 25; k++) {
    const p = await api.intel({ ...f, ...(next !== undefined ? { cursor: next } : {}) }, signal);
    items = items.concat(p.items);
    next = p.next;
    if (next === undefined || items.length >= want) break;
  }
  return next !== undefined ? { items, next } : { items };
}

export function Explorer({ params }: Props) {
  const api = useApi();
  const key = params.toString();
  const filter = useMemo(() => filterFrom(new URLSearchParams(key)), [key]);

  const refs = useAsync(async (signal) => {
    const [o, c] = await Promise.all([api.organisations(signal), api.collections(signal)]);
    return { orgs: o.items, collections: c.items };
  }, [api]);

  const first = useAsync((signal) => fill(api, apiFilter(filter), undefined, signal), [api, filter]);
  // Pages fetched with "Load more" extend one first page; a new first page (new filters) drops them.
  const [extended, setExtended] = useState<{ base: Page<IntelSummary>; page: Page<IntelSummary> } | null>(null);
  const [more, setMore] = useState<{ base: Page<IntelSummary> | null; busy: boolean; error: Error | null }>({ base: null, busy: false, error: null });
  const moreState = first.status === 'done' && more.base === first.data ? more : { busy: false, error: null };
  const pages = first.status !== 'done' ? null : extended?.base === first.data ? extended.page : first.data;

  async function loadMore() {
    if (first.status !== 'done' || !pages?.next) return;
    const base = first.data;
    setMore({ base, busy: true, error: null });
    try {
      const next = await fill(api, apiFilter(filter), pages.next);
      setExtended({ base, page: { items: [...pages.items, ...next.items], next: next.next } });
      setMore({ base, busy: false, error: null });
    } catch (e) {
      setMore({ base, busy: false, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  const orgs = refs.status === 'done' ? refs.data.orgs : [];
  const byId = new Map(orgs.map((o) => [o.id, o.name]));
  const orgName = (id: string | null) => (id ? byId.get(id) ?? id : '–');
  const active = [filter.type === ANY ? 'any type' : filter.type, filter.q && `“${filter.q}”`, filter.label && `label ${filter.label}`,
    filter.tlp.map((t) => tlpLabel(t)).join(' or '), filter.creator && orgName(filter.creator)].filter(Boolean);

  return (
    <section aria-labelledby="explorer-title">
      <h1 id="explorer-title">Intel explorer</h1>
      {refs.status === 'error' && <ErrorBox error={refs.error} title="Could not load the filter options" />}
      <Filters key={key} initial={filter} orgs={orgs} collections={refs.status === 'done' ? refs.data.collections : []} />
      {first.status === 'loading' && <Loading what="intelligence" />}
      {first.status === 'error' && <ErrorBox error={first.error} title="Could not load intelligence" />}
      {pages && (
        <>
          <p className="muted" role="status" data-testid="result-count">
            {pages.items.length} object{pages.items.length === 1 ? '' : 's'} shown{pages.next ? ' (more available)' : ''}
            {active.length > 0 && ` · ${active.join(' · ')}`}
          </p>
          {pages.items.length > 0 && <ExportButton api={api} filter={apiFilter(filter)} />}
          {pages.items.length === 0 ? (
            <p data-testid="no-results">{pages.next ? 'Nothing found yet in the part of the store searched so far: “Load more” searches on.' : 'No intelligence visible to you matches these filters.'}</p>
          ) : (
            <table className="data intel" data-testid="intel-table">
              <thead>
                <tr><th scope="col">TLP</th><th scope="col">Type</th><th scope="col">Name</th><th scope="col">Creator</th><th scope="col">Modified</th></tr>
              </thead>
              <Rows items={pages.items} orgName={orgName} />
            </table>
          )}
          {moreState.error && <ErrorBox error={moreState.error} title="Could not load more" />}
          {pages.next && (
            <button type="button" onClick={() => void loadMore()} disabled={moreState.busy} data-testid="load-more">
              {moreState.busy ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </section>
  );
}
