/**
 * Migration 0009: SCO rows stored before unversioned objects were held per organisation carry
 * the bare constant version key; the migration appends their creator, so the submitting
 * organisation's later re-post is a duplicate of its own copy (docs/stix-versioning.md).
 */
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { sqliteDialect } from './sqlite.js';

const BARE = '1970-01-01T00:00:00.000000Z';
const ORG = 'identity--aaaaaaaa-0000-4000-8000-000000000001';

describe('migration 0009-unversioned-per-organisation', () => {
  it('rekeys stored unversioned rows by their creator and leaves versioned rows alone', async () => {
    const d = sqliteDialect(':memory:');
    const db = d.open();
    const i = MIGRATIONS.findIndex((m) => m.id === '0009-unversioned-per-organisation');
    expect(i).toBeGreaterThan(0);
    for (const m of MIGRATIONS.slice(0, i)) await m.up(db, d);
    const row = (id: string, version: string) => ({
      collection_id: 'c1', id, type: id.split('--')[0]!, spec_version: '2.1', version, created: null, modified: null, date_added: 1, creator_org: ORG,
      tlp: 'red', origin_node: null, revoked: 0, name: null, labels: '[]', search_text: '', json: '{}',
    });
    await db.insertInto('objects').values([row('ipv4-addr--1', BARE), row('indicator--2', '2026-01-01T00:00:00.000000Z')]).execute();
    await MIGRATIONS[i]!.up(db, d);
    const got = await db.selectFrom('objects').select(['id', 'version']).orderBy('id').execute();
    expect(got).toEqual([{ id: 'indicator--2', version: '2026-01-01T00:00:00.000000Z' }, { id: 'ipv4-addr--1', version: `${BARE} ${ORG}` }]);
    await db.destroy();
  });
});
