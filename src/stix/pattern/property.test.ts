import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Comparison, ComparisonExpression, Constant, Observation, PathStep, PatternAst, Qualifier } from './index.js';
import { evaluatePattern, parsePattern, printPattern } from './index.js';

const TOKENS = [
  '[', ']', '(', ')', ':', '.', ',', '*', "'", '\\', ' ', '\n', '/*', '*/', '//', '=', '!=', '<', '>=', '<>',
  'file', 'ipv4-addr', 'name', 'hashes', "'SHA-256'", "'a'", "'it\\'s'", '0', '1', '-1', '+2', '1.5', '.5',
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'LAST',
  'WITHIN', 'SECONDS', 'REPEATS', 'TIMES', 'START', 'STOP', 'true', 'false',
  "t'2016-01-01T00:00:00Z'", "t'2016-13-01T00:00:00Z'", "b'AAE='", "b'A'", "h'ff'", "h'f'", "'10.0.0.0/8'",
];
const patternish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((a) => a.join(''));

function checkResult(src: string): void {
  const r = parsePattern(src);
  if (r.ok) return;
  expect(r.error.position).toBeGreaterThanOrEqual(0);
  expect(r.error.position).toBeLessThanOrEqual(src.length);
  expect(typeof r.error.message).toBe('string');
  expect(r.error.line).toBeGreaterThanOrEqual(1);
  expect(r.error.column).toBeGreaterThanOrEqual(1);
}

describe('parsePattern on arbitrary input', () => {
  it('never throws and reports an in-range position (any string)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => checkResult(s)), { numRuns: 3000 });
  });

  it('never throws and reports an in-range position (pattern-like token soup)', () => {
    fc.assert(fc.property(patternish, (s) => checkResult(s)), { numRuns: 5000 });
  });
});

// ---- generators of valid ASTs -------------------------------------------------------------

const objectType = fc.constantFrom('file', 'ipv4-addr', 'network-traffic', 'x-custom-thing', 'a1-b2');
const propertyName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
  fc.string({ maxLength: 8 }).filter((s) => s !== '*'),
  fc.constantFrom('SHA-256', 'windows-pebinary-ext', "it's", 'back\\slash', 'AND', 'true'),
);
const laterStep: fc.Arbitrary<PathStep> = fc.oneof(propertyName, fc.integer({ min: -3, max: 5 }), fc.constant('*' as const));
const steps = fc.tuple(propertyName, fc.array(laterStep, { maxLength: 4 })).map(([first, rest]) => [first, ...rest]);

const timestamp = fc
  .tuple(fc.integer({ min: 0, max: 4_102_444_799_999 }), fc.boolean())
  .map(([ms, frac]): Constant & { kind: 'timestamp' } => {
    const iso = new Date(ms).toISOString();
    return { kind: 'timestamp', value: frac ? iso : `${iso.slice(0, 19)}Z`, micros: (frac ? ms : Math.floor(ms / 1000) * 1000) * 1000 };
  });
const notBool: fc.Arbitrary<Constant> = fc.oneof(
  fc.string({ maxLength: 12 }).map((value): Constant => ({ kind: 'string', value })),
  fc.maxSafeInteger().map((v): Constant => ({ kind: 'int', value: v === 0 ? 0 : v })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): Constant => ({ kind: 'float', value: v === 0 ? 0 : v })),
  timestamp,
  fc.uint8Array({ maxLength: 10 }).map((b): Constant => ({ kind: 'binary', value: Buffer.from(b).toString('base64') })),
  fc.uint8Array({ maxLength: 10 }).map((b): Constant => ({ kind: 'hex', value: Buffer.from(b).toString('hex') })),
);
const constant: fc.Arbitrary<Constant> = fc.oneof(notBool, fc.boolean().map((value): Constant => ({ kind: 'bool', value })));

