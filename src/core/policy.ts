/**
 * Types shared by the release policy (access/policy.ts, the pure function) and its SQL form
 * (store/visibility.ts). They live in core because store sits below access.
 */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLP_LEVELS)[number];

/** What the policy needs to know about an object (or alert, incident, decision...). */
export interface ReleaseFacts {
  /** The TLP 2.0 level of the object; null when unmarked (treated as AMBER, creator only). */
  readonly tlp: Tlp | null;
  /** Identity id of the creating organisation (created_by_ref), null when unknown. */
  readonly creatorOrg: string | null;
  /** Explicit recipients: organisation identity ids and sharing-group identity ids. */
  readonly recipients: readonly string[];
  /** Node the object was created on; null = this node. */
  readonly originNode: string | null;
}

/**
 * Who is asking and over which hop.
 * - `local`: a user or client of this node, acting for `orgId`.
 * - `peer`: a federated peer node pulling for `orgId` (the organisation the peer serves).
 * - `public`: an anonymous or public export (only CLEAR leaves).
 */
export type Audience =
  | {
    readonly hop: 'local' | 'peer'; readonly orgId: string; readonly groupIds: readonly string[];
    /**
     * Peer hop only: the organisations served by the peer node `orgId` stands for (its own
     * identity). They count as `orgId` itself: as creator (their own objects) and as named
     * recipient organisation (docs/federation.md).
     */
    readonly via?: readonly string[];
    /**
     * Peer hop only: those of `via` that live on the peer node itself, not reached through it
     * (a hub relays for the others). AMBER+STRICT and RED, which no node relays, go to a peer
     * only for them (and its identity). Absent: all of `via` count.
     */
    readonly home?: readonly string[];
  }
  | { readonly hop: 'public' };

/** `read`: one caller reading. `bulk`: a bulk export or feed (RED never leaves in bulk). */
export type Purpose = 'read' | 'bulk';

/**
 * The organisations an audience stands for at AMBER+STRICT and RED: at the peer hop, the peer's
 * identity and the organisations living on it (`home`), not those it relays for.
 */
export function strictOrgs(audience: Audience & { hop: 'local' | 'peer' }, orgs: readonly string[]): readonly string[] {
  // `home` is a subset of `via`: as long, it is all of it (and `orgs` stays the same array, so the
  // SQL form keeps its plain shape).
  if (audience.hop !== 'peer' || !audience.home || audience.home.length === (audience.via?.length ?? 0)) return orgs;
  return [audience.orgId, ...audience.home];
}
