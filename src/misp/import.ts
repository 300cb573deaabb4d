/**
 * MISP event import through the normal intel path: convert (to-stix.ts), then
 * IntelService.submit — validation, provenance, versioning rules, release facts and the audit
 * all apply as for a STIX bundle. Every event of a document commits in ONE transaction (all or
 * nothing, DESIGN §2.2). The summary accounts for every attribute: imported (with the STIX ids
 * that carry it) or skipped with the reason — including attributes whose STIX objects the
 * validator rejected.
 */
import type { Tlp } from '../core/policy.js';
import { AccessService, type Actor } from '../access/index.js';
import { AppError } from '../core/errors.js';
import { DEFAULT_LIMITS } from '../stix/index.js';
import { IntelService, type ItemResult } from '../intel/index.js';
import type { GroupRow, OrgRow, Store } from '../store/index.js';
import { parseMispDocument, type MispEvent, type MispSharingGroup } from './model.js';
import { revocationsFor, type Revocations } from './revoke.js';
import { eventToStixSliced, type AttributeAccount, type Conversion, type SharingGroupRef, type StixObj } from './to-stix.js';

export interface MispImportOptions {
  /** Organisation recorded as creator when the actor has no principal (CLI, feeds). */
  asOrg?: string;
  /**
   * Keep `created_by_ref` of the MISP creator (Orgc) when it is not a member organisation (default
   * true: a MISP event names its creator itself, and the converted objects are stored as that
   * creator's; a claim to a member organisation of this alliance is refused whatever this says).
   */
  preserveProvenance?: boolean;
  /** Sharing groups known from the MISP instance (`/sharing_groups`), matched by id or uuid. */
  sharingGroups?: readonly (MispSharingGroup & { id?: string })[];
}

export interface MispEventSummary {
  uuid: string;
  info: string;
  /** The report or grouping that stands for the event. */
  container: string;
  tlp: Tlp;
  recipients: string[];
}

export interface MispImportSummary {
  events: MispEventSummary[];
  /** STIX objects submitted and what became of them. */
  total: number;
  added: number;
  duplicates: number;
  rejected: number;
  errors: { id: string | null; message: string }[];
  attributes: AttributeAccount[];
  imported: number;
  skipped: number;
  /** References, sightings and sharing-group members left out, with the reason. */
  notes: string[];
}

/**
 * Resolves an element's MISP sharing group to recipients known here: organisations by uuid or
 * name, or a Shieldwall sharing group of the same name. The group is the element's own inline
 * `SharingGroup`, else the one its `sharing_group_id` names among the known groups or the
 * event's inline group; never the event's group in place of another one — a different group
 * unknown here is released to the creator alone (and noted), not to the event's members.
 */
export function sharingGroupResolver(ev: MispEvent, ctx: { orgs: readonly OrgRow[]; groups: readonly GroupRow[]; known: MispImportOptions['sharingGroups']; notes: string[] }) {
  const named = (g: MispSharingGroup & { id?: string | null }, id: string) => id !== '0' && (g.id === id || g.uuid === id);
  return (el: SharingGroupRef): string[] | null => {
    const id = el.sharingGroupId;
    const sg = el.sharingGroup
      ?? (ctx.known ?? []).find((g) => named(g, id))
      ?? (ev.sharingGroup && (id === ev.sharingGroupId || named(ev.sharingGroup, id)) ? ev.sharingGroup : null);
    if (!sg) {
      ctx.notes.push(`sharing group ${id} is unknown: its elements are released to the creator alone`);
      return [];
    }
    const group = ctx.groups.find((g) => g.name.toLowerCase() === sg.name.toLowerCase());
    if (group) return [group.id];
    const out: string[] = [];
    for (const o of sg.orgs) {
      const grp = o.uuid ? ctx.groups.find((g) => g.id === `identity--${o.uuid}`) : undefined;
      if (grp) {
        if (!out.includes(grp.id)) out.push(grp.id);
        continue;
      }
      const hit = ctx.orgs.find((x) => (o.uuid && x.id === `identity--${o.uuid}`) || x.name.toLowerCase() === o.name.toLowerCase() || x.shortName.toLowerCase() === o.name.toLowerCase());
      if (hit) {
        if (!out.includes(hit.id)) out.push(hit.id);
      } else ctx.notes.push(`sharing group "${sg.name}": organisation "${o.name}" is not known on this node and receives nothing`);
    }
    return out;
  };
}

const nameKey = (s: string) => s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * An event whose creator (Orgc) has its own uuid but the name, or short name, of an organisation
 * of this alliance is refused: the MISP view would show it as that organisation's (a member
 * posting as "Brenova Cyber Command" under a new uuid). The uuid of a member is refused by the
 * intel service; an Orgc without uuid is the submitter's own.
 */
