/**
 * Organisations, users, roles, tokens, sharing groups, collection rights and the audit log.
 * Every write goes through here and is audited with who, what, when and from where.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Audience } from '../core/policy.js';
import type { CollectionRow, GroupRow, OrgKind, OrgRow, Role, Store, TokenKind, TokenRow, UserRow } from '../store/index.js';
import { ROLES } from '../store/index.js';
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken, issueToken, sameHash, tokenIdOf, type IssuedToken } from './tokens.js';
import { FailureLimiter, guardKeys } from './rate-limit.js';

/** Who is acting: a user (password or token), a sensor, or a federated peer. */
export interface Principal {
  readonly orgId: string;
  readonly userId: string | null;
  readonly username: string | null;
  readonly roles: readonly Role[];
  readonly tokenId: string | null;
  readonly kind: TokenKind | 'password';
  readonly groupIds: readonly string[];
  /** Peer tokens only: the organisations served by the peer node (see `#servedBy`). */
  readonly via?: readonly string[];
  /** Peer tokens only: those of `via` living on the peer node itself (not relayed by it). */
  readonly home?: readonly string[];
}

/** The request context every domain write receives: the principal and the source address. */
export interface Actor {
  readonly principal: Principal | null;
  readonly source: string | null;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ principal: null, source: 'system' });

export interface CollectionRights {
  canRead: boolean;
  canWrite: boolean;
}

/** Name of the token rows that are live-stream tickets (see issueStreamTicket). */
export const STREAM_TICKET = 'stream-ticket';
export const STREAM_TICKET_MS = 30_000;

/**
 * A ticket is named after the credential it was issued from (`stream-ticket:<token id>`; a
 * password sign-in has none): the stream it opens stays bound to that credential and ends when
 * it is revoked (`AccessService.recheck`). undefined: not a ticket.
 */
function ticketParent(name: string): string | null | undefined {
  if (name === STREAM_TICKET) return null;
  return name.startsWith(`${STREAM_TICKET}:`) ? name.slice(STREAM_TICKET.length + 1) : undefined;
}
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;
/** The longest a token may live: ten years (an expiry past any date the node can write is a crash waiting in `token list`). */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;
const SHORT_NAME = /^[A-Z0-9][A-Z0-9-]{0,15}$/;

function checkRoles(roles: readonly string[]): void {
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new AppError('BAD_REQUEST', `unknown role ${r}; roles are ${ROLES.join(', ')}`);
}

export class AccessService {
  readonly limiter: FailureLimiter;
  constructor(
    readonly store: Store,
    readonly clock: Clock,
    opts: { authFailureLimit: number; authFailureWindowMs: number } = { authFailureLimit: 20, authFailureWindowMs: 60_000 },
  ) {
    this.limiter = new FailureLimiter({ limit: opts.authFailureLimit, windowMs: opts.authFailureWindowMs, clock });
  }

  nowUs(): number {
    return this.clock.now() * 1000;
  }

  /**
   * Records a write. A target given with its organisation (`{ id, orgId }`): for a writer of none
   * (the node operator at the CLI) the entry goes under that organisation, so that its
   * administrator sees what was done to their users and tokens (GET /audit reads an
   * organisation's entries).
   */
  async audit(actor: Actor, action: string, target: string | null | { id: string; orgId: string }, detail?: Record<string, unknown>): Promise<void> {
    const p = actor.principal;
    const about = target !== null && typeof target === 'object' ? target : null;
    await this.store.appendAudit({
      atUs: this.nowUs(), userId: p?.userId ?? null, orgId: p?.orgId ?? about?.orgId ?? null, tokenId: p?.tokenId ?? null,
      source: actor.source, action, target: about ? about.id : (target as string | null), detail: detail ? JSON.stringify(detail) : null,
    });
  }

