/** REST: the alliance directory — organisations with what they share, sharing groups, collections. */
import type { FastifyInstance } from 'fastify';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import { principalOf } from './auth.js';
import { readableCollectionIds, type RestDeps } from './context.js';
import { queryOf } from './parse.js';
import { collectionView, orgView, type CollectionView, type GroupView, type OrgSummary, type Page } from './views.js';

export async function directoryRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { store, access } = deps.platform;

  // Counts are of latest visible versions the caller may read (same policy as search), per TLP.
  app.get('/organisations', async (req): Promise<Page<OrgSummary>> => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const counts = await store.countVisibleByCreator({ collectionIds: await readableCollectionIds(deps, p), audience: access.audienceOf(p), purpose: 'read' });
    const items = (await store.listOrganisations()).map((o): OrgSummary => {
      const byTlp = Object.fromEntries([...TLP_LEVELS, 'none'].map((t) => [t, 0])) as Record<Tlp | 'none', number>;
      for (const c of counts) if (c.creatorOrg === o.id) byTlp[c.tlp ?? 'none'] += c.n;
      const total = Object.values(byTlp).reduce((a, b) => a + b, 0);
      return { ...orgView(o), shared: { total, byTlp } };
    });
    items.sort((a, b) => a.name.localeCompare(b.name));
    return { items };
  });

  app.get('/sharing-groups', async (req): Promise<Page<GroupView>> => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const groups = (await store.listGroups()).filter((g) => g.ownerOrg === p.orgId || p.groupIds.includes(g.id));
    const items: GroupView[] = [];
    for (const g of groups) items.push({ id: g.id, name: g.name, description: g.description, members: await store.groupMembers(g.id) });
    items.sort((a, b) => a.name.localeCompare(b.name));
    return { items };
  });

  app.get('/collections', async (req): Promise<Page<CollectionView>> => {
    const p = principalOf(req);
    queryOf(req.query, []);
    const rights = await access.rights(p);
    const items = (await store.listCollections())
      .map((c) => ({ c, r: rights.get(c.id) }))
      .filter(({ r }) => r && (r.canRead || r.canWrite))
      .map(({ c, r }) => collectionView(c, r!));
    return { items };
  });
}
