/**
 * Indicator constants in the form the normaliser writes telemetry values, so that an exact key
 * (and the evaluator) compares like with like. STIX string comparison is code-point equality
 * (STIX 2.1 §9.4), but three kinds of value have several texts for one thing:
 * - addresses: `2001:DB8:0:0::1` and `2001:db8::1` (RFC 4291 §2.2) → RFC 5952, and an
 *   IPv4-mapped `::ffff:a.b.c.d` → `a.b.c.d`, as `canonicalIp` writes events;
 * - domain names, which compare without case (RFC 4343; resolvers randomise the case of queries,
 *   "DNS 0x20") → lower case, as events are written;
 * - hex digests (MD5, SHA-1, SHA-2, SHA-3, the PE imphash) → lower case, as events are written.
 * Done once per indicator when it is added: matching reads events as they are.
 */
import type { Comparison, ComparisonExpression, Constant, ObjectPath, PatternAst } from '../../stix/pattern/index.js';
import { comparisonOperands, observationOperands } from '../../stix/pattern/index.js';
import { canonicalIp } from '../normalise/index.js';

type Kind = 'ip' | 'domain' | 'hex' | null;

const HEX_HASHES: ReadonlySet<string> = new Set(['MD5', 'SHA-1', 'SHA-256', 'SHA-512', 'SHA3-256', 'SHA3-512']);

/** What kind of value lies at `path` (null: compared as written). */
export function valueKindAt(objectType: string, steps: readonly unknown[]): Kind {
  const last = steps[steps.length - 1];
  if (steps.length === 2 && steps[0] === 'hashes' && typeof last === 'string' && HEX_HASHES.has(last)) return 'hex';
  // The PE import hash is an MD5 digest (Sysmon writes it in capitals).
  if (objectType === 'file' && steps.length === 3 && steps[0] === 'extensions' && steps[1] === 'windows-pebinary-ext' && last === 'imphash') return 'hex';
  if (last !== 'value') return null;
  if (steps.length === 1) {
    if (objectType === 'ipv4-addr' || objectType === 'ipv6-addr') return 'ip';
    return objectType === 'domain-name' ? 'domain' : null;
  }
  // `network-traffic:dst_ref.value`, `domain-name:resolves_to_refs[*].value`: an address, or
  // something canonicalIp leaves as it is (a MAC address, a name).
  const ref = steps[steps.length - 2] === '*' ? steps[steps.length - 3] : steps[steps.length - 2];
  return typeof ref === 'string' && (ref.endsWith('_ref') || ref.endsWith('_refs')) ? 'ip' : null;
}

/** A string constant in the form telemetry carries at a path of that kind. */
export function canonicalText(kind: Kind, v: string): string {
  switch (kind) {
    case 'ip': return canonicalIp(v);
    case 'domain': case 'hex': return v.toLowerCase();
    case null: return v;
  }
}

function constant(kind: Kind, c: Constant): Constant {
  if (c.kind !== 'string') return c;
  const v = canonicalText(kind, c.value);
  return v === c.value ? c : { kind: 'string', value: v };
}

function comparison(c: Comparison): Comparison {
  const kind = valueKindAt(c.path.objectType, c.path.steps);
  if (kind === null) return c;
  switch (c.operator) {
    case '=': case '!=': {
      const v = constant(kind, c.value);
      return v === c.value ? c : { ...c, value: v };
    }
    case 'IN': {
      const vs = c.value.map((x) => constant(kind, x));
      return vs.every((x, i) => x === c.value[i]) ? c : { ...c, value: vs };
    }
    case 'LIKE': {
      // An address has one text; a LIKE on it is about that text. Names and digests fold.
      if (kind === 'ip') return c;
      const v = constant(kind, c.value);
      return v === c.value ? c : { ...c, value: v };
    }
    case 'MATCHES':
      // Telemetry names are lower case: the expression is applied without case (RE2 `(?i)`).
      return kind === 'domain' && c.value.kind === 'string' ? { ...c, value: { kind: 'string', value: `(?i)${c.value.value}` } } : c;
    case '<': case '<=': case '>': case '>=': case 'ISSUBSET': case 'ISSUPERSET': case 'EXISTS':
      return c;
  }
}

function expression(e: ComparisonExpression): ComparisonExpression {
  if (e.kind === 'comparison') return comparison(e);
  // Chains (IOC lists of thousands of ORs) are walked without recursion, as the parser builds them.
  const ops = comparisonOperands(e, e.kind);
  const out = ops.map(expression);
  if (out.every((x, i) => x === ops[i])) return e;
  const [first, ...rest] = out as [ComparisonExpression, ...ComparisonExpression[]];
  return rest.reduce<ComparisonExpression>((left, right) => ({ kind: e.kind, left, right }), first);
}

/** The pattern with its address, domain and digest constants canonical; the same object when none changes. */
export function canonicalPattern(p: PatternAst): PatternAst {
  switch (p.kind) {
    case 'observation': {
      const x = expression(p.expression);
      return x === p.expression ? p : { kind: 'observation', expression: x };
    }
    case 'qualified': {
      const x = canonicalPattern(p.expression);
      return x === p.expression ? p : { ...p, expression: x };
    }
    case 'and': case 'or': case 'followedby': {
      const ops = observationOperands(p, p.kind);
      const out = ops.map(canonicalPattern);
      if (out.every((x, i) => x === ops[i])) return p;
      const [first, ...rest] = out as [PatternAst, ...PatternAst[]];
      return rest.reduce<PatternAst>((left, right) => ({ kind: p.kind, left, right }), first);
    }
  }
}

/** For the parser-free path: the canonical text of a `path = 'value'` constant. */
export function canonicalKeyValue(path: ObjectPath, value: string): string {
  return canonicalText(valueKindAt(path.objectType, path.steps), value);
}
