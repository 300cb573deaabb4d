/**
 * Hostile input on every route: each REST operation of the OpenAPI document and each TAXII route
 * is called with path parameters, query parameters and bodies built from its own declared schema
 * and bent out of shape (wrong types, empty and over-long strings, NUL, lone surrogates, numbers
 * at and past their bounds, arrays at their item limit, nesting, prototype keys), by an admin
 * analyst of a member. No answer may be a 5xx, and every refusal is a clear error: a JSON body
 * with the REST error code, or a TAXII error object. Operations that change the caller (logout,
 * token revocation) are followed by a fresh credential, so later routes are still reached.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import type { OpenApiDocument } from '../src/api/rest/index.js';
import { http, indicator, makeAlliance, malware, relationship, submitAs, type Alliance } from './rest-fixtures.js';

type Schema = {
  type?: string | string[]; enum?: unknown[]; anyOf?: Schema[]; oneOf?: Schema[]; items?: Schema; properties?: Record<string, Schema>;
  maxLength?: number; maxItems?: number; minimum?: number; maximum?: number; format?: string;
};
interface Operation { parameters?: { name: string; in: string; schema?: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }

const TAXII = 'application/taxii+json;version=2.1';
const LONG = 'x'.repeat(5000);
const STRINGS = ['', ' ', '\u0000', '\ud800', '../../etc/passwd', '%00', '\u202egnp.exe', LONG, 'identity--00000000-0000-4000-8000-000000000000',
  '1e309', '-1', '[', '{"a":1}', 'null', '*', '__proto__', 'constructor', '2026-13-45T99:99:99Z', '9999-12-31T23:59:59.999999Z'];
const NUMBERS = [0, -1, 1, 0.5, 2 ** 31, 2 ** 53, -(2 ** 53), 1e300];

/** A URL component, also for a lone surrogate (which encodeURIComponent refuses): its bytes, not UTF-8. */
const enc = (v: string): string => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
};

function typesOf(s: Schema | undefined): string[] {
  if (!s) return [];
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.flatMap(typesOf))];
  return s.enum ? ['string'] : [];
}

function stringsFor(s: Schema | undefined): string[] {
  if (s?.enum) return s.enum.filter((x): x is string => typeof x === 'string');
  return typeof s?.maxLength === 'number' ? [...STRINGS, 'y'.repeat(s.maxLength), 'y'.repeat(s.maxLength + 1)] : STRINGS;
}

function numbersFor(s: Schema | undefined): number[] {
  return [...NUMBERS, ...[s?.minimum, s?.maximum].filter((x): x is number => typeof x === 'number').flatMap((x) => [x, x - 1, x + 1])];
}

/** Values of the schema's own types, at its edges (strings, numbers, arrays up to maxItems, objects). */
function valuesFor(s: Schema | undefined, depth = 0): unknown[] {
  const out: unknown[] = [];
  const alt = (t: string) => (s?.anyOf ?? s?.oneOf)?.find((x) => typesOf(x).includes(t)) ?? s;
  for (const t of typesOf(s)) {
    if (t === 'string') out.push(...stringsFor(alt('string')));
    if (t === 'integer' || t === 'number') out.push(...numbersFor(alt(t)));
    if (t === 'boolean') out.push(true, false);
    if (t === 'null') out.push(null);
    if (t === 'array') {
      const a = alt('array');
      out.push([]);
      if (depth < 2) for (const v of valuesFor(a?.items, depth + 1).slice(0, 6)) out.push([v], new Array(Math.min(a?.maxItems ?? 200, 200)).fill(v));
    }
    if (t === 'object' && depth < 2) out.push({}, typical(alt('object'), depth + 1));
  }
  return out;
}

/** One value for each declared property (an edge case of its type, not a valid document). */
function typical(s: Schema | undefined, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(s?.properties ?? {})) {
    const v = valuesFor(p, depth + 1);
    if (v.length) o[k] = v[Math.min(v.length - 1, 12)];
  }
  return o;
}

/** Nested 5,000 deep: a parser that recurses per level must refuse it, not overflow its stack. */
const DEEP = `${'['.repeat(5000)}${']'.repeat(5000)}`;

let al: Alliance;
let token: string;
let ind: Record<string, unknown>;
const fivexx: string[] = [];
const unclear: string[] = [];
const reached = new Set<string>();
let requests = 0;

/** The callers: an admin analyst of one member, and an analyst of another (cross-organisation paths). */
const CALLERS = [
  { user: 'c-admin', org: 'C', roles: ['admin', 'analyst'] },
  { user: 'b-analyst', org: 'B', roles: ['analyst'] },
] as const;
let caller: (typeof CALLERS)[number] = CALLERS[0];

/** A fresh user like the caller when an operation logged out or revoked the current credential. */
async function ensureCredential(): Promise<void> {
  const r = await al.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
  if (r.statusCode === 200) return;
  const orgId = al.orgs[caller.org];
  const user = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId, username: `hostile-${randomUUID().slice(0, 8)}`, password: 'correct horse battery staple', roles: [...caller.roles] });
  token = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId, userId: user.id, kind: 'api', name: 'hostile' })).token;
}

