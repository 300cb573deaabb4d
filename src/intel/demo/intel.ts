/**
 * Demo intelligence written for Shieldwall: every actor, malware family, campaign and address
 * below is invented. Addresses come from the documentation ranges (RFC 5737) and domains from
 * the reserved `.example` TLD (RFC 2606), so nothing here points at a real system.
 *
 * The content is arranged as submissions (creator organisation, collection, TLP, recipients)
 * so that every TLP level of the release policy is visible in the dashboard.
 */
import { createHash } from 'node:crypto';
import type { Tlp } from '../../core/policy.js';
import { uuidv5 } from '../../stix/index.js';

export type Stix = Record<string, unknown>;

export interface DemoSubmission {
  /** Key of the creating organisation (see alliance.ts). */
  org: string;
  /** Key of the collection. */
  collection: string;
  /** null = leave unmarked (policy: AMBER, creator only). */
  tlp: Tlp | null;
  /** Org keys, or group keys prefixed with 'group:'. */
  recipients: string[];
  objects: Stix[];
}

const NS = '3f7c2a94-8b1e-4d6a-9c35-0e2b7f1a5d68';

/** Stable id per demo name, so re-running the builder yields the same ids (and versions stack). */
export function demoId(type: string, name: string): string {
  return `${type}--${uuidv5(NS, `${type}:${name}`)}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(`shieldwall-demo:${s}`).digest('hex');
}

/**
 * Builds the demo content relative to `nowMs` (objects are dated over the last five weeks).
 * `orgIds` / `groupIds` map demo keys to identity ids.
 */
export function demoIntel(nowMs: number, orgIds: Record<string, string>, groupIds: Record<string, string>): DemoSubmission[] {
  const day = (d: number, h = 9) => new Date(nowMs - d * 86_400_000 + (h - 12) * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '.000Z');
  const sdo = (type: string, name: string, at: string, props: Stix): Stix => ({
    type, spec_version: '2.1', id: demoId(type, name), created: at, modified: at, ...props,
  });
  const ind = (name: string, at: string, pattern: string, props: Stix = {}): Stix => sdo('indicator', name, at, {
    name, indicator_types: ['malicious-activity'], pattern, pattern_type: 'stix', valid_from: at, ...props,
  });
  const rel = (type: string, src: Stix, dst: Stix, at: string): Stix => ({
    type: 'relationship', spec_version: '2.1', id: demoId('relationship', `${String(src.id)}|${type}|${String(dst.id)}`),
    created: at, modified: at, relationship_type: type, source_ref: src.id, target_ref: dst.id,
  });
  const org = (k: string) => orgIds[k] ?? '';

  // ---- the alliance CSIRT's common picture (GREEN: the whole community) ----
  const heron1 = sdo('intrusion-set', 'GLASS HERON', day(34), {
    name: 'GLASS HERON', description: 'State-aligned espionage cluster targeting foreign ministries and defence procurement offices of alliance members.',
    aliases: ['Heron Cluster 7'], goals: ['Collect diplomatic reporting', 'Map defence procurement'], resource_level: 'government', primary_motivation: 'organizational-gain',
    first_seen: day(120), labels: ['espionage'],
  });
  const heron2 = { ...heron1, modified: day(6), aliases: ['Heron Cluster 7', 'GREY WADER'], description: `${String(heron1.description)} Since last month the cluster also abuses remote management gateways.` };
  const palefern = sdo('malware', 'PALEFERN', day(33), {
    name: 'PALEFERN', is_family: true, malware_types: ['dropper', 'backdoor'], description: 'Loader delivered by ministry-themed lures; fetches a second stage over HTTPS.',
    capabilities: ['communicates-with-c2', 'persists-after-system-reboot'], implementation_languages: ['c++'], labels: ['loader'],
  });
  const knotweed = sdo('malware', 'KNOTWEED', day(30), {
    name: 'KNOTWEED', is_family: true, malware_types: ['remote-access-trojan'], description: 'Modular remote access trojan deployed by GLASS HERON after PALEFERN.',
    capabilities: ['captures-input-peripherals', 'exfiltrates-data'],
  });
  const bellrope = sdo('tool', 'Bellrope', day(29), {
    name: 'Bellrope', tool_types: ['remote-access'], description: 'Tunnelling utility used to reach internal networks through compromised gateways.',
  });
  const lure = sdo('attack-pattern', 'Ministry-themed spearphishing', day(33), {
    name: 'Ministry-themed spearphishing', description: 'E-mails imitating protocol offices of foreign ministries, carrying a PALEFERN archive.',
  });
  const gateway = sdo('attack-pattern', 'Remote management gateway abuse', day(20), {
    name: 'Remote management gateway abuse', description: 'Use of stolen administrator sessions on remote management gateways to enter networks.',
  });
  const vuln = sdo('vulnerability', 'NWA-2026-0042', day(21), {
    name: 'NWA-2026-0042', description: 'Authentication bypass in a (fictional) remote management gateway product, tracked by the alliance CSIRT.',
  });
  const ledger = sdo('campaign', 'Operation Frozen Ledger', day(31), {
    name: 'Operation Frozen Ledger', description: 'GLASS HERON phishing wave against finance and foreign ministries.', objective: 'Access to budget and procurement planning',
    first_seen: day(31), labels: ['phishing'],
  });
  const coa = sdo('course-of-action', 'Block PALEFERN infrastructure', day(25), {
    name: 'Block PALEFERN infrastructure', description: 'Block the PALEFERN indicators at national gateways and hunt for the dropper hash on mail relays.',
  });
  const c2v1 = ind('PALEFERN C2 198.51.100.23', day(32), "[ipv4-addr:value = '198.51.100.23']", { confidence: 60, kill_chain_phases: [{ kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: 'command-and-control' }] });
  const c2v2 = { ...c2v1, modified: day(12), confidence: 90, description: 'Confirmed by three members through sightings.' };
  const sinkhole1 = ind('PALEFERN C2 198.51.100.99', day(28), "[ipv4-addr:value = '198.51.100.99']", { confidence: 70 });
  const sinkhole2 = { ...sinkhole1, modified: day(9), revoked: true, description: 'Revoked: the address was sinkholed by the alliance CSIRT.' };
  const lureDomain = ind('Frozen Ledger lure domain', day(31), "[domain-name:value = 'update-ministry-portal.example']");
  const sender = ind('Frozen Ledger lure sender', day(31), "[email-message:from_ref.value = 'protocol-office@mfa-notice.example']");
  const stage2 = ind('PALEFERN second stage URL', day(27), "[url:value = 'https://cdn-ledger.example/fl/stage2.bin']");
  const greenObjects = [
    heron1, palefern, knotweed, bellrope, lure, gateway, vuln, ledger, coa, c2v1, sinkhole1, lureDomain, sender, stage2,
    rel('uses', heron1, palefern, day(33)), rel('uses', heron1, knotweed, day(30)), rel('uses', heron1, bellrope, day(29)),
    rel('uses', heron1, lure, day(33)), rel('uses', heron1, gateway, day(20)), rel('targets', heron1, vuln, day(21)),
    rel('attributed-to', ledger, heron1, day(31)), rel('uses', palefern, lure, day(33)), rel('mitigates', coa, palefern, day(25)),
    rel('indicates', c2v1, palefern, day(32)), rel('indicates', sinkhole1, palefern, day(28)), rel('indicates', lureDomain, ledger, day(31)),
    rel('indicates', sender, ledger, day(31)), rel('indicates', stage2, palefern, day(27)),
  ];

  // ---- a public advisory (CLEAR) from the CSIRT, in its advisories collection ----
  const advisory = sdo('report', 'Alliance advisory 2026-07', day(26), {
    name: 'Alliance advisory 2026-07: GLASS HERON phishing wave', report_types: ['threat-report', 'campaign'], published: day(26),
    description: 'GLASS HERON sends ministry-themed lures carrying PALEFERN. Block the listed infrastructure and report sightings to the alliance CSIRT.',
    object_refs: [heron1.id, ledger.id, palefern.id, lureDomain.id, stage2.id, coa.id],
  });

  // ---- Rustwater (criminal) from Estravia, shared with the whole community ----
  const rustwater = sdo('threat-actor', 'Rustwater Collective', day(18), {
    name: 'Rustwater Collective', threat_actor_types: ['crime-syndicate'], description: 'Ransomware affiliate group extorting logistics and transport operators.',
    roles: ['agent'], sophistication: 'intermediate', primary_motivation: 'personal-gain', aliases: ['RWC'],
  });
  const saltmarsh = sdo('malware', 'SALTMARSH', day(17), {
    name: 'SALTMARSH', is_family: true, malware_types: ['wiper', 'ransomware'], description: 'Encrypts then overwrites disks; seen at two transport operators.',
  });
  const saltHash = ind('SALTMARSH encryptor hash', day(16), `[file:hashes.'SHA-256' = '${sha256('saltmarsh-encryptor')}']`);
  const estObjects = [rustwater, saltmarsh, saltHash, rel('uses', rustwater, saltmarsh, day(17)), rel('indicates', saltHash, saltmarsh, day(16))];

  // ---- SILENT TIDE (maritime), AMBER+STRICT to the Maritime Cyber Cell organisations ----
  const tide = sdo('intrusion-set', 'SILENT TIDE', day(14), {
    name: 'SILENT TIDE', description: 'Intrusion set probing port community systems and cable landing stations.', resource_level: 'government',
    primary_motivation: 'coercion', labels: ['maritime'],
  });
  const tideRange = ind('SILENT TIDE scanning range', day(13), "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", { indicator_types: ['anomalous-activity'] });
  const lowWater = sdo('campaign', 'Operation Low Water', day(13), { name: 'Operation Low Water', description: 'Reconnaissance of port logistics platforms.' });
  const dskObjects = [tide, tideRange, lowWater, rel('indicates', tideRange, tide, day(13)), rel('attributed-to', lowWater, tide, day(13))];
  const tideNote = {
    type: 'note', spec_version: '2.1', id: demoId('note', 'tide-note'), created: day(11), modified: day(11),
    abstract: 'Estravian ferry operator scanned', content: 'Same /24 scanned the booking platform of a ferry operator; no intrusion found.', object_refs: [tide.id],
  };

  // ---- national reporting: AMBER to Northern Flank, RED to one nation, and an unmarked draft ----
  const dropperHash = ind('PALEFERN dropper hash', day(24), `[file:hashes.'SHA-256' = '${sha256('palefern-dropper')}']`);
  const sitrep = sdo('report', 'Aldermark sitrep KNOTWEED', day(10), {
    name: 'Aldermark situation report: KNOTWEED on a ministry network', report_types: ['incident'], published: day(10),
    description: 'KNOTWEED found on two workstations of a ministry; PALEFERN arrived through the Frozen Ledger lure.',
    object_refs: [knotweed.id, dropperHash.id, heron1.id],
  });
  const redSource = ind('KNOTWEED staging host (sensitive source)', day(8), "[ipv4-addr:value = '192.0.2.77']", { confidence: 85, description: 'From a sensitive source; do not act on it without consulting Brenova.' });
  const draft = {
    type: 'note', spec_version: '2.1', id: demoId('note', 'ald-draft'), created: day(2), modified: day(2),
    abstract: 'Draft: attribution working notes', content: 'Working notes of the Aldermark analysts; not released yet.', object_refs: [heron1.id],
  };
  const sighting = {
    type: 'sighting', spec_version: '2.1', id: demoId('sighting', 'crv-c2'), created: day(12), modified: day(12),
    first_seen: day(13), last_seen: day(12), count: 3, sighting_of_ref: c2v1.id, where_sighted_refs: [org('crv')],
  };

  const subs: DemoSubmission[] = [
    { org: 'csirt', collection: 'alliance', tlp: 'green', recipients: [], objects: greenObjects },
    { org: 'csirt', collection: 'advisories', tlp: 'clear', recipients: [], objects: [advisory] },
    { org: 'est', collection: 'alliance', tlp: 'green', recipients: [], objects: estObjects },
    { org: 'dsk', collection: 'alliance', tlp: 'amber+strict', recipients: ['dsk', 'est', 'csirt'], objects: dskObjects },
    { org: 'est', collection: 'alliance', tlp: 'amber', recipients: ['group:maritime'], objects: [tideNote] },
    { org: 'ald', collection: 'ald-national', tlp: 'amber', recipients: ['group:north'], objects: [dropperHash, sitrep] },
    { org: 'ald', collection: 'alliance', tlp: null, recipients: [], objects: [draft] },
    { org: 'brn', collection: 'alliance', tlp: 'red', recipients: ['crv'], objects: [redSource] },
    { org: 'crv', collection: 'alliance', tlp: 'green', recipients: [], objects: [sighting] },
    // Later versions: a new GLASS HERON alias, a confidence raise, and a revocation (STIX 2.1 §3.6).
    { org: 'csirt', collection: 'alliance', tlp: 'green', recipients: [], objects: [heron2, c2v2, sinkhole2] },
  ];
  return subs.map((s) => ({ ...s, recipients: s.recipients.map((r) => (r.startsWith('group:') ? groupIds[r.slice(6)] ?? '' : org(r))) }));
}
