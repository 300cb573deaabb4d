/**
 * Tokenizer for STIX 2.1 patterns. The lexical rules follow the ANTLR grammar that accompanies
 * STIX 2.1 §9 (STIXPattern.g4): keywords are upper case and case-sensitive, booleans are
 * `true` / `false`, comments (`/* *\/`, `//`) and the grammar's whitespace set are skipped,
 * and the typed literals are `t'…'`, `b'…'` and `h'…'`.
 */
import { PatternSyntaxError } from './errors.js';

export type TokenType =
  | 'lbrack'
  | 'rbrack'
  | 'lparen'
  | 'rparen'
  | 'colon'
  | 'dot'
  | 'comma'
  | 'star'
  | 'op'
  | 'ident'
  | 'keyword'
  | 'bool'
  | 'int'
  | 'float'
  | 'string'
  | 'timestamp'
  | 'binary'
  | 'hex'
  | 'eof';

/** Token types of constants (the grammar's primitiveLiteral). */
export type LiteralType = 'int' | 'float' | 'string' | 'bool' | 'timestamp' | 'binary' | 'hex';
const LITERAL_TYPES: ReadonlySet<TokenType> = new Set<LiteralType>(['int', 'float', 'string', 'bool', 'timestamp', 'binary', 'hex']);

export function isLiteral(t: Token): t is Token & { readonly type: LiteralType } {
  return LITERAL_TYPES.has(t.type);
}

export interface Token {
  readonly type: TokenType;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
  /** Keyword / operator / identifier text, or the decoded content of a quoted literal. */
  readonly text: string;
}

/** §9 reserved words. LAST is reserved by the grammar although no production uses it. */
const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS',
  'LAST', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES',
]);

/** The WS rule of the grammar: ASCII blanks plus the Unicode space separators it lists. */
function isSpace(c: number): boolean {
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
    c === 0x205f || c === 0x3000
  );
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 0x2d;
}

const QUOTE = 0x27;
const BACKSLASH = 0x5c;

export class Lexer {
  private pos = 0;
  private peeked: Token | null = null;

  constructor(private readonly src: string) {}

  peek(): Token {
    if (this.peeked === null) this.peeked = this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private fail(message: string, position: number): never {
    throw new PatternSyntaxError(message, position);
  }

  private skipBlanks(): void {
    const s = this.src;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (isSpace(c)) {
        this.pos++;
      } else if (c === 0x2f && s.charCodeAt(this.pos + 1) === 0x2a) {
        const close = s.indexOf('*/', this.pos + 2);
        if (close < 0) this.fail('unterminated comment', this.pos);
        this.pos = close + 2;
      } else if (c === 0x2f && s.charCodeAt(this.pos + 1) === 0x2f) {
        let i = this.pos + 2;
        while (i < s.length && s[i] !== '\n' && s[i] !== '\r') i++;
        this.pos = i;
      } else {
        return;
      }
    }
  }

  private tok(type: TokenType, start: number, end: number, text: string): Token {
    this.pos = end;
    return { type, start, end, text };
  }

  private scan(): Token {
    this.skipBlanks();
    const s = this.src;
    const start = this.pos;
    if (start >= s.length) return { type: 'eof', start, end: start, text: '' };
    const c = s.charCodeAt(start);
    switch (c) {
      case 0x5b: return this.tok('lbrack', start, start + 1, '[');
      case 0x5d: return this.tok('rbrack', start, start + 1, ']');
      case 0x28: return this.tok('lparen', start, start + 1, '(');
      case 0x29: return this.tok('rparen', start, start + 1, ')');
      case 0x3a: return this.tok('colon', start, start + 1, ':');
      case 0x2c: return this.tok('comma', start, start + 1, ',');
      case 0x2a: return this.tok('star', start, start + 1, '*');
      case QUOTE: return this.quoted('string', start, start);
      default: break;
    }
    const n = s.charCodeAt(start + 1);
    // EQ: '=' | '=='; NEQ: '!=' | '<>'; LT, LE, GT, GE.
    if (c === 0x3d) return n === 0x3d ? this.tok('op', start, start + 2, '=') : this.tok('op', start, start + 1, '=');
    if (c === 0x21) {
      if (n === 0x3d) return this.tok('op', start, start + 2, '!=');
      this.fail("unexpected character '!' (did you mean '!=' or NOT?)", start);
    }
    if (c === 0x3c) {
      if (n === 0x3d) return this.tok('op', start, start + 2, '<=');
      if (n === 0x3e) return this.tok('op', start, start + 2, '!=');
      return this.tok('op', start, start + 1, '<');
    }
    if (c === 0x3e) return n === 0x3d ? this.tok('op', start, start + 2, '>=') : this.tok('op', start, start + 1, '>');
    if (c === 0x2e) return isDigit(n) ? this.number(start) : this.tok('dot', start, start + 1, '.');
    if (isDigit(c) || ((c === 0x2b || c === 0x2d) && (isDigit(n) || (n === 0x2e && isDigit(s.charCodeAt(start + 2)))))) {
      return this.number(start);
    }
    if (n === QUOTE && (c === 0x74 || c === 0x62 || c === 0x68)) {
      return this.quoted(c === 0x74 ? 'timestamp' : c === 0x62 ? 'binary' : 'hex', start, start + 1);
    }
    if (isIdentStart(c)) {
      let i = start + 1;
      while (i < s.length && isIdentPart(s.charCodeAt(i))) i++;
      const text = s.slice(start, i);
      if (KEYWORDS.has(text)) return this.tok('keyword', start, i, text);
      if (text === 'true' || text === 'false') return this.tok('bool', start, i, text);
      return this.tok('ident', start, i, text);
    }
    const cp = s.codePointAt(start) ?? c;
    this.fail(`unexpected character ${JSON.stringify(String.fromCodePoint(cp))}`, start);
  }

  /** IntLiteral `[+-]?('0'|[1-9][0-9]*)` and FloatLiteral `[+-]?[0-9]*'.'[0-9]+`. */
  private number(start: number): Token {
    const s = this.src;
    let i = start;
    if (s[i] === '+' || s[i] === '-') i++;
    const intStart = i;
    while (isDigit(s.charCodeAt(i))) i++;
    const intDigits = i - intStart;
    if (s[i] === '.' && isDigit(s.charCodeAt(i + 1))) {
      i++;
      while (isDigit(s.charCodeAt(i))) i++;
      return this.tok('float', start, i, s.slice(start, i));
    }
    if (intDigits > 1 && s[intStart] === '0') this.fail('integers must not have leading zeros', start);
    return this.tok('int', start, i, s.slice(start, i));
  }

  /**
   * StringLiteral `'( ~['\\] | '\\\'' | '\\\\' )*'`: the only escapes are `\'` and `\\`.
   * Typed literals use the same quoting; their content is validated by the parser.
   */
  private quoted(type: TokenType, start: number, quoteAt: number): Token {
    const s = this.src;
    let i = quoteAt + 1;
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= s.length) this.fail('unterminated quoted literal', start);
      const c = s.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const e = s.charCodeAt(i + 1);
        if (e !== QUOTE && e !== BACKSLASH) this.fail("invalid escape: only \\' and \\\\ are allowed", i);
        out += s.slice(chunk, i) + s[i + 1];
        i += 2;
        chunk = i;
      } else {
        i++;
      }
    }
    out += s.slice(chunk, i);
    return this.tok(type, start, i + 1, out);
  }
}
