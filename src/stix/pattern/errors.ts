import type { PatternError } from './ast.js';

/**
 * Internal control-flow exception of the parser. It never escapes `parsePattern`, which turns
 * it into a {@link PatternError} value.
 */
export class PatternSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'PatternSyntaxError';
  }
}

/** 1-based line and column of a 0-based offset (CR, LF and CRLF end a line). */
export function locate(src: string, position: number): { line: number; column: number; lineStart: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(position, src.length);
  for (let i = 0; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && src.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1, lineStart };
}

export function makeError(src: string, message: string, position: number): PatternError {
  const pos = Math.max(0, Math.min(position, src.length));
  const { line, column } = locate(src, pos);
  return { message, position: pos, line, column };
}

/**
 * Renders an error as three lines: the message with its line and column, the offending source
 * line, and a caret under the position. Tabs are kept in the caret line so it stays aligned.
 *
 * @example
 * formatPatternError("[file:name = 'a'", e)
 * // "expected ']' … at line 1, column 17\n[file:name = 'a'\n                ^"
 */
export function formatPatternError(src: string, e: PatternError): string {
  const pos = Math.max(0, Math.min(e.position, src.length));
  const { line, column, lineStart } = locate(src, pos);
  let lineEnd = src.length;
  for (let i = lineStart; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      lineEnd = i;
      break;
    }
  }
  const text = src.slice(lineStart, lineEnd);
  const pad = text.slice(0, pos - lineStart).replace(/[^\t]/g, ' ');
  return `${e.message} at line ${line}, column ${column}\n${text}\n${pad}^`;
}
