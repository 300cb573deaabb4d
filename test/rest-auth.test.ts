/**
 * REST authentication: sign-in, sign-out, and the bearer token on every other route —
 * wrong, expired and revoked tokens are 401 with a JSON error code; repeated failures from
 * one source are 429 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { expectError, http, makeAlliance, PASSWORD, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
let n = 0;
/** Each failure-counting test uses its own source address, so the limiter does not cross tests. */
const freshIp = () => `10.0.0.${++n}`;

beforeAll(async () => {
  al = await makeAlliance({ SHIELDWALL_AUTH_FAILURE_LIMIT: '3', SHIELDWALL_AUTH_FAILURE_WINDOW_MS: '60000' });
  h = http(al);
});
afterAll(async () => {
  await al.close();
});

describe('sign-in', () => {
  it('answers a 12 h session token and the user for good credentials', async () => {
    const a = await h.call('POST', '/api/v1/auth/login', { body: { username: 'b-analyst', password: PASSWORD }, ip: freshIp() });
    expect(a.status, a.body).toBe(200);
    const { token, expiresAt, user } = a.json();
    expect(token).toMatch(/^sw_/);
    expect(Date.parse(expiresAt) - al.clock.now()).toBe(12 * 3600 * 1000);
    expect(user).toEqual({ id: expect.any(String), username: 'b-analyst', displayName: 'b-analyst', orgId: al.orgs.B, roles: ['analyst'] });
    const me = await h.call('GET', '/api/v1/me', { token });
    expect(me.json().user.username).toBe('b-analyst');
    // Usernames are lower case: one typed with capitals (a phone's keyboard) is the same user.
    const capital = await h.call('POST', '/api/v1/auth/login', { body: { username: 'B-Analyst', password: PASSWORD }, ip: freshIp() });
    expect([capital.status, capital.json().user?.username]).toEqual([200, 'b-analyst']);
  });

  it('refuses bad credentials with 401 and bad bodies with 400', async () => {
    const ip = freshIp();
    expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'b-analyst', password: 'wrong password!!' }, ip }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'nobody', password: PASSWORD }, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'b-analyst' }, ip: freshIp() }), 400, 'BAD_REQUEST');
    expectError(await h.call('POST', '/api/v1/auth/login', { body: ['b-analyst', PASSWORD], ip: freshIp() }), 400, 'BAD_REQUEST');
    expectError(await h.call('POST', '/api/v1/auth/login', { raw: '{"username": "b-analyst",', ip: freshIp() }), 400, 'MALFORMED_JSON');
    expectError(await h.call('POST', '/api/v1/auth/login', { ip: freshIp() }), 400, 'BAD_REQUEST');
  });

  it('rate-limits a source after repeated failures: 429 with Retry-After, even for good credentials', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'c-analyst', password: `guess number ${i}!` }, ip }), 401, 'UNAUTHENTICATED');
    }
    const blocked = await h.call('POST', '/api/v1/auth/login', { body: { username: 'c-analyst', password: PASSWORD }, ip });
    expectError(blocked, 429, 'RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another source is not affected; the blocked one recovers when the window passes.
    expect((await h.call('POST', '/api/v1/auth/login', { body: { username: 'c-analyst', password: PASSWORD }, ip: freshIp() })).status).toBe(200);
    al.clock.advance(61_000);
    expect((await h.call('POST', '/api/v1/auth/login', { body: { username: 'c-analyst', password: PASSWORD }, ip })).status).toBe(200);
  });

  it('a failed sign-in at a user, or use of their revoked token, is in that organisation\'s audit log; one at no user is not', async () => {
    const ip = freshIp();
    expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'a-responder', password: 'not the password!' }, ip }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('POST', '/api/v1/auth/login', { body: { username: 'a-nobody', password: 'not the password!' }, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    const u = al.principals['a-responder']!;
    const old = await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: u.orgId, userId: u.userId, kind: 'api', name: 'leaked' });
    await al.platform.access.revokeToken(SYSTEM_ACTOR, old.row.id);
    expectError(await h.call('GET', '/api/v1/me', { token: old.token, ip }), 401, 'UNAUTHENTICATED');
    const seen = (user: string) => h.get(user, '/api/v1/audit?action=auth.fail').then((r) => r.json().items as { orgId: string; target: string; source: string; detail: Record<string, unknown> }[]);
    expect((await seen('a-admin')).map((e) => [e.orgId, e.target, e.source, e.detail])).toEqual([
      [al.orgs.A, old.row.id, ip, { method: 'token', tokenId: old.row.id, reason: 'revoked' }],
      [al.orgs.A, u.userId, ip, { method: 'password', username: 'a-responder' }],
    ]);
    expect(JSON.stringify(await seen('c-admin'))).not.toMatch(/a-responder|a-nobody|leaked/);
  });

  it('sign-out revokes the session token', async () => {
    const { token } = (await h.call('POST', '/api/v1/auth/login', { body: { username: 'a-analyst', password: PASSWORD }, ip: freshIp() })).json();
    const out = await h.call('POST', '/api/v1/auth/logout', { token, body: {} });
    expect(out.status).toBe(200);
    expect(out.json()).toEqual({ ok: true });
    expectError(await h.call('GET', '/api/v1/me', { token, ip: freshIp() }), 401, 'UNAUTHENTICATED');
  });
});

