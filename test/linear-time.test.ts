/**
 * Linear-time handling of user content over HTTP (issue #8, DESIGN §2.7).
 *
 * Per-event budgets: an ingest line over a cap (fields, nesting, string bytes) is refused with its
 * line number and the reason while the other lines of the request are accepted.
 *
 * Regular-expression denial of service: every user-supplied
 * expression runs on RE2 (src/core/regex.ts), so the classic catastrophic shapes are accepted and
 * run in linear time, and what RE2 cannot run is refused where it is added, with the reason and
 * the position: a Sigma rule (REST 422), an indicator (REST import errors and TAXII status
 * failures, never stored). No timing assertion: a backtracking engine would need about 2^100000
 * steps for these inputs, so completing at all is the proof.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { indicator, makeAlliance, type Alliance } from './rest-fixtures.js';

const TAXII = 'application/taxii+json;version=2.1';
let al: Alliance;
let sensor: string;

async function call(user: string, method: 'GET' | 'POST', url: string, opts: { body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${al.tokens[user]}`, accept: opts.type === TAXII ? TAXII : 'application/json' };
  const payload = opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  if (payload !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await al.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) };
}

function sigmaRule(title: string, re: string): string {
  return `title: ${title}
id: ${randomUUID()}
level: high
logsource: {product: windows, category: process_creation}
detection:
  sel:
    CommandLine|re: '${re}'
  condition: sel
`;
}

const ingest = (lines: string[]) =>
  al.app.inject({ method: 'POST', url: '/api/v1/ingest?format=ecs', headers: { authorization: `Bearer ${sensor}`, 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });

async function drain(): Promise<void> {
  await al.platform.detect.refreshDirectory();
  await al.platform.detect.feed.sync();
  await al.platform.detect.drain();
}

beforeAll(async () => {
  al = await makeAlliance();
  sensor = (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.A, kind: 'sensor', name: 'edr-a' })).token;
});
afterAll(async () => al.close());

describe('Sigma |re over REST', () => {
  it("accepts '^(a+)+$' and matches a 100k-character hostile command line in linear time", async () => {
    const added = await call('a-analyst', 'POST', '/api/v1/sigma/rules', { raw: sigmaRule('Nested plus', '^(a+)+$'), type: 'application/yaml' });
    expect(added.status, added.body).toBe(201);
    const engine = al.platform.sigma.snapshot().engine;
    const ls = { product: 'windows', category: 'process_creation' };
    expect(engine.evaluate({ CommandLine: 'a'.repeat(100_000) + '!' }, ls)).toEqual([]);
    expect(engine.evaluate({ CommandLine: 'a'.repeat(100_000) }, ls).map((h) => h.title)).toEqual(['Nested plus']);
    // Through ingest: the hostile line is processed and the batch completes.
    const res = await ingest([JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', event: { category: ['process'] }, host: { os: { family: 'windows' } }, process: { command_line: 'a'.repeat(100_000) + '!' } })]);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1, rejected: 0 });
    await drain();
    expect((await al.platform.detect.queue()).depth).toBe(0);
  });

  it.each([
    ['(a)\\1', /backreference \\1 is not supported.*\(at position 3\)/],
    ['x(?=y)', /lookahead.*\(at position 1\)/],
    ['(?<!a)b', /negative lookbehind.*\(at position 0\)/],
  ])('refuses %j with 422, the reason and the position', async (re, message) => {
    const r = await call('a-analyst', 'POST', '/api/v1/sigma/rules', { raw: sigmaRule('Refused', re), type: 'application/yaml' });
    expect(r.status, r.body).toBe(422);
    expect(r.json().error).toMatchObject({ code: 'UNPROCESSABLE', message: expect.stringMatching(message) });
  });
});

describe('STIX MATCHES over REST import and TAXII', () => {
  it("accepts [url:value MATCHES '(a|a)*b'] and evaluates a hostile URL in linear time", async () => {
    const ind = indicator('Evil alternation', { pattern: "[url:value MATCHES '(a|a)*b']" });
    const r = await call('a-analyst', 'POST', `/api/v1/intel/import?collection=${al.shared}&tlp=green`, { body: { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [ind] } });
    expect(r.status, r.body).toBe(200);
    expect(r.json()).toMatchObject({ added: 1, rejected: 0 });
    const url = `http://x.example/${'a'.repeat(8000)}`;
    const res = await ingest([JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', url: { full: url } })]);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1, rejected: 0 });
    await drain();
    expect((await al.platform.detect.queue()).depth).toBe(0);
  });

  it('refuses a backreference indicator in the REST import with the reason and the position; nothing is stored', async () => {
    const ind = indicator('Backreference', { pattern: "[url:value MATCHES '(a)\\\\1']" });
    const r = await call('a-analyst', 'POST', `/api/v1/intel/import?collection=${al.shared}&tlp=green`, { body: { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [ind] } });
    expect(r.status, r.body).toBe(200);
    expect(r.json()).toMatchObject({ added: 0, rejected: 1 });
    expect(r.json().errors[0].message).toMatch(/backreference \\1 is not supported.*position 3 of the expression/);
    expect(r.json().errors[0].message).toMatch(/^pattern: invalid STIX pattern at position 23: /);
    expect((await call('a-analyst', 'GET', `/api/v1/intel/${String(ind.id)}`)).status).toBe(404);
  });

  it('lists a lookahead indicator POSTed over TAXII in the status failures with the reason', async () => {
    const bad = indicator('Lookahead', { pattern: "[url:value MATCHES 'a(?=b)']" });
    const good = indicator('Plain', { pattern: "[url:value MATCHES '^https?://[a-z]+\\\\.example/']" });
    const r = await call('a-analyst', 'POST', `/api1/collections/${al.shared}/objects/`, { body: { objects: [bad, good] }, type: TAXII });
    expect(r.status, r.body).toBe(202);
    expect(r.json()).toMatchObject({ total_count: 2, success_count: 1, failure_count: 1 });
    expect(r.json().failures).toEqual([{ id: bad.id, version: bad.modified, message: expect.stringMatching(/lookahead \(\?=… is not supported.*position 1 of the expression/) }]);
  });
});

describe('per-event budgets at ingest', () => {
  const good = (n: number) => JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', message: `good line ${n}`, host: { name: 'ws-1' } });

  it('refuses a line of 100k fields with its line number and the reason; the other lines are accepted', async () => {
    const fields: Record<string, unknown> = { '@timestamp': '2026-03-01T10:00:00Z' };
    for (let i = 0; i < 100_000; i++) fields[i.toString(36)] = 0;
    const huge = JSON.stringify(fields); // ~800 KB: under the 1 MiB line cap, like the probe
    expect(huge.length).toBeLessThan(1_048_576);
    const res = await ingest([good(1), huge, good(3), good(4)]);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 3, rejected: 1, errors: [{ line: 2, reason: 'more than 10000 fields in one event' }] });
    await drain();
  });

  it('refuses string values over the byte budget and nesting over the depth cap, by line', async () => {
    const text = JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', message: 'x'.repeat(600_000) });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const nested = JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', deep });
    const res = await ingest([text, good(2), nested]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      accepted: 1, rejected: 2,
      errors: [{ line: 1, reason: 'string values of more than 524288 bytes in one event' }, { line: 3, reason: 'JSON nested deeper than 32 levels' }],
    });
  });

  it('takes its caps from SHIELDWALL_MAX_EVENT_* (config)', async () => {
    const small = await makeAlliance({ SHIELDWALL_MAX_EVENT_FIELDS: '20', SHIELDWALL_MAX_EVENT_DEPTH: '3', SHIELDWALL_MAX_EVENT_STRING_BYTES: '30' });
    try {
      const token = (await small.platform.access.createToken(SYSTEM_ACTOR, { orgId: small.orgs.A, kind: 'sensor', name: 'edr' })).token;
      const send = (lines: string[]) => small.app.inject({ method: 'POST', url: '/api/v1/ingest?format=ecs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
      const pad = 'p'.repeat(40); // long keys make the lines long enough to be scanned
      const many = JSON.stringify(Object.fromEntries([['@timestamp', '2026-03-01T10:00:00Z'], ...Array.from({ length: 25 }, (_, i) => [`${pad}${i}`, i])]));
      const ok = JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', [pad]: { a: { b: 'short' } } });
      const deep = JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', [pad]: { a: { b: { c: 1 } } } });
      const long = JSON.stringify({ '@timestamp': '2026-03-01T10:00:00Z', [pad]: 'y'.repeat(31) });
      const res = await send([many, ok, deep, long]);
      expect(res.json()).toMatchObject({
        accepted: 1, rejected: 3,
        errors: [
          { line: 1, reason: 'more than 20 fields in one event' },
          { line: 3, reason: 'JSON nested deeper than 3 levels' },
          { line: 4, reason: 'string values of more than 30 bytes in one event' },
        ],
      });
    } finally {
      await small.close();
    }
  });
});

describe('nesting in user YAML and Sigma conditions', () => {
  // The YAML parser and the condition parser recurse: a few hundred (flow) to a few thousand
  // (condition) levels overflowed the stack of the process answering HTTP, and V8 can abort the
  // process outright when it compiles a regular expression that close to the limit.
  const rule = (detection: string) => `title: Deep\nid: ${randomUUID()}\nlevel: high\nlogsource: {product: windows, category: process_creation}\ndetection:\n${detection}`;
  const post = (text: string) => call('a-analyst', 'POST', '/api/v1/sigma/rules', { raw: text, type: 'application/yaml' });

  it('refuses a Sigma rule nesting 100,000 flow collections with the reason and the line', async () => {
    const r = await post(rule(`  sel:\n    CommandLine: ${'['.repeat(100_000)}x${']'.repeat(100_000)}\n  condition: sel\n`));
    expect(r.status).toBe(422);
    expect(r.json().error.message).toBe('the rule does not compile: YAML nests flow collections deeper than 64 levels (line 7)');
  });

  it('refuses a condition nested 50,000 parentheses deep, and a billion-laughs alias document, with clear reasons', async () => {
    const deep = await post(rule(`  sel:\n    CommandLine: x\n  condition: ${'('.repeat(50_000)}sel${')'.repeat(50_000)}\n`));
    expect(deep.status).toBe(422);
    expect(deep.json().error.message).toMatch(/condition: nesting deeper than 64 levels of parentheses and "not" at token 65/);
    const laughs = `a0: &a0 [x, x]\n${Array.from({ length: 30 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}, *a${i}]`).join('\n')}\n${rule('  sel:\n    CommandLine: x\n  condition: sel\n')}`;
    const bomb = await post(laughs);
    expect(bomb.status).toBe(422);
    expect(bomb.json().error.message).toMatch(/YAML document 1: Excessive alias count/);
    expect(bomb.body).not.toMatch(/internal error/);
    // A rule of ordinary depth still goes in.
    expect((await post(rule(`  sel:\n    CommandLine|contains: [a, b]\n  condition: ${'('.repeat(10)}sel${')'.repeat(10)}\n`))).status).toBe(201);
  });

  it('refuses a readiness framework in YAML nested past the limit', async () => {
    const content = `key: deep\ntitle: Deep\ngroups: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`;
    const r = await call('a-admin', 'POST', '/api/v1/readiness/frameworks', { body: { content } });
    expect(r.status).toBe(422);
    expect(r.json().error.message).toBe('framework refused: YAML nests flow collections deeper than 64 levels (line 3)');
  });
});

describe('searches read a bounded window per request', () => {
  it('answers a rare term over more versions than SHIELDWALL_SEARCH_SCAN_ROWS in short pages whose cursors find every match, none twice', async () => {
    const small = await makeAlliance({ SHIELDWALL_SEARCH_SCAN_ROWS: '100' });
    try {
      const objects = Array.from({ length: 350 }, (_, k) => indicator(k === 120 || k === 310 ? `needle ${k}` : `hay ${k}`));
      await small.platform.intel.submit({ principal: small.principals['a-analyst']!, source: 'test' }, small.shared, objects, { defaultTlp: 'green' });
      const seen: string[] = [];
      const sizes: number[] = [];
      let url = '/api/v1/intel?q=needle&limit=50';
      for (let k = 0; k < 10; k++) {
        const r = await small.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${small.tokens['b-analyst']}` } });
        expect(r.statusCode).toBe(200);
        const page = r.json() as { items: { name: string }[]; next?: string };
        seen.push(...page.items.map((i) => i.name));
        sizes.push(page.items.length);
        if (!page.next) break;
        url = `/api/v1/intel?q=needle&limit=50&cursor=${page.next}`;
      }
      expect(seen).toEqual(['needle 120', 'needle 310']);
      // Four windows of at most 100 versions (the alliance's own fixtures included) then the end.
      expect(sizes.length).toBeGreaterThanOrEqual(4);
      expect(sizes.filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
      // TAXII alike: a reader who may see 2 of 350 objects walks short pages marked `more`.
      await small.platform.intel.submit({ principal: small.principals['a-analyst']!, source: 'test' }, small.shared,
        Array.from({ length: 300 }, (_, k) => indicator(`private ${k}`)), { defaultTlp: 'amber' });
      const taxii: string[] = [];
      const pages: number[] = [];
      let turl = `/api1/collections/${small.shared}/objects/?limit=50&match[type]=indicator`;
      for (let k = 0; k < 20; k++) {
        const r = await small.app.inject({ method: 'GET', url: turl, headers: { authorization: `Bearer ${small.tokens['c-analyst']}`, accept: TAXII } });
        expect(r.statusCode).toBe(200);
        const env = r.json() as { objects?: { name: string }[]; more?: boolean; next?: string };
        taxii.push(...(env.objects ?? []).map((o) => o.name));
        pages.push((env.objects ?? []).length);
        if (!env.more) break;
        expect(env.next).toBeDefined();
        turl = `/api1/collections/${small.shared}/objects/?limit=50&match[type]=indicator&next=${env.next}`;
      }
      expect(taxii.filter((n) => !n.startsWith('hay') && !n.startsWith('needle'))).toEqual([]);
      expect(taxii.filter((n) => n.startsWith('needle'))).toEqual(['needle 120', 'needle 310']);
      expect(pages.length).toBeGreaterThan(6);
      // A page that fills before its window ends continues from its last row, as before.
      const full = (await small.app.inject({ method: 'GET', url: '/api/v1/intel?q=hay&limit=30', headers: { authorization: `Bearer ${small.tokens['b-analyst']}` } })).json();
      expect(full.items).toHaveLength(30);
      expect(full.next).toBeDefined();
    } finally {
      await small.close();
    }
  });
});

