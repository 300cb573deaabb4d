/**
 * MISP event → STIX 2.1 objects with the mapping of MISP's own converter, misp-stix
 * (misp_to_stix2.py / misp_to_stix21.py at tag 2026.6.30; shared/reference/misp-interop.md §2):
 * report (published) or grouping for the event, observed-data + SCOs for every observable
 * attribute and, when `to_ids`, an indicator plus a `based-on` relationship; objects as one
 * observed-data (+ one indicator over their to_ids attributes); object references as
 * relationships; galaxies as SDOs; sightings as `sighting` / false positives as `opinion`.
 * Ids reuse the MISP uuids (relationship ids: UUIDv5 of "source - type - target"), so the
 * conversion is deterministic and a re-import is a duplicate, never a new version.
 *
 * Every attribute is accounted for in the result (`attributes`): imported as which STIX
 * objects, or skipped with the reason. Deliberate differences from misp-stix are listed in
 * docs/misp.md (TLP 2.0 marking on every object; unmapped objects as x-misp-object).
 */
import { uuidv5 } from '../stix/index.js';
import { tlpMarkingId } from '../stix/index.js';
import { RULE_TYPES, TYPES, hashPath, HASHES, lit, type Sco } from './attribute-types.js';
import type { MispAttribute, MispEvent, MispGalaxyCluster, MispObject, MispSharingGroup, MispSighting } from './model.js';
import { isTlpTag, narrowRelease, releasabilityOf, type Releasability } from './policy.js';
import { OBJECT_TEMPLATES } from './object-templates.js';

/** misp-stix's namespace for relationship ids (`uuid5(NS, f"{source} - {type} - {target}")`). */
export const MISP_STIX_NAMESPACE = '76beed5f-7251-457e-8c2a-b45f7b589d3d';
export const TOOL_LABEL = 'misp:tool="MISP-STIX-Converter"';

export type StixObj = Record<string, unknown> & { type: string; id: string };

/** What names an element's sharing group: its id, and the group itself when the document carries it inline. */
export interface SharingGroupRef { sharingGroupId: string; sharingGroup: MispSharingGroup | null }

export interface AttributeAccount {
  uuid: string;
  type: string;
  /** The MISP object the attribute belongs to, if any. */
  objectUuid: string | null;
  status: 'imported' | 'skipped';
  /** The STIX objects that carry it (imported). */
  stixIds: string[];
  reason?: string;
  /** A withdrawn (deleted) attribute of an updated event: the STIX objects revoked for it (misp/revoke.ts). */
  revoked?: string[];
}

export interface Conversion {
  objects: StixObj[];
  /** Release facts per STIX id (TLP is also written as a marking on the object). */
  release: Map<string, Releasability>;
  attributes: AttributeAccount[];
  /** Things other than attributes that were left out (references, sightings), with the reason. */
  notes: string[];
  /** How many of the leading `objects` stand for the event itself (Orgc identity, report/grouping, empty-event note). */
  eventObjects: number;
}

export interface ConvertOptions {
  /** Recipients for an element's sharing group (its inline group, else its id); null when unknown. */
  sharingGroupRecipients?: (el: SharingGroupRef) => string[] | null;
  /** Member organisations of a Shieldwall sharing group (for the intersection of two audiences). */
  groupMembers?: (groupId: string) => readonly string[];
  /** Identity ids the node already holds (the Orgc identity is then not emitted). */
  knownIdentities?: ReadonlySet<string>;
  /** Write TLP markings on the objects (default true). Off for the misp-stix fixture comparison. */
  markings?: boolean;
}

const lastIso = { s: NaN, text: '' };
/** Unix seconds → ISO 8601. The attributes of an event mostly share a timestamp: the last one is kept. */
export const iso = (s: number): string => {
  if (s !== lastIso.s) {
    lastIso.text = new Date(s * 1000).toISOString();
    lastIso.s = s;
  }
  return lastIso.text;
};
const isoS = (s: number): string => iso(s).replace('.000Z', 'Z');
const labelOf = (k: string, v: string) => `${k}="${v}"`;
/** Tags that travel as labels: not TLP (a marking) and not galaxies (SDOs). */
export const labelTags = (tags: readonly string[]): string[] => tags.filter((t) => !isTlpTag(t) && !t.startsWith('misp-galaxy:'));

