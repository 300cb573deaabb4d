/**
 * Canonical text of a pattern AST. `parsePattern(printPattern(ast))` gives back `ast`:
 * parentheses are added exactly where precedence (§9.5) or left-associativity needs them.
 */
import type { ComparisonExpression, Constant, ObjectPath, PatternAst, Qualifier } from './ast.js';
import { comparisonOperands, observationOperands } from './ast.js';

const RESERVED = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS',
  'LAST', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES', 'true', 'false',
]);

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Plain decimal text without exponent (the grammar has no exponent form). */
function decimal(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [mant = '0', expText = '0'] = s.toLowerCase().split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const [ip = '0', fp = ''] = (neg ? mant.slice(1) : mant).split('.');
  const digits = ip + fp;
  const point = ip.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (neg ? '-' : '') + out;
}

export function printConstant(c: Constant): string {
  switch (c.kind) {
    case 'string': return quote(c.value);
    case 'int': return decimal(c.value);
    case 'float': {
      const s = decimal(c.value);
      return s.includes('.') ? s : `${s}.0`;
    }
    case 'bool': return c.value ? 'true' : 'false';
    case 'timestamp': return `t${quote(c.value)}`;
    case 'binary': return `b'${c.value}'`;
    case 'hex': return `h'${c.value}'`;
  }
}

/** `file:hashes.'SHA-256'`, `file:extensions.'x-y'.sections[*].entropy`. */
export function printObjectPath(p: ObjectPath): string {
  let out = `${p.objectType}:`;
  p.steps.forEach((step, i) => {
    if (step === '*') out += '[*]';
    else if (typeof step === 'number') out += `[${step}]`;
    else {
      const bare = /^[A-Za-z_][A-Za-z0-9_]*$/.test(step) && !RESERVED.has(step);
      out += (i === 0 ? '' : '.') + (bare ? step : quote(step));
    }
  });
  return out;
}

const CMP_PREC = { or: 1, and: 2, comparison: 3 } as const;

function printComparison(e: ComparisonExpression): string {
  switch (e.kind) {
    case 'comparison': {
      const path = printObjectPath(e.path);
      if (e.operator === 'EXISTS') return `EXISTS ${path}`;
      const not = e.negated ? 'NOT ' : '';
      if (e.operator === 'IN') return `${path} ${not}IN (${e.value.map(printConstant).join(', ')})`;
      return `${path} ${not}${e.operator} ${printConstant(e.value)}`;
    }
    case 'and':
    case 'or': {
      const p = CMP_PREC[e.kind];
      // Iterative over the left-deep chain; only the first operand may share the precedence.
      return comparisonOperands(e, e.kind)
        .map((x, i) => {
          const text = printComparison(x);
          return CMP_PREC[x.kind] < p || (i > 0 && CMP_PREC[x.kind] === p) ? `(${text})` : text;
        })
        .join(` ${e.kind.toUpperCase()} `);
    }
  }
}

function printQualifier(q: Qualifier): string {
  switch (q.kind) {
    case 'within': {
      const s = decimal(q.seconds);
      return `WITHIN ${s} SECONDS`;
    }
    case 'repeats': return `REPEATS ${q.times} TIMES`;
    case 'startstop': return `START ${printConstant(q.start)} STOP ${printConstant(q.stop)}`;
  }
}

const OBS_PREC = { followedby: 1, or: 2, and: 3, qualified: 4, observation: 4 } as const;
const OBS_WORD = { followedby: 'FOLLOWEDBY', or: 'OR', and: 'AND' } as const;

/** Prints a pattern AST as canonical STIX pattern text. */
export function printPattern(ast: PatternAst): string {
  switch (ast.kind) {
    case 'observation':
      return `[${printComparison(ast.expression)}]`;
    case 'qualified': {
      const inner = printPattern(ast.expression);
      // The parser refuses the same qualifier twice in one chain, so such an inner chain is
      // parenthesised (the parentheses leave the AST unchanged).
      const wrap = OBS_PREC[ast.expression.kind] < 4 || chainHas(ast.expression, ast.qualifier.kind);
      return `${wrap ? `(${inner})` : inner} ${printQualifier(ast.qualifier)}`;
    }
    case 'and':
    case 'or':
    case 'followedby': {
      const p = OBS_PREC[ast.kind];
      return observationOperands(ast, ast.kind)
        .map((x, i) => {
          const text = printPattern(x);
          return OBS_PREC[x.kind] < p || (i > 0 && OBS_PREC[x.kind] === p) ? `(${text})` : text;
        })
        .join(` ${OBS_WORD[ast.kind]} `);
    }
  }
}

function chainHas(node: PatternAst, kind: Qualifier['kind']): boolean {
  for (let n = node; n.kind === 'qualified'; n = n.expression) if (n.qualifier.kind === kind) return true;
  return false;
}
