/**
 * One-shot, resumable pull of a peer node's TAXII 2.1 collection into a local collection.
 *
 * - The peer serves us as a federated peer: our token there is of kind 'peer', so its release
 *   policy applies the peer hop (AMBER+STRICT and RED leave a node only from the node they were
 *   created on, and only to their named recipient organisations).
 * - Every version is pulled (`match[version]=all`), page by page; each page and the cursor that
 *   follows it commit in one transaction, so an interrupted pull resumes without loss, and a
 *   re-read page is idempotent (duplicates by (id, version)).
 * - Provenance: objects keep the peer as `originNode`, so this node never forwards their
 *   AMBER+STRICT / RED content to a third node. The creator for the policy is the object's
 *   `created_by_ref` when it names an organisation registered here as living on that peer node,
 *   else the peer's organisation (`peer.orgId`). A peer can never attribute objects to an
 *   organisation of this node or of another node.
 * - Recipients: everything the peer released to us, it released to `asOrgId`, so the object is
 *   released here to that organisation too (besides the creator).
 * - Objects that fail validation or the upsert rules are counted and reported, never stop the pull.
 */
import type { Clock } from '../core/clock.js';
import { AccessService, type Principal } from '../access/index.js';
import { IntelService } from '../intel/index.js';
import type { OrgRow, Store } from '../store/index.js';
import { TaxiiClient, type TaxiiQuery, type TaxiiTlsOptions } from '../taxii/index.js';
import { cursorKey, fetchResuming, followingCursor, loadCursor, pageQuery, saveCursor, type PullCursor } from './cursor.js';
import { nodeIdentityId } from './registry.js';

export interface PeerEndpoint {
  /** Server root of the peer, e.g. https://node-a.example:8443 */
  url: string;
  /** API root name (`api1`), path or URL. */
  apiRoot: string;
  /** Collection id (or alias) on the peer. */
  collectionId: string;
  /** Token issued by the peer to `asOrgId`, of kind 'peer'. */
  token: string;
  /** Identity id, on this node, of the peer's organisation: the creator of objects without a known creator. */
  orgId?: string;
  /** Name of the peer node, recorded as originNode (default: that organisation's node, else the URL host). */
  node?: string;
  tls?: TaxiiTlsOptions;
  timeoutMs?: number;
}

/** What pull needs of a platform (the api Platform satisfies it). */
export interface PullPlatform {
  readonly store: Store;
  readonly clock: Clock;
}

export interface PullOptions {
  platform: PullPlatform;
  peer: PeerEndpoint;
  intoCollectionId: string;
  /** The local organisation the pull runs for (the peer's token is issued to it). */
  asOrgId: string;
  signal?: AbortSignal;
  /** Objects asked per page (the peer may send fewer). */
  pageSize?: number;
  /** Called after each committed page. */
  onPage?: (report: Readonly<PullReport>) => void;
}

export interface PullFailure {
  id: string | null;
  message: string;
}

export interface PullReport {
  pages: number;
  received: number;
  added: number;
  duplicates: number;
  rejected: number;
  /** The first rejections with their reasons (at most MAX_REPORTED_FAILURES). */
  failures: PullFailure[];
  cursor: PullCursor;
  /** True when the peer had nothing more. */
  complete: boolean;
}

export const MAX_REPORTED_FAILURES = 100;

