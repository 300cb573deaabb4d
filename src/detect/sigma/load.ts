/**
 * Loading a directory tree of Sigma rules. A file that cannot be parsed or compiled is reported
 * with its reason and never stops the others (errors as values).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { parseSigmaRule, type ParseOptions } from './rule.js';
import type { SigmaItem } from './types.js';

export interface LoadFailure {
  readonly path: string;
  readonly reason: string;
}

export interface LoadResult {
  readonly items: readonly SigmaItem[];
  readonly failures: readonly LoadFailure[];
  /** Number of rule files read. */
  readonly files: number;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
}

/** Every `.yml`/`.yaml` file under `dir` (recursively, sorted for reproducible order). */
export function loadRulesDir(dir: string, options: ParseOptions = {}): LoadResult {
  const paths: string[] = [];
  walk(dir, paths);
  paths.sort();
  const items: SigmaItem[] = [];
  const failures: LoadFailure[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      failures.push({ path: relative(dir, p), reason: `unreadable: ${(e as Error).message}` });
      continue;
    }
    const r = parseSigmaRule(text, options);
    if (r.ok) items.push(...r.rules);
    else failures.push({ path: relative(dir, p), reason: r.reason });
  }
  return { items, failures, files: paths.length };
}
