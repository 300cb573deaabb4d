/**
 * Bulk persistence helpers of the exposure domain on the generic `records` table: batches are
 * written in one transaction with one audit line, and internal scans (the matcher's view
 * of every organisation's inventory, the alliance aggregate) read per organisation with that
 * organisation's own audience — nothing they read is returned to a caller as such.
 */
import crypto from 'node:crypto';
import type { Audience } from '../../core/policy.js';
import type { RecordRow, Store } from '../../store/index.js';

const PAGE = 2000;

/**
 * Every record of a kind the audience may read, newest first. Paged oldest first after the last
 * (updated_us, id) read, a key no two records share: paging by updated_us alone skipped the
 * records that shared the last one's time at a page boundary (records written in the same
 * microsecond by two requests or API processes), and paging newest first skipped a record updated
 * during the scan (it moved to the pages already read). A record updated meanwhile is read again
 * here; its later copy is kept. `only` narrows the scan in the query (states, parent).
 */
export async function scanRecords(store: Store, kind: string, audience: Audience, only: { states?: readonly string[]; parentId?: string } = {}): Promise<RecordRow[]> {
  const byId = new Map<string, RecordRow>();
  let after = { us: -1, id: '' };
  for (;;) {
    const rows = await store.listRecords({ kind, audience, purpose: 'read', limit: PAGE, after, ...only });
    for (const r of rows) {
      byId.delete(r.id);
      byId.set(r.id, r);
    }
    if (rows.length < PAGE) return [...byId.values()].reverse();
    const last = rows[rows.length - 1]!;
    after = { us: last.updatedUs, id: last.id };
  }
}

/** Records of a kind created by each organisation of the node (an internal, per-organisation read). */
export async function scanOwned(store: Store, kind: string): Promise<RecordRow[]> {
  const orgs = await store.listOrganisations();
  const out: RecordRow[] = [];
  for (const o of orgs) {
    // One by one: spreading an organisation's records into push() overflowed the call stack from
    // about 120,000 (50,000 assets × a few KEV entries), failing the summary and the trend snapshot.
    for (const r of await scanRecords(store, kind, { hop: 'local', orgId: o.id, groupIds: [] })) if (r.creatorOrg === o.id) out.push(r);
  }
  return out;
}

/** A stable record id from its parts (an asset per organisation and name, an exposure per asset and CVE). */
export function stableId(kind: string, ...parts: string[]): string {
  const h = crypto.createHash('sha256').update(parts.join('\u001f')).digest('hex');
  return `${kind}--${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
