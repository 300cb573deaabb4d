/**
 * Node-operator commands acting directly on the store: organisations, users, tokens, sharing
 * groups and collections. Every write goes through AccessService and is audited as the
 * system with source "cli" (CLI_ACTOR).
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { ROLES, type AuditRow, type OrgKind, type Role, type TokenKind } from '../../store/index.js';
import { parseTimestampMicros } from '../../core/time.js';
import { STREAM_TICKET } from '../../access/index.js';
import { CLI_ACTOR, type CliPlatform, collectionOf, orgOf, stdio, withPlatform, type Io } from '../context.js';
import { readSecret } from '../secret.js';
import { printRows } from '../table.js';

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
/** A time as RFC 3339 to the second; '-' for none, 'never' past any date (a token expiry stored before TTLs were capped). */
function when(us: number | null): string {
  if (us === null) return '-';
  const d = new Date(us / 1000);
  return Number.isNaN(d.getTime()) ? 'never' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function roles(raw: string | undefined, fallback = 'analyst'): Role[] {
  const r = list(raw ?? fallback);
  for (const x of r) if (!(ROLES as readonly string[]).includes(x)) throw new AppError('BAD_REQUEST', `unknown role ${x}; roles are ${ROLES.join(', ')}`);
  return r as Role[];
}

/** A sharing group by identity id or exact name. */
async function groupOf(p: CliPlatform, ref: string) {
  const byId = await p.store.getGroup(ref);
  if (byId) return byId;
  const hits = (await p.store.listGroups()).filter((g) => g.name === ref);
  if (hits.length > 1) throw new AppError('BAD_REQUEST', `sharing group "${ref}" is ambiguous: use its id`);
  if (!hits[0]) throw new AppError('NOT_FOUND', `no sharing group ${ref}`);
  return hits[0];
}

/** A grant principal: '*', an organisation (short name or id) or a sharing group (name or id). */
async function principalOf(p: CliPlatform, ref: string): Promise<string> {
  if (ref === '*') return '*';
  try {
    return (await orgOf(p, ref)).id;
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'NOT_FOUND') throw e;
  }
  try {
    return (await groupOf(p, ref)).id;
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') throw new AppError('NOT_FOUND', `no organisation or sharing group ${ref}`);
    throw e;
  }
}

async function userOf(p: CliPlatform, username: string) {
  const u = await p.store.getUserByUsername(username);
  if (!u) throw new AppError('NOT_FOUND', `no user ${username}`);
  return u;
}

function registerOrg(program: Command, io: Io): void {
  const org = program.command('org').description('member organisations (STIX identities)');
  org.command('create')
    .description('create an organisation')
    .requiredOption('--name <name>', 'full name')
    .requiredOption('--short <shortName>', 'short name, 1-16 of A-Z, 0-9, -')
    .option('--country <code>', 'country code')
    .option('--kind <kind>', 'member | alliance-body', 'member')
    .action((o: { name: string; short: string; country?: string; kind: string }) => withPlatform(async (p) => {
      if (o.kind !== 'member' && o.kind !== 'alliance-body') throw new AppError('BAD_REQUEST', `--kind must be member or alliance-body, got ${o.kind}`);
      const row = await p.access.createOrganisation(CLI_ACTOR, { name: o.name, shortName: o.short, country: o.country ?? null, kind: o.kind as OrgKind });
      io.out(row.id);
    }));
  org.command('list')
    .description('list organisations')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const rows = await p.store.listOrganisations();
      printRows(io, o.json, rows, ['shortName', 'name', 'kind', 'country', 'id']);
    }));
}

