/**
 * A linear-time check of how deeply a user's YAML nests, before it reaches the YAML parser. The
 * parser composes nodes recursively: a few hundred nested flow collections (`[[[…]]]`) or about a
 * thousand block levels exhaust the stack of the process that answers HTTP, and V8 has been seen to
 * abort the whole process (RegExpCompiler out of memory) instead of throwing when code compiles a
 * regular expression that close to the limit. Sigma rules and readiness frameworks nest a handful
 * of levels; these limits are far above that and far below the parser's.
 *
 * The YAML lexer is iterative and splits the text exactly as the parser will: `[`, `{`, `]`, `}`
 * come out as tokens only where they open or close a flow collection (not inside a plain or
 * quoted scalar, a comment or a block scalar), and `-` / `?` only as block indicators.
 */
import { Lexer } from 'yaml';

/** Deepest nesting of flow collections. */
export const MAX_YAML_FLOW_DEPTH = 64;
/** Widest indentation plus block indicators (`-`, `?`) on one line: a bound on block nesting. */
export const MAX_YAML_LINE_DEPTH = 256;

/** Why the text nests too deeply (with its line), or null when it does not. */
export function yamlNestingRefusal(text: string): string | null {
  let flow = 0;
  let line = 1;
  let lineDepth = 0;
  let atLineStart = true;
  for (const tok of new Lexer().lex(text)) {
    if (tok === '\n' || tok === '\r\n') {
      line++;
      lineDepth = 0;
      atLineStart = true;
      continue;
    }
    if (tok === '[' || tok === '{') {
      if (++flow > MAX_YAML_FLOW_DEPTH) return `YAML nests flow collections deeper than ${MAX_YAML_FLOW_DEPTH} levels (line ${line})`;
    } else if (tok === ']' || tok === '}') {
      if (flow > 0) flow--;
    } else if (tok === '-' || tok === '?') {
      lineDepth++;
    } else if (atLineStart && /^[ \t]+$/.test(tok)) {
      lineDepth += tok.length;
    }
    if (lineDepth > MAX_YAML_LINE_DEPTH) return `YAML nests deeper than ${MAX_YAML_LINE_DEPTH} levels (line ${line}: indentation and "-"/"?" indicators)`;
    atLineStart = false;
    // Multi-line tokens (quoted and block scalars, comments' ends) keep the line count right.
    for (let k = tok.indexOf('\n'); k !== -1; k = tok.indexOf('\n', k + 1)) line++;
  }
  return null;
}
