/**
 * STIX 2.1 → MISP event JSON: a report or grouping and the objects it references back to one
 * event with attributes, objects, object references, tags, galaxies and sightings. It reads
 * what to-stix.ts (and misp-stix) write — the `misp:type`, `misp:category`, `misp:name` labels,
 * ids that carry the MISP uuids — and the plain STIX a member shares (a one-comparison
 * indicator becomes an attribute of the matching type). What it cannot express is left out
 * and listed in `skipped`.
 */
import type { Tlp } from '../core/policy.js';
import { maxTlp, tlpOf, uuidv5 } from '../stix/index.js';
import { RULE_TYPES, TYPES, patternValue, type Sco } from './attribute-types.js';
import { OBJECT_TEMPLATES } from './object-templates.js';
import { narrowRelease, tagOfTlp, type Releasability } from './policy.js';
import { MISP_STIX_NAMESPACE, TOOL_LABEL, type StixObj } from './to-stix.js';

type J = Record<string, unknown>;

export interface ToMispOptions {
  /** Names of organisations by identity id (for Orgc, sharing groups, sighting organisations). */
  orgNames?: ReadonlyMap<string, string>;
  /** Recipients (identity ids) of the container, exported as an inline sharing group when AMBER or stricter. */
  recipients?: readonly string[];
  /**
   * The release facts the node enforces, by STIX id (export.ts reads them from the store). An
   * attribute or object released more narrowly than its event is exported with its own
   * distribution and sharing group; without them each object's TLP marking alone is compared.
   */
  release?: ReadonlyMap<string, Releasability>;
}

export interface ToMispResult {
  event: { Event: J };
  /** STIX objects that have no MISP form, with the reason. */
  skipped: { id: string; reason: string }[];
}

const uuidOf = (id: string) => id.slice(id.indexOf('--') + 2);
const epoch = (iso: unknown) => String(typeof iso === 'string' ? Math.floor(Date.parse(iso) / 1000) : 0);
const labelsOf = (o: J): string[] => (Array.isArray(o.labels) ? o.labels.filter((l): l is string => typeof l === 'string') : []);
/** The value of a `key="value"` label. A prefix test, not a regular expression per call: an event may have 100,000 objects. */
const labelValue = (o: J, key: string): string | null => {
  const prefix = `${key}="`;
  const l = labelsOf(o).find((x) => x.startsWith(prefix) && x.endsWith('"') && x.length > prefix.length);
  return l === undefined ? null : l.slice(prefix.length, -1);
};
const plainTags = (o: J) => labelsOf(o).filter((l) => !l.startsWith('misp:') && l !== 'Threat-Report').map((name) => ({ name }));

