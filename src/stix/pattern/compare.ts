/**
 * Evaluation of one comparison against one SCO (STIX 2.1 §9.4, §9.3.1 object paths).
 *
 * Semantics, following the OASIS reference matcher:
 * - a path resolves to zero or more values: `[*]` fans out over every list element, `[n]`
 *   picks one (negative counts from the end), and a property step taken on the value of a
 *   `*_ref` / `*_refs` property dereferences it through the observation's objects map;
 * - the comparison holds when at least one resolved value satisfies it; `NOT` negates the
 *   test of each value, so `NOT` never matches an absent property;
 * - a value of the wrong type (e.g. a number compared with a string) never matches, with or
 *   without `NOT`;
 * - strings order by Unicode code point; `t'…'` compares instants; binary and hex constants
 *   compare bytes (property values read as base64 or hex).
 */
import { parseTimestampMicros } from '../../core/time.js';
import type { Comparison, Constant, PathStep } from './ast.js';
import { ipBlockWithin, parseIpBlock } from './cidr.js';
import { BASE64, HEX } from './literals.js';
import { compileMatches, isRefusal, likeMatches, regexMatches } from './regex.js';

/** An SCO as found in an observation: at least a `type`. */
export interface ScoLike {
  readonly type: string;
  readonly [property: string]: unknown;
}

type Objects = Readonly<Record<string, ScoLike>>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRefKey(k: string): boolean {
  return k.endsWith('_ref') || k.endsWith('_refs');
}

/** All values an object path reaches from `root`. */
export function resolvePath(root: unknown, steps: readonly PathStep[], objects: Objects): unknown[] {
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

function decodeBytes(v: string, preferHex: boolean): Buffer | null {
  if (preferHex && HEX.test(v)) return Buffer.from(v, 'hex');
  if (BASE64.test(v)) return Buffer.from(v, 'base64');
  if (!preferHex && HEX.test(v)) return Buffer.from(v, 'hex');
  return null;
}

function codePointCompare(a: string, b: string): number {
  // UTF-16 order differs from code point order only around surrogates; handle that case.
  if (!/[\uD800-\uDFFF]/.test(a) && !/[\uD800-\uDFFF]/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return Math.sign(x.length - y.length);
}

/** Three-way comparison of a property value with a constant; null when the types differ. */
export function compareValue(v: unknown, c: Constant): number | null {
  switch (c.kind) {
    case 'string':
      return typeof v === 'string' ? codePointCompare(v, c.value) : null;
    case 'int':
    case 'float':
      return typeof v === 'number' && !Number.isNaN(v) ? Math.sign(v - c.value) : null;
    case 'bool':
      return typeof v === 'boolean' ? (v === c.value ? 0 : v ? 1 : -1) : null;
    case 'timestamp': {
      const us = typeof v === 'string' ? parseTimestampMicros(v) : null;
      return us === null ? null : Math.sign(us - c.micros);
    }
    case 'binary':
    case 'hex': {
      const bytes = typeof v === 'string' ? decodeBytes(v, c.kind === 'hex') : null;
      if (bytes === null) return null;
      return Buffer.compare(bytes, Buffer.from(c.value, c.kind === 'hex' ? 'hex' : 'base64'));
    }
  }
}

function lastPropertyName(steps: readonly PathStep[]): string {
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (typeof step === 'string' && step !== '*') return step;
  }
  return '';
}

type ValueTest = (v: unknown) => boolean | null;

function valueTest(cmp: Comparison): ValueTest {
  switch (cmp.operator) {
    case 'EXISTS':
      return () => true;
    case '=': {
      const c = cmp.value;
      return (v) => { const r = compareValue(v, c); return r === null ? null : r === 0; };
    }
    case '!=': {
      const c = cmp.value;
      return (v) => { const r = compareValue(v, c); return r === null ? null : r !== 0; };
    }
    case '<': case '<=': case '>': case '>=': {
      const c = cmp.value;
      const op = cmp.operator;
      return (v) => {
        const r = compareValue(v, c);
        if (r === null) return null;
        return op === '<' ? r < 0 : op === '<=' ? r <= 0 : op === '>' ? r > 0 : r >= 0;
      };
    }
    case 'IN': {
      const set = cmp.value;
      return (v) => {
        let comparable = false;
        for (const c of set) {
          const r = compareValue(v, c);
          if (r === 0) return true;
          if (r !== null) comparable = true;
        }
        return comparable ? false : null;
      };
    }
    case 'LIKE': {
      const p = cmp.value.kind === 'string' ? cmp.value.value : '';
      return (v) => (typeof v === 'string' ? likeMatches(v, p) : null);
    }
    case 'MATCHES': {
      const re = cmp.value.kind === 'string' ? compileMatches(cmp.value.value) : null;
      if (re === null || isRefusal(re)) return () => null;
      // Binary (`*_bin`, base64) and hex (`*_hex`) properties are matched on their bytes, one
      // character per byte (the spec's example matches `\\xd4\\xc3…` on artifact:payload_bin).
      const key = lastPropertyName(cmp.path.steps);
      const bytes = key.endsWith('_bin') ? 'base64' : key.endsWith('_hex') ? 'hex' : null;
      return (v) => {
        if (typeof v !== 'string') return null;
        if (bytes === null) return regexMatches(v, re);
        if (!(bytes === 'hex' ? HEX : BASE64).test(v)) return null;
        return regexMatches(Buffer.from(v, bytes).toString('latin1'), re);
      };
    }
    case 'ISSUBSET':
    case 'ISSUPERSET': {
      const block = cmp.value.kind === 'string' ? parseIpBlock(cmp.value.value) : null;
      const subset = cmp.operator === 'ISSUBSET';
      return (v) => {
        const own = typeof v === 'string' && block !== null ? parseIpBlock(v) : null;
        if (own === null || block === null || own.version !== block.version) return null;
        return subset ? ipBlockWithin(own, block) : ipBlockWithin(block, own);
      };
    }
  }
}

const compiled = new WeakMap<Comparison, ValueTest>();

/** True when the SCO `obj` satisfies the comparison (its type is checked by the caller). */
export function testComparison(cmp: Comparison, obj: ScoLike, objects: Objects): boolean {
  let test = compiled.get(cmp);
  if (test === undefined) {
    test = valueTest(cmp);
    compiled.set(cmp, test);
  }
  for (const v of resolvePath(obj, cmp.path.steps, objects)) {
    const r = test(v);
    if (r !== null && (cmp.negated ? !r : r)) return true;
  }
  return false;
}
