import { describe, expect, it } from 'vitest';
import type { Observation, PatternAst } from './index.js';
import { MAX_BINDINGS, evaluatePattern, formatPatternError, parsePattern } from './index.js';

function p(src: string): PatternAst {
  const r = parsePattern(src);
  if (!r.ok) throw new Error(formatPatternError(src, r.error));
  return r.ast;
}

/** An observation of one ipv4-addr with the given last octet, at `seconds`. */
function ip(octet: number, seconds: number): Observation {
  return { time: seconds * 1000, objects: { '0': { type: 'ipv4-addr', value: `10.0.0.${octet}` } } };
}
function domain(name: string, seconds: number): Observation {
  return { time: seconds * 1000, objects: { '0': { type: 'domain-name', value: name } } };
}

const A = "[ipv4-addr:value = '10.0.0.1']";
const B = "[domain-name:value = 'example.com']";

function run(pattern: string, obs: Observation[]): number[] | null {
  return evaluatePattern(p(pattern), obs)?.observations ?? null;
}

describe('observation expressions (STIX 2.1 §9.3, §9.5)', () => {
  it('matches a single observation expression on any observation', () => {
    expect(run(A, [ip(2, 0), ip(1, 5)])).toEqual([1]);
    expect(run(A, [ip(2, 0)])).toBeNull();
    expect(run(A, [])).toBeNull();
  });

  it('AND needs both sides on distinct observations', () => {
    expect(run(`${A} AND ${B}`, [ip(1, 0), domain('example.com', 9)])).toEqual([0, 1]);
    expect(run(`${A} AND ${B}`, [ip(1, 0)])).toBeNull();
    expect(run(`${A} AND ${A}`, [ip(1, 0)])).toBeNull();
    expect(run(`${A} AND ${A}`, [ip(1, 0), ip(1, 1)])).toEqual([0, 1]);
    const both: Observation = {
      time: 0,
      objects: { '0': { type: 'ipv4-addr', value: '10.0.0.1' }, '1': { type: 'domain-name', value: 'example.com' } },
    };
    expect(run(`${A} AND ${B}`, [both])).toBeNull();
  });

  it('OR needs either side', () => {
    expect(run(`${A} OR ${B}`, [domain('example.com', 0)])).toEqual([0]);
    expect(run(`${A} OR ${B}`, [ip(1, 0)])).toEqual([0]);
    expect(run(`${A} OR ${B}`, [ip(3, 0)])).toBeNull();
  });

  it('FOLLOWEDBY needs the left observations at or before the right ones', () => {
    expect(run(`${A} FOLLOWEDBY ${B}`, [domain('example.com', 10), ip(1, 5)])).toEqual([0, 1]);
    expect(run(`${A} FOLLOWEDBY ${B}`, [domain('example.com', 5), ip(1, 10)])).toBeNull();
    expect(run(`${A} FOLLOWEDBY ${B}`, [domain('example.com', 5), ip(1, 5)])).toEqual([0, 1]);
    expect(run(`${A} FOLLOWEDBY ${B}`, [domain('example.com', 1), ip(1, 5), domain('example.com', 7)])).toEqual([1, 2]);
    expect(run(`${A} FOLLOWEDBY ${A}`, [ip(1, 5)])).toBeNull();
  });

  it('WITHIN bounds the span of all observations used', () => {
    expect(run(`(${A} FOLLOWEDBY ${B}) WITHIN 10 SECONDS`, [ip(1, 0), domain('example.com', 10)])).toEqual([0, 1]);
    expect(run(`(${A} FOLLOWEDBY ${B}) WITHIN 10 SECONDS`, [ip(1, 0), domain('example.com', 10.001)])).toBeNull();
    expect(run(`(${A} FOLLOWEDBY ${B}) WITHIN 10 SECONDS`, [ip(1, 0), ip(1, 20), domain('example.com', 25)])).toEqual([1, 2]);
    expect(run(`(${A} AND ${B}) WITHIN 0.5 SECONDS`, [ip(1, 0), domain('example.com', 0.4)])).toEqual([0, 1]);
    // WITHIN on a single observation expression always holds.
    expect(run(`${A} WITHIN 1 SECONDS`, [ip(1, 0)])).toEqual([0]);
  });

  it('REPEATS n TIMES needs n distinct matching observations', () => {
    expect(run(`${A} REPEATS 3 TIMES`, [ip(1, 0), ip(1, 100), ip(2, 150), ip(1, 200)])).toEqual([0, 1, 3]);
    expect(run(`${A} REPEATS 3 TIMES`, [ip(1, 0), ip(1, 100), ip(2, 150)])).toBeNull();
    expect(run(`${A} REPEATS 1 TIMES`, [ip(1, 0)])).toEqual([0]);
  });

  it('REPEATS with WITHIN searches for a dense enough run', () => {
    const obs = [ip(1, 0), ip(1, 100), ip(1, 200), ip(1, 205), ip(1, 209), ip(1, 300)];
    expect(run(`${A} REPEATS 3 TIMES WITHIN 10 SECONDS`, obs)).toEqual([2, 3, 4]);
    expect(run(`${A} REPEATS 4 TIMES WITHIN 10 SECONDS`, obs)).toBeNull();
    expect(run(`(${A} REPEATS 2 TIMES) WITHIN 5 SECONDS`, obs)).toEqual([2, 3]);
  });

  it('REPEATS over a compound expression needs disjoint matches', () => {
    const obs = [ip(1, 0), domain('example.com', 1), ip(1, 2), domain('example.com', 3)];
    expect(run(`(${A} FOLLOWEDBY ${B}) REPEATS 2 TIMES`, obs)).toEqual([0, 1, 2, 3]);
    expect(run(`(${A} FOLLOWEDBY ${B}) REPEATS 3 TIMES`, obs)).toBeNull();
  });

  it('START/STOP keeps observations with start <= time < stop', () => {
    const start = Date.UTC(2016, 5, 1) / 1000;
    const stop = Date.UTC(2016, 6, 1) / 1000;
    const q = `${A} START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`;
    expect(run(q, [ip(1, start - 1)])).toBeNull();
    expect(run(q, [ip(1, start)])).toEqual([0]);
    expect(run(q, [ip(1, stop - 0.001)])).toEqual([0]);
    expect(run(q, [ip(1, stop)])).toBeNull();
    const both = `(${A} FOLLOWEDBY ${B}) START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`;
    expect(run(both, [ip(1, start), domain('example.com', stop)])).toBeNull();
    expect(run(both, [ip(1, start), domain('example.com', stop - 1)])).toEqual([0, 1]);
  });

  it('follows precedence: AND binds tighter than FOLLOWEDBY', () => {
    const pat = `${B} FOLLOWEDBY ${A} AND [ipv4-addr:value = '10.0.0.2']`;
    expect(run(pat, [ip(2, 0), domain('example.com', 1), ip(1, 2)])).toBeNull();
    expect(run(pat, [domain('example.com', 1), ip(2, 2), ip(1, 3)])).toEqual([0, 1, 2]);
  });

  it('ignores observations without a finite time', () => {
    expect(run(A, [{ time: Number.NaN, objects: { '0': { type: 'ipv4-addr', value: '10.0.0.1' } } }])).toBeNull();
  });

  // The timeout guards against a blow-up past the documented caps; speed itself is benchmarked.
  it('stays bounded on many observations (documented caps)', { timeout: 10_000 }, () => {
    const many = Array.from({ length: 5000 }, (_, i) => ip(1, i));
    expect(run(`${A} REPEATS 50 TIMES WITHIN 49 SECONDS`, many)).toHaveLength(50);
    expect(run(`(${A} AND ${A}) AND ${A}`, many)).toHaveLength(3);
    expect(run(`${A} REPEATS 60 TIMES WITHIN 49 SECONDS`, many)).toBeNull();
    expect(MAX_BINDINGS).toBeGreaterThan(100);
  });
});