/** Plain STIX one-comparison patterns → MISP type (for indicators not made from MISP). */
const PLAIN: readonly [RegExp, string][] = [
  [/^\[ipv4-addr:value = '/, 'ip-dst'], [/^\[ipv6-addr:value = '/, 'ip-dst'], [/^\[domain-name:value = '/, 'domain'], [/^\[url:value = '/, 'url'],
  [/^\[file:hashes\.(?:MD5|'MD5') = '/, 'md5'], [/^\[file:hashes\.'SHA-1' = '/, 'sha1'], [/^\[file:hashes\.'SHA-256' = '/, 'sha256'],
  [/^\[file:hashes\.'SHA-512' = '/, 'sha512'], [/^\[file:name = '/, 'filename'], [/^\[email-addr:value = '/, 'email'], [/^\[mutex:name = '/, 'mutex'],
];

/** Whether a release names its audience (AMBER or stricter) rather than the whole community. */
const restricted = (t: Tlp): boolean => t !== 'clear' && t !== 'green';

/**
 * The event's distribution: GREEN/CLEAR all communities (3), recipients a sharing group (4), and
 * AMBER or stricter without recipients "your organisation only" (0): the creator alone here.
 * (It was 1, "this community": a MISP instance importing the export showed the event to its
 * whole community, since MISP does not enforce a TLP tag.)
 */
function distributionOf(tlp: Tlp | null, recipients: readonly string[]): { distribution: string; sg: J | null } {
  if (tlp === 'clear' || tlp === 'green' || tlp === null) return { distribution: '3', sg: null };
  return recipients.length ? { distribution: '4', sg: {} } : { distribution: '0', sg: null };
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * An attribute's or object's own MISP release, from its release facts here (`own`) against its
 * event's: never wider than `own` once a MISP importer (this one: policy.ts releasabilityOf)
 * intersects it with the event's. 5 (inherit) when it has the event's audience; else a sharing
 * group of its own recipients (4), or "your organisation only" (0) when it has none. A stricter
 * TLP goes out as a tag on an attribute; a MISP object carries no tags, so an object whose TLP
 * the level would not give back goes out as 0.
 */
function elementRelease(own: Releasability, event: Releasability, o: { canTag: boolean }): { distribution: string; recipients: readonly string[] | null; tag: Tlp | null } {
  const tag = o.canTag && own.tlp !== event.tlp ? own.tlp : null;
  const inherit = !restricted(own.tlp) || (restricted(event.tlp) && sameSet(own.recipients, event.recipients));
  if (inherit) {
    // What inheriting gives back: the event's TLP, or the tag's when stricter.
    const back = maxTlp(event.tlp, tag) ?? event.tlp;
    return o.canTag || maxTlp(back, own.tlp) === back ? { distribution: '5', recipients: null, tag } : { distribution: '0', recipients: null, tag: null };
  }
  if (own.recipients.length === 0) return { distribution: '0', recipients: null, tag };
  // A sharing group is AMBER on import (narrowed by the event's TLP and the tag).
  const back = maxTlp(maxTlp('amber', event.tlp), tag) ?? 'amber';
  if (maxTlp(back, own.tlp) !== back) return { distribution: '0', recipients: null, tag };
  return { distribution: '4', recipients: own.recipients, tag };
}

export function stixToMisp(containerId: string, objects: readonly StixObj[], opts: ToMispOptions = {}): ToMispResult {
  const byId = new Map(objects.map((o) => [o.id, o]));
  const c = byId.get(containerId);
  if (!c || (c.type !== 'report' && c.type !== 'grouping')) throw new Error(`${containerId} is not a report or grouping in the set`);
  const skipped: { id: string; reason: string }[] = [];
  const used = new Set<string>([containerId]);
  const tlp = tlpOf(c);
  const refs = (Array.isArray(c.object_refs) ? c.object_refs : []).filter((r): r is string => typeof r === 'string');
  const members = refs.map((r) => byId.get(r)).filter((o): o is StixObj => o !== undefined);
  const get = (type: string, uuid: string) => byId.get(`${type}--${uuid}`);

  const attributes: J[] = [];
  const mispObjects: J[] = [];
  const attrByMain = new Map<string, J>();
  const objByMain = new Map<string, J>();
  const eventRelease: Releasability = opts.release?.get(containerId) ?? { tlp: tlp ?? 'amber', recipients: [...(opts.recipients ?? [])] };
  /** The release of what an element is made of (the reader sees all of them): the narrowest of their facts. */
  const releaseOf = (ids: readonly (string | undefined)[]): Releasability => {
    let r: Releasability | null = null;
    for (const id of ids) {
      const obj = id === undefined ? undefined : byId.get(id);
      if (!obj) continue;
      // Without the store's facts (a library caller), the object's own marking against the event's audience.
      const f = opts.release?.get(obj.id) ?? { tlp: tlpOf(obj) ?? eventRelease.tlp, recipients: eventRelease.recipients };
      r = r === null ? f : narrowRelease(r, f);
    }
    return r ?? eventRelease;
  };
  const markRelease = (ids: readonly (string | undefined)[], el: J) => {
    const isObject = 'name' in el;
    const own = elementRelease(releaseOf(ids), eventRelease, { canTag: !isObject });
    el.distribution = own.distribution;
    if (own.tag) el.Tag = [...((el.Tag as J[] | undefined) ?? []), { name: tagOfTlp(own.tag) }];
    if (own.recipients) el.SharingGroup = sharingGroupOf(String(el.uuid), own.recipients);
  };
  const sharingGroupOf = (uuid: string, recipients: readonly string[]): J => ({
    name: `shieldwall:${uuid}`, releasability: 'Shieldwall recipients',
    SharingGroupOrg: recipients.map((r) => ({ extend: false, Organisation: { uuid: uuidOf(r), name: opts.orgNames?.get(r) ?? '' } })),
  });

  for (const o of members) {
    const uuid = uuidOf(o.id);
    const type = labelValue(o, 'misp:type');
    const name = labelValue(o, 'misp:name');
    if (type && ['observed-data', 'x-misp-attribute', 'vulnerability', 'campaign'].includes(o.type) || (type && o.type === 'indicator' && !get('observed-data', uuid))) {
      const ind = get('indicator', uuid);
      let value: string | null = null;
      if (o.type === 'x-misp-attribute') value = String(o.x_misp_value ?? '');
      else if (o.type === 'vulnerability' || o.type === 'campaign') value = String(o.name ?? '');
      else if (o.type === 'observed-data') {
        const scos = (o.object_refs as string[]).map((r) => byId.get(r)).filter((s): s is Sco => s !== undefined);
        value = TYPES[type]?.value?.(scos) ?? null;
      } else if (RULE_TYPES[type]) value = String(o.pattern ?? '');
      else value = patternValue(String(o.pattern ?? ''));
      if (value === null) {
        skipped.push({ id: o.id, reason: `no ${type} value could be read back` });
        continue;
      }
      const category = o.type === 'x-misp-attribute' ? String(o.x_misp_category ?? '') : (labelValue(o, 'misp:category') ?? '');
      const comment = o.type === 'x-misp-attribute' ? o.x_misp_comment : (ind?.description ?? o.description ?? o.x_misp_comment);
      const a: J = {
        uuid, type, category, value, to_ids: o.type === 'observed-data' || o.type === 'indicator' ? ind !== undefined : o.x_misp_to_ids === true,
        distribution: '5', timestamp: epoch(o.modified), comment: typeof comment === 'string' ? comment : '', deleted: false,
      };
      if (o.type === 'observed-data' && typeof o.first_observed === 'string' && epoch(o.first_observed) !== epoch(o.modified)) {
        a.first_seen = o.first_observed;
        a.last_seen = o.last_observed;
      }
      const tags = plainTags(o);
      if (tags.length) a.Tag = tags;
      markRelease([o.id, ind?.id], a);
      attributes.push(a);
      for (const id of [o.id, ind?.id, ...(o.type === 'observed-data' ? (o.object_refs as string[]) : [])]) if (id) used.add(id);
      if (ind) used.add(`relationship--${uuidv5(MISP_STIX_NAMESPACE, `${ind.id} - based-on - ${o.id}`)}`);
      attrByMain.set(ind?.id ?? o.id, a);
    } else if (name && (o.type === 'observed-data' || o.type === 'x-misp-object')) {
      const ind = get('indicator', uuid);
      const metaCategory = labelValue(o, 'misp:meta-category') ?? '';
      let attrs: J[];
      if (o.type === 'x-misp-object') {
        attrs = (Array.isArray(o.x_misp_attributes) ? o.x_misp_attributes as J[] : []).map((x) => ({
          uuid: x.uuid, type: x.type, category: x.category, value: x.value, object_relation: x.object_relation, to_ids: x.to_ids === true,
          timestamp: epoch(o.modified), ...(typeof x.comment === 'string' ? { comment: x.comment } : {}),
        }));
      } else {
        const scos = (o.object_refs as string[]).map((r) => byId.get(r)).filter((s): s is Sco => s !== undefined);
        const pattern = typeof ind?.pattern === 'string' ? ind.pattern : '';
        const read = OBJECT_TEMPLATES[name]?.fromStix(scos, uuid) ?? [];
        attrs = read.map((r) => ({
          uuid: r.uuid ?? uuidv5(uuid, `${r.objectRelation}|${r.value}`), type: r.type, category: '', value: r.value, object_relation: r.objectRelation,
          to_ids: r.frag !== '' && pattern.includes(r.frag), timestamp: epoch(o.modified),
        }));
        for (const s of o.object_refs as string[]) used.add(s);
      }
      const mo: J = {
        uuid, name, 'meta-category': metaCategory, timestamp: epoch(o.modified), distribution: '5',
        comment: typeof o.x_misp_comment === 'string' ? o.x_misp_comment : (typeof ind?.description === 'string' ? ind.description : ''),
        deleted: false, Attribute: attrs, ObjectReference: [],
      };
      markRelease([o.id, ind?.id], mo);
      mispObjects.push(mo);
      used.add(o.id);
      if (ind) {
        used.add(ind.id);
        used.add(`relationship--${uuidv5(MISP_STIX_NAMESPACE, `${ind.id} - based-on - ${o.id}`)}`);
      }
      objByMain.set(ind?.id ?? o.id, mo);
    }
  }
  // Plain STIX indicators (not made from MISP): a one-comparison pattern of a known kind.
  for (const o of members) {
    if (used.has(o.id) || o.type !== 'indicator' || typeof o.pattern !== 'string' || labelValue(o, 'misp:type')) continue;
    const hit = PLAIN.find(([re]) => re.test(o.pattern as string));
    const value = hit && /^\[[^\]]*\]$/.test(o.pattern) && !/ (AND|OR) /.test(o.pattern) ? patternValue(o.pattern) : null;
    if (!hit || value === null) continue;
    const a: J = { uuid: uuidOf(o.id), type: hit[1], category: 'Network activity', value, to_ids: true, distribution: '5', timestamp: epoch(o.modified), comment: typeof o.description === 'string' ? o.description : (typeof o.name === 'string' ? o.name : '') };
    markRelease([o.id], a);
    attributes.push(a);
    attrByMain.set(o.id, a);
    used.add(o.id);
  }

  const eventGalaxies = new Map<string, J>();
  const tags: J[] = [...(tlp ? [{ name: tagOfTlp(tlp) }] : []), ...plainTags(c)];
  const galaxyOf = (o: J): { cluster: J; tag: string } | null => {
    const gtype = labelValue(o, 'misp:galaxy-type');
    if (!gtype) return null;
    const value = String(o.name ?? o.x_misp_value ?? '');
    const tag = `misp-galaxy:${gtype}="${value}"`;
    const uuid = uuidOf(String(o.id));
    // A cluster known only from its tag got a name-based uuid: it goes back as the tag alone.
    const fromTag = uuid === uuidv5(MISP_STIX_NAMESPACE, tag);
    const bare = fromTag && !o.description && !Array.isArray(o.aliases);
    return { tag, cluster: bare ? {} : { uuid: fromTag ? '' : uuid, type: gtype, value, tag_name: tag, description: o.description ?? '', galaxyName: labelValue(o, 'misp:galaxy-name') ?? gtype, meta: Array.isArray(o.aliases) ? { synonyms: o.aliases } : {} } };
  };
  const galaxyBlocks = (clusters: J[]): J[] => {
    const by = new Map<string, J[]>();
    for (const cl of clusters) by.set(String(cl.type), [...(by.get(String(cl.type)) ?? []), cl]);
    return [...by].map(([type, cs]) => ({ type, name: String(cs[0]!.galaxyName), GalaxyCluster: cs.map(({ galaxyName: _n, ...rest }) => rest) }));
  };
  const attrGalaxies = new Map<J, J[]>();
  for (const o of members) {
    if (o.type === 'relationship' && !used.has(o.id)) {
      const src = String(o.source_ref);
      const tgt = byId.get(String(o.target_ref));
      const g = tgt ? galaxyOf(tgt) : null;
      const a = attrByMain.get(src);
      if (g && a) {
        used.add(o.id).add(tgt!.id);
        if (Object.keys(g.cluster).length) attrGalaxies.set(a, [...(attrGalaxies.get(a) ?? []), g.cluster]);
        a.Tag = [...((a.Tag as J[] | undefined) ?? []), { name: g.tag }];
        continue;
      }
      const so = objByMain.get(src);
      const target = attrByMain.get(String(o.target_ref)) ?? objByMain.get(String(o.target_ref));
      if (so && target) {
        (so.ObjectReference as J[]).push({
          uuid: uuidOf(o.id), object_uuid: so.uuid, referenced_uuid: target.uuid, relationship_type: o.relationship_type,
          referenced_type: objByMain.has(String(o.target_ref)) ? '1' : '0', timestamp: epoch(o.modified), deleted: false,
        });
        used.add(o.id);
      }
    }
  }
  for (const [a, cs] of attrGalaxies) a.Galaxy = galaxyBlocks(cs);
  for (const o of members) {
    if (used.has(o.id)) continue;
    const g = galaxyOf(o);
    if (g) {
      used.add(o.id);
      tags.push({ name: g.tag });
      if (Object.keys(g.cluster).length) eventGalaxies.set(o.id, g.cluster);
    }
  }
  // Sightings and false positives (misp-stix: sighting / opinion "strongly-disagree").
  for (const o of members) {
    if (o.type !== 'sighting' && o.type !== 'opinion') continue;
    const target = o.type === 'sighting' ? String(o.sighting_of_ref) : String((o.object_refs as string[] | undefined)?.[0]);
    const a = attrByMain.get(target) ?? ((objByMain.get(target)?.Attribute as J[] | undefined)?.[0]);
    if (!a || (o.type === 'opinion' && o.opinion !== 'strongly-disagree')) {
      skipped.push({ id: o.id, reason: 'the sighted object is not an attribute of this event' });
      continue;
    }
    const where = o.type === 'sighting' ? (o.where_sighted_refs as string[] | undefined)?.[0] : (o.x_misp_author_ref as string | undefined);
    a.Sighting = [...((a.Sighting as J[] | undefined) ?? []), {
      uuid: uuidOf(o.id), type: o.type === 'sighting' ? '0' : '1', date_sighting: epoch(o.created),
      source: typeof o.description === 'string' ? o.description : '',
      ...(where ? { Organisation: { uuid: uuidOf(where), name: opts.orgNames?.get(where) ?? '' } } : {}),
    }];
    used.add(o.id);
  }
  for (const o of members) if (!used.has(o.id) && !o.type.includes('-addr') && !['identity', 'note', 'marking-definition'].includes(o.type)) {
    const isSco = !('created' in o);
    if (!isSco) skipped.push({ id: o.id, reason: `${o.type} has no MISP form in this exporter` });
  }

  const creator = typeof c.created_by_ref === 'string' ? c.created_by_ref : null;
  const { distribution, sg } = distributionOf(tlp, opts.recipients ?? []);
  const published = c.type === 'report';
  const event: J = {
    uuid: uuidOf(c.id), info: String(c.name ?? ''), date: typeof c.x_misp_date === 'string' ? c.x_misp_date : String(published ? c.published : c.created).slice(0, 10),
    timestamp: epoch(c.modified), published, publish_timestamp: published ? epoch(c.published) : '0',
    threat_level_id: String(c.x_misp_threat_level_id ?? 4), analysis: String(c.x_misp_analysis ?? 0),
    distribution, sharing_group_id: '0',
    ...(creator ? { Orgc: { uuid: uuidOf(creator), name: opts.orgNames?.get(creator) ?? identityName(objects, creator) } } : {}),
    Tag: tags.filter((t) => t.name !== TOOL_LABEL), Attribute: attributes, Object: mispObjects, Galaxy: galaxyBlocks([...eventGalaxies.values()]),
  };
  if (sg) event.SharingGroup = sharingGroupOf(uuidOf(c.id), opts.recipients ?? []);
  return { event: { Event: event }, skipped };
}

/** The name of an identity among the exported objects ('' when it is not among them). */
function identityName(objects: readonly StixObj[], id: string): string {
  const i = objects.find((o) => o.id === id && o.type === 'identity');
  return i && typeof i.name === 'string' ? i.name : '';
}