async function send(route: string, method: string, url: string, o: { body?: string; accept?: string } = {}): Promise<void> {
  const { body, accept } = o;
  requests++;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = accept ?? 'application/json';
  if (accept) headers.accept = accept;
  const r = await al.app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body } : {}) });
  const what = `${route}: ${r.statusCode} ${method} ${url.slice(0, 160)} ${body?.slice(0, 160) ?? ''} → ${r.body.slice(0, 300)}`;
  if (r.statusCode >= 500) fivexx.push(what);
  else if (r.statusCode < 300) reached.add(route);
  else if (r.statusCode >= 400) {
    const parsed = jsonOrNull(r.body);
    // TAXII: an error object (§3.6.1); the MISP subset: MISP's own error shape (PyMISP reads its
    // message); REST: { error: { code, message } }.
    const clear = accept === TAXII ? typeof parsed?.title === 'string'
      : url.startsWith('/api/misp/') ? typeof parsed?.message === 'string' : typeof parsed?.error?.code === 'string';
    if (!clear) unclear.push(what);
  }
}

type ErrorBody = { error?: { code?: unknown }; title?: unknown; message?: unknown };
function jsonOrNull(text: string): ErrorBody | null {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
}

/** One failure per route (the first), so a failing run names every broken route legibly. */
function firstPerRoute(xs: readonly string[]): string[] {
  const by = new Map<string, string>();
  for (const x of xs) if (!by.has(x.split(': ')[0]!)) by.set(x.split(': ')[0]!, x);
  return [...by.values()];
}

beforeAll(async () => {
  // Failed logins with hostile bodies would otherwise lock the test's address out (by design).
  al = await makeAlliance({ SHIELDWALL_AUTH_FAILURE_LIMIT: '100000000' });
  token = al.tokens['c-admin']!;
  ind = indicator('hostile input target');
  const mal = malware('hostile input malware');
  await submitAs(al, 'a-analyst', al.shared, { objects: [ind, mal, relationship(ind, 'indicates', mal)], defaultTlp: 'green' });
});
afterAll(async () => {
  await al.close();
});

