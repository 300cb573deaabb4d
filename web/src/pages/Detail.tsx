import { useState } from 'react';
import { useApi } from '../session.js';
import { useAsync } from '../useAsync.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { RelationshipGraph } from '../components/RelationshipGraph.js';
import { VersionDiff } from '../components/VersionDiff.js';
import { href } from '../router.js';
import type { Correlations as CorrelationsAnswer, Group, IntelDetail, OrgSummary, Relationship, SightingSummary } from '../types.js';

function Summary({ d, orgName }: { d: IntelDetail; orgName: (id: string) => string }) {
  const s = d.summary;
  const description = typeof d.object.description === 'string' ? d.object.description : null;
  return (
    <dl className="summary" data-testid="summary">
      <dt>TLP</dt><dd><TlpBadge tlp={s.tlp} /></dd>
      <dt>Type</dt><dd><code>{s.type}</code>{s.revoked && <span className="pill">revoked</span>}</dd>
      <dt>Identifier</dt><dd><code>{s.id}</code></dd>
      <dt>Creator</dt><dd>{s.creatorName ?? (s.creatorOrg ? orgName(s.creatorOrg) : '–')}</dd>
      <dt>Created</dt><dd>{formatTime(s.created)}</dd>
      <dt>Modified</dt><dd>{formatTime(s.modified)}</dd>
      <dt>Labels</dt><dd>{s.labels.length ? s.labels.map((l) => <span key={l} className="label">{l}</span>) : '–'}</dd>
      <dt>Recipients</dt><dd>{s.recipients.length ? s.recipients.map(orgName).join(', ') : '–'}</dd>
      {description && (<><dt>Description</dt><dd className="prose">{description}</dd></>)}
      <IndicatorFields o={d.object} />
    </dl>
  );
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * What an analyst reads an indicator for (STIX 2.1 §4.7): the pattern, its validity window,
 * the confidence (§3.2, 0–100) and the kill chain phases; other objects show the confidence
 * and kill chain when they carry them.
 */
function IndicatorFields({ o }: { o: Record<string, unknown> }) {
  const pattern = str(o.pattern);
  const types = Array.isArray(o.indicator_types) ? o.indicator_types.filter((t): t is string => typeof t === 'string') : [];
  const phases = Array.isArray(o.kill_chain_phases)
    ? o.kill_chain_phases.filter((k): k is { kill_chain_name: string; phase_name: string } => typeof k === 'object' && k !== null && typeof (k as { phase_name?: unknown }).phase_name === 'string')
    : [];
  const confidence = typeof o.confidence === 'number' ? o.confidence : null;
  return (
    <>
      {pattern && (<><dt>Pattern{str(o.pattern_type) ? ` (${str(o.pattern_type) ?? ''})` : ''}</dt><dd><code className="pattern" data-testid="indicator-pattern">{pattern}</code></dd></>)}
      {types.length > 0 && (<><dt>Indicator types</dt><dd>{types.join(', ')}</dd></>)}
      {str(o.valid_from) && (<><dt>Valid from</dt><dd data-testid="indicator-valid-from">{formatTime(str(o.valid_from) ?? '')}</dd></>)}
      {o.type === 'indicator' && (<><dt>Valid until</dt><dd data-testid="indicator-valid-until">{str(o.valid_until) ? formatTime(str(o.valid_until) ?? '') : 'no end given'}</dd></>)}
      {confidence !== null && (<><dt>Confidence</dt><dd data-testid="confidence">{confidence} / 100</dd></>)}
      {phases.length > 0 && (<><dt>Kill chain</dt><dd data-testid="kill-chain">{phases.map((k) => <span key={`${k.kill_chain_name}:${k.phase_name}`} className="label">{k.kill_chain_name}: {k.phase_name}</span>)}</dd></>)}
    </>
  );
}

function Versions({ d }: { d: IntelDetail }) {
  const latestIndex = d.versions.length - 1;
  const [selected, setSelected] = useState(latestIndex);
  const latest = d.versions[latestIndex];
  const chosen = d.versions[selected] ?? latest;
  if (!latest || !chosen) return <p className="muted">No version history is visible to you.</p>;
  return (
    <div className="versions">
      <label htmlFor="version-select">Version</label>
      <select id="version-select" value={selected} onChange={(e) => setSelected(Number(e.target.value))} data-testid="version-select">
        {d.versions.map((v, i) => (
          <option key={`${v.version}-${i}`} value={i}>
            {formatTime(v.version)}{i === latestIndex ? ' (latest)' : ''} · added {formatTime(v.dateAdded)}
          </option>
        ))}
      </select>
      <p className="muted" data-testid="version-count">
        {d.versionsTruncated
          ? `the newest ${d.versions.length} versions (more are visible through TAXII's versions endpoint)`
          : `${d.versions.length} version${d.versions.length === 1 ? '' : 's'} visible`}
      </p>
      <VersionDiff selected={chosen.object} latest={latest.object} />
      <details>
        <summary>STIX of the selected version</summary>
        <pre className="json" data-testid="version-json">{JSON.stringify(chosen.object, null, 2)}</pre>
      </details>
    </div>
  );
}

function RelationshipList({ rels, selfId }: { rels: Relationship[]; selfId: string }) {
  if (rels.length === 0) return <p className="muted">No relationships visible to you.</p>;
  const end = (id: string, ref: Relationship['source']) =>
    id === selfId ? <em>this object</em>
      : ref ? <><a href={href.detail(id)}>{ref.name ?? id}</a> <span className="muted">({ref.type})</span></>
        : <span className="muted" title={id}>an object not visible to you</span>;
  return (
    <table className="data" data-testid="relationship-table">
      <thead><tr><th scope="col">Source</th><th scope="col">Relationship</th><th scope="col">Target</th></tr></thead>
      <tbody>
        {rels.map((r) => (
          <tr key={r.id} data-testid="relationship-row">
            <td>{end(r.source_ref, r.source)}</td>
            <td><a href={href.detail(r.id)}><code>{r.relationship_type}</code></a></td>
            <td>{end(r.target_ref, r.target)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The same observable values in other organisations' objects (only those this user may see),
 * and the warninglists a value is on (known-benign: detection does not alert on it).
 */
function CorrelationList({ c }: { c: CorrelationsAnswer | null }) {
  if (c === null) return <p className="muted">Correlations are not available.</p>;
  if (c.values.length === 0) return <p className="muted">No observable values in this object.</p>;
  return (
    <ul className="correlations" data-testid="correlations">
      {c.values.map((v) => (
        <li key={`${v.kind}:${v.value}`} data-testid="correlated-value" data-value={v.value}>
          <code>{v.value}</code> <span className="pill">{v.kind}</span>
          {v.warninglist && <span className="pill warn" data-testid="warninglist" title="On a warninglist of known-benign values: matches are suppressed">warninglist: {v.warninglist.name}</span>}
          {v.excluded && <span className="pill">excluded from correlation</span>}
          {v.frequent && <span className="pill" title={`Seen in more than ${c.cap} objects: not linked`}>frequent</span>}
          {v.links.length === 0 ? <span className="muted"> — no other object you can see</span> : (
            <ul>
              {v.links.map((l) => (
                <li key={l.id}><TlpBadge tlp={l.tlp} /> <a href={href.detail(l.id)}>{l.name ?? l.id}</a> <span className="muted">({l.type}{l.creatorName ? `, ${l.creatorName}` : ''}{l.via ? `, via ${l.via}` : ''})</span></li>
              ))}
            </ul>
          )}
        </li>
      ))}
      {c.truncated && <li className="muted">More links exist than are shown.</li>}
      {c.indexing && <li className="muted">The correlation index is still catching up with recent intelligence: some links may not be shown yet.</li>}
    </ul>
  );
}

/** Sightings of an indicator the reader may see: the producer learns how often and where it fired. */
function Sightings({ s }: { s: SightingSummary }) {
  if (s.total === 0) return <p className="muted" data-testid="sightings-none">No sightings you can see.</p>;
  return (
    <table className="data" data-testid="sightings">
      <thead><tr><th>Seen by</th><th>Times</th><th>First seen</th><th>Last seen</th></tr></thead>
      <tbody>
        {s.organisations.map((o) => (
          <tr key={o.orgId ?? 'anonymous'} data-testid="sighting-row">
            <td>{o.name ?? (o.orgId ? o.orgId : 'an alliance member (anonymised)')}</td>
            <td>{o.count}</td><td>{formatTime(o.firstSeen)}</td><td>{formatTime(o.lastSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Detail({ id }: { id: string }) {
  const api = useApi();
  const state = useAsync(async (signal) => {
    // Names are a nicety: the object still shows if the directory cannot be read.
    const [detail, orgs, groups, correlations, sightings] = await Promise.all([
      api.intelDetail(id, signal),
      api.organisations(signal).then((o) => o.items).catch((): OrgSummary[] => []),
      api.sharingGroups(signal).then((g) => g.items).catch((): Group[] => []),
      api.correlations(id, signal).catch((): CorrelationsAnswer | null => null),
      id.startsWith('indicator--') ? api.sightings(id, signal).catch((): SightingSummary | null => null) : Promise.resolve(null),
    ]);
    return { detail, orgs, groups, correlations, sightings };
  }, [api, id]);
  if (state.status === 'loading') return <Loading what="the object" />;
  if (state.status === 'error') {
    return (
      <section>
        <h1>Object</h1>
        <ErrorBox error={state.error} title="Could not load this object" />
        <p><a href={href.explorer()}>Back to the explorer</a></p>
      </section>
    );
  }
  const { detail: d, orgs, groups, correlations, sightings } = state.data;
  const names = new Map([...orgs, ...groups].map((o) => [o.id, o.name]));
  const orgName = (oid: string) => names.get(oid) ?? oid;
  const s = d.summary;
  return (
    <article aria-labelledby="detail-title" data-testid="detail">
      <p><a href={href.explorer()}>← Intel explorer</a></p>
      <h1 id="detail-title"><TlpBadge tlp={s.tlp} /> {s.name ?? s.id}</h1>
      <div className="detail-grid">
        <section aria-labelledby="summary-title" className="card">
          <h2 id="summary-title">Summary</h2>
          <Summary d={d} orgName={orgName} />
        </section>
        <section aria-labelledby="graph-title" className="card">
          <h2 id="graph-title">Relationship graph</h2>
          <RelationshipGraph centre={{ id: s.id, type: s.type, name: s.name, visible: true }} relationships={d.relationships} />
        </section>
      </div>
      <section aria-labelledby="rels-title">
        <h2 id="rels-title">Relationships</h2>
        <RelationshipList rels={d.relationships} selfId={s.id} />
      </section>
      {sightings && (
        <section aria-labelledby="sightings-title">
          <h2 id="sightings-title">Sightings ({sightings.total})</h2>
          <Sightings s={sightings} />
        </section>
      )}
      <section aria-labelledby="corr-title">
        <h2 id="corr-title">Correlations</h2>
        <CorrelationList c={correlations} />
      </section>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <Versions d={d} />
      </section>
      <section aria-labelledby="raw-title">
        <h2 id="raw-title">Raw STIX</h2>
        <pre className="json" data-testid="raw-stix">{JSON.stringify(d.object, null, 2)}</pre>
      </section>
    </article>
  );
}