describe('password changes', () => {
  it('a new password signs out the user\'s web sessions (not their API tokens); the old one no longer signs in; audited', async () => {
    const { access, store } = al.platform;
    const old = 'first password of b';
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.B, username: 'b-changer', password: old, roles: ['analyst'] });
    const login = (password: string) => h.call('POST', '/api/v1/auth/login', { body: { username: 'b-changer', password }, ip: freshIp() });
    const session = (await login(old)).json().token as string;
    const api = await access.createToken(SYSTEM_ACTOR, { orgId: u.orgId, userId: u.id, kind: 'api', name: 'script' });
    expect(await access.setPassword(SYSTEM_ACTOR, u.id, 'second password of b')).toEqual({ sessionsRevoked: 1 });
    expectError(await h.call('GET', '/api/v1/me', { token: session, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    expect((await h.call('GET', '/api/v1/me', { token: api.token })).status).toBe(200);
    expectError(await login(old), 401, 'UNAUTHENTICATED');
    expect((await login('second password of b')).status).toBe(200);
    const [entry] = (await store.searchAudit({ actionPrefix: 'user.password', limit: 1, scanLimit: 1000 })).rows;
    expect(entry && [entry.target, JSON.parse(entry.detail ?? '{}')]).toEqual([u.id, { username: 'b-changer', orgId: al.orgs.B, sessionsRevoked: 1 }]);
    expect(JSON.stringify(entry)).not.toContain('second password');
    // The operator's change is in the user's organisation's audit log (its admin reads that one).
    expect(entry?.orgId).toBe(al.orgs.B);
  });

  it('disabling a user signs out their web sessions for good: enabled again, the old session stays refused; audited under their organisation', async () => {
    const { access, store } = al.platform;
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.B, username: 'b-leaver', password: PASSWORD, roles: ['analyst'] });
    const session = (await h.call('POST', '/api/v1/auth/login', { body: { username: 'b-leaver', password: PASSWORD }, ip: freshIp() })).json().token as string;
    const api = await access.createToken(SYSTEM_ACTOR, { orgId: u.orgId, userId: u.id, kind: 'api', name: 'script' });
    expect(await access.setUserDisabled(SYSTEM_ACTOR, u.id, true)).toEqual({ sessionsRevoked: 1 });
    expectError(await h.call('GET', '/api/v1/me', { token: session, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    await access.setUserDisabled(SYSTEM_ACTOR, u.id, false);
    expectError(await h.call('GET', '/api/v1/me', { token: session, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    // API tokens (a script's) are refused while disabled and work again once enabled.
    expect((await h.call('GET', '/api/v1/me', { token: api.token })).status).toBe(200);
    const entries = (await store.searchAudit({ actionPrefix: 'user.', limit: 10, scanLimit: 1000 })).rows.filter((e) => e.target === u.id);
    expect(entries.map((e) => [e.action, e.orgId]).sort()).toEqual([['user.create', al.orgs.B], ['user.disable', al.orgs.B], ['user.enable', al.orgs.B]]);
    const [made] = (await store.searchAudit({ actionPrefix: 'token.create', limit: 1, scanLimit: 1000 })).rows;
    expect([made?.target, made?.orgId]).toEqual([api.id, al.orgs.B]);
  });

  it('a signed-in user changes their own password over REST: the current one is checked (403, limiter), other sessions end, this one stays', async () => {
    const { access } = al.platform;
    await access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.C, username: 'c-self', password: 'first password of c', roles: ['analyst'] });
    const login = async (password: string) => h.call('POST', '/api/v1/auth/login', { body: { username: 'c-self', password }, ip: freshIp() });
    const here = (await login('first password of c')).json().token as string;
    const elsewhere = (await login('first password of c')).json().token as string;
    const change = (body: unknown, ip = freshIp()) => h.call('POST', '/api/v1/me/password', { token: here, body, ip });
    // A wrong current password is not a sign-out: 403, and the session stays good.
    const wrong = await change({ currentPassword: 'not the password', newPassword: 'second password of c' });
    expectError(wrong, 403, 'FORBIDDEN');
    expect(wrong.json().error.message).toBe('the current password is not right');
    expectError(await change({ currentPassword: 'first password of c', newPassword: 'short' }), 400, 'BAD_REQUEST');
    expectError(await change({ currentPassword: 'first password of c' }), 400, 'BAD_REQUEST');
    expectError(await change(['first password of c', 'second password of c']), 400, 'BAD_REQUEST');
    const ok = await change({ currentPassword: 'first password of c', newPassword: 'second password of c' });
    expect([ok.status, ok.json()]).toEqual([200, { ok: true, sessionsRevoked: 1 }]);
    expect((await h.call('GET', '/api/v1/me', { token: here })).status).toBe(200);
    expectError(await h.call('GET', '/api/v1/me', { token: elsewhere, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    expectError(await login('first password of c'), 401, 'UNAUTHENTICATED');
    expect((await login('second password of c')).status).toBe(200);
    // Guessing the current password through this route is held like sign-in guessing (limit 3 here).
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expectError(await change({ currentPassword: `guess ${i} of many`, newPassword: 'third password of c' }, ip), 403, 'FORBIDDEN');
    expectError(await change({ currentPassword: 'second password of c', newPassword: 'third password of c' }, ip), 429, 'RATE_LIMITED');
    // A credential without a user (an organisation's API token) has no password.
    const orgToken = await access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.C, kind: 'api', name: 'org script' });
    expectError(await h.call('POST', '/api/v1/me/password', { token: orgToken.token, body: { currentPassword: 'x', newPassword: 'y' } }), 400, 'BAD_REQUEST');
  });

  it('refuses a password sign-in could never take, or the username itself, with the reason', async () => {
    const { access } = al.platform;
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.B, username: 'b-policy.account', password: 'first password of b', roles: ['analyst'] });
    await expect(access.setPassword(SYSTEM_ACTOR, u.id, 'x'.repeat(1025))).rejects.toThrow('password must have at most 1024 characters');
    await expect(access.setPassword(SYSTEM_ACTOR, u.id, 'B-Policy.Account')).rejects.toThrow('password must not be the username');
    await expect(access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.B, username: 'b-long', password: 'x'.repeat(1025), roles: [] })).rejects.toThrow('at most 1024');
  });
});

