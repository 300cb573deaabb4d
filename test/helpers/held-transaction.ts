/**
 * A transaction a test holds open: another writer (a second connection or process) then runs
 * while this one has done its reads and writes but not committed, which is how the interleavings
 * that lose updates or reorder commits are reproduced deterministically.
 */
import type { Store } from '../../src/store/index.js';

/**
 * Runs `fn` in a transaction of `store` and keeps it open until `release` is called. `inside`
 * resolves once `fn` is done (rejects with its error); `done` once the transaction committed.
 */
export function heldTransaction<T = void>(store: Store, fn: (tx: Store) => Promise<T>): { inside: Promise<void>; done: Promise<T>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let entered!: (e?: unknown) => void;
  const inside = new Promise<void>((ok, fail) => { entered = (e) => (e === undefined ? ok() : fail(e)); });
  const done = store.transaction(async (tx) => {
    const out = await fn(tx).catch((e: unknown) => { entered(e); throw e; });
    entered();
    await gate;
    return out;
  });
  done.catch(() => undefined); // reported through `inside`
  return { inside, done, release };
}
