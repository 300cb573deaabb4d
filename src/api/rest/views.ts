/**
 * Wire types of the REST API (docs/rest-api.md) and the mapping from store rows to them.
 * The web shell declares the same shapes in web/src/types.ts.
 */
import { formatMicros } from '../../core/time.js';
import type { Tlp } from '../../core/policy.js';
import type { AuditRow, CollectionRow, OrgRow, Role, UserRow, ObjectRow } from '../../store/index.js';
import { versionLabel } from '../../intel/index.js';

export interface UserView { id: string; username: string; displayName: string; orgId: string; roles: Role[] }
/** `node`: the peer node the organisation lives on or is reached through (docs/federation.md), null for one of this node. */
export interface OrgView { id: string; name: string; shortName: string; country: string | null; kind: OrgRow['kind']; node: string | null }
export interface OrgSummary extends OrgView { shared: { total: number; byTlp: Record<Tlp | 'none', number> } }
export interface GroupView { id: string; name: string; description: string; members: string[] }
export interface CollectionView { id: string; apiRoot: string; title: string; description: string; alias: string | null; canRead: boolean; canWrite: boolean }
export interface IntelSummary {
  id: string; type: string; name: string | null; tlp: Tlp | null; created: string | null; modified: string | null;
  creatorOrg: string | null; creatorName: string | null; labels: string[]; revoked: boolean; collectionId: string; recipients: string[];
}
export interface RelatedRef { id: string; type: string; name: string | null }
export interface RelationshipView {
  id: string; relationship_type: string; source_ref: string; target_ref: string; source: RelatedRef | null; target: RelatedRef | null;
}
export interface IntelDetail {
  object: Record<string, unknown>; summary: IntelSummary;
  versions: { version: string; dateAdded: string; object: Record<string, unknown> }[];
  /** True when the object has more visible versions than `versions` lists (the newest are listed). */
  versionsTruncated: boolean;
  relationships: RelationshipView[];
}
export interface ImportResult { total: number; added: number; duplicates: number; rejected: number; errors: { index: number; id: string | null; message: string }[] }
export interface AuditEntry {
  id: number; at: string; userId: string | null; orgId: string | null; tokenId: string | null; source: string | null;
  action: string; target: string | null; detail: unknown;
  /** The user's name (REST `GET /audit`, for the caller's organisation's users). */
  username?: string | null;
}
export interface Page<T> { items: T[]; next?: string }

export const userView = (u: UserRow): UserView => ({ id: u.id, username: u.username, displayName: u.displayName, orgId: u.orgId, roles: [...u.roles] });

export const orgView = (o: OrgRow): OrgView => ({ id: o.id, name: o.name, shortName: o.shortName, country: o.country, kind: o.kind, node: o.node ?? null });

export const collectionView = (c: CollectionRow, r: { canRead: boolean; canWrite: boolean }): CollectionView => ({
  id: c.id, apiRoot: c.apiRoot, title: c.title, description: c.description, alias: c.alias, canRead: r.canRead, canWrite: r.canWrite,
});

/** The row's STIX version string as the producer wrote it (`modified`, else `created`, else the stored key). */
export const versionString = (r: ObjectRow): string => r.modified ?? r.created ?? versionLabel(r.version);

export function summaryOf(r: ObjectRow, orgNames: ReadonlyMap<string, string>): IntelSummary {
  return {
    id: r.id, type: r.type, name: r.name, tlp: r.tlp, created: r.created, modified: r.modified,
    creatorOrg: r.creatorOrg, creatorName: r.creatorOrg ? (orgNames.get(r.creatorOrg) ?? null) : null,
    labels: [...r.labels], revoked: r.revoked, collectionId: r.collectionId, recipients: [...r.recipients],
  };
}

export function auditEntry(a: AuditRow): AuditEntry {
  let detail: unknown = null;
  if (a.detail !== null) {
    try {
      detail = JSON.parse(a.detail);
    } catch {
      detail = { text: a.detail };
    }
  }
  return {
    id: a.id, at: formatMicros(a.atUs), userId: a.userId, orgId: a.orgId, tokenId: a.tokenId, source: a.source,
    action: a.action, target: a.target, detail,
  };
}

export function parseStored(json: string): Record<string, unknown> {
  return JSON.parse(json) as Record<string, unknown>;
}