describe('hostile input on every route', () => {
  it('refuses a path the router cannot take (a segment over 100 characters, bad percent-encoding) in each API\'s error shape, without echoing it', async () => {
    const get = (url: string, accept?: string) => al.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
    const long = 'z'.repeat(5000);
    for (const url of [`/api/v1/incidents/${long}`, '/api/v1/incidents/%ED%A0%80']) {
      const r = await get(url);
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/path/) } });
      expect(r.body).not.toContain('zzzz');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    const root = al.platform.config.apiRoots[0]!.name;
    const taxii = await get(`/${root}/collections/${long}/objects/`, TAXII);
    expect(taxii.statusCode).toBe(400);
    expect(taxii.headers['content-type']).toContain('application/taxii+json');
    expect(taxii.json()).toMatchObject({ title: 'Bad request', http_status: '400' });
    const misp = await get(`/api/misp/events/view/${long}`);
    expect(misp.statusCode).toBe(400);
    expect(misp.json()).toMatchObject({ message: 'a path segment is longer than 100 characters', errors: { code: 'BAD_REQUEST' } });
  });

  it.each(CALLERS)('REST, as $user: every documented operation answers its path, query and body bent out of shape with a clear 4xx or a success, never a 5xx', async (who) => {
    caller = who;
    token = al.tokens[who.user]!;
    fivexx.length = 0;
    unclear.length = 0;
    reached.clear();
    requests = 0;
    const doc = (await http(al).call('GET', '/api/v1/openapi.json')).json() as OpenApiDocument;
    const ids = [al.shared, String(ind.id), al.orgs.B, al.group];
    const pathValues = ['x', LONG, '%00', '..%2F..%2Fetc', enc('\u202e'), '%ED%A0%80', '0', '-1', '99999999999999999999', ...ids];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
        // The live stream never ends and ingestion has its own malformed-input suite (detect tests).
        if (path.endsWith('/stream')) continue;
        operations++;
        const route = `${method.toUpperCase()} ${path}`;
        const params = op.parameters ?? [];
        const inPath = params.filter((p) => p.in === 'path');
        const fill = (v: string) => path.replace(/\{\w+\}/g, v);
        const schema = op.requestBody?.content?.['application/json']?.schema;
        const base = schema ? typical(schema) : undefined;
        const bodies: (string | undefined)[] = schema
          ? [undefined, '{}', '[]', 'null', '"x"', '1', '{"a":', DEEP, '\u00ff\u00fe', JSON.stringify(base), '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}',
            ...Object.entries(schema.properties ?? {}).flatMap(([k, p]) => valuesFor(p).slice(0, 40).map((v) => JSON.stringify({ ...base, [k]: v })))]
          : [undefined];
        const withBody = bodies.length > 1 ? JSON.stringify(base) : undefined;
        await ensureCredential();
        for (const v of inPath.length ? pathValues : ['']) await send(route, method.toUpperCase(), inPath.length ? fill(v) : path, { body: withBody });
        const at = inPath.length ? fill(al.shared) : path;
        for (const q of params.filter((p) => p.in === 'query')) {
          for (const v of [...stringsFor(q.schema).slice(0, 12), ...numbersFor(q.schema).map(String)]) await send(route, method.toUpperCase(), `${at}?${q.name}=${enc(v)}`, { body: withBody });
        }
        await send(route, method.toUpperCase(), `${at}?limit=1&limit=2&a[b]=1&__proto__[x]=1`, { body: withBody });
        for (const b of bodies) for (const v of inPath.length ? ids : ['']) await send(route, method.toUpperCase(), inPath.length ? fill(v) : path, { body: b });
      }
    }
    expect(firstPerRoute(fivexx)).toEqual([]);
    expect(firstPerRoute(unclear)).toEqual([]);
    // The sweep reaches the handlers, not only the schema check: many operations succeed with some input.
    expect(operations).toBeGreaterThan(150);
    expect(reached.size).toBeGreaterThan(who.user === 'c-admin' ? 60 : 40);
    // No body reached an object's prototype.
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(requests).toBeGreaterThan(8000);
  }, 300_000);

  it('TAXII: every route answers hostile ids, filters, pagination and envelopes with a TAXII error object, never a 5xx', async () => {
    fivexx.length = 0;
    unclear.length = 0;
    await ensureCredential();
    const root = al.platform.config.apiRoots[0]!.name;
    const colls = [al.shared, 'x', LONG, '%00', '%ED%A0%80', '..%2F..', 'alliance'];
    const oids = [String(ind.id), 'x', LONG, 'indicator--%00', 'indicator--00000000-0000-4000-8000-000000000000', '%ED%A0%80'];
    const filters = ['match[type]', 'match[id]', 'match[version]', 'match[spec_version]', 'added_after', 'limit', 'next'];
    const values = [...STRINGS.slice(0, 14), 'first', 'last', 'all', 'indicator,malware', '2026-01-01T00:00:00Z,x', ...NUMBERS.map(String)];
    for (const path of ['/taxii2/', `/${root}/`, `/${root}/collections/`, `/${root}/status/x/`, `/${root}/status/${LONG}/`, `/${root}/status/%00/`]) {
      await send(`GET ${path}`, 'GET', path, { accept: TAXII });
    }
    for (const c of colls) {
      for (const tail of ['', 'manifest/', 'objects/']) await send(`GET collection ${tail}`, 'GET', `/${root}/collections/${c}/${tail}`, { accept: TAXII });
      for (const o of oids) {
        for (const tail of ['', 'versions/']) await send('GET object', 'GET', `/${root}/collections/${c}/objects/${o}/${tail}`, { accept: TAXII });
        await send('DELETE object', 'DELETE', `/${root}/collections/${c}/objects/${o}/?match[version]=x`, { accept: TAXII });
      }
    }
    for (const tail of ['manifest/', 'objects/', `objects/${String(ind.id)}/`, `objects/${String(ind.id)}/versions/`]) {
      for (const f of filters) for (const v of values) await send(`GET ${tail} ${f}`, 'GET', `/${root}/collections/${al.shared}/${tail}?${f}=${enc(v)}`, { accept: TAXII });
      await send(`GET ${tail} repeated`, 'GET', `/${root}/collections/${al.shared}/${tail}?limit=1&limit=2&match[type]=indicator&match[type]=x&next=`, { accept: TAXII });
    }
    const objects = (x: unknown) => JSON.stringify({ objects: x });
    const envelopes = ['{}', '[]', 'null', '"x"', '{"objects":', DEEP, objects(null), objects({}), objects('x'), objects([null, 1, 'x', [], {}]),
      objects([{ type: 'indicator' }]), objects([{ ...ind, modified: '2026-13-45T99:99:99Z' }]), objects([{ ...ind, id: 'indicator--%00' }]),
      objects([{ ...ind, pattern: `[${'('.repeat(2000)}` }]), objects([{ ...ind, created_by_ref: al.orgs.B }]), objects([{ ...ind, spec_version: '9.9' }]), objects([{ ...ind, id: `indicator--${randomUUID()}`, name: 'nul\u0000inside', description: '\u0000' }]),
      objects([{ ...ind, __proto__: { x: 1 }, constructor: 'x' }]), objects(new Array(2000).fill(1)), JSON.stringify({ objects: [], more: 'x'.repeat(100_000) })];
    for (const c of colls.slice(0, 3)) for (const e of envelopes) await send('POST objects', 'POST', `/${root}/collections/${c}/objects/`, { body: e, accept: TAXII });
    expect(firstPerRoute(fivexx)).toEqual([]);
    expect(firstPerRoute(unclear)).toEqual([]);
  }, 120_000);
});