export function relationshipId(source: string, type: string, target: string): string {
  return `relationship--${uuidv5(MISP_STIX_NAMESPACE, `${source} - ${type} - ${target}`)}`;
}

interface Ctx {
  opts: ConvertOptions;
  createdBy: string | null;
  out: StixObj[];
  release: Map<string, Releasability>;
  refs: string[];
  attributes: AttributeAccount[];
  notes: string[];
  /** MISP uuid (attribute or object) → the STIX object references and sightings point at. */
  primary: Map<string, { main: string; observed: string | null }>;
}

function common(ctx: Ctx, type: string, id: string, ts: number): StixObj {
  return { type, spec_version: '2.1', id, ...(ctx.createdBy ? { created_by_ref: ctx.createdBy } : {}), created: iso(ts), modified: iso(ts) };
}

function emit(ctx: Ctx, rel: Releasability, objs: StixObj[]): void {
  for (const o of objs) {
    if (ctx.opts.markings !== false) o.object_marking_refs = [tlpMarkingId(rel.tlp)];
    ctx.out.push(o);
    ctx.release.set(o.id, rel);
    ctx.refs.push(o.id);
  }
}

function basedOn(ctx: Ctx, indicator: string, observed: string, ts: number): StixObj {
  return { type: 'relationship', spec_version: '2.1', id: relationshipId(indicator, 'based-on', observed), created: iso(ts), modified: iso(ts), relationship_type: 'based-on', source_ref: indicator, target_ref: observed };
}

function observedData(ctx: Ctx, uuid: string, a: { ts: number; firstSeen: string | null; lastSeen: string | null; labels: string[] }, scos: Sco[]): StixObj {
  const first = a.firstSeen ? new Date(a.firstSeen) : null;
  const last = a.lastSeen ? new Date(a.lastSeen) : null;
  const f = first && !Number.isNaN(first.getTime()) ? first.toISOString() : isoS(a.ts);
  const l = last && !Number.isNaN(last.getTime()) ? last.toISOString() : f;
  return {
    ...common(ctx, 'observed-data', `observed-data--${uuid}`, a.ts), first_observed: f, last_observed: l < f ? f : l, number_observed: 1,
    object_refs: scos.map((s) => s.id), labels: a.labels,
  };
}

function indicator(ctx: Ctx, uuid: string, a: { ts: number; comment: string; pattern: string; patternType?: string; phase: string; labels: string[] }): StixObj {
  return {
    ...common(ctx, 'indicator', `indicator--${uuid}`, a.ts), ...(a.comment ? { description: a.comment } : {}),
    pattern: a.pattern, pattern_type: a.patternType ?? 'stix', ...(a.patternType ? {} : { pattern_version: '2.1' }), valid_from: isoS(a.ts),
    kill_chain_phases: [{ kill_chain_name: 'misp-category', phase_name: a.phase }], labels: a.labels,
  };
}

const scoWithSpec = (s: Sco): StixObj => ({ type: s.type, spec_version: '2.1', id: s.id, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'type' && k !== 'id')) });

function customAttribute(ctx: Ctx, a: MispAttribute, labels: string[]): StixObj {
  return {
    ...common(ctx, 'x-misp-attribute', `x-misp-attribute--${a.uuid}`, a.timestamp), labels,
    x_misp_type: a.type, x_misp_value: a.value, x_misp_category: a.category, ...(a.comment ? { x_misp_comment: a.comment } : {}),
    ...ownToIds(a),
  };
}