  // ---- organisations ----
  async createOrganisation(actor: Actor, o: { name: string; shortName: string; country?: string | null; kind?: OrgKind; node?: string | null; id?: string }): Promise<OrgRow> {
    const name = o.name.trim();
    if (!name || name.length > 200) throw new AppError('BAD_REQUEST', 'organisation name must be 1-200 characters');
    if (!SHORT_NAME.test(o.shortName)) throw new AppError('BAD_REQUEST', `short name "${o.shortName}" must be 1-16 of A-Z, 0-9, -`);
    // ISO 3166-1 alpha-2 in form (user-assigned codes such as XA are allowed: exercises use them).
    if (o.country != null && !/^[A-Z]{2}$/.test(o.country)) throw new AppError('BAD_REQUEST', `country "${o.country.slice(0, 20)}" must be a two-letter ISO 3166-1 code in capitals (DK, NO, or a user-assigned XA…XZ)`);
    const all = await this.store.listOrganisations();
    if (all.some((x) => x.shortName === o.shortName && x.id !== o.id)) throw new AppError('CONFLICT', `short name ${o.shortName} is taken`);
    const row: OrgRow = {
      id: o.id ?? `identity--${crypto.randomUUID()}`, name, shortName: o.shortName, country: o.country ?? null,
      kind: o.kind ?? 'member', node: o.node ?? null, createdUs: this.nowUs(),
    };
    await this.store.transaction(async (tx) => {
      await tx.putOrganisation(row);
      await new AccessService(tx, this.clock).audit(actor, 'org.create', row.id, { name, shortName: row.shortName });
    });
    return row;
  }

  async organisation(idOrShort: string): Promise<OrgRow> {
    const byId = await this.store.getOrganisation(idOrShort);
    if (byId) return byId;
    const found = (await this.store.listOrganisations()).find((o) => o.shortName === idOrShort);
    if (!found) throw new AppError('NOT_FOUND', `no organisation ${idOrShort}`);
    return found;
  }

  // ---- users ----
  async createUser(actor: Actor, u: { orgId: string; username: string; password: string; displayName?: string; roles: Role[] }): Promise<UserRow> {
    if (!USERNAME.test(u.username)) throw new AppError('BAD_REQUEST', 'username must be 2-64 of a-z, 0-9, ., _, -');
    const weak = passwordProblem(u.password, u.username);
    if (weak) throw new AppError('BAD_REQUEST', weak);
    checkRoles(u.roles);
    const org = await this.organisation(u.orgId);
    // An organisation of another node (or a peer node's own identity) never has users here:
    // objects pulled from that node are attributed to it (docs/federation.md).
    if (org.node !== null) throw new AppError('BAD_REQUEST', `${org.shortName} lives on node ${org.node}: its users are on that node, not here`);
    if (await this.store.getUserByUsername(u.username)) throw new AppError('CONFLICT', `user ${u.username} exists`);
    const row: UserRow = {
      id: crypto.randomUUID(), orgId: u.orgId, username: u.username, displayName: u.displayName ?? u.username,
      passwordHash: await hashPassword(u.password), roles: [...new Set(u.roles)], disabled: false, createdUs: this.nowUs(),
    };
    await this.store.putUser(row);
    await this.audit(actor, 'user.create', { id: row.id, orgId: row.orgId }, { username: row.username, orgId: row.orgId, roles: row.roles });
    return row;
  }

  /**
   * Sets a user's password (the operator resetting it, or the user changing their own) and
   * revokes the user's web sessions, so that whoever signed in with the old one is signed out;
   * API tokens are credentials of their own and stay (revoke them with `token revoke`).
   */
  async setPassword(actor: Actor, userId: string, password: string, keep: { tokenId?: string | null } = {}): Promise<{ sessionsRevoked: number }> {
    const u = await this.store.getUser(userId);
    if (!u) throw new AppError('NOT_FOUND', `no user ${userId}`);
    const weak = passwordProblem(password, u.username);
    if (weak) throw new AppError('BAD_REQUEST', weak);
    const passwordHash = await hashPassword(password);
    const now = this.nowUs();
    let sessionsRevoked = 0;
    await this.store.transaction(async (tx) => {
      await tx.putUser({ ...((await tx.getUser(userId)) ?? u), passwordHash });
      sessionsRevoked = await revokeSessions(tx, userId, now, keep.tokenId ?? null);
      await new AccessService(tx, this.clock).audit(actor, 'user.password', { id: userId, orgId: u.orgId }, { username: u.username, orgId: u.orgId, sessionsRevoked });
    });
    return { sessionsRevoked };
  }

