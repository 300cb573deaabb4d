/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the bytes federation signatures and content
 * digests are computed over (docs/federation.md "Integrity").
 *
 * - Object members sorted by their names' UTF-16 code units (RFC 8785 §3.2.3: what
 *   `Array.prototype.sort` does with strings), members whose value is `undefined` left out;
 * - strings and numbers serialised as ECMAScript's JSON.stringify does (§3.2.2.2, §3.2.2.3: the
 *   ES6 number form); a non-finite number is refused;
 * - no whitespace.
 *
 * Written here rather than taken from `json-canonicalize`, which it replaces with the same output
 * (a differential property test checks it): that library builds a path string for every member
 * and a closure for every object to detect cycles, ~12 KB of garbage per 700-byte object, and a
 * federation node canonicalises every version it receives or signs (docs/benchmarks.md, ninth
 * session). Values come from JSON.parse here, so they have no cycles; nesting deeper than
 * MAX_DEPTH is refused rather than left to exhaust the stack.
 */
export const MAX_CANONICAL_DEPTH = 512;

export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(v: unknown, depth: number): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`non-finite number (${v}) is not permitted in JSON (RFC 8785 §3.2.2.3)`);
    // undefined (only reachable at the top level) serialises to nothing, like JSON.stringify.
    return JSON.stringify(v) ?? '';
  }
  if (depth >= MAX_CANONICAL_DEPTH) throw new Error(`JSON nested deeper than ${MAX_CANONICAL_DEPTH} levels`);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ',';
      const x: unknown = v[i];
      s += x === undefined ? 'null' : write(x, depth + 1);
    }
    return `${s}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += JSON.stringify(k);
    s += ':';
    s += write(x, depth + 1);
  }
  return `${s}}`;
}