/** `to_ids` where no indicator says it (x-misp-attribute, vulnerability, campaign): the flag itself, for the export. */
const ownToIds = (a: MispAttribute): { x_misp_to_ids?: true } => (a.toIds ? { x_misp_to_ids: true } : {});

/** One attribute outside objects. Returns the STIX ids it produced, or throws a reason string. */
function convertAttribute(ctx: Ctx, a: MispAttribute, rel: Releasability): string[] {
  const labels = [labelOf('misp:type', a.type), labelOf('misp:category', a.category), ...labelTags(a.tags)];
  const spec = TYPES[a.type];
  const produced: StixObj[] = [];
  let main: string;
  let observed: string | null = null;
  if (a.type === 'vulnerability') {
    const v = { ...common(ctx, 'vulnerability', `vulnerability--${a.uuid}`, a.timestamp), name: a.value, labels, ...(a.comment ? { description: a.comment } : {}), external_references: [{ source_name: 'cve', external_id: a.value }], ...ownToIds(a) };
    produced.push(v);
    main = v.id;
  } else if (a.type === 'campaign-name') {
    const c = { ...common(ctx, 'campaign', `campaign--${a.uuid}`, a.timestamp), name: a.value, labels, ...(a.comment ? { description: a.comment } : {}), ...ownToIds(a) };
    produced.push(c);
    main = c.id;
  } else if (RULE_TYPES[a.type] && a.toIds) {
    const i = indicator(ctx, a.uuid, { ts: a.timestamp, comment: a.comment, pattern: a.value, patternType: RULE_TYPES[a.type]!, phase: a.category, labels });
    produced.push(i);
    main = i.id;
  } else if (spec?.scos && !spec.custom?.(a.value)) {
    const scos = spec.scos(a.value, a.uuid);
    if (typeof scos === 'string') throw new Error(scos);
    const od = observedData(ctx, a.uuid, { ts: a.timestamp, firstSeen: a.firstSeen, lastSeen: a.lastSeen, labels }, scos);
    produced.push(od, ...scos.map(scoWithSpec));
    main = od.id;
    observed = od.id;
    // observed-data has no description; without an indicator the comment would be lost.
    if (a.comment && !a.toIds) od.x_misp_comment = a.comment;
    if (a.toIds) {
      const p = spec.pattern(a.value);
      if (typeof p !== 'string') throw new Error(p.error);
      const i = indicator(ctx, a.uuid, { ts: a.timestamp, comment: a.comment, pattern: p, phase: a.category, labels });
      produced.push(i, basedOn(ctx, i.id, od.id, a.timestamp));
      main = i.id;
    }
  } else if (spec && !spec.scos && a.toIds) {
    const p = spec.pattern(a.value);
    if (typeof p !== 'string') throw new Error(p.error);
    const i = indicator(ctx, a.uuid, { ts: a.timestamp, comment: a.comment, pattern: p, phase: a.category, labels });
    produced.push(i);
    main = i.id;
  } else {
    const x = customAttribute(ctx, a, labels);
    produced.push(x);
    main = x.id;
  }
  emit(ctx, rel, produced);
  ctx.primary.set(a.uuid, { main, observed });
  galaxyLinks(ctx, a.galaxies, main, { ts: a.timestamp, rel });
  sightings(ctx, a.sightings, { main, observed, rel });
  return produced.map((o) => o.id);
}