function registerUser(program: Command, io: Io): void {
  const user = program.command('user').description('users of member organisations');
  user.command('create <username>')
    .description('create a user; the password comes from --password, else stdin or a prompt')
    .requiredOption('--org <org>', 'organisation short name or id')
    .option('--roles <roles>', `comma list of ${ROLES.join(', ')}`, 'analyst')
    .option('--password <password>', 'password (at least 12 characters); prefer stdin, the command line is visible to other users')
    .option('--display-name <name>', 'display name')
    .action((username: string, o: { org: string; roles: string; password?: string; displayName?: string }) => withPlatform(async (p) => {
      const r = roles(o.roles);
      const org = await orgOf(p, o.org);
      const password = o.password ?? (await readSecret(`password for ${username}: `, 'no password given: use --password, or pipe it on stdin'));
      const row = await p.access.createUser(CLI_ACTOR, { orgId: org.id, username, password, roles: r, ...(o.displayName ? { displayName: o.displayName } : {}) });
      io.out(row.id);
    }));
  user.command('list')
    .description('list users')
    .option('--org <org>', 'only this organisation')
    .option('--json', 'print JSON')
    .action((o: { org?: string; json?: boolean }) => withPlatform(async (p) => {
      const orgId = o.org ? (await orgOf(p, o.org)).id : undefined;
      const orgs = new Map((await p.store.listOrganisations()).map((x) => [x.id, x.shortName]));
      const rows = (await p.store.listUsers(orgId)).map((u) => ({
        username: u.username, org: orgs.get(u.orgId) ?? u.orgId, roles: u.roles.join(','), disabled: u.disabled, displayName: u.displayName, id: u.id,
      }));
      printRows(io, o.json, rows, ['username', 'org', 'roles', 'disabled', 'displayName']);
    }));
  user.command('passwd <username>')
    .description('set a new password for a user (read from stdin or a prompt, or --password) and sign out their web sessions; API tokens stay')
    .option('--password <password>', 'the new password (at least 12 characters); prefer stdin, the command line is visible to other users')
    .action((username: string, o: { password?: string }) => withPlatform(async (p) => {
      const u = await userOf(p, username);
      const password = o.password ?? (await readSecret(`new password for ${username}: `, 'no password given: use --password, or pipe it on stdin'));
      const r = await p.access.setPassword(CLI_ACTOR, u.id, password);
      io.out(`password of ${username} changed; ${r.sessionsRevoked} web session${r.sessionsRevoked === 1 ? '' : 's'} signed out`);
    }));
  user.command('roles <username>')
    .description('print a user\'s roles, or replace them with --set (effective on the user\'s next request)')
    .option('--set <roles>', `comma list of ${ROLES.join(', ')}; "" for none`)
    .action((username: string, o: { set?: string }) => withPlatform(async (p) => {
      let u = await userOf(p, username);
      if (o.set !== undefined) u = await p.access.setRoles(CLI_ACTOR, u.id, roles(o.set, ''));
      io.out(u.roles.join(',') || '(no role)');
    }));
  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user.command(`${name} <username>`)
      .description(`${name} a user (${disabled ? 'sign-in and the user\'s tokens stop working' : 'undo disable'})`)
      .action((username: string) => withPlatform(async (p) => {
        const u = await userOf(p, username);
        await p.access.setUserDisabled(CLI_ACTOR, u.id, disabled);
        io.out(`${username} ${disabled ? 'disabled' : 'enabled'}`);
      }));
  }
}

function registerToken(program: Command, io: Io): void {
  const token = program.command('token').description('API, sensor and peer tokens (stored hashed; shown once)');
  token.command('create')
    .description('issue a token and print it once')
    .option('--user <username>', 'token acts as this user (its organisation is implied)')
    .option('--org <org>', 'organisation (for sensor and peer tokens without a user)')
    .option('--kind <kind>', 'api | sensor | peer', 'api')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--ttl-days <days>', 'expire after this many days (at most 3650; default: never)')
    .action((o: { user?: string; org?: string; kind: string; name: string; ttlDays?: string }) => withPlatform(async (p) => {
      if (!['api', 'sensor', 'peer'].includes(o.kind)) throw new AppError('BAD_REQUEST', `--kind must be api, sensor or peer, got ${o.kind}`);
      const ttl = o.ttlDays === undefined ? null : Number(o.ttlDays);
      if (ttl !== null && !(Number.isFinite(ttl) && ttl > 0 && ttl <= 3650)) throw new AppError('BAD_REQUEST', `--ttl-days must be a positive number of days, at most 3650, got "${String(o.ttlDays).slice(0, 20)}"`);
      const u = o.user ? await userOf(p, o.user) : null;
      const org = o.org ? await orgOf(p, o.org) : null;
      if (!u && !org) throw new AppError('BAD_REQUEST', 'give --user or --org');
      if (u && org && u.orgId !== org.id) throw new AppError('BAD_REQUEST', `user ${u.username} does not belong to ${org.shortName}`);
      const issued = await p.access.createToken(CLI_ACTOR, {
        orgId: u?.orgId ?? org?.id ?? '', userId: u?.id ?? null, kind: o.kind as TokenKind, name: o.name, ttlMs: ttl === null ? null : ttl * 86_400_000,
      });
      io.err(`token ${issued.row.id} created; it is shown once, store it now:`);
      io.out(issued.token);
    }));
  token.command('list')
    .description('list tokens (never the secrets)')
    .option('--org <org>', 'only this organisation')
    .option('--user <username>', 'only this user')
    .option('--all', 'also the live stream\'s single-use tickets (one per connection of the web app, spent at once)')
    .option('--json', 'print JSON')
    .action((o: { org?: string; user?: string; all?: boolean; json?: boolean }) => withPlatform(async (p) => {
      const filter: { orgId?: string; userId?: string } = {};
      if (o.org) filter.orgId = (await orgOf(p, o.org)).id;
      if (o.user) filter.userId = (await userOf(p, o.user)).id;
      const users = new Map((await p.store.listUsers()).map((u) => [u.id, u.username]));
      const tokens = (await p.store.listTokens(filter)).filter((t) => o.all === true || (t.name !== STREAM_TICKET && !t.name.startsWith(`${STREAM_TICKET}:`)));
      const rows = tokens.map((t) => ({
        id: t.id, kind: t.kind, name: t.name, user: t.userId ? users.get(t.userId) ?? t.userId : '-', created: when(t.createdUs),
        expires: when(t.expiresUs), revoked: when(t.revokedUs), lastUsed: when(t.lastUsedUs),
      }));
      printRows(io, o.json, rows, ['id', 'kind', 'name', 'user', 'created', 'expires', 'revoked', 'lastUsed']);
    }));
  token.command('revoke <id>')
    .description('revoke a token by id')
    .action((id: string) => withPlatform(async (p) => {
      const t = await p.store.getToken(id);
      if (!t) throw new AppError('NOT_FOUND', `no token ${id}`);
      if (t.revokedUs !== null) throw new AppError('CONFLICT', `token ${id} is already revoked`);
      await p.access.revokeToken(CLI_ACTOR, id);
      io.out(`token ${id} revoked`);
    }));
}

