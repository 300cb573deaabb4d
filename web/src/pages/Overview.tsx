import { useApi, useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { href } from '../router.js';
import { TLPS } from '../types.js';
import type { Collection, Group, OrgSummary } from '../types.js';

function explorerFor(orgId: string): string {
  return href.explorer(new URLSearchParams({ creator: orgId }));
}

function OrgTable({ orgs, caption, ownOrg }: { orgs: OrgSummary[]; caption: string; ownOrg: string | undefined }) {
  if (orgs.length === 0) return <p className="muted">No {caption.toLowerCase()}.</p>;
  return (
    <table className="data" data-testid="org-table">
      <caption>{caption}</caption>
      <thead>
        <tr><th scope="col">Organisation</th><th scope="col">Country</th><th scope="col">Shared with you</th><th scope="col">By TLP</th></tr>
      </thead>
      <tbody>
        {orgs.map((o) => (
          <tr key={o.id} data-testid="org-row" data-org-id={o.id}>
            <th scope="row">
              <span className="org-name">{o.name}</span> <span className="muted">({o.shortName})</span>
              {o.id === ownOrg && <span className="pill">your organisation</span>}
              {o.node && <span className="pill" data-testid="org-node" title="It lives on (or is reached through) that peer node: its objects come from there by federation">{o.node === '(detached)' ? 'of no peer node' : `on node ${o.node}`}</span>}
            </th>
            <td>{o.country ?? '–'}</td>
            <td><a href={explorerFor(o.id)} data-testid="org-shared-total">{o.shared.total}</a></td>
            <td className="badges">
              {TLPS.filter((t) => (o.shared.byTlp[t] ?? 0) > 0).map((t) => <TlpBadge key={t} tlp={t} count={o.shared.byTlp[t]} />)}
              {(o.shared.byTlp.none ?? 0) > 0 && <TlpBadge tlp={null} count={o.shared.byTlp.none} />}
              {o.shared.total === 0 && <span className="muted">nothing yet</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Groups({ groups, orgName }: { groups: Group[]; orgName: (id: string) => string }) {
  if (groups.length === 0) return <p className="muted">Your organisation is in no sharing group.</p>;
  return (
    <ul className="groups" data-testid="group-list">
      {groups.map((g) => (
        <li key={g.id} className="card" data-testid="group">
          <h3>{g.name}</h3>
          {g.description && <p>{g.description}</p>}
          <p className="muted">Members: {g.members.map(orgName).join(', ') || 'none'}</p>
        </li>
      ))}
    </ul>
  );
}

function Collections({ items }: { items: Collection[] }) {
  if (items.length === 0) return <p className="muted">No collection is open to you.</p>;
  return (
    <table className="data" data-testid="collection-table">
      <thead>
        <tr><th scope="col">Collection</th><th scope="col">API root</th><th scope="col">Read</th><th scope="col">Write</th></tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.id} data-testid="collection-row">
            <th scope="row">
              <a href={href.explorer(new URLSearchParams({ collection: c.id }))}>{c.title}</a>
              {c.alias && <span className="muted"> ({c.alias})</span>}
              {c.description && <div className="muted small">{c.description}</div>}
            </th>
            <td><code>{c.apiRoot}</code></td>
            <td>{c.canRead ? <span className="flag yes">read</span> : <span className="flag no">no</span>}</td>
            <td>{c.canWrite ? <span className="flag yes">write</span> : <span className="flag no">no</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Overview() {
  const api = useApi();
  const { session } = useSession();
  const state = useAsync(async (signal) => {
    const [orgs, groups, collections] = await Promise.all([
      api.organisations(signal), api.sharingGroups(signal), api.collections(signal),
    ]);
    return { orgs: orgs.items, groups: groups.items, collections: collections.items };
  }, [api]);

  if (state.status === 'loading') return <Loading what="the alliance overview" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the overview" />;
  const { orgs, groups, collections } = state.data;
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const orgName = (id: string) => byId.get(id)?.shortName ?? byId.get(id)?.name ?? id;
  const ownOrg = session?.user.orgId;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Alliance overview</h1>
      <h2>Organisations</h2>
      <OrgTable caption="Member nations" orgs={orgs.filter((o) => o.kind === 'member')} ownOrg={ownOrg} />
      <OrgTable caption="Alliance bodies" orgs={orgs.filter((o) => o.kind === 'alliance-body')} ownOrg={ownOrg} />
      <h2>Your sharing groups</h2>
      <Groups groups={groups} orgName={orgName} />
      <h2>Collections</h2>
      <Collections items={collections} />
    </section>
  );
}