function convertObject(ctx: Ctx, o: MispObject, rel: Releasability): void {
  const live = o.attributes.filter((a) => !a.deleted);
  for (const a of o.attributes.filter((x) => x.deleted)) ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: o.uuid, status: 'skipped', stixIds: [], reason: 'deleted in MISP (soft delete)' });
  const labels = [labelOf('misp:name', o.name), labelOf('misp:meta-category', o.metaCategory)];
  const template = OBJECT_TEMPLATES[o.name];
  const built = template?.toStix(o, live);
  const produced: StixObj[] = [];
  let main: string;
  let observed: string | null = null;
  if (built && typeof built !== 'string') {
    const od = observedData(ctx, o.uuid, { ts: o.timestamp, firstSeen: null, lastSeen: null, labels }, built.scos);
    produced.push(od, ...built.scos.map(scoWithSpec));
    main = od.id;
    observed = od.id;
    if (built.pattern.length > 0) {
      const i = indicator(ctx, o.uuid, { ts: o.timestamp, comment: o.comment, pattern: `[${built.pattern.join(' AND ')}]`, phase: o.metaCategory, labels });
      produced.push(i, basedOn(ctx, i.id, od.id, o.timestamp));
      main = i.id;
    }
  } else {
    // No STIX template (or values it cannot hold): kept whole, as misp-stix does for unmapped objects.
    const x: StixObj = {
      ...common(ctx, 'x-misp-object', `x-misp-object--${o.uuid}`, o.timestamp), labels, x_misp_name: o.name, x_misp_meta_category: o.metaCategory,
      ...(o.comment ? { x_misp_comment: o.comment } : {}),
      x_misp_attributes: live.map((a) => ({
        uuid: a.uuid, type: a.type, object_relation: a.objectRelation ?? '', value: a.value, category: a.category, to_ids: a.toIds,
        ...(a.comment ? { comment: a.comment } : {}),
      })),
    };
    if (typeof built === 'string') ctx.notes.push(`object ${o.uuid} (${o.name}) kept as x-misp-object: ${built}`);
    produced.push(x);
    main = x.id;
  }
  emit(ctx, rel, produced);
  const ids = produced.map((p) => p.id);
  for (const a of live) {
    ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: o.uuid, status: 'imported', stixIds: ids });
    ctx.primary.set(a.uuid, { main, observed });
    sightings(ctx, a.sightings, { main, observed, rel });
  }
  ctx.primary.set(o.uuid, { main, observed });
}

/** misp-stix `_handle_sightings`: type 0 → sighting, 1 → opinion "strongly-disagree", 2 not exported. */
function sightings(ctx: Ctx, list: readonly MispSighting[], t: { main: string; observed: string | null; rel: Releasability }): void {
  for (const s of list) {
    if (s.type === 2) {
      ctx.notes.push(`sighting ${s.uuid}: expiration sightings (type 2) have no STIX form (misp-stix does not export them)`);
      continue;
    }
    const ts = s.dateSighting;
    const base = { spec_version: '2.1', ...(ctx.createdBy ? { created_by_ref: ctx.createdBy } : {}), created: iso(ts), modified: iso(ts) };
    const obj: StixObj = s.type === 1
      ? { type: 'opinion', id: `opinion--${s.uuid}`, ...base, opinion: 'strongly-disagree', explanation: 'False positive Sighting', object_refs: [t.main], ...(s.org?.uuid ? { x_misp_author_ref: `identity--${s.org.uuid}` } : {}) }
      : {
          type: 'sighting', id: `sighting--${s.uuid}`, ...base, first_seen: iso(ts), last_seen: iso(ts), count: 1, sighting_of_ref: t.main,
          ...(t.observed && t.observed !== t.main ? { observed_data_refs: [t.observed] } : {}),
          ...(s.org?.uuid ? { where_sighted_refs: [`identity--${s.org.uuid}`] } : {}), ...(s.source ? { description: s.source } : {}),
        };
    emit(ctx, t.rel, [obj]);
  }
}

