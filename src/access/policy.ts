/**
 * The one release policy (DESIGN §2.1) as a pure function. Every egress path decides with
 * this function or with its SQL form (store/visibility.ts); policy.test.ts checks that both
 * agree on every TLP × relation × hop × purpose.
 *
 * Interpretation of TLP 2.0 (FIRST) for an alliance of organisations:
 * - CLEAR: no limit; the only level allowed in public exports.
 * - GREEN: the community = every organisation on this node and its federated peers.
 * - AMBER: the creator and the named recipients, organisations or sharing groups (a group
 *   stands for its member organisations: "their own clients" in TLP terms).
 * - AMBER+STRICT: the creator and named recipient organisations only (groups do not count);
 *   a peer receives it only from the node where it was created: recipients never forward it.
 * - RED: like AMBER+STRICT, and never part of a bulk export or feed.
 * - No TLP: AMBER with the creator as sole recipient (explicit recipients are ignored).
 */
import { strictOrgs, type Audience, type Purpose, type ReleaseFacts } from '../core/policy.js';

export function mayRelease(facts: ReleaseFacts, audience: Audience, purpose: Purpose): boolean {
  if (audience.hop === 'public') return facts.tlp === 'clear';
  const org = audience.orgId;
  const orgs = audience.hop === 'peer' && audience.via ? [org, ...audience.via] : [org];
  const isCreator = facts.creatorOrg !== null && orgs.includes(facts.creatorOrg);
  const bulkOk = purpose !== 'bulk' || facts.tlp !== 'red';
  if (!bulkOk) return false;
  const tlp = facts.tlp;
  if (tlp === null) return isCreator;
  switch (tlp) {
    case 'clear':
    case 'green':
      return true;
    case 'amber':
      return isCreator || orgs.some((o) => facts.recipients.includes(o)) || audience.groupIds.some((g) => facts.recipients.includes(g));
    case 'amber+strict':
    case 'red': {
      // Not relayed by any node: to a peer only for the organisations living on it.
      const strict = strictOrgs(audience, orgs);
      if (facts.creatorOrg !== null && strict.includes(facts.creatorOrg)) return true;
      const fromHere = audience.hop === 'local' || facts.originNode === null;
      return fromHere && strict.some((o) => facts.recipients.includes(o));
    }
  }
}
