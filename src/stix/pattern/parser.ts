/**
 * Hand-written recursive-descent parser for STIX 2.1 patterns (STIX 2.1 §9).
 *
 * Grammar (after STIXPattern.g4 published with the spec; all binary operators left-associative):
 *   pattern      := obsFollowed EOF
 *   obsFollowed  := obsOr ('FOLLOWEDBY' obsOr)*        -- §9.5: FOLLOWEDBY binds loosest,
 *   obsOr        := obsAnd ('OR' obsAnd)*              --       then OR,
 *   obsAnd       := obsQualified ('AND' obsQualified)* --       then AND
 *   obsQualified := obsAtom qualifier*
 *   obsAtom      := '[' cmpOr ']' | '(' obsFollowed ')'
 *   cmpOr        := cmpAnd ('OR' cmpAnd)*              -- comparison AND binds tighter than OR
 *   cmpAnd       := propTest ('AND' propTest)*
 *   propTest     := '(' cmpOr ')' | 'EXISTS' path | path 'NOT'? operator operand
 *   qualifier    := 'WITHIN' posNumber 'SECONDS' | 'REPEATS' posInt 'TIMES'
 *                 | 'START' timestamp 'STOP' timestamp
 */
import type {
  Comparison,
  ComparisonExpression,
  ComparisonOperator,
  Constant,
  ObjectPath,
  PathStep,
  PatternAst,
  PatternError,
  Qualifier,
} from './ast.js';
import { PatternSyntaxError, makeError } from './errors.js';
import { Lexer, isLiteral } from './lexer.js';
import type { Token } from './lexer.js';
import { checkOperand, parseConstant } from './literals.js';

/** Nesting bound for brackets and parentheses: keeps recursion far from the JS stack limit. */
export const MAX_NESTING = 100;
/** Upper bound on pattern length; STIX indicators are small, this only stops abuse. */
export const MAX_PATTERN_LENGTH = 1_000_000;

const IDENT_NO_HYPHEN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** STIX 2.1 §2.9 / §3.1: object type names use lowercase ASCII letters, digits and hyphens. */
const OBJECT_TYPE = /^[a-z][a-z0-9-]*$/;

const DESCRIPTIONS: Partial<Record<Token['type'], string>> = {
  eof: 'end of pattern',
  string: 'string literal',
  timestamp: 'timestamp literal',
  binary: 'binary literal',
  hex: 'hex literal',
};

function describe(t: Token): string {
  return DESCRIPTIONS[t.type] ?? `'${t.text}'`;
}

interface Cmp {
  node: ComparisonExpression;
  /** Object types that can satisfy the expression (for the §9.2 AND rule). */
  types: readonly string[];
}

class Parser {
  private readonly lx: Lexer;
  private depth = 0;

  constructor(src: string) {
    this.lx = new Lexer(src);
  }

  private fail(message: string, position: number): never {
    throw new PatternSyntaxError(message, position);
  }

  private expect(type: Token['type'], what: string): Token {
    const t = this.lx.next();
    if (t.type !== type) this.fail(`expected ${what} but found ${describe(t)}`, t.start);
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.lx.peek();
    return t.type === 'keyword' && t.text === word;
  }

