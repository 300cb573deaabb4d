/**
 * The longest literal every match of a regular expression must contain, for the prefilter. A
 * conservative reading of the pattern: top-level alternation gives up; groups, classes, escapes
 * like `\d`, anchors and `.` break a literal run; a token made optional by `*`, `?` or `{0,…}` is
 * dropped. Returns null when no literal of at least 3 characters is certain.
 */
function skipClass(s: string, j: number): number {
  let k = j + 1;
  if (s[k] === '^') k++;
  if (s[k] === ']') k++;
  while (k < s.length && s[k] !== ']') k += s[k] === '\\' ? 2 : 1;
  return k + 1;
}

function skipGroup(s: string, j: number): number {
  let depth = 0;
  for (let k = j; k < s.length; k++) {
    const c = s[k];
    if (c === '\\') k++;
    else if (c === '[') k = skipClass(s, k) - 1;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return k + 1;
  }
  return s.length;
}

function hasTopLevelAlternation(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '\\') k++;
    else if (c === '[') k = skipClass(s, k) - 1;
    else if (c === '(') k = skipGroup(s, k) - 1;
    else if (c === '|') return true;
  }
  return false;
}

export function requiredLiteral(pattern: string): string | null {
  const s = pattern.replace(/^\(\?[imsx]+\)/, '');
  if (hasTopLevelAlternation(s)) return null;
  let best = '';
  let cur = '';
  const flush = (): void => {
    if (cur.length > best.length) best = cur;
    cur = '';
  };
  let j = 0;
  while (j < s.length) {
    const c = s[j] as string;
    let lit: string | null = null;
    let next = j + 1;
    if (c === '\\') {
      const n = s[j + 1];
      if (n === undefined) return null;
      lit = /[A-Za-z0-9]/.test(n) ? null : n;
      next = j + 2;
    } else if (c === '[') {
      next = skipClass(s, j);
    } else if (c === '(') {
      next = skipGroup(s, j);
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      return null; // a quantifier where none is expected: do not guess
    } else if (c !== '.' && c !== '^' && c !== '$' && c !== ')' && c !== ']') {
      lit = c;
    }
    j = next;
    const q = s[j];
    if (q === '*' || q === '?') {
      flush(); // the token may be absent
      j++;
    } else if (q === '+') {
      if (lit !== null) cur += lit;
      flush(); // present at least once, but what follows may follow a repetition
      j++;
    } else if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(s.slice(j));
      if (m === null) return null;
      if (lit !== null && Number(m[1]) >= 1) cur += lit;
      flush();
      j += m[0].length;
    } else {
      if (lit === null) flush();
      else cur += lit;
      continue;
    }
    if (s[j] === '?' || s[j] === '+') j++; // lazy / possessive suffix
  }
  flush();
  return best.length >= 3 ? best.toLowerCase() : null;
}
