/**
 * KEV exposure trend (src/readiness/exposure/trend.ts): daily snapshots per organisation, the
 * own series for the member, the alliance series (counts only) for everyone; bad input → 4xx.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers/shared.js';
import { makeAlliance, type Alliance } from './rest-fixtures.js';
import type { AuthedActor } from '../src/respond/index.js';

const KEV = JSON.parse(readFileSync(path.join(sharedPath('data/readiness'), 'kev/known_exploited_vulnerabilities-2024.09.09.json'), 'utf8')) as { vulnerabilities: Record<string, unknown>[] };
const PAN = 'cpe:2.3:o:paloaltonetworks:pan-os:10.2.5:*:*:*:*:*:*:*';
const EXCHANGE = 'cpe:2.3:a:microsoft:exchange_server:2019:*:*:*:*:*:*:*';

let al: Alliance;
const actor = (user: string): AuthedActor => ({ principal: al.principals[user]!, source: 'test' });
const get = (user: string, url: string) => al.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${al.tokens[user]!}` } });

beforeEach(async () => {
  al = await makeAlliance();
});
afterEach(async () => {
  await al.close();
});

describe('KEV exposure trend', () => {
  it('keeps a point per member and day; a member sees its own series and the alliance counts only', async () => {
    const { exposures, trend } = al.platform.exposure;
    await exposures.importKev(actor('a-analyst'), KEV);
    await exposures.importAssets(actor('a-analyst'), [{ name: 'edge-fw-1', criticality: 'critical', products: [PAN] }]);
    const day1 = new Date(al.clock.now()).toISOString().slice(0, 10);
    expect(await trend.snapshot()).toBe(3);
    // A second snapshot the same day replaces the first.
    expect(await trend.snapshot()).toBe(3);

    al.clock.advance(86_400_000);
    const day2 = new Date(al.clock.now()).toISOString().slice(0, 10);
    await exposures.importAssets(actor('b-analyst'), [{ name: 'mail-1', criticality: 'high', products: [EXCHANGE] }]);
    const aOpen = (await exposures.listExposures(actor('a-analyst'))).filter((e) => e.kev);
    await exposures.setStatus(actor('a-analyst'), aOpen[0]!.id, { status: 'mitigated', note: 'patched' });
    expect(await trend.tick()).toBe(true); // the first tick of the process snapshots at once
    expect(await trend.tick()).toBe(false); // then not before 10 minutes

    const a = (await get('a-analyst', '/api/v1/readiness/exposures/trend?days=30')).json();
    expect(a.own.map((p: { day: string }) => p.day)).toEqual([day1, day2]);
    expect(a.own[0].kevOpen).toBe(aOpen.length);
    expect(a.own[1].kevOpen).toBe(aOpen.length - 1);
    expect(a.own[0].kevEntries).toBe(aOpen.length);
    const bExposed = (await exposures.listExposures(actor('b-analyst'))).filter((e) => e.kev);
    expect(bExposed.length).toBeGreaterThan(0);
    expect(a.alliance).toEqual([
      { day: day1, members: 3, membersExposed: 1, kevEntries: aOpen.length },
      { day: day2, members: 3, membersExposed: 2, kevEntries: aOpen.length - 1 + bExposed.length },
    ]);
    // B: its own series (nothing on day 1), the same alliance counts, nothing of A's detail.
    const bRes = await get('b-analyst', '/api/v1/readiness/exposures/trend');
    const b = bRes.json();
    expect(b.own.map((p: { kevOpen: number }) => p.kevOpen)).toEqual([0, bExposed.length]);
    expect(b.alliance).toEqual(a.alliance);
    expect(bRes.body).not.toContain('CVE-');
    expect(bRes.body).not.toContain(al.orgs.A);
    // The window: only the last day.
    const last = (await get('a-analyst', '/api/v1/readiness/exposures/trend?days=1')).json();
    expect(last.own.map((p: { day: string }) => p.day)).toEqual([day2]);
  });

  it('refuses a bad window with 400 JSON', async () => {
    for (const q of ['days=0', 'days=731', 'days=abc', 'days=1.5']) {
      const r = await get('a-analyst', `/api/v1/readiness/exposures/trend?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().error.code).toMatch(/^[A-Z_]+$/);
    }
  });
});
