/**
 * Dependency hygiene (issue #11, item 8): every package in the lockfile runs on the Node.js
 * versions the project declares (engines.node ">=20"), so `npm install` on Node 20 prints no
 * EBADENGINE warning. Checks the lower bound of each package's `engines.node`.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }> };
const ours = Number(/>=\s*(\d+)/.exec((JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node)![1]);

/** Whether a Node.js engines range admits major version `major` (the forms npm packages use: >=, ^, ~, x, ||, spaces). */
function admits(range: string, major: number): boolean {
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/([<>]=?|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    if (parts.length === 0 || parts[0] === '*') return true;
    return parts.every((p) => {
      const m = /^(>=|>|<=|<|\^|~|=)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(p);
      if (!m) return true;
      const n = Number(m[2]);
      const op = m[1] ?? '=';
      if (op === '>=') return major >= n;
      if (op === '>') return major > n || (major === n && m[3] !== undefined);
      if (op === '<') return major < n;
      if (op === '<=') return major <= n;
      return major === n;
    });
  });
}

describe('dependencies', () => {
  it('all run on the declared Node.js major (no EBADENGINE on install)', () => {
    expect(admits('>=22', 20)).toBe(false);
    expect(admits('18 || 20 || >=22', 20)).toBe(true);
    expect(admits('^20.19.0 || >=22.12.0', 20)).toBe(true);
    expect(admits('>= 18', 20)).toBe(true);
    const bad = Object.entries(lock.packages)
      .filter(([name, p]) => name && p.engines && !Array.isArray(p.engines) && p.engines.node && !admits(p.engines.node, ours))
      .map(([name, p]) => `${name} wants node ${(p.engines as { node: string }).node}`);
    expect(bad).toEqual([]);
  });
});
