/**
 * Publishing and deleting a MISP event (PyMISP `publish`, `delete_event`) in the terms the import
 * maps events to (docs/misp.md "Publish and delete"): an unpublished event is a STIX grouping, a
 * published one a report of the same uuid; the event is its newest live container.
 *
 * - Publish: a report version made from the grouping (same name, references, labels, markings and
 *   release), `published` = `modified` = the time of publication, a whole second after the
 *   grouping's `modified` at least (a MISP timestamp is in seconds, and the report must be the
 *   newer container).
 * - Delete: every live container, and every object of the event its creator holds in the
 *   container's collection, gets a revoked version (STIX 2.1 §3.6.2): same content, `revoked: true`,
 *   a newer `modified`. Revoked is final (docs/stix-versioning.md), so the event uuid takes no new
 *   version after it, as MISP blocklists a deleted event's uuid. Nothing is hard-deleted. Left
 *   alone: SCOs (no versions), identities, galaxy SDOs (shared by events), and objects of other
 *   organisations (sightings members added).
 *
 * Only the organisation that created the event (the creator of its container here) publishes or
 * deletes it; the route checks the role (intel.write). Both are audited.
 */
import { AccessService, type Actor } from '../access/index.js';
import { AppError } from '../core/errors.js';
import type { Audience } from '../core/policy.js';
import { IntelService, type ItemResult } from '../intel/index.js';
import type { Store } from '../store/index.js';
import { loadEventObjects } from './export.js';
import { SINGLE_COMMIT_OBJECTS } from './import.js';
import { lastVersions } from './revoke.js';
import { iso, type StixObj } from './to-stix.js';

export interface EventAction {
  actor: Actor & { principal: { orgId: string } };
  audience: Audience;
  /** Collections the caller reads (where the event is looked for). */
  collectionIds: readonly string[];
  /** Whether the caller may write to a collection. */
  canWrite: (collectionId: string) => boolean;
  uuid: string;
}

const msOf = (o: StixObj) => Date.parse(String(o.modified ?? o.created ?? ''));
const CHUNK = 500;
const SLICE = 1_000;

/** The event as the caller reads it, and that the caller's organisation created it and may write where it is stored. */
async function ownEvent(store: Store, q: EventAction, what: string) {
  const ev = await loadEventObjects(store, { audience: q.audience, collectionIds: q.collectionIds, ref: q.uuid });
  const org = q.actor.principal.orgId;
  if (ev.creatorOrg !== org) throw new AppError('FORBIDDEN', `event ${q.uuid} was created by another organisation: only its creator may ${what} it`);
  if (!q.canWrite(ev.collectionId)) throw new AppError('FORBIDDEN', `no write access to the collection that holds event ${q.uuid}`);
  return ev;
}