function registerGroup(program: Command, io: Io): void {
  const group = program.command('group').description('sharing groups (recipients like organisations)');
  group.command('create')
    .description('create a sharing group')
    .requiredOption('--name <name>', 'group name')
    .requiredOption('--owner <org>', 'owning organisation')
    .option('--members <orgs>', 'comma list of member organisations', '')
    .option('--description <text>', 'description', '')
    .action((o: { name: string; owner: string; members: string; description: string }) => withPlatform(async (p) => {
      const owner = await orgOf(p, o.owner);
      const members = [];
      for (const m of list(o.members)) members.push((await orgOf(p, m)).id);
      const row = await p.access.createGroup(CLI_ACTOR, { ownerOrg: owner.id, name: o.name, description: o.description, members });
      io.out(row.id);
    }));
  group.command('list')
    .description('list sharing groups')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const orgs = new Map((await p.store.listOrganisations()).map((x) => [x.id, x.shortName]));
      const rows = [];
      for (const g of await p.store.listGroups()) {
        rows.push({ name: g.name, owner: orgs.get(g.ownerOrg) ?? g.ownerOrg, members: (await p.store.groupMembers(g.id)).map((m) => orgs.get(m) ?? m).join(','), id: g.id });
      }
      printRows(io, o.json, rows, ['name', 'owner', 'members', 'id']);
    }));
  group.command('members <group>')
    .description('list the members of a group, or replace them with --set')
    .option('--set <orgs>', 'comma list of organisations (the owner always stays)')
    .action((ref: string, o: { set?: string }) => withPlatform(async (p) => {
      const g = await groupOf(p, ref);
      if (o.set !== undefined) {
        const ids = [];
        for (const m of list(o.set)) ids.push((await orgOf(p, m)).id);
        await p.access.setGroupMembers(CLI_ACTOR, g.id, ids);
      }
      const orgs = new Map((await p.store.listOrganisations()).map((x) => [x.id, x.shortName]));
      for (const m of await p.store.groupMembers(g.id)) io.out(orgs.get(m) ?? m);
    }));
}

function registerCollection(program: Command, io: Io): void {
  const col = program.command('collection').description('TAXII collections and who may read or write them');
  col.command('create')
    .description('create a collection in an API root')
    .requiredOption('--title <title>', 'title')
    .option('--alias <alias>', 'alias, 1-63 of a-z, 0-9, _, -')
    .option('--description <text>', 'description', '')
    .option('--api-root <name>', 'API root (default: the first configured)')
    .action((o: { title: string; alias?: string; description: string; apiRoot?: string }) => withPlatform(async (p) => {
      const roots = p.config.apiRoots.map((r) => r.name);
      const apiRoot = o.apiRoot ?? roots[0] ?? 'api1';
      if (!roots.includes(apiRoot)) throw new AppError('NOT_FOUND', `no API root ${apiRoot}; configured: ${roots.join(', ')}`);
      const row = await p.access.createCollection(CLI_ACTOR, { apiRoot, title: o.title, description: o.description, alias: o.alias ?? null });
      io.out(row.id);
    }));
  col.command('list')
    .description('list collections with their grants')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const names = new Map<string, string>([['*', '*']]);
      for (const x of await p.store.listOrganisations()) names.set(x.id, x.shortName);
      for (const g of await p.store.listGroups()) names.set(g.id, `group:${g.name}`);
      const grants = await p.store.collectionAccess();
      const rows = [];
      for (const c of await p.store.listCollections()) {
        const mine = grants.filter((g) => g.collectionId === c.id)
          .map((g) => `${names.get(g.principal) ?? g.principal}=${g.canRead ? 'r' : ''}${g.canWrite ? 'w' : ''}`).sort().join(' ');
        rows.push({ id: c.id, apiRoot: c.apiRoot, alias: c.alias ?? '-', title: c.title, objects: await p.store.countObjects(c.id), grants: mine });
      }
      printRows(io, o.json, rows, ['id', 'apiRoot', 'alias', 'title', 'objects', 'grants']);
    }));
  col.command('grant <collection> <principal>')
    .description('grant read and/or write on a collection to an organisation, a sharing group or * (every organisation); without --read/--write, removes access')
    .option('--read', 'may read')
    .option('--write', 'may write')
    .action((ref: string, who: string, o: { read?: boolean; write?: boolean }) => withPlatform(async (p) => {
      const c = await collectionOf(p, ref);
      const principal = await principalOf(p, who);
      await p.access.grantCollection(CLI_ACTOR, c.id, principal, { canRead: o.read === true, canWrite: o.write === true });
      io.out(`${who} on ${c.alias ?? c.id}: read=${o.read === true} write=${o.write === true}`);
    }));
}

