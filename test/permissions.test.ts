/**
 * The permission table test (issue 11 item 5): every route of the OpenAPI document, every TAXII
 * route and the live stream, called with a credential of every column of the documented table
 * (docs/security.md "Permissions") and with none. Denied → 403 (401 without a credential);
 * allowed → anything but 401/403 (ids are made up, so an allowed call may well be a 404 or 400:
 * the table decides the kind of action, the per-object gates come after it).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, permissionTableMarkdown, type Column } from '../src/access/index.js';
import { catalogOf, type OpenApiDocument } from '../src/api/rest/index.js';
import { http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = readFileSync(path.join(repoRoot, 'docs/security.md'), 'utf8');
const TAXII = 'application/taxii+json;version=2.1';
type Who = Column | 'anonymous';

/** The documented table: action → columns marked ✔ (parsed from docs/security.md). */
function documentedTable(): Map<string, Set<string>> {
  const block = /<!-- permissions:begin -->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(DOC)?.[1] ?? '';
  const [head, , ...rows] = block.split('\n');
  const cols = (head ?? '').split('|').map((s) => s.trim()).slice(3, -1);
  const out = new Map<string, Set<string>>();
  for (const row of rows) {
    const cells = row.split('|').map((s) => s.trim());
    const action = cells[1]!.replace(/`/g, '');
    out.set(action, new Set(cols.filter((_, i) => cells[3 + i] === '✔')));
  }
  return out;
}
const HEADER: Record<Column, string> = {
  analyst: 'analyst', responder: 'responder', representative: 'representative', excon: 'excon', admin: 'admin',
  'no-role': 'user without role', sensor: 'sensor token', peer: 'peer token',
};

let al: Alliance;
let h: ReturnType<typeof http>;
const token: Partial<Record<Who, string>> = {};
let objectId: string;

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  const { access } = al.platform;
  const A = al.orgs.A;
  token.analyst = al.tokens['a-analyst'];
  token.responder = al.tokens['a-responder'];
  token.admin = al.tokens['a-admin'];
  for (const [col, roles] of [['representative', ['representative']], ['excon', ['excon']], ['no-role', []]] as const) {
    const u = await access.createUser(SYSTEM_ACTOR, { orgId: A, username: `a-${col}`, password: 'correct horse battery staple', roles: [...roles] });
    token[col] = (await access.createToken(SYSTEM_ACTOR, { orgId: A, userId: u.id, kind: 'api', name: col })).token;
  }
  token.sensor = (await access.createToken(SYSTEM_ACTOR, { orgId: A, kind: 'sensor', name: 'fw-1' })).token;
  token.peer = (await access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.B, kind: 'peer', name: 'node-b' })).token;
  const ind = indicator('permission table');
  objectId = ind.id as string;
  await submitAs(al, 'a-analyst', al.shared, { objects: [ind], defaultTlp: 'green' });
});
afterAll(async () => {
  await al.close();
});

/** A made-up but well-formed value per path parameter. */
function materialise(url: string): string {
  const root = al.platform.config.apiRoots[0]!.name;
  return url.replace('{root}', root).replace(/:(\w+)/g, (_, p: string) => {
    switch (p) {
      case 'cid': return al.shared;
      case 'oid': return objectId;
      case 'org': return al.orgs.B;
      case 'sid': case 'task': case 'att': return randomUUID();
      default: return `incident--${randomUUID()}`;
    }
  });
}

async function call(method: string, url: string, who: Who): Promise<{ status: number; body: string }> {
  const isTaxii = !url.startsWith('/api/');
  const headers: Record<string, string> = { accept: isTaxii ? TAXII : 'application/json' };
  if (who !== 'anonymous') headers.authorization = `Bearer ${token[who]!}`;
  const hasBody = method === 'POST' || method === 'PATCH' || method === 'PUT';
  if (hasBody) headers['content-type'] = isTaxii ? TAXII : 'application/json';
  const res = await al.app.inject({ method: method as 'GET', url: materialise(url), headers, ...(hasBody ? { payload: '{}' } : {}) });
  return { status: res.statusCode, body: res.body.slice(0, 300) };
}

const WHO: Who[] = ['analyst', 'responder', 'representative', 'excon', 'admin', 'no-role', 'sensor', 'peer', 'anonymous'];

describe('the permission table', () => {
  it('docs/security.md shows exactly the table the code enforces', () => {
    const block = /<!-- permissions:begin -->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(DOC)?.[1];
    expect(block).toBe(permissionTableMarkdown());
  });

  it('the live stream: readers get the stream, sensor, peer and role-less tokens 403, no credential 401', async () => {
    const table = documentedTable();
    await al.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = al.app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    for (const who of WHO) {
      const ctl = new AbortController();
      const res = await fetch(`${base}/api/v1/stream`, { headers: who === 'anonymous' ? {} : { authorization: `Bearer ${token[who]!}` }, signal: ctl.signal });
      const allowed = who !== 'anonymous' && table.get('stream.read')!.has(HEADER[who]);
      expect(res.status, who).toBe(allowed ? 200 : who === 'anonymous' ? 401 : 403);
      ctl.abort();
    }
  });

  it('GET /me lists exactly the permissions of the caller\'s columns', async () => {
    const table = documentedTable();
    for (const who of ['analyst', 'responder', 'representative', 'no-role'] as const) {
      const me = (await h.call('GET', '/api/v1/me', { token: token[who]! })).json() as { permissions: string[] };
      expect(me.permissions.sort(), who).toEqual([...table].filter(([, cols]) => cols.has(HEADER[who])).map(([a]) => a).sort());
    }
    expect((await h.call('GET', '/api/v1/me', { token: token.sensor! })).status).toBe(403);
  });

  it('a GREEN incident takes comments only from its owner and contribute shares, never a read share, no share or a sensor', async () => {
    const post = (who: string, url: string, body: unknown) => h.call('POST', url, { token: al.tokens[who] ?? who, body });
    const created = await post('a-responder', '/api/v1/incidents', { title: 'community-readable', severity: 2, tlp: 'green' });
    expect(created.status, created.body).toBe(201);
    const id = created.json().id as string;
    const comment = (who: string) => post(who, `/api/v1/incidents/${id}/comments`, { text: 'hello' });
    expect((await h.get('b-analyst', `/api/v1/incidents/${id}`)).status).toBe(200); // GREEN: B reads it
    expect((await comment('b-analyst')).status).toBe(403); // no share
    expect((await post('a-responder', `/api/v1/incidents/${id}/shares`, { shares: [{ orgId: al.orgs.B, permission: 'read' }] })).status).toBe(200);
    expect((await comment('b-analyst')).status).toBe(403); // read share
    expect((await comment(token.sensor!)).status).toBe(403); // a sensor of the owner
    expect((await comment('a-analyst')).status).toBe(201); // the owner organisation
    expect((await post('a-responder', `/api/v1/incidents/${id}/shares`, { shares: [{ orgId: al.orgs.B, permission: 'contribute' }] })).status).toBe(200);
    expect((await comment('b-analyst')).status).toBe(201); // contribute share
  });

  // Last: signing out (one of the routes) revokes the tokens.
  it('every OpenAPI route and every TAXII route allows or denies each credential as documented', async () => {
    const table = documentedTable();
    const doc = (await h.call('GET', '/api/v1/openapi.json')).json() as OpenApiDocument;
    const routes: { method: string; url: string; action: string }[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        const action = (op as { 'x-permission'?: string })['x-permission'];
        expect(action, `${m} ${p} declares no x-permission`).toBeDefined();
        routes.push({ method: m.toUpperCase(), url: p.replace(/\{(\w+)\}/g, ':$1'), action: action! });
      }
    }
    const root = al.platform.config.apiRoots[0]!.name;
    // The TAXII routes (the web app's static files are public and outside the table).
    const taxiiRoutes = catalogOf(al.app)!.routes.filter((r) => r.url === '/taxii2/' || r.url.startsWith(`/${root}/`));
    expect(taxiiRoutes.length).toBe(11);
    const { ROUTE_ACTIONS } = await import('../src/api/route-permissions.js');
    for (const r of taxiiRoutes) {
      const key = `${r.method} ${r.url === '/taxii2/' ? r.url : r.url.replace(`/${root}/`, '/{root}/')}`;
      routes.push({ method: r.method, url: r.url, action: ROUTE_ACTIONS[key]! });
    }
    // Every declared route is served and documented, and nothing else is.
    expect(routes.map((r) => r.method + r.url).length).toBe(Object.keys(ROUTE_ACTIONS).length);
    // The stream answers an allowed reader with an endless body: it is tested below over a socket.
    // Signing out revokes the token, so it goes last.
    const order = (r: { url: string }) => (r.url.endsWith('/auth/logout') ? 1 : 0);
    const wrong: string[] = [];
    let checked = 0;
    for (const r of routes.filter((x) => !x.url.endsWith('/stream')).sort((a, b) => order(a) - order(b))) {
      for (const who of WHO) {
        const allowed = r.action === 'public' || (who !== 'anonymous' && (table.get(r.action)?.has(HEADER[who]) ?? false));
        const a = await call(r.method, r.url, who);
        checked++;
        const ok = allowed ? a.status !== 401 && a.status !== 403 : a.status === (who === 'anonymous' ? 401 : 403);
        if (!ok) wrong.push(`${r.method} ${r.url} as ${who} (${r.action}, ${allowed ? 'allow' : 'deny'}): ${a.status} ${a.body}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe((routes.length - 1) * WHO.length);
  }, 120_000);
});