  /**
   * A signed-in user changes their own password: the current one is checked as a sign-in is
   * (the failure limiter counts a wrong one, and it is audited as `auth.fail`), but a wrong one
   * is FORBIDDEN, not UNAUTHENTICATED: the credential of the request is still good. The user's
   * other web sessions are signed out; the one asking stays.
   */
  async changeOwnPassword(actor: Actor, current: string, next: string): Promise<{ sessionsRevoked: number }> {
    const p = actor.principal;
    if (!p?.userId || !p.username) throw new AppError('BAD_REQUEST', 'this credential belongs to no user: there is no password to change');
    try {
      await this.authenticatePassword(p.username, current, actor.source ?? 'unknown');
    } catch (e) {
      if (e instanceof AppError && e.code === 'UNAUTHENTICATED') throw new AppError('FORBIDDEN', 'the current password is not right');
      throw e;
    }
    return this.setPassword(actor, p.userId, next, { tokenId: p.tokenId });
  }

  /** Replaces a user's roles (the operator's; effective on the user's next request). */
  async setRoles(actor: Actor, userId: string, roles: Role[]): Promise<UserRow> {
    checkRoles(roles);
    const u = await this.store.getUser(userId);
    if (!u) throw new AppError('NOT_FOUND', `no user ${userId}`);
    const row = { ...u, roles: [...new Set(roles)] };
    await this.store.transaction(async (tx) => {
      await tx.putUser(row);
      await new AccessService(tx, this.clock).audit(actor, 'user.roles', { id: userId, orgId: u.orgId }, { username: u.username, orgId: u.orgId, from: u.roles, to: row.roles });
    });
    return row;
  }

  /**
   * Disables (or enables) a user. Disabling signs out their web sessions for good: enabling them
   * again later does not bring those sessions back (they were only refused while disabled).
   */
  async setUserDisabled(actor: Actor, userId: string, disabled: boolean): Promise<{ sessionsRevoked: number }> {
    const u = await this.store.getUser(userId);
    if (!u) throw new AppError('NOT_FOUND', `no user ${userId}`);
    let sessionsRevoked = 0;
    await this.store.transaction(async (tx) => {
      await tx.putUser({ ...((await tx.getUser(userId)) ?? u), disabled });
      if (disabled) sessionsRevoked = await revokeSessions(tx, userId, this.nowUs(), null);
      await new AccessService(tx, this.clock).audit(actor, disabled ? 'user.disable' : 'user.enable', { id: userId, orgId: u.orgId },
        { username: u.username, orgId: u.orgId, ...(disabled ? { sessionsRevoked } : {}) });
    });
    return { sessionsRevoked };
  }

