/**
 * Creates the demo alliance on an empty node: organisations (and their STIX identities),
 * users with random passwords, sharing groups, collections with grants, and the demo intel.
 * Runs at most once per store (a marker in store meta), and only on a store without
 * organisations, so it can never mix invented data into a real node.
 */
import crypto from 'node:crypto';
import { chmod, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { AccessService, type Actor } from '../../access/index.js';
import type { Store } from '../../store/index.js';
import { TLP2_MARKINGS } from '../../stix/index.js';
import { IntelService, type SubmitOptions } from '../service.js';
import { DEMO_COLLECTIONS, DEMO_EXCON, DEMO_GROUPS, DEMO_ORGS, DEMO_USER_SPECS } from './alliance.js';
import { demoIntel, type Stix } from './intel.js';

export const DEMO_MARKER = 'demo.created';

export interface DemoUserCredential {
  username: string;
  password: string;
  /** Short name of the organisation. */
  org: string;
  orgId: string;
  roles: string[];
}

export interface DemoResult {
  users: DemoUserCredential[];
  organisations: number;
  collections: number;
  objects: number;
}

export interface DemoDeps {
  store: Store;
  clock: Clock;
}

/** A password of 20 URL-safe characters (120 bits). */
function randomPassword(): string {
  return crypto.randomBytes(15).toString('base64url');
}

/** Whether this store may receive the demo alliance: no marker and no organisation yet. */
export async function demoAllowed(store: Store): Promise<boolean> {
  if (await store.getMeta(DEMO_MARKER)) return false;
  return (await store.listOrganisations()).length === 0;
}

/**
 * Creates the whole demo alliance in ONE transaction: a crash half-way leaves an empty node
 * (and no marker), never half an alliance. Throws CONFLICT when the node is not empty or the
 * demo already ran; a second process racing this one blocks on the write lock, then finds the
 * marker and rolls back.
 */
export async function createDemoAlliance(deps: DemoDeps, opts: { apiRoot: string; actor?: Actor }): Promise<DemoResult> {
  const actor = opts.actor ?? { principal: null, source: 'demo' };
  return deps.store.transaction(async (store) => {
    const clock = deps.clock;
    const access = new AccessService(store, clock);
    if (await store.getMeta(DEMO_MARKER)) throw new AppError('CONFLICT', 'the demo alliance was already created on this node');
    if ((await store.listOrganisations()).length > 0) throw new AppError('CONFLICT', 'the demo alliance can only be created on an empty node');
    const claim = `${clock.now()}-${crypto.randomUUID()}`;
    if ((await store.initMeta(DEMO_MARKER, claim)) !== claim) throw new AppError('CONFLICT', 'the demo alliance was already created on this node');

    const orgIds: Record<string, string> = {};
    const users: DemoUserCredential[] = [];
    for (const o of DEMO_ORGS) {
      const row = await access.createOrganisation(actor, { name: o.name, shortName: o.shortName, country: o.country, kind: o.kind });
      orgIds[o.key] = row.id;
      const specs = o.kind === 'alliance-body' ? [...DEMO_USER_SPECS, DEMO_EXCON] : DEMO_USER_SPECS;
      for (const s of specs) {
        const password = randomPassword();
        const username = `${o.userPrefix}.${s.suffix}`;
        await access.createUser(actor, { orgId: row.id, username, password, displayName: `${s.displayRole}, ${o.shortName}`, roles: s.roles });
        users.push({ username, password, org: o.shortName, orgId: row.id, roles: [...s.roles] });
      }
    }
    const groupIds: Record<string, string> = {};
    for (const g of DEMO_GROUPS) {
      const row = await access.createGroup(actor, { ownerOrg: orgIds[g.owner] ?? '', name: g.name, description: g.description, members: g.members.map((m) => orgIds[m] ?? '') });
      groupIds[g.key] = row.id;
    }
    const collectionIds: Record<string, string> = {};
    for (const c of DEMO_COLLECTIONS) {
      const row = await access.createCollection(actor, { apiRoot: opts.apiRoot, title: c.title, description: c.description, alias: c.alias });
      collectionIds[c.key] = row.id;
      for (const g of c.grants) {
        const principal = g.to === '*' ? '*' : g.to.startsWith('group:') ? groupIds[g.to.slice(6)] ?? '' : orgIds[g.to] ?? '';
        await access.grantCollection(actor, row.id, principal, { canRead: g.read, canWrite: g.write });
      }
    }

    const objects = await storeDemoIntel({ store, clock, actor }, { orgIds, groupIds, collectionIds });
    await store.setMeta(DEMO_MARKER, JSON.stringify({ at: clock.now(), organisations: DEMO_ORGS.length, users: users.length, objects }));
    return { users, organisations: DEMO_ORGS.length, collections: DEMO_COLLECTIONS.length, objects };
  });
}

async function storeDemoIntel(
  ctx: { store: Store; clock: Clock; actor: Actor },
  ids: { orgIds: Record<string, string>; groupIds: Record<string, string>; collectionIds: Record<string, string> },
): Promise<number> {
  const intel = new IntelService(ctx.store, ctx.clock);
  const alliance = ids.collectionIds.alliance ?? '';
  let n = 0;
  const submit = async (org: string, collectionId: string, objects: Stix[], opts: SubmitOptions) => {
    const results = await intel.submit(ctx.actor, collectionId, objects, { ...opts, asOrg: org });
    const bad = results.filter((r) => r.status === 'rejected');
    // The demo content is ours: a reject is a bug in it, not something to hide.
    if (bad.length) throw new AppError('INTERNAL', `demo intel rejected: ${bad.map((r) => ('message' in r ? `${r.id}: ${r.message}` : '')).join('; ')}`);
    n += results.length;
  };
  // The TLP 2.0 marking definitions, so clients can resolve the markings the demo uses.
  await submit(ids.orgIds.csirt ?? '', alliance, Object.values(TLP2_MARKINGS) as unknown as Stix[], { defaultTlp: 'clear' });
  // Each organisation publishes its own identity (STIX 2.1 §4.5), TLP:CLEAR.
  const at = new Date(ctx.clock.now() - 40 * 86_400_000).toISOString();
  for (const o of DEMO_ORGS) {
    const id = ids.orgIds[o.key] ?? '';
    const identity = {
      type: 'identity', spec_version: '2.1', id, created: at, modified: at, created_by_ref: id, name: o.name, description: o.description,
      identity_class: 'organization', sectors: o.sectors, ...(o.country ? { contact_information: `Country code ${o.country} (fictional)` } : {}),
    };
    await submit(id, alliance, [identity], { defaultTlp: 'clear' });
  }
  // Sharing groups are identities too (identity_class group), known to the whole community.
  for (const g of DEMO_GROUPS) {
    const owner = ids.orgIds[g.owner] ?? '';
    const identity = { type: 'identity', spec_version: '2.1', id: ids.groupIds[g.key] ?? '', created: at, modified: at, created_by_ref: owner, name: g.name, description: g.description, identity_class: 'group' };
    await submit(owner, alliance, [identity], { defaultTlp: 'green' });
  }
  for (const s of demoIntel(ctx.clock.now(), ids.orgIds, ids.groupIds)) {
    const org = ids.orgIds[s.org] ?? '';
    // The demo organisations author this content: it names them as creators (the node never adds
    // created_by_ref itself), so the TLP of the submission becomes each object's own marking.
    const authored = s.objects.map((o) => ('created' in o && o.type !== 'marking-definition' && !('created_by_ref' in o) ? { ...o, created_by_ref: org } : o));
    await submit(org, ids.collectionIds[s.collection] ?? '', authored as Stix[], { defaultTlp: s.tlp, recipients: s.recipients });
  }
  return n;
}

/** Writes `<dataDir>/demo-credentials.json`, readable by the node operator only (mode 0600). */
export async function writeDemoCredentials(dataDir: string, url: string, users: readonly DemoUserCredential[]): Promise<string> {
  const file = path.join(dataDir, 'demo-credentials.json');
  const body = JSON.stringify({ url, users: users.map((u) => ({ username: u.username, password: u.password, org: u.org, orgId: u.orgId, roles: u.roles })) }, null, 2);
  // Written whole under a temporary name, then renamed: whoever waits for the file (a script,
  // a test) never reads it half-written, and it is the operator's alone from its first byte.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${body}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600); // whatever the umask
  await rename(tmp, file);
  return file;
}
