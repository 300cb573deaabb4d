/**
 * A NUL character (U+0000) in user text, on every store. SQLite text holds one, PostgreSQL text
 * cannot: an object that carries one is stored alike on both (its JSON keeps the character, the
 * derived name and search text show U+FFFD, the value is not indexed for correlation), the
 * correlation index never stalls on it, and any other text with one is, on PostgreSQL, refused as
 * bad input (BAD_REQUEST) rather than failing as a server error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, type Actor } from '../src/access/index.js';
import { createPlatform, type Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { AppError } from '../src/core/errors.js';
import { storeDialects } from './helpers/store-dialects.js';

const factories = await storeDialects();

describe.each(factories)('NUL in text: $name', ({ name, open }) => {
  let platform: Platform;
  let cleanup: () => Promise<void>;
  let actor: Actor;
  let coll: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-nul-'));

  beforeAll(async () => {
    const o = await open();
    cleanup = o.cleanup;
    platform = await createPlatform(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }), { store: o.store });
    const org = await platform.access.createOrganisation(SYSTEM_ACTOR, { name: 'Org', shortName: 'ORG' });
    actor = { principal: { orgId: org.id, userId: null, username: null, roles: ['analyst'], tokenId: null, kind: 'api', groupIds: [] }, source: 'test' };
    coll = (await platform.access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'c' })).id;
  });
  afterAll(async () => {
    await platform.close();
    await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const indicator = (n: number, fields: Record<string, unknown>): Record<string, unknown> & { id: string } => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--6d1c8f52-0c1e-4a5b-9d3e-${String(n).padStart(12, '0')}`, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
    pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', ...fields,
  });

  it('stores an object with a NUL in its name and pattern alike, keeps the character in its JSON, and the index goes past it', async () => {
    const bad = indicator(1, { name: 'nul\u0000inside', description: 'x\u0000y', pattern: "[domain-name:value = 'a\u0000b.example']" });
    const good = indicator(2, { name: 'plain', pattern: "[domain-name:value = 'plain.example']" });
    const res = await platform.intel.submit(actor, coll, [bad, good], { defaultTlp: 'green' });
    expect(res.map((r) => r.status)).toEqual(['added', 'added']);
    await platform.correlations.sync();
    expect(platform.correlations.lastError).toBeNull();
    expect((await platform.correlations.status()).ready).toBe(true);
    const page = await platform.store.queryObjects({ collectionIds: [coll], audience: { hop: 'local', orgId: actor.principal!.orgId, groupIds: [] }, purpose: 'read', ids: [bad.id], version: { kind: 'last' }, limit: 10 });
    expect(page.rows).toHaveLength(1);
    expect(JSON.parse(page.rows[0]!.json)).toMatchObject({ name: 'nul\u0000inside', pattern: bad.pattern });
    expect(page.rows[0]!.name).toBe('nul\ufffdinside');
    // The plain value after it was indexed; the NUL one was not.
    expect((await platform.store.observableStats()).rows).toBe(1);
  });

  it(name === 'postgres' ? 'refuses other text with a NUL as bad input' : 'keeps other text with a NUL', async () => {
    const attempt = platform.access.createOrganisation(SYSTEM_ACTOR, { name: 'N\u0000L', shortName: 'NUL' });
    if (name === 'postgres') await expect(attempt).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.code === 'BAD_REQUEST');
    else expect((await attempt).name).toBe('N\u0000L');
  });
});