  private enter(at: number): void {
    if (++this.depth > MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING} levels`, at);
  }

  pattern(): PatternAst {
    const first = this.lx.peek();
    if (first.type === 'eof') this.fail("empty pattern: expected '[' or '('", first.start);
    const ast = this.obsFollowed();
    const t = this.lx.peek();
    if (t.type !== 'eof') {
      this.fail(`unexpected ${describe(t)} after the end of the pattern; expected AND, OR, FOLLOWEDBY or a qualifier`, t.start);
    }
    return ast;
  }

  private obsFollowed(): PatternAst {
    let left = this.obsOr();
    while (this.isKeyword('FOLLOWEDBY')) {
      this.lx.next();
      left = { kind: 'followedby', left, right: this.obsOr() };
    }
    return left;
  }

  private obsOr(): PatternAst {
    let left = this.obsAnd();
    while (this.isKeyword('OR')) {
      this.lx.next();
      left = { kind: 'or', left, right: this.obsAnd() };
    }
    return left;
  }

  private obsAnd(): PatternAst {
    let left = this.obsQualified();
    while (this.isKeyword('AND')) {
      this.lx.next();
      left = { kind: 'and', left, right: this.obsQualified() };
    }
    return left;
  }

  private obsQualified(): PatternAst {
    let node = this.obsAtom();
    // The reference validator rejects the same qualifier twice on one expression.
    const seen = new Set<string>();
    for (;;) {
      const t = this.lx.peek();
      if (t.type !== 'keyword' || (t.text !== 'WITHIN' && t.text !== 'REPEATS' && t.text !== 'START')) return node;
      const qualifier = this.qualifier();
      if (seen.has(qualifier.kind)) this.fail(`duplicate ${t.text} qualifier on the same observation expression`, t.start);
      seen.add(qualifier.kind);
      node = { kind: 'qualified', expression: node, qualifier };
    }
  }

  private obsAtom(): PatternAst {
    const t = this.lx.next();
    if (t.type === 'lbrack') {
      this.enter(t.start);
      if (this.lx.peek().type === 'rbrack') this.fail('empty observation expression: expected a comparison', this.lx.peek().start);
      const expression = this.cmpOr().node;
      this.closing('rbrack', "']'", t);
      this.depth--;
      return { kind: 'observation', expression };
    }
    if (t.type === 'lparen') {
      this.enter(t.start);
      const inner = this.obsFollowed();
      this.closing('rparen', "')'", t);
      this.depth--;
      return inner;
    }
    return this.fail(`expected '[' or '(' to start an observation expression but found ${describe(t)}`, t.start);
  }

  private closing(type: Token['type'], what: string, opener: Token): void {
    const t = this.lx.next();
    if (t.type !== type) {
      this.fail(`expected ${what} to close the ${opener.text} at offset ${opener.start} but found ${describe(t)}`, t.start);
    }
  }

  private qualifier(): Qualifier {
    const kw = this.lx.next();
    if (kw.text === 'WITHIN') {
      const n = this.lx.next();
      if (n.type !== 'int' && n.type !== 'float') this.fail(`expected a number of seconds after WITHIN but found ${describe(n)}`, n.start);
      const seconds = Number(n.text);
      if (n.text.startsWith('-') || !(seconds > 0) || !Number.isFinite(seconds)) {
        this.fail('WITHIN needs a positive number of seconds', n.start);
      }
      this.expectKeyword('SECONDS');
      return { kind: 'within', seconds };
    }
    if (kw.text === 'REPEATS') {
      const n = this.lx.next();
      if (n.type !== 'int') this.fail(`expected a whole number after REPEATS but found ${describe(n)}`, n.start);
      const times = Number(n.text);
      if (n.text.startsWith('-') || !(times > 0) || !Number.isSafeInteger(times)) this.fail('REPEATS needs a positive integer', n.start);
      this.expectKeyword('TIMES');
      return { kind: 'repeats', times };
    }
    const startTok = this.expect('timestamp', "a timestamp t'…' after START");
    const start = this.constant(startTok);
    this.expectKeyword('STOP');
    const stopTok = this.expect('timestamp', "a timestamp t'…' after STOP");
    const stop = this.constant(stopTok);
    if (start.kind !== 'timestamp' || stop.kind !== 'timestamp') return this.fail('expected timestamps', startTok.start);
    // §9.3.3: the STOP timestamp must be later than the START timestamp.
    if (stop.micros <= start.micros) this.fail('STOP must be later than START', stopTok.start);
    return { kind: 'startstop', start, stop };
  }

  private expectKeyword(word: string): void {
    const t = this.lx.next();
    if (t.type !== 'keyword' || t.text !== word) this.fail(`expected ${word} but found ${describe(t)}`, t.start);
  }

  private cmpOr(): Cmp {
    const left = this.cmpAnd();
    let node = left.node;
    let types = left.types;
    while (this.isKeyword('OR')) {
      this.lx.next();
      const right = this.cmpAnd();
      node = { kind: 'or', left: node, right: right.node };
      types = [...new Set([...types, ...right.types])];
    }
    return { node, types };
  }

  private cmpAnd(): Cmp {
    const left = this.propTest();
    let node = left.node;
    let types = left.types;
    while (this.isKeyword('AND')) {
      const and = this.lx.next();
      const right = this.propTest();
      // §9.2: comparison expressions joined by AND within one observation expression must
      // refer to the same object type, since they are evaluated against one SCO. As in the
      // OASIS reference library (cti-python-stix2, patterns.py `_BooleanExpression`), an OR
      // unites the types of its sides and an AND intersects them; an empty set is an error.
      const common = types.filter((x) => right.types.includes(x));
      if (common.length === 0) {
        this.fail(`AND joins comparisons on different object types (${types.join(', ')} vs ${right.types.join(', ')}); use OR or separate observation expressions`, and.start);
      }
      node = { kind: 'and', left: node, right: right.node };
      types = common;
    }
    return { node, types };
  }

  private propTest(): Cmp {
    const t = this.lx.peek();
    if (t.type === 'lparen') {
      this.lx.next();
      this.enter(t.start);
      const inner = this.cmpOr();
      this.closing('rparen', "')'", t);
      this.depth--;
      return inner;
    }
    if (t.type === 'keyword' && t.text === 'EXISTS') {
      this.lx.next();
      const path = this.objectPath();
      return { node: { kind: 'comparison', path, operator: 'EXISTS', negated: false, value: null }, types: [path.objectType] };
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isKeyword('NOT')) {
      this.lx.next();
      negated = true;
    }
    const node = this.operatorAndOperand(path, negated);
    return { node, types: [path.objectType] };
  }

  private operatorAndOperand(path: ObjectPath, negated: boolean): Comparison {
    const opTok = this.lx.next();
    let operator: ComparisonOperator;
    if (opTok.type === 'op') operator = opTok.text as ComparisonOperator;
    else if (opTok.type === 'keyword' && ['IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'].includes(opTok.text)) {
      operator = opTok.text as ComparisonOperator;
    } else {
      return this.fail(
        `expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) but found ${describe(opTok)}`,
        opTok.start,
      );
    }
    if (operator === 'IN') return { kind: 'comparison', path, operator, negated, value: this.setLiteral() };
    if (operator === 'EXISTS') return this.fail('EXISTS must precede the object path', opTok.start);
    const vt = this.lx.next();
    const value = this.constant(vt);
    checkOperand(operator, value, vt);
    return { kind: 'comparison', path, operator, negated, value };
  }

  private constant(t: Token): Constant {
    if (isLiteral(t)) return parseConstant(t);
    return this.fail(`expected a constant but found ${describe(t)}`, t.start);
  }

  private setLiteral(): Constant[] {
    const open = this.expect('lparen', "'(' to start the IN set");
    const out: Constant[] = [];
    if (this.lx.peek().type === 'rparen') {
      this.lx.next();
      return out;
    }
    for (;;) {
      out.push(this.constant(this.lx.next()));
      const t = this.lx.next();
      if (t.type === 'rparen') return out;
      if (t.type !== 'comma') this.fail(`expected ',' or ')' in the IN set opened at offset ${open.start} but found ${describe(t)}`, t.start);
    }
  }

  private objectPath(): ObjectPath {
    const typeTok = this.lx.next();
    if (typeTok.type !== 'ident') {
      this.fail(`expected an object path like 'file:name' but found ${describe(typeTok)}`, typeTok.start);
    }
    if (!OBJECT_TYPE.test(typeTok.text) || typeTok.text.endsWith('-') || typeTok.text.length > 250) {
      this.fail(`invalid object type '${typeTok.text}': use lowercase letters, digits and hyphens`, typeTok.start);
    }
    this.expect('colon', `':' after the object type '${typeTok.text}'`);
    const steps: PathStep[] = [this.propertyName()];
    for (;;) {
      const t = this.lx.peek();
      if (t.type === 'dot') {
        this.lx.next();
        steps.push(this.propertyName());
      } else if (t.type === 'lbrack') {
        this.lx.next();
        const i = this.lx.next();
        if (i.type === 'star') steps.push('*');
        else if (i.type === 'int') {
          const n = Number(i.text);
          if (!Number.isSafeInteger(n)) this.fail('list index out of range', i.start);
          steps.push(n === 0 ? 0 : n);
        } else this.fail(`expected a list index or '*' but found ${describe(i)}`, i.start);
        this.expect('rbrack', "']' after the list index");
      } else {
        return { objectType: typeTok.text, steps };
      }
    }
  }

  /**
   * A property step: an identifier without hyphens, or a quoted string (§9.3.1 "object path").
   * Keywords are accepted here because the position is unambiguous after ':' or '.'.
   */
  private propertyName(): string {
    const t = this.lx.next();
    if (t.type === 'string') {
      if (t.text === '*') this.fail("a property named '*' cannot be represented; it clashes with the [*] wildcard", t.start);
      return t.text;
    }
    if (t.type === 'ident' || t.type === 'keyword' || t.type === 'bool') {
      if (!IDENT_NO_HYPHEN.test(t.text)) {
        this.fail(`property name '${t.text}' contains '-': quote it, e.g. '${t.text}'`, t.start);
      }
      return t.text;
    }
    return this.fail(`expected a property name but found ${describe(t)}`, t.start);
  }
}

/**
 * Parses a STIX 2.1 pattern. Never throws: syntax errors are returned with the 0-based offset
 * at which they were detected.
 *
 * @example
 * const r = parsePattern("[file:hashes.'SHA-256' = 'aec0…'] WITHIN 60 SECONDS");
 * if (!r.ok) console.error(formatPatternError(src, r.error));
 */
export function parsePattern(src: string): { ok: true; ast: PatternAst } | { ok: false; error: PatternError } {
  if (typeof src !== 'string') return { ok: false, error: makeError('', 'pattern must be a string', 0) };
  if (src.length > MAX_PATTERN_LENGTH) {
    return { ok: false, error: makeError(src, `pattern longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH) };
  }
  try {
    return { ok: true, ast: new Parser(src).pattern() };
  } catch (e) {
    if (e instanceof PatternSyntaxError) return { ok: false, error: makeError(src, e.message, e.position) };
    if (e instanceof RangeError) return { ok: false, error: makeError(src, 'pattern too deeply nested', 0) };
    throw e;
  }
}
