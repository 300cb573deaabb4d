/** Wire types of the REST API `/api/v1`, exactly as docs/rest-api.md states them. */
export type Tlp = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';
export const TLPS: readonly Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
export type Role = 'analyst' | 'responder' | 'representative' | 'excon' | 'admin';

export interface User { id: string; username: string; displayName: string; orgId: string; roles: Role[] }
/** `node`: the peer node the organisation lives on (or is reached through); null for one of this node; absent from older servers. */
export interface Org { id: string; name: string; shortName: string; country: string | null; kind: 'member' | 'alliance-body'; node?: string | null }
export interface OrgSummary extends Org { shared: { total: number; byTlp: Record<Tlp | 'none', number> } }
export interface Group { id: string; name: string; description: string; members: string[] }
export interface Collection {
  id: string; apiRoot: string; title: string; description: string; alias: string | null; canRead: boolean; canWrite: boolean;
}
export interface IntelSummary {
  id: string; type: string; name: string | null; tlp: Tlp | null; created: string | null; modified: string | null;
  creatorOrg: string | null; creatorName: string | null; labels: string[]; revoked: boolean; collectionId: string;
  recipients: string[];
}
export interface RelatedRef { id: string; type: string; name: string | null }
export interface Relationship {
  id: string; relationship_type: string; source_ref: string; target_ref: string;
  source: RelatedRef | null; target: RelatedRef | null;
}
export type StixObject = Record<string, unknown>;
export interface IntelVersion { version: string; dateAdded: string; object: StixObject }
export interface IntelDetail {
  object: StixObject; summary: IntelSummary; versions: IntelVersion[]; versionsTruncated: boolean; relationships: Relationship[];
}
export interface ImportResult {
  total: number; added: number; duplicates: number; rejected: number;
  errors: { index: number; id: string | null; message: string }[];
}
export interface Page<T> { items: T[]; next?: string }
export interface LoginAnswer { token: string; expiresAt: string; user: User }
/** GET /me: who the caller is and the actions of the permission table it may take (docs/security.md). */
export interface MeAnswer { user: User; organisation: Org; permissions: string[] }

/** GET /objects/:id/correlations: the object's observable values, their warninglist flags and the other objects sharing them (release-filtered). */
export interface Correlations {
  values: {
    kind: string; value: string; excluded: boolean; frequent: boolean;
    warninglist: { listId: string; name: string } | null;
    links: { id: string; type: string; name: string | null; creatorOrg: string | null; creatorName: string | null; tlp: Tlp | null; via: string | null }[];
  }[];
  truncated: boolean;
  /** The correlation index was still catching up with the store: links may be missing. */
  indexing?: boolean;
  cap: number;
}

/** GET /intel/:id/sightings: how often an indicator fired, per sighting organisation the reader may know. */
export interface SightingSummary {
  indicatorId: string;
  total: number;
  organisations: { orgId: string | null; name: string | null; count: number; firstSeen: string | null; lastSeen: string | null }[];
  truncated: boolean;
}
