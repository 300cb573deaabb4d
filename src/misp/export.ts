/**
 * One event out of the store as MISP JSON, for a reader: the report or grouping and the
 * objects it references, each read under the release policy (purpose `read`), so an object the
 * reader may not see is simply absent from the event, and an event the reader may not see is
 * NOT_FOUND — indistinguishable from one that does not exist (DESIGN §2.1).
 */
import { AppError } from '../core/errors.js';
import type { Audience } from '../core/policy.js';
import type { Releasability } from './policy.js';
import type { Store } from '../store/index.js';
import { stixToMisp, type ToMispResult } from './to-misp.js';
import type { StixObj } from './to-stix.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHUNK = 500;

/** The container ids an event reference may name: a STIX report/grouping id or the MISP event uuid. */
export function containerIds(ref: string): string[] {
  if (/^(report|grouping)--/.test(ref) && UUID.test(ref.slice(ref.indexOf('--') + 2))) return [ref.toLowerCase()];
  if (UUID.test(ref)) return [`report--${ref.toLowerCase()}`, `grouping--${ref.toLowerCase()}`];
  throw new AppError('BAD_REQUEST', `"${ref.slice(0, 80)}" is neither a MISP event uuid nor a report/grouping id`);
}

export interface EventObjects {
  container: StixObj;
  objects: StixObj[];
  recipients: string[];
  creatorOrg: string | null;
  /** The collection the container was read from. */
  collectionId: string;
  /** The release facts the node enforces for each object read (its TLP and recipients, beside the object: DESIGN §2.8). */
  release: Map<string, Releasability>;
}

/** A row's release facts: an object without a TLP is AMBER to its creator alone (DESIGN §2.1). */
const releaseOfRow = (r: { tlp: Releasability['tlp'] | null; recipients: string[] }): Releasability => ({ tlp: r.tlp ?? 'amber', recipients: r.recipients });

export async function loadEventObjects(store: Store, q: { audience: Audience; collectionIds: readonly string[]; ref: string }): Promise<EventObjects> {
  const base = { collectionIds: q.collectionIds, audience: q.audience, purpose: 'read' as const, version: { kind: 'last' as const } };
  const head = await store.queryObjects({ ...base, ids: containerIds(q.ref), limit: 2 * Math.max(1, q.collectionIds.length) });
  // The event is its newest live container: a revoked one is a deleted event, or a grouping whose
  // event was published since (a report of the same uuid replaces it; misp/revoke.ts).
  const row = head.rows.filter((r) => !r.revoked).sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0))[0];
  if (!row) throw new AppError('NOT_FOUND', `no event ${q.ref.slice(0, 80)}`);
  const container = JSON.parse(row.json) as StixObj;
  // The creator's identity travels with the event (its name is the MISP Orgc name), when readable.
  const creatorRef = typeof container.created_by_ref === 'string' ? [container.created_by_ref] : [];
  const refs = [...new Set([...(Array.isArray(container.object_refs) ? container.object_refs : []), ...creatorRef].filter((r): r is string => typeof r === 'string'))];
  const objects: StixObj[] = [container];
  const release = new Map<string, Releasability>([[container.id, releaseOfRow(row)]]);
  const seen = new Set<string>([container.id]);
  for (let i = 0; i < refs.length; i += CHUNK) {
    // A turn of the event loop between chunks: a 20,000-attribute event is 160 queries, and
    // requests in between must not wait for all of them (DESIGN §2.7).
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const ids = refs.slice(i, i + CHUNK);
    const page = await store.queryObjects({ ...base, ids, limit: ids.length * Math.max(1, q.collectionIds.length) });
    for (const r of page.rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      objects.push(JSON.parse(r.json) as StixObj);
      release.set(r.id, releaseOfRow(r));
    }
  }
  return { container, objects, recipients: row.recipients, creatorOrg: row.creatorOrg, collectionId: row.collectionId, release };
}

/**
 * The names a reader may see, by identity id: every organisation, and the sharing groups it owns
 * or belongs to — a sharing group is named only to its owner and members (as GET /sharing-groups
 * lists them): to any other reader of the event it is a recipient id without a name.
 */
export async function namesFor(store: Store, audience: Audience): Promise<ReadonlyMap<string, string>> {
  const groups = (await store.listGroups()).filter((g) => audience.hop !== 'public' && (g.ownerOrg === audience.orgId || audience.groupIds.includes(g.id)));
  return new Map([...(await store.listOrganisations()).map((o) => [o.id, o.name] as const), ...groups.map((g) => [g.id, g.name] as const)]);
}

export async function exportMispEvent(store: Store, q: { audience: Audience; collectionIds: readonly string[]; ref: string }): Promise<ToMispResult> {
  const { container, objects, recipients, release } = await loadEventObjects(store, q);
  return stixToMisp(container.id, objects, { orgNames: await namesFor(store, q.audience), recipients, release });
}
