/**
 * Indexes follow the store after the commit, not inside it (issue #8 item 5): a commit returns
 * before the correlation index and the indicator feed have read it, both converge within 2 s
 * of the commit in the same process (polled with a deadline), and GET /api/v1/system (admin
 * only) says how far each one is. Correlation links found while catching up still never show
 * an object the reader may not see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, indicator, makeAlliance, submitAs, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;

beforeAll(async () => {
  al = await makeAlliance();
  h = http(al);
});
afterAll(async () => {
  await al.close();
});

interface IndexView { name: string; cursor: string | null; behind: number; lagMs: number; ready: boolean; error: string | null }

async function indexes(user = 'a-admin'): Promise<IndexView[]> {
  const r = await h.get(user, '/api/v1/system');
  expect(r.status, r.body).toBe(200);
  return r.json().indexes as IndexView[];
}

/** Polls until `done` holds; fails with the last state after the deadline. */
async function within<T>(ms: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<{ v: T; ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const v = await probe();
    const elapsed = performance.now() - t0;
    if (done(v)) return { v, ms: elapsed };
    if (elapsed > ms) throw new Error(`not done within ${ms} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('indexes follow the store', () => {
  it('GET /api/v1/system is for admins: 401 without credentials, 403 for an analyst, the indexes for an admin', async () => {
    expectError(await h.call('GET', '/api/v1/system'), 401, 'UNAUTHENTICATED');
    expectError(await h.get('a-analyst', '/api/v1/system'), 403, 'FORBIDDEN');
    expectError(await h.call('GET', '/api/v1/system?x=1', { token: al.tokens['a-admin']! }), 400, 'INVALID_FILTER');
    const idx = await indexes();
    expect(idx.map((i) => i.name).sort()).toEqual(['correlation', 'indicators']);
    for (const i of idx) {
      expect(typeof i.ready).toBe('boolean');
      expect(i.behind).toBeGreaterThanOrEqual(0);
    }
  });

  it('a commit does not wait for the indexes, and both converge within 2 s of it', async () => {
    await within(5000, () => indexes(), (idx) => idx.every((i) => i.ready));
    const before = await indexes();
    const ip = '198.51.100.77';
    const first = indicator('follow one', { pattern: `[ipv4-addr:value = '${ip}']` });
    const second = indicator('follow two', { pattern: `[ipv4-addr:value = '${ip}']` });
    await submitAs(al, 'a-analyst', al.shared, { objects: [first, second], defaultTlp: 'green' });
    const committed = performance.now();
    // The feed has not applied the indicators when the commit returns: they are read after it.
    expect(al.platform.detect.feed.info(String(first.id))).toBeUndefined();
    const { ms } = await within(2000, async () => {
      const idx = await indexes();
      return { idx, feed: al.platform.detect.feed.info(String(first.id)) !== undefined && al.platform.detect.feed.info(String(second.id)) !== undefined };
    }, ({ idx, feed }) => feed && idx.every((i) => i.ready && i.behind === 0));
    expect(performance.now() - committed).toBeLessThan(2000);
    expect(ms).toBeLessThan(2000);
    const after = await indexes();
    for (const i of after) {
      const was = before.find((b) => b.name === i.name)!;
      expect(i.cursor, i.name).not.toBeNull();
      expect(i.cursor! > (was.cursor ?? ''), i.name).toBe(true);
      expect(i.lagMs).toBe(0);
    }
    // The correlation index has the link (read without forcing a catch-up: it converged by itself).
    const links = await h.get('b-analyst', `/api/v1/objects/${String(first.id)}/correlations`);
    expect(links.status, links.body).toBe(200);
    expect(links.json().indexing).toBe(false);
    expect(links.json().values[0].links.map((l: { id: string }) => l.id)).toEqual([second.id]);
  });

  it('reports what is behind while an index is stopped, and links found meanwhile never show what the reader may not see', async () => {
    await within(5000, () => indexes(), (idx) => idx.every((i) => i.ready));
    al.platform.correlations.stop();
    try {
      const ip = '198.51.100.78';
      const open = indicator('visible twin', { pattern: `[ipv4-addr:value = '${ip}']` });
      const secret = indicator('amber twin', { pattern: `[ipv4-addr:value = '${ip}']` });
      await submitAs(al, 'a-analyst', al.shared, { objects: [open], defaultTlp: 'green' });
      await submitAs(al, 'c-analyst', al.shared, { objects: [secret], defaultTlp: 'amber', recipients: [al.orgs.A] });
      const corr = (await indexes()).find((i) => i.name === 'correlation')!;
      expect(corr.ready).toBe(false);
      expect(corr.behind).toBe(2);
      expect(corr.lagMs).toBeGreaterThanOrEqual(1000); // the fixture clock moved 1 s after the first commit
      // A read catches the index up itself; B may not see C's AMBER indicator addressed to A.
      const b = await h.get('b-analyst', `/api/v1/objects/${String(open.id)}/correlations`);
      expect(b.status, b.body).toBe(200);
      expect(b.json().values[0].links).toEqual([]);
      const a = await h.get('a-analyst', `/api/v1/objects/${String(open.id)}/correlations`);
      expect(a.json().values[0].links.map((l: { id: string }) => l.id)).toEqual([secret.id]);
      expect((await indexes()).find((i) => i.name === 'correlation')!.ready).toBe(true);
    } finally {
      al.platform.correlations.start();
    }
  });
});