export async function pull(o: PullOptions): Promise<PullReport> {
  const { platform, peer, intoCollectionId, asOrgId, signal } = o;
  const { store, clock } = platform;
  const me = await store.getOrganisation(asOrgId);
  if (!me) throw new Error(`pull: no organisation ${asOrgId} on this node`);
  if (!(await store.getCollection(intoCollectionId))) throw new Error(`pull: no collection ${intoCollectionId} on this node`);
  let peerOrg = peer.orgId ? await store.getOrganisation(peer.orgId) : null;
  if (peer.orgId && !peerOrg) throw new Error(`pull: no organisation ${peer.orgId} on this node for the peer`);
  // The fallback creator is never a local organisation: its users would read what the peer
  // released only to others (the provenance leak of issue #10).
  if (peerOrg && peerOrg.node === null) throw new Error(`pull: --peer-org ${peerOrg.shortName} is an organisation of this node; name an organisation of the peer node (or none: the peer node's own identity is used)`);
  const node = peer.node ?? peerOrg?.node ?? new URL(peer.url).host;
  // The peer node's identity when it is not registered yet: written with the first page the
  // peer answers, so a pull that never reached the peer (wrong URL or token) leaves no
  // organisation behind (it would show as a member nation on every page).
  let newNodeOrg: OrgRow | null = null;
  if (!peerOrg) {
    // No --peer-org: objects naming no organisation of the peer are attributed to the peer node's identity.
    const id = nodeIdentityId(node);
    peerOrg = await store.getOrganisation(id);
    if (!peerOrg) {
      const short = `N-${node.toUpperCase().replace(/[^A-Z0-9-]/g, '-')}`.slice(0, 16);
      peerOrg = { id, name: `Node ${node}`, shortName: (await store.listOrganisations()).some((o) => o.shortName === short) ? `N-${id.slice(10, 22).toUpperCase()}` : short, country: null, kind: 'member', node, createdUs: clock.now() * 1000 };
      newNodeOrg = peerOrg;
    }
    if (peerOrg.node === null) throw new Error(`pull: the identity of node ${node} is a local organisation`);
  }
  const fallbackOrg = peerOrg.id;
  const remoteOrgs = new Map((await store.listOrganisations()).filter((x) => x.node === node).map((x): [string, OrgRow] => [x.id, x]));

  const key = cursorKey({ url: peer.url, apiRoot: peer.apiRoot, collectionId: peer.collectionId, intoCollectionId, asOrgId });
  let cursor = await loadCursor(store, key);
  const report: PullReport = { pages: 0, received: 0, added: 0, duplicates: 0, rejected: 0, failures: [], cursor, complete: false };
  const client = new TaxiiClient({ url: peer.url, auth: { kind: 'bearer', token: peer.token }, ...(peer.tls ? { tls: peer.tls } : {}), ...(peer.timeoutMs ? { timeoutMs: peer.timeoutMs } : {}) });
  const actor = { principal: pullPrincipal(asOrgId), source: `peer:${node}` };
  const base: TaxiiQuery = { limit: o.pageSize ?? 500, match: { version: ['all'] } };
  try {
    for (;;) {
      signal?.throwIfAborted();
      // A stored `next` the peer no longer honours (e.g. its key changed): a new walk after the last committed object.
      const got = await fetchResuming(cursor, (at) => client.getObjects(peer.apiRoot, peer.collectionId, { ...pageQuery(base, at), ...(signal ? { signal } : {}) }));
      const page = got.page;
      cursor = got.cursor;
      // A peer that says `more` without moving on (same next, nothing after the last object) would loop forever.
      const following = followingCursor(cursor, page);
      // Group by creator: one submit per creator, all in one transaction with the cursor.
      const groups = new Map<string, unknown[]>();
      for (const obj of page.items) {
        const creator = creatorOf(obj, remoteOrgs) ?? fallbackOrg;
        groups.set(creator, [...(groups.get(creator) ?? []), obj]);
      }
      await store.transaction(async (tx) => {
        if (newNodeOrg) await tx.putOrganisation(newNodeOrg);
        const intel = new IntelService(tx, clock);
        let added = 0;
        for (const [creator, objs] of groups) {
          const results = await intel.submit({ principal: null, source: actor.source }, intoCollectionId, objs, {
            asOrg: creator, originNode: node, recipients: [asOrgId], preserveProvenance: true,
          });
          for (const r of results) {
            if (r.status === 'added') added++;
            else if (r.status === 'duplicate') report.duplicates++;
            else if (r.status === 'rejected') record(report, { id: r.id, message: r.message });
          }
        }
        report.added += added;
        await saveCursor(tx, key, following);
        await new AccessService(tx, clock).audit(actor, 'federation.pull', intoCollectionId, {
          peer: peer.url, node, collection: peer.collectionId, received: page.items.length, added, last: following.last ?? null,
        });
      });
      newNodeOrg = null;
      cursor = following;
      report.pages++;
      report.received += page.items.length;
      report.cursor = cursor;
      o.onPage?.(report);
      if (!page.more) {
        report.complete = true;
        return report;
      }
      // more without next (§3.5): the following walk starts after the last committed object.
      if (!page.next && !page.dateAddedLast) throw new Error('pull: the peer answered more:true without next or X-TAXII-Date-Added-Last');
    }
  } finally {
    await client.close();
  }
}

function record(report: PullReport, f: PullFailure): void {
  report.rejected++;
  if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push({ id: f.id, message: f.message.slice(0, 500) });
}

function idOf(obj: unknown): string | null {
  const id = (obj as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 200) : null;
}

/** The object's creator when it is an organisation registered here as living on the peer node. */
function creatorOf(obj: unknown, remoteOrgs: ReadonlyMap<string, OrgRow>): string | null {
  const ref = (obj as { created_by_ref?: unknown } | null)?.created_by_ref;
  return typeof ref === 'string' && remoteOrgs.has(ref) ? ref : null;
}

/** The audit identity of a pull: the local organisation it runs for, over the peer hop. */
function pullPrincipal(orgId: string): Principal {
  return Object.freeze({ orgId, userId: null, username: null, roles: Object.freeze([]), tokenId: null, kind: 'peer', groupIds: Object.freeze([]) });
}