/** Galaxy type → STIX SDO (misp_galaxies_to_stix21_summary.json). */
const GALAXY_SDO: Readonly<Record<string, string>> = {
  'mitre-attack-pattern': 'attack-pattern', 'mitre-enterprise-attack-attack-pattern': 'attack-pattern', 'mitre-mobile-attack-attack-pattern': 'attack-pattern',
  'mitre-pre-attack-attack-pattern': 'attack-pattern', 'mitre-ics-techniques': 'attack-pattern', 'attack-pattern': 'attack-pattern',
  'threat-actor': 'threat-actor', 'microsoft-activity-group': 'threat-actor', '360net-threat-actor': 'threat-actor',
  'mitre-intrusion-set': 'intrusion-set', 'mitre-enterprise-attack-intrusion-set': 'intrusion-set',
  malpedia: 'malware', ransomware: 'malware', banker: 'malware', stealer: 'malware', backdoor: 'malware', android: 'malware',
  'mitre-malware': 'malware', 'mitre-enterprise-attack-malware': 'malware',
  tool: 'tool', rat: 'tool', botnet: 'tool', 'exploit-kit': 'tool', 'mitre-tool': 'tool', 'mitre-enterprise-attack-tool': 'tool',
  'mitre-course-of-action': 'course-of-action', 'mitre-enterprise-attack-course-of-action': 'course-of-action',
  sector: 'identity', 'branded-vulnerability': 'vulnerability',
};

/** Relationship from an attribute's object to a galaxy SDO (misp-stix stix2_mapping.py). */
function galaxyRelation(source: string, target: string): string {
  if (source.startsWith('indicator--') && /^(attack-pattern|malware|threat-actor|intrusion-set|tool|campaign)--/.test(target)) return 'indicates';
  if (source.startsWith('intrusion-set--') || source.startsWith('threat-actor--')) return 'uses';
  return 'related-to';
}

export function galaxySdo(ctx: Pick<Ctx, 'createdBy'>, c: MispGalaxyCluster, ts: number): StixObj {
  const sdo = GALAXY_SDO[c.type] ?? 'x-misp-galaxy-cluster';
  const tag = `misp-galaxy:${c.type}="${c.value}"`;
  const uuid = c.uuid ?? uuidv5(MISP_STIX_NAMESPACE, tag);
  const o: StixObj = {
    type: sdo, spec_version: '2.1', id: `${sdo}--${uuid}`, ...(ctx.createdBy ? { created_by_ref: ctx.createdBy } : {}), created: iso(ts), modified: iso(ts),
    name: c.value, ...(c.description ? { description: c.description } : {}),
    labels: [labelOf('misp:galaxy-name', c.galaxyName || c.type), labelOf('misp:galaxy-type', c.type)],
  };
  if (sdo === 'malware') o.is_family = true;
  if (sdo === 'identity') o.identity_class = 'class';
  if (c.synonyms.length && ['malware', 'threat-actor', 'intrusion-set', 'tool'].includes(sdo)) o.aliases = c.synonyms.slice(0, 100);
  if (sdo === 'x-misp-galaxy-cluster') Object.assign(o, { x_misp_type: c.type, x_misp_value: c.value });
  return o;
}

/** Galaxy clusters from `misp-galaxy:<type>="<value>"` tags with no Galaxy block (as CIRCL OSINT events carry). */
function clustersOfTags(tags: readonly string[], known: readonly MispGalaxyCluster[]): MispGalaxyCluster[] {
  const out: MispGalaxyCluster[] = [];
  for (const t of tags) {
    const m = /^misp-galaxy:([^=]+)="(.*)"$/.exec(t.trim());
    if (!m) continue;
    const [, type, value] = m as unknown as [string, string, string];
    if (known.some((c) => c.type === type && c.value === value)) continue;
    out.push({ uuid: null, type, value, description: '', synonyms: [], galaxyName: type });
  }
  return out;
}

function galaxyLinks(ctx: Ctx, clusters: readonly MispGalaxyCluster[], source: string, a: { ts: number; rel: Releasability }): void {
  for (const c of clusters) {
    const sdo = galaxySdo(ctx, c, a.ts);
    const type = galaxyRelation(source, sdo.id);
    const r: StixObj = { type: 'relationship', spec_version: '2.1', id: relationshipId(source, type, sdo.id), created: iso(a.ts), modified: iso(a.ts), relationship_type: type, source_ref: source, target_ref: sdo.id };
    emit(ctx, a.rel, [sdo, r]);
  }
}

