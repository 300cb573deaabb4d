/**
 * The OpenAPI 3.1 document and the docs page: the document lists exactly the REST routes the
 * app registers (read from `app.printRoutes`), every `$ref` resolves, and real answers of
 * the API validate against the documented schemas (OAS 3.1 schemas are JSON Schema 2020-12).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPENAPI, type OpenApiDocument } from '../src/api/rest/index.js';
import { bundle, http, indicator, makeAlliance, malware, relationship, submitAs, type Alliance } from './rest-fixtures.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let al: Alliance;
let h: ReturnType<typeof http>;

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
  const ind = indicator('documented');
  const mal = malware('documented malware');
  await submitAs(al, 'a-analyst', al.shared, { objects: [ind, mal, relationship(ind, 'indicates', mal)], defaultTlp: 'amber', recipients: [al.orgs.B] });
});
afterAll(async () => {
  await al.close();
});

/** Full paths and methods from Fastify's route tree (4 columns per level, `├── seg (GET, HEAD)`). */
function routesOf(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.add(`${method} ${stack.join('')}`);
  }
  return out;
}

describe('OpenAPI document', () => {
  it('lists exactly the REST routes the app registers, including other modules\' routes', async () => {
    const registered = [...routesOf(al.app.printRoutes({ commonPrefix: false }))].filter((r) => r.split(' ')[1]!.startsWith('/api/')).sort();
    const doc = (await h.call('GET', '/api/v1/openapi.json')).json() as OpenApiDocument;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)).sort();
    expect(registered.length).toBeGreaterThan(10);
    expect(documented).toEqual(registered);
    // Generated operations still name their path parameters.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort(), `${path}`).toEqual(inPath);
      }
    }
  });

  it('describes every route of the contract in docs/rest-api.md by hand', async () => {
    const md = readFileSync(path.join(repoRoot, 'docs/rest-api.md'), 'utf8');
    const contract = [...md.matchAll(/^\| `(GET|POST) (\/api\/v1\/[^`]+)`/gm)].map((m) => [m[1]!.toLowerCase() as 'get' | 'post', m[2]!.replace(/:(\w+)/g, '{$1}')] as const);
    expect(contract.length).toBe(12);
    const doc = (await h.call('GET', '/api/v1/openapi.json')).json() as OpenApiDocument;
    for (const [method, p] of contract) {
      const op = doc.paths[p]?.[method];
      expect(op, `${method} ${p}`).toBeDefined();
      expect(op!['x-generated'], `${method} ${p}`).toBeUndefined();
      expect(OPENAPI.paths[p]?.[method], `${method} ${p}`).toBeDefined();
    }
  });

  it('is served at /api/v1/openapi.json without authentication, and every $ref resolves', async () => {
    const a = await h.call('GET', '/api/v1/openapi.json');
    expect(a.status).toBe(200);
    const doc = a.json();
    expect(doc.openapi).toBe('3.1.0');
    // The hand-written operation, plus the permission-table action it needs.
    expect(doc.paths['/api/v1/intel']).toEqual(JSON.parse(JSON.stringify({ get: { ...OPENAPI.paths['/api/v1/intel']!.get, 'x-permission': 'intel.read' } })));
    expect(doc.components).toEqual(JSON.parse(JSON.stringify(OPENAPI.components)));
    const refs = [...a.body.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(20);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((i) => Object.values(i).map((o) => o.operationId));
    expect(new Set(ops).size).toBe(ops.length);
  });

  it('describes real answers: they validate against the documented schemas', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ ...(await h.call('GET', '/api/v1/openapi.json')).json(), $id: 'https://shieldwall.invalid/openapi.json' });
    const check = (schema: string, value: unknown) => {
      const v = ajv.getSchema(`https://shieldwall.invalid/openapi.json#/components/schemas/${schema}`)!;
      expect(v(value), `${schema}: ${JSON.stringify(v.errors)}`).toBe(true);
    };
    // The schemas are strict enough to catch a wrong shape.
    const summaryPage = ajv.getSchema('https://shieldwall.invalid/openapi.json#/components/schemas/IntelSummaryPage')!;
    expect(summaryPage({ items: [{ id: 'x' }] })).toBe(false);
    expect(summaryPage({ items: [], extra: 1 })).toBe(false);
    const ind = ((await h.get('b-analyst', '/api/v1/intel?type=indicator')).json().items as { id: string }[])[0]!.id;
    check('MeAnswer', (await h.get('b-analyst', '/api/v1/me')).json());
    check('OrgSummaryPage', (await h.get('b-analyst', '/api/v1/organisations')).json());
    check('GroupPage', (await h.get('a-analyst', '/api/v1/sharing-groups')).json());
    check('CollectionPage', (await h.get('b-analyst', '/api/v1/collections')).json());
    check('IntelSummaryPage', (await h.get('b-analyst', '/api/v1/intel?limit=1')).json());
    check('IntelDetail', (await h.get('b-analyst', `/api/v1/intel/${ind}`)).json());
    check('IntelDetail', (await h.get('a-analyst', `/api/v1/intel/${ind}`)).json());
    check('ImportResult', (await h.call('POST', `/api/v1/intel/import?collection=${al.shared}`, { token: al.tokens['a-analyst']!, body: bundle([indicator('x'), { type: 'nope' }]) })).json());
    check('StixBundle', (await h.get('b-analyst', `/api/v1/intel/export?collection=${al.shared}`)).json());
    check('AuditPage', (await h.get('a-admin', '/api/v1/audit?limit=5')).json());
    check('Error', (await h.get('b-analyst', '/api/v1/intel?tlp=x')).json());
    check('LoginAnswer', (await h.call('POST', '/api/v1/auth/login', { body: { username: 'c-analyst', password: 'correct horse battery staple' } })).json());
  });
});

describe('docs page', () => {
  it('renders every operation and schema as self-contained HTML', async () => {
    const a = await h.call('GET', '/api/docs');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^text\/html/);
    expect(String(a.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(a.body).not.toMatch(/<script|https?:\/\/(?!shieldwall)/);
    const doc = (await h.call('GET', '/api/v1/openapi.json')).json() as OpenApiDocument;
    for (const [p, item] of Object.entries(doc.paths)) {
      expect(a.body).toContain(`<code>${p}</code>`);
      for (const op of Object.values(item)) expect(a.body).toContain(`id="op-${op.operationId}"`);
    }
    for (const name of Object.keys(OPENAPI.components.schemas)) expect(a.body).toContain(`id="schema-${name}"`);
    expect(a.body).toContain('<code>cursor</code>');
  });
});