/** Submits batches in one transaction (or in slices above SINGLE_COMMIT_OBJECTS), then audits; any refusal is a 400 (rolled back when in one transaction). */
async function commit(intel: IntelService, q: EventAction, w: { collectionId: string; batches: { recipients: string[]; objects: StixObj[] }[]; audit: [string, string, Record<string, unknown>] }): Promise<number> {
  const total = w.batches.reduce((n, b) => n + b.objects.length, 0);
  const opts = { preserveProvenance: true };
  const check = (results: readonly ItemResult[]) => {
    const bad = results.find((r) => r.status === 'rejected');
    if (bad && bad.status === 'rejected') throw new AppError('BAD_REQUEST', `${bad.id ?? 'an object'} was refused: ${bad.message}`);
  };
  if (total > SINGLE_COMMIT_OBJECTS) {
    // A large event commits in slices (the embedded store has one connection, DESIGN §2.7); the
    // containers are the last batch, so an interrupted delete leaves the event standing, and
    // deleting it again completes it.
    for (const b of w.batches) {
      for (let i = 0; i < b.objects.length; i += SLICE) {
        check(await intel.submit(q.actor, w.collectionId, b.objects.slice(i, i + SLICE), { recipients: b.recipients, ...opts }));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await new AccessService(intel.store, intel.clock).audit(q.actor, ...w.audit);
    return total;
  }
  const committed = { count: 0, types: new Set<string>() };
  await intel.store.transaction(async (tx) => {
    const svc = new IntelService(tx, intel.clock, (c) => {
      committed.count += c.count;
      for (const t of c.types) committed.types.add(t);
    });
    for (const b of w.batches) check(await svc.submit(q.actor, w.collectionId, b.objects, { recipients: b.recipients, ...opts }));
    await new AccessService(tx, intel.clock).audit(q.actor, ...w.audit);
  });
  intel.announce({ collectionId: w.collectionId, ...committed });
  return total;
}

/** Publishes an unpublished event (grouping → report). An event already published is left as it is. */
export async function publishEvent(intel: IntelService, q: EventAction): Promise<{ container: string; published: boolean }> {
  const ev = await ownEvent(intel.store, q, 'publish');
  const g = ev.container;
  if (g.type === 'report') return { container: g.id, published: false };
  const atS = Math.max(Math.floor(intel.clock.now() / 1000), Math.floor(msOf(g) / 1000) + 1);
  const at = iso(atS);
  // The event's date as the export shows it (to-misp.ts): kept, written only where the export cannot infer it.
  const date = typeof g.x_misp_date === 'string' ? g.x_misp_date : String(g.created).slice(0, 10);
  const { context: _context, x_misp_date: _date, ...rest } = g;
  const report: StixObj = { ...rest, type: 'report', id: `report--${q.uuid}`, created: at, modified: at, published: at, ...(date !== at.slice(0, 10) ? { x_misp_date: date } : {}) };
  const rel = ev.release.get(g.id)!;
  await commit(intel, q, { collectionId: ev.collectionId, batches: [{ recipients: rel.recipients, objects: [report] }], audit: ['misp.publish', report.id, { event: q.uuid, collectionId: ev.collectionId, from: g.id }] });
  return { container: report.id, published: true };
}

/** Deletes an event: revokes its containers and the objects of it the caller's organisation holds. Returns the revoked ids. */
export async function deleteEvent(intel: IntelService, q: EventAction): Promise<{ revoked: string[] }> {
  const ev = await ownEvent(intel.store, q, 'delete');
  const scope = { collectionId: ev.collectionId, owner: q.actor.principal.orgId };
  const containers = await lastVersions(intel.store, scope, [`report--${q.uuid}`, `grouping--${q.uuid}`]);
  const refs = new Set<string>();
  for (const { obj } of containers.values()) for (const r of Array.isArray(obj.object_refs) ? obj.object_refs : []) if (typeof r === 'string') refs.add(r);
  const ids = [...refs];
  const nowMs = intel.clock.now();
  const byRecipients = new Map<string, { recipients: string[]; objects: StixObj[] }>();
  const revoke = (s: { obj: StixObj; recipients: string[] }, into: Map<string, { recipients: string[]; objects: StixObj[] }>) => {
    const key = s.recipients.join(',');
    const b = into.get(key) ?? { recipients: s.recipients, objects: [] };
    // Later than every stored version: a revocation is the last version of an object.
    b.objects.push({ ...s.obj, modified: new Date(Math.max(nowMs, msOf(s.obj) + 1)).toISOString(), revoked: true });
    into.set(key, b);
  };
  for (let i = 0; i < ids.length; i += CHUNK) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const s of (await lastVersions(intel.store, scope, ids.slice(i, i + CHUNK))).values()) {
      const o = s.obj;
      const galaxy = Array.isArray(o.labels) && o.labels.some((l) => typeof l === 'string' && l.startsWith('misp:galaxy-type='));
      if (typeof o.modified !== 'string' || o.type === 'identity' || o.type === 'marking-definition' || galaxy) continue;
      revoke(s, byRecipients);
    }
  }
  const heads = new Map<string, { recipients: string[]; objects: StixObj[] }>();
  for (const s of containers.values()) revoke(s, heads);
  const batches = [...byRecipients.values(), ...heads.values()];
  const revoked = batches.flatMap((b) => b.objects.map((o) => o.id));
  await commit(intel, q, { collectionId: ev.collectionId, batches, audit: ['misp.delete', `event:${q.uuid}`, { event: q.uuid, collectionId: ev.collectionId, revoked: revoked.length }] });
  return { revoked };
}
