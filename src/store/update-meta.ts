/**
 * Read-modify-write of one `meta` value (a JSON list or map several writers change). Reading the
 * value and then writing what was computed from it loses a change another connection commits in
 * between: on PostgreSQL a plain read takes no lock, so two API processes (or two requests on one
 * process's pool) each wrote their own version and the first one's change was gone. Here the
 * write is a compare-and-set (or an insert that does nothing when the key appeared meanwhile),
 * retried from the value as it is now; inside a transaction the row stays locked to its commit.
 */
import type { Store } from './types.js';

/**
 * Sets `key` to `change(current)` (current null when absent) without losing a concurrent writer's
 * change; `change` returns null to leave the key as it is. Returns the value the key holds then.
 * `change` may run more than once, so it must only compute.
 */
export async function updateMeta(store: Store, key: string, change: (current: string | null) => string | null): Promise<string | null> {
  let cur = await store.getMeta(key);
  for (;;) {
    const next = change(cur);
    if (next === null || next === cur) return cur;
    if (cur === null) {
      // initMeta inserts unless the key exists (waiting for an uncommitted insert of it), and returns what it holds.
      const held = await store.initMeta(key, next);
      if (held === next) return next;
      cur = held;
      continue;
    }
    if (await store.casMeta(key, cur, next)) return next;
    cur = await store.getMeta(key);
  }
}