function refuseBorrowedName(ev: MispEvent, orgs: readonly OrgRow[]): void {
  const c = ev.orgc;
  if (!c?.uuid || !c.name) return;
  const key = nameKey(c.name);
  const member = orgs.find((o) => nameKey(o.name) === key || nameKey(o.shortName) === key);
  if (member && member.id !== `identity--${c.uuid.toLowerCase()}`) {
    throw new AppError('BAD_REQUEST', `MISP event ${ev.uuid}: Orgc "${c.name.slice(0, 100)}" is the name of ${member.shortName}, an organisation of this alliance, `
      + `under another uuid (${c.uuid.slice(0, 40)}): only ${member.shortName} publishes under its name; name the creator as itself, or leave Orgc out`);
  }
}

/** STIX objects up to which a document commits in one transaction (about 150 ms of writes). */
export const SINGLE_COMMIT_OBJECTS = 2_000;
/** STIX objects per transaction above it. */
const SLICE_OBJECTS = 1_000;

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Planned { ev: MispEvent; conv: Conversion; notes: string[]; revocations: Revocations; batches: { recipients: string[]; objects: StixObj[] }[] }

/**
 * The submits of one event: one per distinct recipient list (recipients are a per-submit
 * release fact), cut into slices of at most `slice` objects, then the revocations of what the
 * update withdraws; the report/grouping (with the Orgc identity and the empty-event note) comes
 * last, so an event exists for MISP readers only once everything it references is stored.
 */
function plan(conv: Conversion, revocations: Revocations, slice: number): Planned['batches'] {
  const head = conv.objects.slice(0, conv.eventObjects);
  const groups = new Map<string, { recipients: string[]; objects: StixObj[] }>();
  for (const o of conv.objects.slice(conv.eventObjects)) {
    const rel = conv.release.get(o.id)!;
    const key = rel.recipients.join(',');
    const g = groups.get(key) ?? { recipients: rel.recipients, objects: [] };
    g.objects.push(o);
    groups.set(key, g);
  }
  const out: Planned['batches'] = [];
  for (const g of [...groups.values(), ...revocations.batches]) for (let i = 0; i < g.objects.length; i += slice) out.push({ recipients: g.recipients, objects: g.objects.slice(i, i + slice) });
  out.push({ recipients: conv.release.get(head[0]!.id)!.recipients, objects: head });
  return out;
}

/**
 * Imports every event of a MISP document. A document of up to SINGLE_COMMIT_OBJECTS STIX
 * objects commits in ONE transaction (all or nothing, DESIGN §2.2). A larger one commits in
 * slices of SLICE_OBJECTS with a turn of the event loop between them: the embedded store has
 * one connection, so one long transaction would hold every other request of the node for
 * seconds (DESIGN §2.7 takes precedence there). Each event's report/grouping is stored last, so
 * a crash in the middle leaves the event absent for MISP readers, and posting it again
 * completes it (what was stored is a duplicate).
 */
