/**
 * Scans that read every record of a kind page by page (the exposure matcher's inventories, the
 * stored Sigma rules a detection worker loads) never skip a record, on both dialects: records
 * written in the same microsecond (one batch, or two API processes at once) share updated_us, and
 * a page may end among them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessService, SYSTEM_ACTOR } from '../src/access/index.js';
import { ManualClock } from '../src/core/clock.js';
import { EventBus } from '../src/core/bus.js';
import { SigmaRules, SIGMA_RULE_KIND } from '../src/detect/rules.js';
import { scanRecords } from '../src/readiness/exposure/records.js';
import type { RecordRow, Store } from '../src/store/index.js';
import { storeDialects } from './helpers/store-dialects.js';

const AT = 1_785_000_000_000_000;

for (const dialect of await storeDialects()) {
  describe(`scans of every record of a kind (${dialect.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let org: string;
    const clock = new ManualClock('2026-08-01T00:00:00Z');
    beforeEach(async () => {
      ({ store, cleanup } = await dialect.open());
      org = (await new AccessService(store, clock).createOrganisation(SYSTEM_ACTOR, { name: 'Alpha', shortName: 'A' })).id;
    });
    afterEach(() => cleanup());

    const rows = (kind: string, n: number, json: (i: number) => string): RecordRow[] => Array.from({ length: n }, (_, i) => ({
      id: `${kind}--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, kind, parentId: null, creatorOrg: org, tlp: 'amber', recipients: [], originNode: null,
      exerciseId: null, state: 'active', createdUs: AT, updatedUs: AT, rev: 1, json: json(i),
    }));

    it('the exposure scan reads every record when more than a page share one updated_us', async () => {
      await store.insertRecords(rows('asset', 2050, () => '{}'));
      const got = await scanRecords(store, 'asset', { hop: 'local', orgId: org, groupIds: [] });
      expect(got).toHaveLength(2050);
      expect(new Set(got.map((r) => r.id)).size).toBe(2050);
    });

    it('a detection worker loads every stored Sigma rule when more than a page share one updated_us', async () => {
      const yaml = (i: number) => [
        `title: Rule ${i}`, `id: ${String(i).padStart(8, '0')}-1111-4000-8000-000000000000`, 'logsource:', '  category: process_creation',
        'detection:', '  sel:', `    CommandLine|contains: 'needle-${i}'`, '  condition: sel', 'level: low', '',
      ].join('\n');
      await store.insertRecords(rows(SIGMA_RULE_KIND, 1010, (i) => JSON.stringify({ yaml: yaml(i), title: `Rule ${i}`, ruleId: null, level: 'low', status: null, tags: [], logsource: null, kind: 'detection', items: [] })));
      const rules = await SigmaRules.open({ store, access: new AccessService(store, clock), clock, bus: new EventBus() });
      expect(rules.status().failed).toEqual([]);
      expect(rules.status().loaded).toBe(1010);
    });
  });
}
