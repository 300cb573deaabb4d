/** Property tests: validateObject never throws, whatever it is given; the size limits hold exactly. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VALID_EXAMPLES } from '../../../test/helpers/stix-examples.js';
import { validateBundle } from './bundle.js';
import { checkLimits, Ctx } from './context.js';
import { RULE_IDS } from './rules.js';
import { validateObject } from './validate.js';

const examples = Object.values(VALID_EXAMPLES);
const keys = [...new Set(examples.flatMap((o) => Object.keys(o)))];

function checkShape(r: ReturnType<typeof validateObject>): void {
  if (r.ok) {
    expect(Array.isArray(r.warnings)).toBe(true);
    return;
  }
  expect(r.errors.length).toBeGreaterThan(0);
  for (const e of r.errors) {
    expect(RULE_IDS).toContain(e.rule);
    expect(typeof e.path).toBe('string');
  }
}

/** A valid example with one property replaced, removed or added. */
const mutated = fc
  .tuple(fc.constantFrom(...examples), fc.constantFrom(...keys, 'x_extra', '__proto__', 'Bad Key'), fc.option(fc.jsonValue(), { nil: undefined }))
  .map(([base, key, value]) => {
    const o: Record<string, unknown> = { ...base };
    if (value === undefined) delete o[key];
    else Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
    return o;
  });

describe('validateObject never throws', () => {
  it('on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => checkShape(validateObject(v))), { numRuns: 2000 });
  });

  it('on arbitrary objects with a STIX type', () => {
    const typed = fc.tuple(fc.constantFrom(...Object.keys(VALID_EXAMPLES), 'x-foo', 'bundle'), fc.dictionary(fc.string(), fc.jsonValue()))
      .map(([type, rest]) => ({ ...rest, type }));
    fc.assert(fc.property(typed, (v) => checkShape(validateObject(v))), { numRuns: 2000 });
  });

  it('on mutated valid objects', () => {
    fc.assert(fc.property(mutated, (v) => checkShape(validateObject(v))), { numRuns: 3000 });
  });

  it('on arbitrary bundles', () => {
    const bundle = fc.record({ type: fc.constant('bundle'), id: fc.string(), objects: fc.array(fc.oneof(mutated, fc.jsonValue()), { maxLength: 5 }) });
    fc.assert(fc.property(bundle, (b) => {
      const v = validateBundle(b);
      expect(Array.isArray(v.results)).toBe(true);
    }), { numRuns: 500 });
  });

  it('on deeply nested and cyclic input', () => {
    let deep: Record<string, unknown> = {};
    const root = { ...VALID_EXAMPLES['indicator'], x_deep: deep };
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep['x_n'] = next;
      deep = next;
    }
    const r = validateObject(root);
    expect(!r.ok && r.errors[0]?.rule).toBe('limits.depth');
    const cyclic: Record<string, unknown> = { ...VALID_EXAMPLES['indicator'] };
    cyclic['x_self'] = cyclic;
    const c = validateObject(cyclic);
    expect(!c.ok && c.errors[0]?.rule).toBe('limits.depth');
  });

  it('with a limit exceeded exactly when an independent measure of the value says so', () => {
    const loose = { maxDepth: 100, maxStringLength: 1000, maxListLength: 1000, maxProperties: 1000, maxErrors: 100 };
    // One limit tight at a time, so that no other breach hides a wrong answer about it.
    for (const tight of [{ maxDepth: 3 }, { maxStringLength: 4 }, { maxListLength: 3 }, { maxProperties: 3 }]) {
      const limits = { ...loose, ...tight };
      const breaches = (v: unknown, depth: number): boolean => {
        if (typeof v === 'string') return v.length > limits.maxStringLength;
        if (v === null || typeof v !== 'object') return false;
        if (depth >= limits.maxDepth) return true;
        const items = Array.isArray(v) ? v : Object.values(v);
        const keys = Array.isArray(v) ? [] : Object.keys(v);
        if (Array.isArray(v) ? v.length > limits.maxListLength : keys.length > limits.maxProperties) return true;
        return keys.some((k) => k.length > limits.maxStringLength) || items.some((x) => breaches(x, depth + 1));
      };
      fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const ctx = new Ctx({ limits });
        expect(checkLimits(ctx, v)).toBe(!breaches(v, 0));
        expect(ctx.errors.every((e) => e.rule.startsWith('limits.'))).toBe(true);
        expect(ctx.errors.length > 0).toBe(breaches(v, 0));
      }), { numRuns: 1500 });
    }
  });

  it('on a hostile pattern', () => {
    const pattern = '('.repeat(50_000);
    const r = validateObject({ ...VALID_EXAMPLES['indicator'], pattern });
    expect(r.ok).toBe(false);
  });
});