function comparison(type: string): fc.Arbitrary<Comparison> {
  const path = steps.map((s) => ({ objectType: type, steps: s }));
  const str = (values: string[]) => fc.constantFrom(...values).map((value): Constant => ({ kind: 'string', value }));
  return fc.oneof(
    fc.record({ path, operator: fc.constantFrom('=' as const, '!=' as const), negated: fc.boolean(), value: constant }),
    fc.record({ path, operator: fc.constantFrom('<' as const, '<=' as const, '>' as const, '>=' as const), negated: fc.boolean(), value: notBool }),
    fc.record({ path, operator: fc.constant('IN' as const), negated: fc.boolean(), value: fc.array(constant, { maxLength: 4 }) }),
    fc.record({ path, operator: fc.constant('LIKE' as const), negated: fc.boolean(), value: fc.string({ maxLength: 8 }).map((value): Constant => ({ kind: 'string', value })) }),
    fc.record({ path, operator: fc.constant('MATCHES' as const), negated: fc.boolean(), value: str(['^a.*b$', 'x+', '\\d{2}', "it's", '(?i)abc']) }),
    fc.record({ path, operator: fc.constantFrom('ISSUBSET' as const, 'ISSUPERSET' as const), negated: fc.boolean(), value: str(['10.0.0.0/8', '198.51.100.7', '2001:db8::/32']) }),
    fc.record({ path, operator: fc.constant('EXISTS' as const), negated: fc.constant(false), value: fc.constant(null) }),
  ).map((c) => ({ kind: 'comparison', ...c }) as Comparison);
}

function comparisonExpression(type: string): fc.Arbitrary<ComparisonExpression> {
  const { expr } = fc.letrec<{ expr: ComparisonExpression }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparison(type),
      fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('expr'), right: tie('expr') }),
    ),
  }));
  return expr;
}

const qualifier: fc.Arbitrary<Qualifier> = fc.oneof(
  fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0.001, max: 1e6, noNaN: true })).map((seconds): Qualifier => ({ kind: 'within', seconds })),
  fc.integer({ min: 1, max: 1000 }).map((times): Qualifier => ({ kind: 'repeats', times })),
  fc.tuple(timestamp, timestamp)
    .filter(([a, b]) => a.micros !== b.micros)
    .map(([a, b]): Qualifier => (a.micros < b.micros ? { kind: 'startstop', start: a, stop: b } : { kind: 'startstop', start: b, stop: a })),
);

const { pattern } = fc.letrec<{ pattern: PatternAst }>((tie) => ({
  pattern: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    objectType.chain(comparisonExpression).map((expression): PatternAst => ({ kind: 'observation', expression })),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const, 'followedby' as const), left: tie('pattern'), right: tie('pattern') }),
    fc.record({ kind: fc.constant('qualified' as const), expression: tie('pattern'), qualifier }),
  ),
}));

describe('printPattern', () => {
  it('prints any valid AST to text that parses back to the same AST', () => {
    fc.assert(
      fc.property(pattern, (ast) => {
        const text = printPattern(ast);
        const r = parsePattern(text);
        if (!r.ok) throw new Error(`${text}\n${r.error.message} at ${r.error.position}`);
        expect(r.ast).toEqual(ast);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('evaluatePattern on generated input', () => {
  const observation: fc.Arbitrary<Observation> = fc.record({
    time: fc.integer({ min: 0, max: 1_000_000 }),
    objects: fc.dictionary(
      fc.constantFrom('0', '1', '2'),
      fc.record({
        type: objectType,
        name: fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant('1')),
        x_ref: fc.constantFrom('0', '1', 'nope'),
        list: fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
      }),
    ),
  });

  it('never throws and only returns indexes of given observations', () => {
    fc.assert(
      fc.property(pattern, fc.array(observation, { maxLength: 6 }), (ast, obs) => {
        const m = evaluatePattern(ast, obs);
        if (m === null) return;
        expect(m.observations.length).toBeGreaterThan(0);
        expect(new Set(m.observations).size).toBe(m.observations.length);
        for (const i of m.observations) expect(i >= 0 && i < obs.length).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