  // ---- authentication ----
  #guard(source: string, account: string | null = null): void {
    const wait = Math.max(...guardKeys(source, account).map((k) => this.limiter.blockedFor(k.key, k.factor)));
    if (wait > 0) {
      throw new AppError('RATE_LIMITED', 'too many failed authentications; try again later', { headers: { 'Retry-After': String(Math.ceil(wait / 1000)) } });
    }
  }

  /**
   * Counts and audits a failed authentication. `about`: the account it was against, when one
   * exists (a user, a token): the entry goes under that account's organisation, so that its
   * administrator sees guessing at their users and use of their revoked or expired tokens
   * (GET /audit); an attempt at no account is the node operator's to read.
   */
  async #fail(source: string, what: string, detail: Record<string, unknown>, opts: { account?: string; about?: { orgId: string; target: string } } = {}): Promise<never> {
    for (const k of guardKeys(source, opts.account ?? null)) this.limiter.fail(k.key);
    await this.store.appendAudit({
      atUs: this.nowUs(), userId: null, orgId: opts.about?.orgId ?? null, tokenId: null, source,
      action: 'auth.fail', target: opts.about?.target ?? null, detail: JSON.stringify({ method: what, ...detail }),
    });
    throw new AppError('UNAUTHENTICATED', 'invalid credentials');
  }

  async authenticatePassword(username: string, password: string, source: string): Promise<Principal> {
    const account = `user ${username.slice(0, 128).toLowerCase()}`;
    this.#guard(source, account);
    // Usernames are lower case (USERNAME): "Alice", as a phone's keyboard capitalises it, is alice.
    const u = await this.store.getUserByUsername(username.toLowerCase());
    const ok = await verifyPassword(password, u?.passwordHash ?? DUMMY_HASH);
    if (!u || !ok || u.disabled) {
      return this.#fail(source, 'password', { username: username.slice(0, 64), ...(u?.disabled ? { reason: 'user disabled' } : {}) }, { account, ...(u ? { about: { orgId: u.orgId, target: u.id } } : {}) });
    }
    return this.#principal(u.orgId, u, null, 'password');
  }

  async authenticateToken(token: string, source: string): Promise<Principal> {
    this.#guard(source);
    const hash = hashToken(token);
    const row = await this.store.getTokenByHash(hash);
    const now = this.nowUs();
    if (!row || !sameHash(row.hash, hash)) return this.#fail(source, 'token', { tokenId: tokenIdOf(token) });
    const about = { about: { orgId: row.orgId, target: row.id } };
    if (row.revokedUs !== null) return this.#fail(source, 'token', { tokenId: row.id, reason: 'revoked' }, about);
    if (ticketParent(row.name) !== undefined) return this.#fail(source, 'token', { tokenId: row.id, reason: 'a stream ticket is not a bearer token' }, about);
    if (row.expiresUs !== null && row.expiresUs <= now) return this.#fail(source, 'token', { tokenId: row.id, reason: 'expired' }, about);
    const user = row.userId ? await this.store.getUser(row.userId) : null;
    if (row.userId && (!user || user.disabled)) return this.#fail(source, 'token', { tokenId: row.id, reason: 'user disabled' }, about);
    // Record use at most once a minute per token, to keep reads cheap.
    if (row.lastUsedUs === null || now - row.lastUsedUs > 60_000_000) await this.store.touchToken(row.id, now);
    return this.#principal(row.orgId, user, row, row.kind);
  }

  /**
   * A single-use ticket for the live stream, valid STREAM_TICKET_MS: browsers' EventSource
   * cannot send an Authorization header, so the credential goes in the URL, where proxies and
   * access logs keep it; a ticket spent on connect is worthless there. Stored like a token
   * (hashed, same kind and user as the caller's credential) so any serve process redeems it.
   */
  async issueStreamTicket(p: Principal, source: string): Promise<{ ticket: string; expiresAt: string }> {
    const kind: TokenKind = p.kind === 'password' ? 'session' : p.kind;
    const name = p.tokenId ? `${STREAM_TICKET}:${p.tokenId}` : STREAM_TICKET;
    const issued = await this.createToken({ principal: p, source }, { orgId: p.orgId, userId: p.userId, kind, name, ttlMs: STREAM_TICKET_MS });
    return { ticket: issued.token, expiresAt: new Date(issued.row.expiresUs! / 1000).toISOString() };
  }

  /**
   * Spends a stream ticket: the principal it was issued to, once, with the credential it was
   * issued from as its `tokenId` (so `recheck` follows that credential); UNAUTHENTICATED otherwise.
   */
  async redeemStreamTicket(ticket: string, source: string): Promise<Principal> {
    this.#guard(source);
    const hash = hashToken(ticket);
    const row = await this.store.getTokenByHash(hash);
    const parentId = row && sameHash(row.hash, hash) ? ticketParent(row.name) : undefined;
    if (!row || parentId === undefined) return this.#fail(source, 'ticket', { tokenId: tokenIdOf(ticket) });
    if (row.expiresUs !== null && row.expiresUs <= this.nowUs()) return this.#fail(source, 'ticket', { tokenId: row.id, reason: 'expired' });
    // The conditional revoke is the single use: of two concurrent redeemers, one wins.
    if (!(await this.store.revokeToken(row.id, this.nowUs()))) return this.#fail(source, 'ticket', { tokenId: row.id, reason: 'already used' });
    const user = row.userId ? await this.store.getUser(row.userId) : null;
    if (row.userId && (!user || user.disabled)) return this.#fail(source, 'ticket', { tokenId: row.id, reason: 'user disabled' });
    const parent = parentId === null ? null : await this.store.getToken(parentId);
    if (parentId !== null && !this.#live(parent)) return this.#fail(source, 'ticket', { tokenId: row.id, reason: 'its credential is revoked or expired' });
    return this.#principal(row.orgId, user, parent, row.kind);
  }

  /**
   * The principal as it stands now, for a long-lived read (the live stream): null when its
   * credential was revoked or expired or its user disabled or removed since it authenticated;
   * else fresh roles and sharing groups. A request is authenticated once; a stream must be
   * held to what its reader could read through REST at each moment (docs/security.md).
   */
  async recheck(p: Principal): Promise<Principal | null> {
    const token = p.tokenId ? await this.store.getToken(p.tokenId) : null;
    if (p.tokenId && !this.#live(token)) return null;
    const user = p.userId ? await this.store.getUser(p.userId) : null;
    if (p.userId && (!user || user.disabled)) return null;
    return this.#principal(p.orgId, user, token, p.kind);
  }

  #live(token: TokenRow | null): token is TokenRow {
    return token !== null && token.revokedUs === null && (token.expiresUs === null || token.expiresUs > this.nowUs());
  }

  async #principal(orgId: string, user: UserRow | null, token: TokenRow | null, kind: Principal['kind']): Promise<Principal> {
    const served = kind === 'peer' ? await this.#servedBy(orgId) : null;
    const via = served ? served.map((o) => o.id) : null;
    // A peer node stands for the organisations it serves: at AMBER, a sharing group of this
    // node with one of them as member names it too (docs/federation.md "Sharing groups").
    const groups = new Set(await this.store.groupsOfOrg(orgId));
    for (const o of via ?? []) for (const g of await this.store.groupsOfOrg(o)) groups.add(g);
    return Object.freeze({
      orgId, userId: user?.id ?? null, username: user?.username ?? null, roles: Object.freeze([...(user?.roles ?? [])]),
      tokenId: token?.id ?? null, kind, groupIds: Object.freeze([...groups].sort()),
      ...(served ? { via: Object.freeze(via!), home: Object.freeze(served.filter((o) => !o.relayed).map((o) => o.id)) } : {}),
    });
  }

  /**
   * The organisations a peer node serves: when a peer token's organisation is a node's own
   * identity (a remote organisation, `node` set), every organisation registered as living on
   * (or reached through) that node; the peer hop releases to them (docs/federation.md).
   */
  async #servedBy(orgId: string): Promise<OrgRow[]> {
    const org = await this.store.getOrganisation(orgId);
    if (!org || org.node === null) return [];
    return (await this.store.listOrganisations()).filter((o) => o.node === org.node && o.id !== orgId);
  }

  /**
   * The principal of a user, for the node operator acting on their behalf from the CLI
   * (scripted operations; audited with source "cli"). Never reachable over HTTP.
   */
  async principalOfUser(username: string): Promise<Principal> {
    const u = await this.store.getUserByUsername(username);
    if (!u || u.disabled) throw new AppError('NOT_FOUND', `no active user ${username}`);
    return this.#principal(u.orgId, u, null, 'password');
  }

  // ---- tokens ----
  async createToken(actor: Actor, t: { orgId: string; userId?: string | null; kind: TokenKind; name: string; ttlMs?: number | null }): Promise<IssuedToken & { row: TokenRow }> {
    if (!t.name || t.name.length > 100) throw new AppError('BAD_REQUEST', 'token name must be 1-100 characters');
    if (ticketParent(t.name) !== undefined && t.ttlMs !== STREAM_TICKET_MS) throw new AppError('BAD_REQUEST', `the token name "${STREAM_TICKET}" is reserved`);
    if (t.ttlMs != null && !(Number.isFinite(t.ttlMs) && t.ttlMs >= 1 && t.ttlMs <= MAX_TOKEN_TTL_MS)) throw new AppError('BAD_REQUEST', 'a token lives from 1 ms to 3650 days');
    await this.organisation(t.orgId);
    if (t.userId) {
      const u = await this.store.getUser(t.userId);
      if (!u || u.orgId !== t.orgId) throw new AppError('BAD_REQUEST', 'token user must belong to the token organisation');
    }
    const issued = issueToken();
    const now = this.nowUs();
    const row: TokenRow = {
      id: issued.id, hash: issued.hash, userId: t.userId ?? null, orgId: t.orgId, kind: t.kind, name: t.name, createdUs: now,
      expiresUs: t.ttlMs ? now + Math.round(t.ttlMs * 1000) : null, revokedUs: null, lastUsedUs: null,
    };
    await this.store.putToken(row);
    await this.audit(actor, 'token.create', { id: row.id, orgId: row.orgId }, { kind: row.kind, name: row.name, orgId: row.orgId, userId: row.userId, expiresUs: row.expiresUs });
    return { ...issued, row };
  }

  async revokeToken(actor: Actor, tokenId: string): Promise<void> {
    const row = await this.store.getToken(tokenId);
    const p = actor.principal;
    if (!row || (p && p.orgId !== row.orgId)) throw new AppError('NOT_FOUND', `no token ${tokenId}`);
    if (p && row.userId !== p.userId && !p.roles.includes('admin')) throw new AppError('FORBIDDEN', 'only an admin may revoke another user\'s token');
    await this.store.revokeToken(tokenId, this.nowUs());
    await this.audit(actor, 'token.revoke', { id: tokenId, orgId: row.orgId });
  }

  // ---- sharing groups ----
  async createGroup(actor: Actor, g: { ownerOrg: string; name: string; description?: string; members: string[]; id?: string }): Promise<GroupRow> {
    if (!g.name.trim() || g.name.length > 200) throw new AppError('BAD_REQUEST', 'group name must be 1-200 characters');
    for (const m of g.members) await this.organisation(m);
    // Names are unique on the node (the store's constraint): say so rather than fail inside the insert.
    if ((await this.store.listGroups()).some((x) => x.name === g.name.trim())) throw new AppError('CONFLICT', `sharing group name "${g.name.trim()}" is taken`);
    const row: GroupRow = { id: g.id ?? `identity--${crypto.randomUUID()}`, name: g.name.trim(), description: g.description ?? '', ownerOrg: g.ownerOrg, createdUs: this.nowUs() };
    await this.store.transaction(async (tx) => {
      await tx.putGroup(row);
      await tx.setGroupMembers(row.id, [...new Set([g.ownerOrg, ...g.members])]);
    });
    await this.audit(actor, 'group.create', row.id, { name: row.name, members: g.members });
    return row;
  }

  async setGroupMembers(actor: Actor, groupId: string, members: string[]): Promise<void> {
    const g = await this.store.getGroup(groupId);
    if (!g) throw new AppError('NOT_FOUND', `no sharing group ${groupId}`);
    if (actor.principal && actor.principal.orgId !== g.ownerOrg) throw new AppError('FORBIDDEN', 'only the owning organisation may change a sharing group');
    for (const m of members) await this.organisation(m);
    await this.store.setGroupMembers(groupId, [...new Set([g.ownerOrg, ...members])]);
    await this.audit(actor, 'group.members', groupId, { members });
  }

  // ---- collections ----
  async createCollection(actor: Actor, c: { apiRoot: string; title: string; description?: string; alias?: string | null; id?: string }): Promise<CollectionRow> {
    if (!c.title.trim() || c.title.length > 200) throw new AppError('BAD_REQUEST', 'collection title must be 1-200 characters');
    if (c.alias != null && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(c.alias)) throw new AppError('BAD_REQUEST', 'alias must be 1-63 of a-z, 0-9, _, -');
    const existing = await this.store.listCollections(c.apiRoot);
    if (c.alias && existing.some((x) => x.alias === c.alias)) throw new AppError('CONFLICT', `alias ${c.alias} is taken in ${c.apiRoot}`);
    const row: CollectionRow = { id: c.id ?? crypto.randomUUID(), apiRoot: c.apiRoot, alias: c.alias ?? null, title: c.title.trim(), description: c.description ?? '', createdUs: this.nowUs() };
    await this.store.putCollection(row);
    await this.audit(actor, 'collection.create', row.id, { apiRoot: row.apiRoot, title: row.title, alias: row.alias });
    return row;
  }

  async grantCollection(actor: Actor, collectionId: string, principal: string, rights: CollectionRights): Promise<void> {
    if (!(await this.store.getCollection(collectionId))) throw new AppError('NOT_FOUND', `no collection ${collectionId}`);
    if (principal !== '*' && !(await this.store.getOrganisation(principal)) && !(await this.store.getGroup(principal))) {
      throw new AppError('NOT_FOUND', `no organisation or sharing group ${principal}`);
    }
    await this.store.setCollectionAccess([{ collectionId, principal, ...rights }]);
    await this.audit(actor, 'collection.grant', collectionId, { principal, ...rights });
  }

  /** can_read / can_write of a principal on every collection (TAXII §5.2), from org, group and '*' grants. */
  async rights(p: Principal): Promise<Map<string, CollectionRights>> {
    const mine = new Set(['*', p.orgId, ...p.groupIds]);
    const out = new Map<string, CollectionRights>();
    for (const row of await this.store.collectionAccess()) {
      if (!mine.has(row.principal)) continue;
      const cur = out.get(row.collectionId) ?? { canRead: false, canWrite: false };
      out.set(row.collectionId, { canRead: cur.canRead || row.canRead, canWrite: cur.canWrite || row.canWrite });
    }
    return out;
  }

  /** An organisation's own rights (its grants, its sharing groups', everyone's), without a user: what a job run in its name may do. */
  async rightsOfOrg(orgId: string): Promise<Map<string, CollectionRights>> {
    return this.rights(await this.#principal(orgId, null, null, 'api'));
  }

  audienceOf(p: Principal): Audience {
    return {
      hop: p.kind === 'peer' ? 'peer' : 'local', orgId: p.orgId, groupIds: p.groupIds,
      ...(p.via && p.via.length > 0 ? { via: p.via, ...(p.home ? { home: p.home } : {}) } : {}),
    };
  }
}

/** Revokes a user's live web sessions (their live-stream tickets die with them), but `keep`; how many. */
async function revokeSessions(tx: Store, userId: string, nowUs: number, keep: string | null): Promise<number> {
  let n = 0;
  for (const t of await tx.listTokens({ userId })) {
    const live = t.revokedUs === null && (t.expiresUs === null || t.expiresUs > nowUs);
    if (t.kind === 'session' && live && t.id !== keep && (await tx.revokeToken(t.id, nowUs))) n++;
  }
  return n;
}