describe('bearer tokens', () => {
  const routes = ['/api/v1/me', '/api/v1/organisations', '/api/v1/sharing-groups', '/api/v1/collections', '/api/v1/intel',
    '/api/v1/intel/indicator--00000000-0000-4000-8000-000000000000', '/api/v1/intel/export?collection=x', '/api/v1/audit'];

  it('answers 401 JSON with a code and WWW-Authenticate without or with a wrong token, on every route', async () => {
    for (const url of routes) {
      const none = await h.call('GET', url, { ip: freshIp() });
      expectError(none, 401, 'UNAUTHENTICATED');
      expect(String(none.headers['www-authenticate'])).toContain('Bearer');
      expectError(await h.call('GET', url, { token: 'sw_000000000000_forged', ip: freshIp() }), 401, 'UNAUTHENTICATED');
    }
    expectError(await h.call('POST', '/api/v1/intel/import?collection=x', { token: 'nope', body: {}, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    expectError(await h.call('GET', '/api/v1/me', { headers: { authorization: 'Digest abc' }, ip: freshIp() }), 401, 'UNAUTHENTICATED');
  });

  it('refuses expired and revoked tokens with 401', async () => {
    const { access } = al.platform;
    const u = al.principals['b-analyst']!;
    const short = await access.createToken(SYSTEM_ACTOR, { orgId: u.orgId, userId: u.userId, kind: 'api', name: 'short', ttlMs: 5_000 });
    expect((await h.call('GET', '/api/v1/me', { token: short.token })).status).toBe(200);
    al.clock.advance(6_000);
    expectError(await h.call('GET', '/api/v1/me', { token: short.token, ip: freshIp() }), 401, 'UNAUTHENTICATED');
    const revoked = await access.createToken(SYSTEM_ACTOR, { orgId: u.orgId, userId: u.userId, kind: 'api', name: 'revoked' });
    expect((await h.call('GET', '/api/v1/me', { token: revoked.token })).status).toBe(200);
    await access.revokeToken(SYSTEM_ACTOR, revoked.row.id);
    expectError(await h.call('GET', '/api/v1/me', { token: revoked.token, ip: freshIp() }), 401, 'UNAUTHENTICATED');
  });

  it('HTTP Basic takes a secret for a token only by its whole shape: a password starting with sw_ signs in', async () => {
    const { access } = al.platform;
    const password = 'sw_but a password all the same';
    await access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.B, username: 'b-swpass', password, roles: ['analyst'] });
    const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`b-swpass:${secret}`).toString('base64')}` });
    const me = await h.call('GET', '/api/v1/me', { headers: basic(password), ip: freshIp() });
    expect(me.status, me.body).toBe(200);
    expect(me.json().user.username).toBe('b-swpass');
    const u = await al.platform.store.getUserByUsername('b-swpass');
    const token = await access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.B, userId: u!.id, kind: 'api', name: 'basic client' });
    expect((await h.call('GET', '/api/v1/me', { headers: basic(token.token), ip: freshIp() })).status).toBe(200);
    expectError(await h.call('GET', '/api/v1/me', { headers: basic(`${password}!`), ip: freshIp() }), 401, 'UNAUTHENTICATED');
  });

  it('refuses intel reads to principals without a user role (e.g. a sensor token) with 403', async () => {
    const sensor = await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.B, kind: 'sensor', name: 'ids-1' });
    expectError(await h.call('GET', '/api/v1/intel', { token: sensor.token }), 403, 'FORBIDDEN');
    expectError(await h.call('GET', '/api/v1/organisations', { token: sensor.token }), 403, 'FORBIDDEN');
  });
});
