/**
 * The live stream over real HTTP (Server-Sent Events): an incident shared with B reaches B's
 * stream; D's stream receives nothing of it; a bad token is a 401 JSON error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPlatform, startServer, type Platform, type RunningServer } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { MAX_STREAMS_PER_ACCOUNT, RECHECK_MS } from '../src/api/rest/stream.js';
import { openLiveStream } from './helpers/live-stream.js';

let platform: Platform;
let server: RunningServer;
const tokens: Record<string, string> = {};
const orgs: Record<string, string> = {};

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-sse-'));
  platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_PORT: '0', SHIELDWALL_LOG_LEVEL: 'silent' }), { store: await openSqliteStore(':memory:') });
  for (const o of ['A', 'B', 'D']) {
    orgs[o] = (await platform.access.createOrganisation(SYSTEM_ACTOR, { name: o, shortName: o })).id;
    const u = await platform.access.createUser(SYSTEM_ACTOR, { orgId: orgs[o]!, username: `${o.toLowerCase()}-resp`, password: 'long enough password', roles: ['responder'] });
    tokens[o] = (await platform.access.createToken(SYSTEM_ACTOR, { orgId: orgs[o]!, userId: u.id, kind: 'session', name: 's' })).token;
  }
  server = await startServer(platform, { logger: false });
});
afterAll(async () => {
  await server.close();
  await platform.close();
});

const openStream = (org: string) => openLiveStream(server.url, tokens[org]!);

describe('live stream', () => {
  it('delivers an incident to the organisations it is shared with, and to no one else', async () => {
    const b = await openStream('B');
    const d = await openStream('D');
    expect(b.res.headers.get('content-type')).toContain('text/event-stream');
    const call = (org: string, url: string, body: unknown) => fetch(`${server.url}/api/v1${url}`, {
      method: 'POST', headers: { authorization: `Bearer ${tokens[org]}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const inc = await call('A', '/incidents', { title: 'Streamed incident', severity: 3 });
    await call('A', `/incidents/${inc.id}/shares`, { shares: [{ orgId: orgs.B, permission: 'read' }] });
    for (let i = 0; i < 50 && !b.text.includes('incident.shared'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(b.text).toContain('event: incident.shared');
    expect(b.text).toContain(inc.id);
    expect(b.text).not.toContain('event: incident.created'); // created before B was a recipient
    expect(d.text).not.toContain(inc.id);
    await b.close();
    await d.close();
  });

  it(`holds at most ${MAX_STREAMS_PER_ACCOUNT} open streams per account (429 + Retry-After beyond), freed as they close, other accounts unaffected`, async () => {
    const held: Awaited<ReturnType<typeof openStream>>[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS_PER_ACCOUNT; i++) held.push(await openStream('B'));
      expect(held.every((h) => h.res.status === 200)).toBe(true);
      const over = await openStream('B');
      expect(over.res.status).toBe(429);
      expect(over.res.headers.get('retry-after')).toBe('5');
      expect(await over.res.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      const other = await openStream('D');
      expect(other.res.status).toBe(200);
      await other.close();
      await held.pop()!.close();
      // The server sees the close shortly after the client aborts.
      let again = await openStream('B');
      for (let i = 0; again.res.status === 429 && i < 50; i++) {
        await again.close();
        await new Promise((r) => setTimeout(r, 20));
        again = await openStream('B');
      }
      expect(again.res.status).toBe(200);
      held.push(again);
    } finally {
      for (const h of held) await h.close();
    }
  });

  it('refuses a bad ticket, and a token in the URL, with a JSON error', async () => {
    for (const q of ['ticket=sw_000000000000_nope', `access_token=${encodeURIComponent(tokens.A!)}`]) {
      const r = await fetch(`${server.url}/api/v1/stream?${q}`);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('issues tickets that work once, within 30 s, and only on the stream', async () => {
    const issue = async () => ((await (await fetch(`${server.url}/api/v1/stream/ticket`, { method: 'POST', headers: { authorization: `Bearer ${tokens.A}` } })).json()) as { ticket: string; expiresAt: string });
    const t = await issue();
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    // Not a bearer token anywhere else.
    expect((await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${t.ticket}` } })).status).toBe(401);
    const ctrl = new AbortController();
    const first = await fetch(`${server.url}/api/v1/stream?ticket=${encodeURIComponent(t.ticket)}`, { signal: ctrl.signal });
    expect(first.status).toBe(200);
    ctrl.abort();
    expect((await fetch(`${server.url}/api/v1/stream?ticket=${encodeURIComponent(t.ticket)}`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/stream/ticket`, { method: 'POST' })).status).toBe(401);
  });
});

describe('an open stream follows its credential (docs/security.md "Live stream")', () => {
  it(`ends within ${RECHECK_MS / 1000} s of its token being revoked or its user disabled, and sends nothing more`, { timeout: 30_000 }, async () => {
    const user = async (org: string, name: string) => {
      const u = await platform.access.createUser(SYSTEM_ACTOR, { orgId: orgs[org]!, username: name, password: 'long enough password', roles: ['responder'] });
      return { u, token: (await platform.access.createToken(SYSTEM_ACTOR, { orgId: orgs[org]!, userId: u.id, kind: 'session', name: 's' })).token };
    };
    const signedOut = await user('B', 'b-signed-out');
    const disabled = await user('D', 'd-disabled');
    const kept = await user('B', 'b-kept');
    const streams = {
      signedOut: await openLiveStream(server.url, signedOut.token),
      // A stream authenticated by its header (no ticket) is held to the same credential.
      header: await (async () => {
        const ctrl = new AbortController();
        const res = await fetch(`${server.url}/api/v1/stream`, { headers: { authorization: `Bearer ${disabled.token}` }, signal: ctrl.signal });
        const reader = res.body!.getReader();
        const s = { text: '', ended: false, close: async () => ctrl.abort() };
        void (async () => {
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              s.text += Buffer.from(value).toString();
            }
          } catch {
            // aborted
          }
          s.ended = true;
        })();
        return s;
      })(),
      kept: await openLiveStream(server.url, kept.token),
    };
    const spare = ((await (await fetch(`${server.url}/api/v1/stream/ticket`, { method: 'POST', headers: { authorization: `Bearer ${signedOut.token}` } })).json()) as { ticket: string }).ticket;
    const logout = await fetch(`${server.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${signedOut.token}` } });
    expect(logout.status).toBe(200);
    // A ticket issued before the sign-out no longer opens a stream.
    expect((await fetch(`${server.url}/api/v1/stream?ticket=${encodeURIComponent(spare)}`)).status).toBe(401);
    await platform.access.setUserDisabled(SYSTEM_ACTOR, disabled.u.id, true);
    for (let i = 0; i < (RECHECK_MS / 100) * 3 && !(streams.signedOut.ended && streams.header.ended); i++) await new Promise((r) => setTimeout(r, 100));
    expect(streams.signedOut.ended).toBe(true);
    expect(streams.header.ended).toBe(true);
    expect(streams.kept.ended).toBe(false);
    // What is shared with B and D now reaches the stream still held, and no other.
    const call = (url: string, body: unknown) => fetch(`${server.url}/api/v1${url}`, {
      method: 'POST', headers: { authorization: `Bearer ${tokens.A}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const inc = await call('/incidents', { title: 'After sign-out', severity: 2 });
    await call(`/incidents/${inc.id}/shares`, { shares: [{ orgId: orgs.B, permission: 'read' }, { orgId: orgs.D, permission: 'read' }] });
    for (let i = 0; i < 50 && !streams.kept.text.includes(inc.id); i++) await new Promise((r) => setTimeout(r, 100));
    expect(streams.kept.text).toContain(inc.id);
    expect(streams.signedOut.text).not.toContain(inc.id);
    expect(streams.header.text).not.toContain(inc.id);
    for (const s of Object.values(streams)) await s.close();
  });
});
