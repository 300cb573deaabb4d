/**
 * Constants of STIX 2.1 §9.1 ("Constants" table) and the operand checks of §9.4: which
 * constants each comparison operator accepts.
 */
import { parseTimestampMicros } from '../../core/time.js';
import type { ComparisonOperator, Constant } from './ast.js';
import { parseIpBlock } from './cidr.js';
import { PatternSyntaxError } from './errors.js';
import type { LiteralType, Token } from './lexer.js';
import { compileMatches, isRefusal } from './regex.js';

/** STIX timestamp form required inside t'…' (§9.1: RFC 3339, UTC, 'Z'). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
/** base64 with padding (RFC 4648 §4), the encoding of STIX binary values. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function parseConstant(t: Token & { readonly type: LiteralType }): Constant {
  switch (t.type) {
    case 'int': {
      const value = Number(t.text);
      if (!Number.isSafeInteger(value)) {
        throw new PatternSyntaxError('integer outside the exactly representable range ±(2^53-1)', t.start);
      }
      return { kind: 'int', value: value === 0 ? 0 : value };
    }
    case 'float': {
      const value = Number(t.text);
      if (!Number.isFinite(value)) throw new PatternSyntaxError('float literal out of range', t.start);
      return { kind: 'float', value: value === 0 ? 0 : value };
    }
    case 'string':
      return { kind: 'string', value: t.text };
    case 'bool':
      return { kind: 'bool', value: t.text === 'true' };
    case 'timestamp': {
      const micros = TIMESTAMP.test(t.text) ? parseTimestampMicros(t.text) : null;
      if (micros === null) {
        throw new PatternSyntaxError(`invalid timestamp '${t.text}': expected RFC 3339 UTC like 2016-01-01T00:00:00Z`, t.start);
      }
      return { kind: 'timestamp', value: t.text, micros };
    }
    case 'binary':
      if (!BASE64.test(t.text)) throw new PatternSyntaxError('invalid binary literal: expected padded base64', t.start);
      return { kind: 'binary', value: t.text };
    case 'hex':
      if (!HEX.test(t.text)) throw new PatternSyntaxError('invalid hex literal: expected pairs of hex digits', t.start);
      return { kind: 'hex', value: t.text };
  }
}

/** Rejects operand types an operator cannot take, at the operand's position. */
export function checkOperand(op: Exclude<ComparisonOperator, 'IN' | 'EXISTS'>, value: Constant, t: Token): void {
  switch (op) {
    case '=':
    case '!=':
      return;
    case '<':
    case '<=':
    case '>':
    case '>=':
      // orderableLiteral excludes booleans.
      if (value.kind === 'bool') throw new PatternSyntaxError(`${op} cannot compare with a boolean`, t.start);
      return;
    case 'LIKE':
    case 'MATCHES':
    case 'ISSUBSET':
    case 'ISSUPERSET':
      if (value.kind !== 'string') throw new PatternSyntaxError(`${op} needs a string literal`, t.start);
      if (op === 'MATCHES') {
        const r = compileMatches(value.value);
        if (isRefusal(r)) {
          // The position is the offending character in the pattern: after the opening quote,
          // plus one for each `\\` or `\'` escape (STIX §9.1) before it in the literal.
          const before = value.value.slice(0, r.position);
          const escapes = before.length - before.replace(/[\\']/g, '').length;
          throw new PatternSyntaxError(
            `invalid MATCHES regular expression: ${r.reason} (at position ${r.position} of the expression)`,
            t.start + 1 + r.position + escapes,
          );
        }
      }
      if ((op === 'ISSUBSET' || op === 'ISSUPERSET') && parseIpBlock(value.value) === null) {
        throw new PatternSyntaxError(`${op} needs an IPv4 or IPv6 address or CIDR block`, t.start);
      }
      return;
  }
}