export async function importMisp(intel: IntelService, req: { actor: Actor; collectionId: string; document: unknown }, opts: MispImportOptions = {}): Promise<MispImportSummary> {
  const events = parseMispDocument(req.document, { receivedS: Math.floor(intel.clock.now() / 1000) });
  const summary: MispImportSummary = { events: [], total: 0, added: 0, duplicates: 0, rejected: 0, errors: [], attributes: [], imported: 0, skipped: 0, notes: [] };
  const orgs = await intel.store.listOrganisations();
  for (const ev of events) refuseBorrowedName(ev, orgs);
  const groups = await intel.store.listGroups();
  const knownIdentities = new Set([...orgs.map((o) => o.id), ...groups.map((g) => g.id)]);
  const members = new Map(await Promise.all(groups.map(async (g) => [g.id, await intel.store.groupMembers(g.id)] as const)));
  const groupMembers = (id: string): readonly string[] => members.get(id) ?? [];
  // A MISP sharing group is taken for a Shieldwall one (by name or uuid) only among the groups the
  // importing organisation owns or belongs to, as GET /sharing-groups lists them: a guessed name
  // of another's group must resolve as an unknown one, neither revealing nor addressing it.
  const importer = req.actor.principal?.orgId ?? opts.asOrg;
  const ownGroups = importer === undefined ? groups : groups.filter((g) => g.ownerOrg === importer || groupMembers(g.id).includes(importer));
  const planned: Planned[] = [];
  let objectCount = 0;
  for (const ev of events) {
    const notes: string[] = [];
    const conv = await eventToStixSliced(ev, { knownIdentities, sharingGroupRecipients: sharingGroupResolver(ev, { orgs, groups: ownGroups, known: opts.sharingGroups, notes }), groupMembers });
    const container = conv.objects.find((o) => o.type === 'report' || o.type === 'grouping')!;
    const refs = (container.object_refs as string[]).length;
    if (refs > DEFAULT_LIMITS.maxListLength) {
      throw new AppError('PAYLOAD_TOO_LARGE', `MISP event ${ev.uuid}: it converts to ${refs} STIX objects, more than the ${DEFAULT_LIMITS.maxListLength} a report may reference; split the event`);
    }
    const revocations = await revocationsFor(intel.store, { collectionId: req.collectionId, owner: importer, ev, conv });
    objectCount += conv.objects.length + revocations.batches.reduce((n, b) => n + b.objects.length, 0);
    planned.push({ ev, conv, notes, revocations, batches: [] });
  }
  const sliced = objectCount > SINGLE_COMMIT_OBJECTS;
  for (const p of planned) p.batches = plan(p.conv, p.revocations, sliced ? SLICE_OBJECTS : Number.MAX_SAFE_INTEGER);
  const submitOpts = { preserveProvenance: opts.preserveProvenance !== false, ...(opts.asOrg ? { asOrg: opts.asOrg } : {}) };
  const rejected = new Map<string, string>();
  const tally = (results: readonly ItemResult[]) => {
    for (const r of results) {
      summary.total++;
      if (r.status === 'added') summary.added++;
      else if (r.status === 'duplicate') summary.duplicates++;
      else if (r.status === 'rejected') {
        summary.rejected++;
        // The first 100, and always an event's report/grouping (whether the event itself was stored).
        if (summary.errors.length < 100 || /^(report|grouping)--/.test(r.id ?? '')) summary.errors.push({ id: r.id, message: r.message });
        if (r.id) rejected.set(r.id, r.message);
      }
    }
  };
  const finish = async (store: Store) => {
    for (const { ev, conv, notes, revocations } of planned) {
      for (const a of conv.attributes) {
        const why = a.stixIds.map((id) => rejected.get(id)).find((m) => m !== undefined);
        // A withdrawn attribute (or one of a withdrawn object): the STIX objects revoked for it.
        const revoked = (revocations.byUuid.get(a.uuid) ?? (a.objectUuid ? revocations.byUuid.get(a.objectUuid) : undefined) ?? []).filter((id) => !rejected.has(id));
        if (why !== undefined) summary.attributes.push({ ...a, status: 'skipped', stixIds: [], reason: `refused by the intel service: ${why}` });
        else if (revoked.length > 0 && a.status === 'skipped') summary.attributes.push({ ...a, reason: `${a.reason ?? 'deleted in MISP'}; revoked ${revoked.join(', ')}`, revoked });
        else summary.attributes.push(a);
      }
      const container = conv.objects.find((o) => o.type === 'report' || o.type === 'grouping')!;
      const rel = conv.release.get(container.id)!;
      summary.events.push({ uuid: ev.uuid, info: ev.info, container: container.id, tlp: rel.tlp, recipients: rel.recipients });
      summary.notes.push(...conv.notes, ...notes, ...revocations.notes);
    }
    summary.imported = summary.attributes.filter((a) => a.status === 'imported').length;
    summary.skipped = summary.attributes.length - summary.imported;
    await new AccessService(store, intel.clock).audit(req.actor, 'misp.import', req.collectionId, {
      events: summary.events.map((e) => e.uuid), total: summary.total, added: summary.added, duplicates: summary.duplicates, rejected: summary.rejected,
      attributesImported: summary.imported, attributesSkipped: summary.skipped, asOrg: opts.asOrg ?? null, slices: sliced,
    });
  };
  if (sliced) {
    // Each slice is its own transaction, announced by the service as it commits.
    for (const p of planned) {
      for (const b of p.batches) {
        tally(await intel.submit(req.actor, req.collectionId, b.objects, { recipients: b.recipients, ...submitOpts }));
        await pause();
      }
    }
    await finish(intel.store);
    return summary;
  }
  const committed = { count: 0, types: new Set<string>() };
  await intel.store.transaction(async (tx) => {
    const svc = new IntelService(tx, intel.clock, (c) => {
      committed.count += c.count;
      for (const t of c.types) committed.types.add(t);
    });
    for (const p of planned) for (const b of p.batches) tally(await svc.submit(req.actor, req.collectionId, b.objects, { recipients: b.recipients, ...submitOpts }));
    await finish(tx);
  });
  intel.announce({ collectionId: req.collectionId, ...committed });
  return summary;
}
