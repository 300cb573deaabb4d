/** Advisory-lock leases on a real PostgreSQL (SHIELDWALL_TEST_PG); CI fails rather than skips. */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PgLeases } from './pg-leases.js';

const URL = process.env.SHIELDWALL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('PgLeases (PostgreSQL advisory locks)', () => {
  it('gives a key to one holder at a time, counts members, and frees everything when a holder dies', async () => {
    const name = `lease-test-${crypto.randomUUID()}`;
    const a = await PgLeases.open(URL, { name, member: true });
    const b = await PgLeases.open(URL, { name, member: true });
    const other = await PgLeases.open(URL, { name: `${name}-other`, member: true });
    try {
      expect(await a.members()).toEqual([a.pid, b.pid].sort((x, y) => x - y));
      expect(await a.tryAcquire(3)).toBe(true);
      expect(await a.tryAcquire(3)).toBe(true); // re-entrant for its holder
      expect(await b.tryAcquire(3)).toBe(false);
      expect(await other.tryAcquire(3)).toBe(true); // another deployment's namespace
      expect([...(await b.taken())]).toEqual([3]);
      await a.release(3);
      expect(await b.tryAcquire(3)).toBe(true);
      expect(b.held()).toEqual([3]);
      let lost = false;
      b.onLost(() => (lost = true));
      // The holder's connection dies: PostgreSQL releases its locks.
      await (b as unknown as { client: { end(): Promise<void> } }).client.end();
      expect(lost).toBe(true);
      expect(b.lost).toBe(true);
      expect(await b.tryAcquire(4)).toBe(false);
      expect(await a.tryAcquire(3)).toBe(true);
      expect(await a.members()).toEqual([a.pid]);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });
});