function references(ctx: Ctx, objects: readonly MispObject[], release: Map<string, Releasability>): void {
  for (const o of objects) {
    if (o.deleted) continue;
    for (const r of o.references) {
      const src = ctx.primary.get(o.uuid);
      const dst = ctx.primary.get(r.referencedUuid);
      if (r.deleted) {
        ctx.notes.push(`object reference ${r.uuid ?? r.referencedUuid}: deleted in MISP`);
        continue;
      }
      if (!src || !dst) {
        ctx.notes.push(`object reference ${o.uuid} -${r.relationshipType}-> ${r.referencedUuid}: the target is not in this event`);
        continue;
      }
      const type = r.relationshipType.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'related-to';
      const ts = r.timestamp ?? o.timestamp;
      const rel: StixObj = { type: 'relationship', spec_version: '2.1', id: relationshipId(src.main, type, dst.main), ...(ctx.createdBy ? { created_by_ref: ctx.createdBy } : {}), created: iso(ts), modified: iso(ts), relationship_type: type, source_ref: src.main, target_ref: dst.main };
      // A relationship names both ends: released only where both are.
      const none: Releasability = { tlp: 'amber', recipients: [] };
      emit(ctx, narrowRelease(release.get(src.main) ?? none, release.get(dst.main) ?? none, ctx.opts.groupMembers), [rel]);
    }
  }
}

function newCtx(opts: ConvertOptions, createdBy: string | null): Ctx {
  return { opts, createdBy, out: [], release: new Map(), refs: [], attributes: [], notes: [], primary: new Map() };
}

type ReleaseOf = (el: SharingGroupRef & { distribution: number; tags: readonly string[] }, parent: Releasability) => Releasability;

/** Yields after each attribute, so a caller can spread a large event over several turns of the event loop. */
function* convertAttributes(ctx: Ctx, attrs: readonly MispAttribute[], parent: Releasability, releaseOf: ReleaseOf): Generator<void, void> {
  for (const a of attrs) {
    yield;
    if (a.deleted) {
      ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: null, status: 'skipped', stixIds: [], reason: 'deleted in MISP (soft delete)' });
      continue;
    }
    const rel = releaseOf(a, parent);
    try {
      const ids = convertAttribute(ctx, a, rel);
      ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: null, status: 'imported', stixIds: ids });
    } catch (e) {
      ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: null, status: 'skipped', stixIds: [], reason: (e as Error).message });
    }
  }
}

/** One MISP event → STIX 2.1 objects (the report/grouping last in `object_refs` order, first in `objects`). */
export function eventToStix(ev: MispEvent, opts: ConvertOptions = {}): Conversion {
  const steps = conversionSteps(ev, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * eventToStix in slices of about `sliceMs` of work, each followed by a turn of the event loop:
 * converting a 20,000-attribute event takes about a second, which must not hold every other
 * request of the node (DESIGN §2.7).
 */
export async function eventToStixSliced(ev: MispEvent, opts: ConvertOptions = {}, sliceMs = 10): Promise<Conversion> {
  const steps = conversionSteps(ev, opts);
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since > sliceMs) {
      await pause();
      since = performance.now();
    }
  }
}

