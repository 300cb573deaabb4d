/**
 * The built CLI (dist/, `npm run build:server`) with MISP input: `shieldwall import` recognises a
 * MISP event (before: "not a STIX bundle"), `shieldwall misp export`, `shieldwall misp feed`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers/shared.js';
import { runBuiltCli, type CliRun } from './helpers/built-cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const XORIST = sharedPath('data/misp/event-circl-xorist-ransomware.json');

type Run = CliRun;
const dir = mkdtempSync(path.join(tmpdir(), 'shieldwall-misp-cli-'));

const sw = (...args: string[]): Promise<Run> => runBuiltCli({ args, env: { SHIELDWALL_DATA_DIR: dir } });

function ok(r: Run): string {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  for (const args of [
    ['org', 'create', '--name', 'Aldermark CERT', '--short', 'ALD'],
    ['org', 'create', '--name', 'Brenova CERT', '--short', 'BRN'],
    ['collection', 'create', '--title', 'Shared intel', '--alias', 'shared'],
    ['collection', 'grant', 'shared', '*', '--read', '--write'],
  ]) ok(await sw(...args));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shieldwall with MISP', () => {
  it.sequential('import recognises a MISP event and accounts for every attribute; a re-import adds nothing', async () => {
    const out = ok(await sw('import', XORIST, '--collection', 'shared', '--org', 'ALD'));
    expect(out).toMatch(/MISP event 57c4445b-c548-4654-af0b-4be3950d210f "Ransomware - Xorist" → report--57c4445b-c548-4654-af0b-4be3950d210f \(TLP:CLEAR\)/);
    expect(out).toMatch(/attributes: 9 imported, 0 skipped/);
    const again = JSON.parse(ok(await sw('import', XORIST, '--collection', 'shared', '--org', 'ALD', '--json'))) as { added: number; attributes: { status: string }[] };
    expect(again.added).toBe(0);
    expect(again.attributes).toHaveLength(9);
    const refused = await sw('import', XORIST, '--collection', 'shared', '--org', 'ALD', '--tlp', 'green');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/carries its own release/);
  }, 120_000);

  it.sequential('misp export writes the event back as MISP JSON', async () => {
    const ev = JSON.parse(ok(await sw('misp', 'export', '57c4445b-c548-4654-af0b-4be3950d210f', '--collection', 'shared', '--org', 'BRN'))) as { Event: { uuid: string; Attribute: unknown[]; Tag: { name: string }[] } };
    expect(ev.Event.uuid).toBe('57c4445b-c548-4654-af0b-4be3950d210f');
    expect(ev.Event.Attribute).toHaveLength(9);
    expect(ev.Event.Tag.map((t) => t.name)).toContain('tlp:clear');
    const missing = await sw('misp', 'export', '00000000-0000-4000-8000-000000000000', '--collection', 'shared', '--org', 'BRN');
    expect(missing.code).not.toBe(0);
  }, 120_000);

  it.sequential('misp feed add, pull (incremental), list and remove', async () => {
    ok(await sw('misp', 'feed', 'add', 'tweetfeed', sharedPath('data/misp/feed-tweetfeed'), '--collection', 'shared', '--org', 'ALD', '--interval', '0'));
    const first = await sw('misp', 'feed', 'pull', 'tweetfeed');
    // 2 of the manifest's 365 event files are in the sample: the rest are recorded failures (exit 4).
    expect(first.code).toBe(4);
    expect(first.stdout).toMatch(/2 imported/);
    const second = await sw('misp', 'feed', 'pull', 'tweetfeed');
    expect(second.stdout).toMatch(/0 imported .* 2 up to date/);
    expect(ok(await sw('misp', 'feed', 'list'))).toMatch(/^tweetfeed\t.*events 2\t/m);
    ok(await sw('misp', 'feed', 'remove', 'tweetfeed'));
    expect(ok(await sw('misp', 'feed', 'list'))).toBe('no MISP feeds');
  }, 180_000);
});