/** A time option: an RFC 3339 time or a date (its midnight UTC), as µs. */
function timeOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const us = parseTimestampMicros(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (us === null) throw new AppError('BAD_REQUEST', `--${name} must be an RFC 3339 time (2026-12-01T08:00:00Z) or a date (2026-12-01), got "${v.slice(0, 40)}"`);
  return us;
}

/**
 * The node's audit log for its operator: every organisation's entries and the system's (CLI,
 * background jobs, peers), newest first, filtered; the REST log shows an administrator their
 * organisation's only.
 */
function registerAudit(program: Command, io: Io): void {
  program.command('audit')
    .description('the audit log of the whole node, newest first (every organisation and the system\'s own actions)')
    .option('--org <org>', 'only this organisation\'s entries (short name or id)')
    .option('--action <action>', 'an action (token.create) or its start (token.)')
    .option('--user <username>', 'only this user\'s entries')
    .option('--since <time>', 'from this time (RFC 3339, or a date)')
    .option('--until <time>', 'up to this time (RFC 3339, or a date: its midnight)')
    .option('--limit <n>', 'at most this many entries', '50')
    .option('--json', 'print JSON (the detail as recorded)')
    .action((o: { org?: string; action?: string; user?: string; since?: string; until?: string; limit: string; json?: boolean }) => withPlatform(async (p) => {
      const limit = /^[1-9][0-9]{0,6}$/.test(o.limit) ? Number(o.limit) : NaN;
      if (!Number.isSafeInteger(limit)) throw new AppError('BAD_REQUEST', `--limit must be a positive integer, got "${o.limit.slice(0, 20)}"`);
      const sinceUs = timeOption('since', o.since);
      const untilUs = timeOption('until', o.until);
      const orgId = o.org ? (await orgOf(p, o.org)).id : undefined;
      const userId = o.user ? (await userOf(p, o.user)).id : undefined;
      const rows: AuditRow[] = [];
      let beforeId: number | undefined;
      // Window by window (the operator may read the whole log; each read is bounded).
      for (;;) {
        const r = await p.store.searchAudit({
          limit: limit - rows.length, scanLimit: 10_000, ...(orgId ? { orgId } : {}), ...(beforeId !== undefined ? { beforeId } : {}),
          ...(o.action ? { actionPrefix: o.action } : {}), ...(userId ? { userId } : {}), ...(sinceUs !== undefined ? { sinceUs } : {}), ...(untilUs !== undefined ? { untilUs } : {}),
        });
        rows.push(...r.rows);
        if (rows.length >= limit || r.scannedTo === null) break;
        beforeId = r.scannedTo;
      }
      const orgs = new Map((await p.store.listOrganisations()).map((x) => [x.id, x.shortName]));
      const users = new Map((await p.store.listUsers()).map((u) => [u.id, u.username]));
      const view = rows.map((a) => ({
        id: a.id, at: when(a.atUs), org: a.orgId ? orgs.get(a.orgId) ?? a.orgId : null, user: a.userId ? users.get(a.userId) ?? a.userId : null,
        source: a.source, action: a.action, target: a.target, detail: o.json ? (a.detail === null ? null : safeJson(a.detail)) : a.detail?.slice(0, 80) ?? null,
      }));
      printRows(io, o.json, view, ['id', 'at', 'org', 'user', 'source', 'action', 'target', 'detail']);
    }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function registerAdmin(program: Command, io: Io = stdio): void {
  registerOrg(program, io);
  registerUser(program, io);
  registerToken(program, io);
  registerGroup(program, io);
  registerCollection(program, io);
  registerAudit(program, io);
}
