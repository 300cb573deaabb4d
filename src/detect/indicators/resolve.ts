/**
 * Values an object path reaches in an SCO, with the pattern evaluator's semantics (STIX 2.1
 * §9.3.1 object paths): `[*]` fans out over list elements, `[n]` picks one (negative from the
 * end), and a property step after a `*_ref` / `*_refs` value dereferences it through the
 * observation's objects. Null and absent values are dropped.
 */
import type { PathStep, ScoLike } from '../../stix/pattern/index.js';

type Objects = Readonly<Record<string, ScoLike>>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRefKey = (k: string): boolean => k.endsWith('_ref') || k.endsWith('_refs');

export function resolveValues(root: ScoLike, steps: readonly PathStep[], objects: Objects): unknown[] {
  let cur: unknown[] = [root];
  let lastKey = '';
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step === '*') {
        if (Array.isArray(v)) for (const e of v) next.push(e);
      } else if (typeof step === 'number') {
        if (Array.isArray(v)) {
          const i = step < 0 ? v.length + step : step;
          if (i >= 0 && i < v.length) next.push(v[i]);
        }
      } else {
        const target = typeof v === 'string' && isRefKey(lastKey) && Object.hasOwn(objects, v) ? objects[v] : v;
        if (isRecord(target) && Object.hasOwn(target, step)) {
          const x = target[step];
          if (x !== undefined && x !== null) next.push(x);
        }
      }
    }
    if (typeof step === 'string' && step !== '*') lastKey = step;
    cur = next;
    if (cur.length === 0) break;
  }
  return cur;
}
