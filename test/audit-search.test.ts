/**
 * The audit log over REST (`GET /api/v1/audit`, docs/rest-api.md): an administrator reads the
 * entries of their own organisation, filtered by action (or its start), user and time, newest
 * first; a page reads at most SHIELDWALL_SEARCH_SCAN_ROWS entries, so a rare action gets short
 * pages with `next` and paging finds every match exactly once; the cursor is bound to its filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, http, makeAlliance, type Alliance } from './rest-fixtures.js';

let al: Alliance;
let h: ReturnType<typeof http>;
const T = Date.parse('2026-03-01T10:00:00.000Z') * 1000;
const HOUR_US = 3_600_000_000;

interface Entry { id: number; at: string; userId: string | null; orgId: string | null; action: string; target: string | null }

/** Every page of a search, following `next`. */
async function all(query: string, user = 'a-admin'): Promise<{ items: Entry[]; pages: number }> {
  const items: Entry[] = [];
  let pages = 0;
  let next: string | undefined;
  do {
    const r = await h.get(user, `/api/v1/audit?${query}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
    expect(r.status, r.body).toBe(200);
    const body = r.json() as { items: Entry[]; next?: string };
    items.push(...body.items);
    next = body.next;
    pages++;
  } while (next && pages < 100);
  return { items, pages };
}

beforeAll(async () => {
  al = await makeAlliance({ SHIELDWALL_SEARCH_SCAN_ROWS: '100' });
  h = http(al);
  const admin = al.principals['a-admin']!;
  const analyst = al.principals['a-analyst']!;
  // 300 entries of A over 300 hours (every 37th a token revocation by the analyst), and B's own.
  for (let i = 0; i < 300; i++) {
    const rare = i % 37 === 0;
    await al.platform.store.appendAudit({
      atUs: T + i * HOUR_US, userId: rare ? analyst.userId : admin.userId, orgId: al.orgs.A, tokenId: null, source: 'test',
      action: rare ? 'token.revoke' : i % 2 ? 'intel.submit' : 'intel.import', target: `t-${i}`, detail: null,
    });
    await al.platform.store.appendAudit({ atUs: T + i * HOUR_US, userId: al.principals['b-analyst']!.userId, orgId: al.orgs.B, tokenId: null, source: 'test', action: 'token.revoke', target: `b-${i}`, detail: null });
  }
});

afterAll(async () => {
  await al?.close();
});

describe('GET /audit with filters', () => {
  it('a rare action over a long log: short pages with next, every match once, newest first, own organisation only', async () => {
    const { items, pages } = await all('action=token.revoke&limit=5');
    expect(items.map((e) => e.target)).toEqual([296, 259, 222, 185, 148, 111, 74, 37, 0].map((i) => `t-${i}`));
    expect(items.every((e) => e.orgId === al.orgs.A)).toBe(true);
    // At most 100 entries read a page: the 600 rows of the log take several.
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('the start of an action, a user, a time window', async () => {
    const intel = await all('action=intel.&limit=200');
    expect(intel.items).toHaveLength(300 - 9);
    expect(new Set(intel.items.map((e) => e.action))).toEqual(new Set(['intel.submit', 'intel.import']));
    const ids = intel.items.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const byUser = await all('user=a-analyst');
    expect(byUser.items).toHaveLength(9);
    const window = await all('since=2026-03-05T00:00:00Z&until=2026-03-05T23:59:59Z');
    // Hours 86..109 after T (10:00 on 1 March): 24 entries on 5 March.
    expect(window.items).toHaveLength(24);
    const day = await all('since=2026-03-05&until=2026-03-05T23:59:59.999999Z&action=intel.submit');
    expect(day.items.map((e) => e.action)).toEqual(Array(12).fill('intel.submit'));
  });

  it('another organisation\'s user or entries: nothing; bad parameters and a cursor of another search are refused', async () => {
    expect((await all('user=b-analyst')).items).toEqual([]);
    expect((await all('user=nobody')).items).toEqual([]);
    expectError(await h.get('a-admin', '/api/v1/audit?action=Token.Revoke'), 400, 'INVALID_FILTER');
    expectError(await h.get('a-admin', '/api/v1/audit?since=yesterday'), 400, 'INVALID_FILTER');
    expectError(await h.get('a-admin', '/api/v1/audit?until=2026-02-30T00:00:00Z'), 400, 'INVALID_FILTER');
    expectError(await h.get('a-admin', '/api/v1/audit?actor=x'), 400, 'INVALID_FILTER');
    expectError(await h.get('a-analyst', '/api/v1/audit'), 403, 'FORBIDDEN');
    const first = (await h.get('a-admin', '/api/v1/audit?action=token.revoke&limit=1')).json() as { next: string };
    expectError(await h.get('a-admin', `/api/v1/audit?action=intel.&cursor=${encodeURIComponent(first.next)}`), 400, 'INVALID_CURSOR');
    expectError(await h.get('c-admin', `/api/v1/audit?action=token.revoke&cursor=${encodeURIComponent(first.next)}`), 400, 'INVALID_CURSOR');
  });
});