function* conversionSteps(ev: MispEvent, opts: ConvertOptions): Generator<void, Conversion> {
  const orgc = ev.orgc?.uuid ? `identity--${ev.orgc.uuid}` : null;
  const ctx = newCtx(opts, orgc);
  const sg = (el: SharingGroupRef & { distribution: number }) => (el.distribution === 4 ? (opts.sharingGroupRecipients?.(el) ?? []) : null);
  const releaseOf: ReleaseOf = (el, parent) => releasabilityOf({ distribution: el.distribution, tags: el.tags, sharingGroupRecipients: sg(el) }, parent, opts.groupMembers);
  const eventRel = releasabilityOf({ distribution: ev.distribution, tags: ev.tags, sharingGroupRecipients: sg(ev) }, null, opts.groupMembers);
  const identity: StixObj[] = orgc && !opts.knownIdentities?.has(orgc)
    ? [{ type: 'identity', spec_version: '2.1', id: orgc, created: iso(ev.timestamp), modified: iso(ev.timestamp), name: ev.orgc!.name || ev.orgc!.uuid!, identity_class: 'organization' }]
    : [];
  yield* convertAttributes(ctx, ev.attributes, eventRel, releaseOf);
  for (const o of ev.objects) {
    yield;
    if (o.deleted) {
      for (const a of o.attributes) ctx.attributes.push({ uuid: a.uuid, type: a.type, objectUuid: o.uuid, status: 'skipped', stixIds: [], reason: 'its object is deleted in MISP (soft delete)' });
      continue;
    }
    // One STIX object carries every attribute of the MISP object: it goes only where all of them may.
    let rel = releaseOf({ ...o, tags: [] }, eventRel);
    for (const a of o.attributes) if (!a.deleted) rel = narrowRelease(rel, releaseOf(a, rel), opts.groupMembers);
    convertObject(ctx, o, rel);
  }
  references(ctx, ev.objects, ctx.release);
  // Event-level galaxies (Galaxy blocks and galaxy tags) are referenced by the report itself.
  for (const c of [...ev.galaxies, ...clustersOfTags(ev.tags, ev.galaxies)]) emit(ctx, eventRel, [galaxySdo(ctx, c, ev.timestamp)]);
  const published = ev.published && ev.publishTimestamp > 0;
  const base = {
    ...common(ctx, published ? 'report' : 'grouping', `${published ? 'report' : 'grouping'}--${ev.uuid}`, ev.timestamp), name: ev.info,
    // What misp-stix leaves out, for the export to give back (MISP shows and filters on them);
    // only where the export could not infer it, so an exported event re-imports unchanged.
    ...(ev.date && ev.date !== iso(published ? ev.publishTimestamp : ev.timestamp).slice(0, 10) ? { x_misp_date: ev.date } : {}),
    ...(ev.threatLevelId !== 4 ? { x_misp_threat_level_id: ev.threatLevelId } : {}), ...(ev.analysis !== 0 ? { x_misp_analysis: ev.analysis } : {}),
  };
  const labels = ['Threat-Report', TOOL_LABEL, ...labelTags(ev.tags)];
  let refs = [...ctx.refs];
  const extra: StixObj[] = [];
  if (refs.length === 0) {
    // STIX requires object_refs; misp-stix answers an empty event with a note saying so.
    const note: StixObj = { ...common(ctx, 'note', `note--${ev.uuid}`, ev.timestamp), content: 'This MISP Event is empty and contains no attribute, object, galaxy or tag.', object_refs: [base.id] };
    extra.push(note);
    refs = [note.id];
  }
  const container: StixObj = published
    ? { ...base, published: iso(ev.publishTimestamp), object_refs: refs, labels }
    : { ...base, context: 'suspicious-activity', object_refs: refs, labels };
  if (opts.markings !== false) {
    container.object_marking_refs = [tlpMarkingId(eventRel.tlp)];
    for (const i of [...identity, ...extra]) i.object_marking_refs = [tlpMarkingId(eventRel.tlp)];
  }
  for (const o of [...identity, container, ...extra]) ctx.release.set(o.id, eventRel);
  return { objects: [...identity, container, ...extra, ...ctx.out], release: ctx.release, attributes: ctx.attributes, notes: ctx.notes, eventObjects: identity.length + 1 + extra.length };
}

/** Standalone MISP objects (no event), as misp-stix converts its object collections. */
export function objectsToStix(objects: readonly MispObject[], opts: ConvertOptions = {}): Conversion {
  const ctx = newCtx(opts, null);
  const rel: Releasability = { tlp: 'amber', recipients: [] };
  for (const o of objects) convertObject(ctx, o, rel);
  references(ctx, objects, ctx.release);
  return { objects: ctx.out, release: ctx.release, attributes: ctx.attributes, notes: ctx.notes, eventObjects: 0 };
}

export { hashPath, HASHES, lit };
