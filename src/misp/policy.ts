/**
 * MISP tags and distribution → the Shieldwall release facts (TLP 2.0 + recipients).
 *
 * misp-stix ignores distribution entirely (misp-interop.md §2 "Distribution"); Shieldwall must
 * carry releasability itself. An element's OWN release is the stricter of its TLP tag and what
 * its distribution level says:
 * - 0 "your organisation only" → AMBER+STRICT with no recipients (the creator alone);
 * - 1 "this community", 2 "connected communities", 3 "all communities" → the TLP tag decides;
 *   without one, GREEN (the community: this node's organisations and federated peers, never
 *   public exports);
 * - 4 "sharing group" → AMBER, recipients = the sharing group's organisations known here;
 * - 5 (attributes, objects) → the parent's.
 * An attribute or object is then released to the INTERSECTION of its own audience and its
 * parent's (MISP's ACL: an attribute is visible only where both its event's and its own
 * distribution/sharing group allow — app/Model/Attribute.php buildConditions), so it is never
 * wider than its event, and a sharing group narrower than a community event reaches that group.
 * TLP tags: `tlp:white` and `tlp:clear` → CLEAR, green, amber, amber+strict, red; `tlp:ex:chr`
 * and `tlp:unclear` carry no level. A level of AMBER or stricter without recipients is the
 * creator alone (DESIGN §2.1).
 */
import type { Tlp } from '../core/policy.js';
import { maxTlp } from '../stix/index.js';

export interface Releasability {
  tlp: Tlp;
  recipients: string[];
}

const TLP_TAG: Readonly<Record<string, Tlp>> = {
  'tlp:white': 'clear', 'tlp:clear': 'clear', 'tlp:green': 'green', 'tlp:amber': 'amber', 'tlp:amber+strict': 'amber+strict', 'tlp:red': 'red',
};

/** The strictest TLP among the tags, or null when none names a level. */
export function tlpOfTags(tags: readonly string[]): Tlp | null {
  let t: Tlp | null = null;
  for (const name of tags) {
    const hit = TLP_TAG[name.trim().toLowerCase()];
    if (hit) t = maxTlp(t, hit);
  }
  return t;
}

export const isTlpTag = (name: string): boolean => name.trim().toLowerCase().startsWith('tlp:');
export const isPapTag = (name: string): boolean => /^pap:/i.test(name.trim());

/** The tag a TLP exports as (TLP 2.0 names; `tlp:clear` for CLEAR). */
export const tagOfTlp = (t: Tlp): string => `tlp:${t}`;

/** Whether a release names its audience (AMBER or stricter) rather than the whole community. */
const restricted = (t: Tlp): boolean => t !== 'clear' && t !== 'green';

/** Who is in both recipient lists; a sharing group on one side admits its member organisations named on the other. */
function intersect(a: readonly string[], b: readonly string[], members: (groupId: string) => readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) if (b.includes(x) || b.some((g) => members(g).includes(x))) out.add(x);
  for (const y of b) if (a.some((g) => members(g).includes(y))) out.add(y);
  return [...out];
}

/** The release of something visible only where both `a` and `b` are (the stricter TLP, the common audience). */
export function narrowRelease(a: Releasability, b: Releasability, members: (groupId: string) => readonly string[] = () => []): Releasability {
  const tlp = maxTlp(a.tlp, b.tlp) ?? 'amber';
  if (!restricted(tlp)) return { tlp, recipients: [] };
  const recipients = !restricted(a.tlp) ? b.recipients : !restricted(b.tlp) ? a.recipients : intersect(a.recipients, b.recipients, members);
  return { tlp, recipients: [...recipients] };
}

/**
 * The release facts of an element. `parent` is the event's (for attributes and objects) or an
 * object's (for its attributes); `sharingGroupRecipients` is the element's own sharing group
 * resolved to recipients (null when unknown: the creator alone); `members` lists the member
 * organisations of a Shieldwall sharing group, for the intersection.
 */
export function releasabilityOf(
  el: { distribution: number; tags: readonly string[]; sharingGroupRecipients: string[] | null },
  parent: Releasability | null,
  members?: (groupId: string) => readonly string[],
): Releasability {
  const d = el.distribution;
  const tagTlp = tlpOfTags(el.tags);
  // Levels 1-3 say "the community" only for lack of a TLP tag: the tag decides (tlp:clear may be
  // wider). Inside an event they add no restriction of their own: the event's level holds.
  const own: Releasability = d === 0 ? { tlp: 'amber+strict', recipients: [] }
    : d >= 1 && d <= 3 ? { tlp: tagTlp ?? (parent ? 'clear' : 'green'), recipients: [] }
      : d === 4 ? { tlp: 'amber', recipients: el.sharingGroupRecipients ?? [] }
        // 5 inherits; an event has no parent, and without one nothing wider than AMBER to the creator is assumed.
        : parent ?? { tlp: 'amber', recipients: [] };
  const tagged: Releasability = { tlp: maxTlp(own.tlp, tagTlp) ?? own.tlp, recipients: own.recipients };
  return parent ? narrowRelease(parent, tagged, members) : narrowRelease(tagged, tagged);
}
