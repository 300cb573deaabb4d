/**
 * MISP tags and distribution → the Shieldwall release facts (TLP 2.0 + recipients).
 *
 * misp-stix ignores distribution entirely (misp-interop.md §2 "Distribution"); Shieldwall must
 * carry releasability itself, so the importer takes the STRICTER of the TLP tag and what the
 * distribution level implies — never wider than either:
 * - 0 "your organisation only" → AMBER+STRICT with no recipients (the creator alone);
 * - 1 "this community", 2 "connected communities", 3 "all communities" → the TLP tag decides;
 *   without one, GREEN (the community: this node's organisations and federated peers, never
 *   public exports);
 * - 4 "sharing group" → AMBER, recipients = the sharing group's organisations known here;
 * - 5 (attributes, objects) → inherit from the event.
 * TLP tags: `tlp:white` and `tlp:clear` → CLEAR, green, amber, amber+strict, red; `tlp:ex:chr`
 * and `tlp:unclear` carry no level.
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

function tlpOfDistribution(d: number): Tlp | null {
  if (d === 0) return 'amber+strict';
  if (d >= 1 && d <= 3) return 'green';
  if (d === 4) return 'amber';
  return null;
}

/**
 * The release facts of an element. `parent` is the event's (for attributes and objects) or an
 * object's (for its attributes); `groupRecipients` resolves a sharing group to recipients.
 */
export function releasabilityOf(
  el: { distribution: number; tags: readonly string[]; sharingGroupRecipients: string[] | null },
  parent: Releasability | null,
): Releasability {
  const inherit = el.distribution === 5 || el.distribution > 5;
  const tagTlp = tlpOfTags(el.tags);
  // Levels 1-3 say "the community" only for lack of a TLP tag; 0 and 4 name who may receive it.
  const community = el.distribution >= 1 && el.distribution <= 3;
  // Inside an event (parent given), a community level takes the event's TLP as its floor.
  const distTlp = inherit || (community && (tagTlp !== null || parent !== null)) ? null : tlpOfDistribution(el.distribution);
  const tlp = maxTlp(maxTlp(tagTlp, distTlp), parent?.tlp ?? null) ?? 'amber';
  const recipients = el.distribution === 4 && el.sharingGroupRecipients ? el.sharingGroupRecipients : (parent?.recipients ?? []);
  return { tlp, recipients: tlp === 'clear' || tlp === 'green' ? [] : [...recipients] };
}
