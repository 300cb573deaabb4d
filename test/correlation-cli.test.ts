/**
 * `shieldwall warninglist ...` and `shieldwall correlation ...`, run in-process against a
 * fresh data directory: import (valid and malformed files), list, disable, exclusions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import { EXIT } from '../src/cli/context.js';

let dir: string;
let saved: string | undefined;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['node', 'shieldwall', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sw-corr-cli-'));
  saved = process.env.SHIELDWALL_DATA_DIR;
  process.env.SHIELDWALL_DATA_DIR = dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env.SHIELDWALL_DATA_DIR;
  else process.env.SHIELDWALL_DATA_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('shieldwall warninglist', () => {
  it('imports a MISP file, lists it with the built-in lists, disables it', async () => {
    const file = path.join(dir, 'wl.json');
    writeFileSync(file, JSON.stringify({ name: 'Lab resolvers', version: 7, description: 'x', type: 'cidr', matching_attributes: ['ip-dst'], list: ['10.9.0.0/16', 'junk'] }));
    const a = await cli('warninglist', 'import', file);
    expect(a.code, a.err).toBe(EXIT.OK);
    expect(a.out).toMatch(/imported misp-lab-resolvers .*1 entries?.*1 unusable/);
    const l = await cli('warninglist', 'list', '--json');
    const rows = JSON.parse(l.out) as { id: string; enabled: string; builtin: string }[];
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(['builtin-special-ip', 'misp-lab-resolvers']));
    expect((await cli('warninglist', 'disable', 'misp-lab-resolvers')).out).toBe('misp-lab-resolvers disabled');
    const after = JSON.parse((await cli('warninglist', 'list', '--json')).out) as { id: string; enabled: string }[];
    expect(after.find((r) => r.id === 'misp-lab-resolvers')?.enabled).toBe('no');
    expect((await cli('warninglist', 'delete', 'builtin-special-ip')).code).toBe(EXIT.CONFLICT);
    expect((await cli('warninglist', 'disable', 'nope')).code).toBe(EXIT.NOT_FOUND);
  });

  it('refuses malformed files with a usage error, not an internal one', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"name": ');
    const a = await cli('warninglist', 'import', bad);
    expect(a.code).toBe(EXIT.USAGE);
    expect(a.err).toMatch(/not valid JSON/);
    writeFileSync(bad, JSON.stringify({ name: 'x', version: 1, type: 'string', list: 'not a list' }));
    const b = await cli('warninglist', 'import', bad);
    expect(b.code).toBe(EXIT.USAGE);
    expect(b.err).toMatch(/not a MISP warninglist: list/);
    expect((await cli('warninglist', 'import', path.join(dir, 'missing.json'))).code).toBe(EXIT.NOT_FOUND);
  });
});

describe('shieldwall correlation', () => {
  it('adds, lists and removes exclusions', async () => {
    const a = await cli('correlation', 'exclude', '192.0.2.0/24', '--type', 'cidr', '--comment', 'lab');
    expect(a.code, a.err).toBe(EXIT.OK);
    const id = a.out.trim();
    const l = JSON.parse((await cli('correlation', 'exclusions', '--json')).out) as { id: string; pattern: string; type: string }[];
    expect(l).toEqual([expect.objectContaining({ id, pattern: '192.0.2.0/24', type: 'cidr' })]);
    expect((await cli('correlation', 'exclude', 'x', '--type', 'cidr')).code).toBe(EXIT.USAGE);
    expect((await cli('correlation', 'exclude', 'x', '--kind', 'planet')).code).toBe(EXIT.USAGE);
    // A regex RE2 cannot run (linear time only) is refused with the reason and the position.
    const backref = await cli('correlation', 'exclude', '(a)\\1', '--type', 'regex');
    expect(backref.code).toBe(EXIT.USAGE);
    expect(backref.err).toMatch(/backreference \\1 is not supported.*\(at position 3\)/);
    expect((await cli('correlation', 'unexclude', id)).code).toBe(EXIT.OK);
    expect((await cli('correlation', 'unexclude', id)).code).toBe(EXIT.NOT_FOUND);
    expect((await cli('correlation', 'frequent')).code).toBe(EXIT.OK);
    const re = await cli('correlation', 'reindex');
    expect(re.code, re.err).toBe(EXIT.OK);
    expect(re.out).toMatch(/^index emptied \(\d+ rows, \d+ frequent values\)/);
    const st = await cli('status');
    expect(st.code, st.err).toBe(EXIT.OK);
    expect(st.out).toMatch(/^correlation index: (caught up|\d+ object versions behind, lag \d+ s)$/m);
  });
});
