/**
 * The built `shieldwall` command (dist/src/cli/main.js, from `npm run build:server`), run as a
 * child process against throw-away data directories: outputs, side effects and the exit codes
 * documented in docs/cli.md.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers/shared.js';
import { runBuiltCli, type CliRun } from './helpers/built-cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const ICS = sharedPath('data/stix/ics-attack-18.1.json');
const T = '2025-05-01T10:00:00.000Z';

type Run = CliRun;

const runWith = runBuiltCli;

function runIn(dataDir: string, args: string[], input?: string, nodeFlags: string[] = []): Promise<Run> {
  return runWith({ cwd: repoRoot, env: { SHIELDWALL_DATA_DIR: dataDir }, args, ...(input !== undefined ? { input } : {}), nodeFlags });
}

function ok(r: Run): string {
  expect(r.stderr + r.stdout, `exit ${r.code}`).toBeDefined();
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout.trim();
}

function indicator(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, created: T, modified: T,
    name: `cli ind ${n}`, pattern: `[ipv4-addr:value = '198.51.100.${n}']`, pattern_type: 'stix', valid_from: T, ...over,
  };
}

const bundle = (objects: unknown[]) => JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001', objects });

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'shieldwall-cli-'));
  dirs.push(d);
  return d;
}

/** `shieldwall serve --demo` on a free port in `dir`, once it listens (or exits, or 120 s pass): its output so far, URL and exit code. */
async function serveDemo(dir: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '--demo', '--port', '0'], {
    cwd: repoRoot, env: { ...process.env, SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  // Wait for the whole sign-in help, which follows the "listening" line (it may come in later chunks).
  const helped = /listening on http:\/\/\S+[\s\S]*(?:e\.g\. {2}node -e|sign in with a user created)/;
  while (!helped.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  return { child, output: () => out, url: /listening on (http:\/\/\S+)/.exec(out)?.[1], exited };
}

/** Every action appears in the node's audit log, and every row is a system action from the cli. */
async function expectAudited(dir: string, actions: string[]): Promise<void> {
  const { openSqliteStore } = await import('../src/store/index.js');
  const store = await openSqliteStore(path.join(dir, 'shieldwall.db'));
  try {
    const rows = await store.listAudit({ limit: 1000 });
    const seen = new Set(rows.map((r) => r.action));
    for (const a of actions) expect(seen.has(a), a).toBe(true);
    expect(rows.every((r) => r.source === 'cli' && r.userId === null)).toBe(true);
  } finally {
    await store.close();
  }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build:server\` before the CLI tests`);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Generous timeouts: every step spawns node, and CI machines run many suites at once.
describe.concurrent('shieldwall CLI', { timeout: 300_000 }, () => {
  describe('usage', () => {
    it('prints help with exit 0 and refuses unknown commands and missing options with exit 1', async () => {
      const dir = tempDir();
      const help = await runIn(dir, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/serve/);
      expect(help.stdout).toMatch(/import/);
      expect((await runIn(dir, ['frobnicate'])).code).toBe(1);
      const missing = await runIn(dir, ['org', 'create', '--name', 'X']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/--short/);
      // A worker count that is not one, or several workers without NATS (one spool reader): refused, nothing started.
      for (const n of ['-1', 'two', '3']) {
        const w = await runWith({ cwd: dir, env: { SHIELDWALL_DATA_DIR: dir, SHIELDWALL_NATS_URL: undefined }, args: ['worker', '--processes', n] });
        expect(w.code, n).toBe(1);
        expect(w.stderr).toMatch(/--processes/);
      }
    });
  });

  describe('a store that is not there', () => {
    /** Runs the CLI in cwd with the given environment changes (undefined removes a variable). */
    const runEnv = (cwd: string, env: Record<string, string | undefined>, args: string[]) => runWith({ cwd, env, args });

    it('without SHIELDWALL_DATA_DIR an admin command refuses (exit 2, one line) and creates no ./data store, nor an empty ./data', async () => {
      const cwd = tempDir();
      const r = await runEnv(cwd, { SHIELDWALL_DATA_DIR: undefined, SHIELDWALL_DATABASE_URL: undefined }, ['user', 'create', 'alice', '--org', 'ALD', '--roles', 'analyst']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^shieldwall: no Shieldwall store at .*data\/shieldwall\.db: set SHIELDWALL_DATA_DIR/);
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
      // init is the command that creates one there; afterwards the same command finds the store.
      ok(await runEnv(cwd, { SHIELDWALL_DATA_DIR: undefined, SHIELDWALL_DATABASE_URL: undefined }, ['init']));
      const again = await runEnv(cwd, { SHIELDWALL_DATA_DIR: undefined, SHIELDWALL_DATABASE_URL: undefined }, ['org', 'list', '--json']);
      expect(again.code, again.stderr).toBe(0);
    });

    it('a PostgreSQL database that does not exist: exit 70 with one line naming it, not "internal error"', async () => {
      const db = `shieldwall_missing_${process.pid}`;
      const r = await runEnv(tempDir(), { SHIELDWALL_DATABASE_URL: `postgres://postgres:secret-pw@127.0.0.1:5432/${db}` }, ['org', 'list']);
      expect(r.code, r.stderr).toBe(70);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^shieldwall: PostgreSQL database "${db}" does not exist on 127\\.0\\.0\\.1:5432`));
      expect(r.stderr).not.toMatch(/internal error|secret-pw/);
    });
  });

  describe('init --demo', () => {
    it('creates the demo alliance once and writes the credentials file (0600) in the documented shape', async () => {
      const dir = tempDir();
      const first = await runIn(dir, ['init', '--demo']);
      ok(first);
      const file = path.join(dir, 'demo-credentials.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const creds = JSON.parse(readFileSync(file, 'utf8')) as { url: string; users: { username: string; password: string; org: string; orgId: string; roles: string[] }[] };
      expect(creds.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Object.keys(creds).sort()).toEqual(['url', 'users']);
      for (const u of creds.users) {
        expect(Object.keys(u).sort()).toEqual(['org', 'orgId', 'password', 'roles', 'username']);
        expect(u.password.length).toBeGreaterThanOrEqual(16);
        expect(u.orgId).toMatch(/^identity--/);
      }
      expect(new Set(creds.users.map((u) => u.password)).size).toBe(creds.users.length);
      const roles = new Set(creds.users.flatMap((u) => u.roles));
      for (const r of ['analyst', 'responder', 'representative', 'excon', 'admin']) expect(roles.has(r), r).toBe(true);

      const orgs = JSON.parse(ok(await runIn(dir, ['org', 'list', '--json']))) as { shortName: string; kind: string; id: string }[];
      expect(orgs.length).toBeGreaterThanOrEqual(5);
      expect(orgs.filter((o) => o.kind === 'alliance-body')).toHaveLength(1);
      expect(new Set(creds.users.map((u) => u.orgId))).toEqual(new Set(orgs.map((o) => o.id)));
      const cols = JSON.parse(ok(await runIn(dir, ['collection', 'list', '--json']))) as { title: string; objects: number; grants: string }[];
      expect(cols.find((c) => c.title === 'Alliance intel')?.grants).toBe('*=rw');
      expect(cols.every((c) => c.objects > 0)).toBe(true);
      expect(JSON.parse(ok(await runIn(dir, ['group', 'list', '--json']))).length).toBeGreaterThanOrEqual(2);

      // Never twice: the second run says why and leaves the credentials alone.
      const before = readFileSync(file, 'utf8');
      const second = await runIn(dir, ['init', '--demo']);
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(/already created on this node/);
      expect(readFileSync(file, 'utf8')).toBe(before);
    });
  });

  describe('administration', () => {
    const dir = tempDir();
    const sw = (...args: string[]) => runIn(dir, args);

    it.sequential('creates and lists organisations; a taken short name is a conflict (3), a bad one a usage error (1)', async () => {
      expect(ok(await sw('org', 'create', '--name', 'Aldermark CERT', '--short', 'ALD'))).toMatch(/^identity--[0-9a-f-]{36}$/);
      ok(await sw('org', 'create', '--name', 'Brenova CERT', '--short', 'BRN', '--country', 'XB'));
      ok(await sw('org', 'create', '--name', 'Corvania NCSC', '--short', 'CRV'));
      const dup = await sw('org', 'create', '--name', 'Other', '--short', 'ALD');
      expect(dup.code).toBe(3);
      expect(dup.stderr.trim()).toBe('shieldwall: short name ALD is taken');
      expect((await sw('org', 'create', '--name', 'Bad', '--short', 'lower case')).code).toBe(1);
      const country = await sw('org', 'create', '--name', 'Bad', '--short', 'BADC', '--country', 'ZZZ');
      expect(country.code).toBe(1);
      expect(country.stderr).toMatch(/two-letter ISO 3166-1 code/);
      // A real node never receives the demo alliance.
      const demo = await sw('init', '--demo');
      expect(demo.code).toBe(0);
      expect(demo.stderr).toMatch(/only created on an empty data directory/);
      expect(existsSync(path.join(dir, 'demo-credentials.json'))).toBe(false);
      expect((await sw('org', 'create', '--name', 'Bad', '--short', 'BAD', '--kind', 'nation')).code).toBe(1);
      expect(ok(await sw('org', 'list')).split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['ALD', 'BRN', 'CRV']);
    });

    it.sequential('creates users with a password from --password or stdin, validates it, and disables them', async () => {
      ok(await sw('user', 'create', 'ald.analyst', '--org', 'ALD', '--roles', 'analyst,responder', '--password', 'correct horse battery'));
      expect((await runIn(dir, ['user', 'create', 'brn.admin', '--org', 'BRN', '--roles', 'admin'], 'piped-secret-password\n')).code).toBe(0);
      expect((await runIn(dir, ['user', 'create', 'brn.empty', '--org', 'BRN'], '')).code).toBe(1);
      expect((await sw('user', 'create', 'x.short', '--org', 'ALD', '--password', 'short')).stderr).toMatch(/at least 12 characters/);
      expect((await sw('user', 'create', 'x.role', '--org', 'ALD', '--roles', 'wizard', '--password', 'long enough password')).code).toBe(1);
      expect((await sw('user', 'create', 'x.org', '--org', 'NOPE', '--password', 'long enough password')).code).toBe(2);
      expect((await sw('user', 'create', 'ald.analyst', '--org', 'ALD', '--password', 'long enough password')).code).toBe(3);
      ok(await sw('user', 'disable', 'brn.admin'));
      const users = JSON.parse(ok(await sw('user', 'list', '--json'))) as { username: string; org: string; roles: string; disabled: boolean }[];
      expect(users.map((u) => [u.username, u.org, u.roles, u.disabled])).toEqual([
        ['ald.analyst', 'ALD', 'analyst,responder', false], ['brn.admin', 'BRN', 'admin', true],
      ]);
      expect((await sw('user', 'disable', 'nobody')).code).toBe(2);
      expect(JSON.parse(ok(await sw('user', 'list', '--org', 'ALD', '--json')))).toHaveLength(1);
      // A password longer than sign-in accepts could be set but never used.
      expect((await sw('user', 'create', 'x.long', '--org', 'ALD', '--password', 'x'.repeat(1025))).stderr.trim()).toBe('shieldwall: password must have at most 1024 characters');
    });

    it.sequential('sets a new password (stdin) and replaces roles; a weak password or unknown role is refused (1), an unknown user is 2', async () => {
      expect(ok(await runIn(dir, ['user', 'passwd', 'ald.analyst'], 'a brand new passphrase\n'))).toBe('password of ald.analyst changed; 0 web sessions signed out');
      expect((await runIn(dir, ['user', 'passwd', 'ald.analyst'], 'short\n')).stderr.trim()).toBe('shieldwall: password must have at least 12 characters');
      expect((await sw('user', 'passwd', 'nobody', '--password', 'long enough password')).code).toBe(2);
      expect(ok(await sw('user', 'roles', 'ald.analyst'))).toBe('analyst,responder');
      expect(ok(await sw('user', 'roles', 'ald.analyst', '--set', 'analyst'))).toBe('analyst');
      expect((await sw('user', 'roles', 'ald.analyst', '--set', 'analyst,wizard')).code).toBe(1);
      expect(ok(await sw('user', 'roles', 'ald.analyst', '--set', 'analyst,responder'))).toBe('analyst,responder');
      expect((await sw('user', 'roles', 'nobody', '--set', 'analyst')).code).toBe(2);
      const changes = JSON.parse(ok(await sw('audit', '--action', 'user.roles', '--json'))) as { detail: { username: string; from: string[]; to: string[] } }[];
      expect(changes.map((a) => a.detail)).toEqual([
        expect.objectContaining({ username: 'ald.analyst', from: ['analyst'], to: ['analyst', 'responder'] }),
        expect.objectContaining({ username: 'ald.analyst', from: ['analyst', 'responder'], to: ['analyst'] }),
      ]);
    });

    it.sequential('prints a token once, never lists secrets, and revokes it (again: conflict, unknown: not found)', async () => {
      const r = await sw('token', 'create', '--user', 'ald.analyst', '--name', 'taxii client');
      const token = ok(r);
      expect(token).toMatch(/^sw_[0-9a-f]+_\S+$/);
      expect(r.stderr).toMatch(/shown once/);
      const id = token.split('_')[1] ?? '';
      const listed = ok(await sw('token', 'list', '--json'));
      expect(listed).not.toContain(token);
      expect((JSON.parse(listed) as { id: string; user: string }[]).map((t) => [t.id, t.user])).toEqual([[id, 'ald.analyst']]);
      expect((await sw('token', 'create', '--name', 'no owner')).code).toBe(1);
      expect((await sw('token', 'create', '--org', 'CRV', '--kind', 'sensor', '--name', 'ids sensor', '--ttl-days', '30')).code).toBe(0);
      // An expiry past any date the node can write was stored, and `token list` then failed with "internal error".
      const far = await sw('token', 'create', '--org', 'CRV', '--kind', 'sensor', '--name', 'forever', '--ttl-days', '1e300');
      expect([far.code, far.stdout, far.stderr.trim()]).toEqual([1, '', 'shieldwall: --ttl-days must be a positive number of days, at most 3650, got "1e300"']);
      expect(ok(await sw('token', 'list'))).not.toContain('forever');
      // One such row, stored before the cap, is listed (expires: never) rather than failing the list.
      const { openSqliteStore } = await import('../src/store/index.js');
      const store = await openSqliteStore(path.join(dir, 'shieldwall.db'));
      try {
        const crv = (await store.listOrganisations()).find((o) => o.shortName === 'CRV')!;
        await store.putToken({ id: 'f0f0f0f0f0f0', hash: 'f0'.repeat(32), userId: null, orgId: crv.id, kind: 'sensor', name: 'old forever', createdUs: 1, expiresUs: 1e300, revokedUs: null, lastUsedUs: null });
        // A spent live-stream ticket (the web app takes one per connection): not one the operator manages.
        await store.putToken({ id: 'f1f1f1f1f1f1', hash: 'f1'.repeat(32), userId: null, orgId: crv.id, kind: 'sensor', name: 'stream-ticket:f0f0f0f0f0f0', createdUs: 1, expiresUs: 30_000_001, revokedUs: 2, lastUsedUs: null });
      } finally {
        await store.close();
      }
      const listed2 = JSON.parse(ok(await sw('token', 'list', '--json'))) as { id: string; expires: string }[];
      expect(listed2.find((t) => t.id === 'f0f0f0f0f0f0')?.expires).toBe('never');
      expect(listed2.map((t) => t.id)).not.toContain('f1f1f1f1f1f1');
      expect((JSON.parse(ok(await sw('token', 'list', '--all', '--json'))) as { id: string }[]).map((t) => t.id)).toContain('f1f1f1f1f1f1');
      ok(await sw('token', 'revoke', id));
      expect((await sw('token', 'revoke', id)).code).toBe(3);
      expect((await sw('token', 'revoke', 'ffffffffffff')).code).toBe(2);
      expect((JSON.parse(ok(await sw('token', 'list', '--org', 'ALD', '--json'))) as { revoked: string }[])[0]?.revoked).toMatch(/^\d{4}-/);
    });

    it.sequential('reads the node\'s audit log, newest first, filtered by action, organisation and time', async () => {
      const tokens = JSON.parse(ok(await sw('audit', '--action', 'token.', '--json'))) as { id: number; org: string | null; source: string; action: string; target: string }[];
      expect(tokens.map((a) => a.action)).toEqual(['token.revoke', 'token.create', 'token.create']);
      // The operator's changes to an organisation's tokens and users are under that organisation (its admin reads them).
      expect(tokens.every((a) => a.source === 'cli' && a.org !== null)).toBe(true);
      expect(tokens.map((a) => a.id)).toEqual([...tokens.map((a) => a.id)].sort((x, y) => y - x));
      expect(ok(await sw('audit', '--action', 'user.create', '--limit', '1')).split('\n')).toHaveLength(2);
      expect(JSON.parse(ok(await sw('audit', '--until', '2000-01-01', '--json')))).toEqual([]);
      const ald = JSON.parse(ok(await sw('audit', '--org', 'ALD', '--json'))) as { org: string; action: string }[];
      expect(ald.every((a) => a.org === 'ALD')).toBe(true);
      expect(ald.map((a) => a.action)).toContain('user.create');
      expect((await sw('audit', '--user', 'nobody')).code).toBe(2);
      expect((await sw('audit', '--since', 'last week')).stderr).toMatch(/--since must be an RFC 3339 time/);
      expect((await sw('audit', '--limit', '0')).code).toBe(1);
    });

    it.sequential('manages sharing groups and collection grants', async () => {
      const gid = ok(await sw('group', 'create', '--name', 'North', '--owner', 'ALD', '--members', 'BRN'));
      expect(gid).toMatch(/^identity--/);
      expect(ok(await sw('group', 'members', 'North')).split('\n').sort()).toEqual(['ALD', 'BRN']);
      expect(ok(await sw('group', 'members', gid, '--set', 'CRV')).split('\n').sort()).toEqual(['ALD', 'CRV']);
      expect((await sw('group', 'create', '--name', 'Bad', '--owner', 'ALD', '--members', 'NOPE')).code).toBe(2);
      // A taken name is a conflict (3) with the reason, not "internal error: UNIQUE constraint failed" (70).
      const again = await sw('group', 'create', '--name', 'North', '--owner', 'BRN');
      expect([again.code, again.stderr.trim()]).toEqual([3, 'shieldwall: sharing group name "North" is taken']);
      expect((await sw('group', 'members', 'Nope')).code).toBe(2);

      ok(await sw('collection', 'create', '--title', 'Shared intel', '--alias', 'shared'));
      ok(await sw('collection', 'create', '--title', 'Aldermark only', '--alias', 'ald'));
      expect((await sw('collection', 'create', '--title', 'Again', '--alias', 'shared')).code).toBe(3);
      expect((await sw('collection', 'create', '--title', 'Root', '--api-root', 'nope')).code).toBe(2);
      ok(await sw('collection', 'grant', 'shared', '*', '--read', '--write'));
      ok(await sw('collection', 'grant', 'ald', 'ALD', '--read', '--write'));
      ok(await sw('collection', 'grant', 'ald', 'North', '--read'));
      expect((await sw('collection', 'grant', 'ald', 'NOPE', '--read')).code).toBe(2);
      expect((await sw('collection', 'grant', 'missing', 'ALD', '--read')).code).toBe(2);
      const cols = JSON.parse(ok(await sw('collection', 'list', '--json'))) as { alias: string; grants: string }[];
      expect(cols.map((c) => [c.alias, c.grants])).toEqual([['shared', '*=rw'], ['ald', 'ALD=rw group:North=r']]);
    });

    it.sequential('records these writes in the audit log as system actions from the cli', async () => {
      await expectAudited(dir, ['org.create', 'user.create', 'user.disable', 'user.password', 'user.roles', 'token.create', 'token.revoke', 'group.create', 'group.members', 'collection.create', 'collection.grant']);
    });
  });

  describe('import and export', () => {
    const dir = tempDir();
    const sw = (...args: string[]) => runIn(dir, args);

    beforeAll(async () => {
      // One after the other: the first run migrates the fresh database.
      for (const args of [
        ['org', 'create', '--name', 'Aldermark CERT', '--short', 'ALD'],
        ['org', 'create', '--name', 'Brenova CERT', '--short', 'BRN'],
        ['org', 'create', '--name', 'Corvania NCSC', '--short', 'CRV'],
        ['group', 'create', '--name', 'North', '--owner', 'ALD', '--members', 'CRV'],
        ['collection', 'create', '--title', 'Shared intel', '--alias', 'shared'],
        ['collection', 'create', '--title', 'Aldermark only', '--alias', 'ald'],
        ['collection', 'grant', 'shared', '*', '--read', '--write'],
        ['collection', 'grant', 'ald', 'ALD', '--read', '--write'],
        ['collection', 'grant', 'ald', 'North', '--read'],
      ]) ok(await sw(...args));
    }, 300_000);

    it.sequential('imports ATT&CK for ICS with zero rejects, re-imports as duplicates, and exports the same objects back', async () => {
      const r = JSON.parse(ok(await sw('import', ICS, '--collection', 'shared', '--org', 'ALD', '--preserve-provenance', '--json'))) as { total: number; added: number; rejected: number };
      const original = (JSON.parse(readFileSync(ICS, 'utf8')) as { objects: Record<string, unknown>[] }).objects;
      expect(r).toMatchObject({ total: original.length, added: original.length, rejected: 0 });
      expect(ok(await sw('import', ICS, '--collection', 'shared', '--org', 'ALD', '--preserve-provenance'))).toBe(`imported ${original.length} objects: 0 added, ${original.length} duplicates, 0 rejected`);

      const out = path.join(dir, 'ics-export.json');
      const e = await sw('export', '--collection', 'shared', '--org', 'ALD', '-o', out);
      ok(e);
      expect(e.stderr).toMatch(new RegExp(`exported ${original.length} objects`));
      const back = (JSON.parse(readFileSync(out, 'utf8')) as { type: string; objects: Record<string, unknown>[] });
      expect(back.type).toBe('bundle');
      const key = (o: Record<string, unknown>) => `${String(o.id)}@${String(o.modified ?? '')}`;
      expect(back.objects.map(key).sort()).toEqual(original.map(key).sort());
      // --preserve-provenance: every object comes back exactly as published, creator-less ones included.
      const byId = new Map(back.objects.map((o) => [o.id, o]));
      for (const o of original) expect(byId.get(o.id), String(o.id)).toEqual(o);
    });

    it.sequential('exports only what the organisation may receive in bulk: AMBER to recipients, RED never', async () => {
      const file = path.join(dir, 'mixed.json');
      const put = async (objects: unknown[], ...opts: string[]) => {
        writeFileSync(file, bundle(objects));
        return ok(await sw('import', file, '--collection', 'shared', '--org', 'ALD', ...opts));
      };
      await put([indicator(1)], '--tlp', 'clear');
      await put([indicator(2)], '--tlp', 'amber', '--recipients', 'BRN');
      await put([indicator(3)], '--tlp', 'amber', '--recipients', 'North');
      await put([indicator(4)], '--tlp', 'red', '--recipients', 'BRN,CRV');
      const names = async (org: string, ...extra: string[]) => {
        const r = await sw('export', '--collection', 'shared', '--org', org, '--type', 'indicator', ...extra);
        return (JSON.parse(ok(r)) as { objects: { name: string }[] }).objects.map((o) => o.name).sort();
      };
      expect(await names('ALD')).toEqual(['cli ind 1', 'cli ind 2', 'cli ind 3']);
      expect(await names('BRN')).toEqual(['cli ind 1', 'cli ind 2']);
      expect(await names('CRV')).toEqual(['cli ind 1', 'cli ind 3']);
      expect(await names('CRV', '--public')).toEqual(['cli ind 1']);
      // ALD's own collection is not readable by BRN.
      const denied = await sw('export', '--collection', 'ald', '--org', 'BRN');
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/BRN may not read collection ald/);
      expect((await sw('export', '--collection', 'nope', '--org', 'ALD')).code).toBe(2);
      // A misspelt or malformed --type is refused (it used to export an empty bundle and exit 0);
      // a type STIX 2.1 does not define passes when the collection holds objects of it.
      const typo = await sw('export', '--collection', 'shared', '--org', 'ALD', '--type', 'indicators');
      expect([typo.code, typo.stdout]).toEqual([1, '']);
      expect(typo.stderr).toMatch(/defines no type "indicators".*did you mean "indicator"\?/);
      const bad = await sw('export', '--collection', 'shared', '--org', 'ALD', '--type', 'Indicator');
      expect([bad.code, bad.stderr]).toEqual([1, expect.stringMatching(/"Indicator" is not a STIX type name/)]);
      await put([{ type: 'x-acme-widget', spec_version: '2.1', id: 'x-acme-widget--6f1b4c4e-9d53-4a55-8d51-1a4c2d6f0b11', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'w' }], '--tlp', 'clear');
      const custom = JSON.parse(ok(await sw('export', '--collection', 'shared', '--org', 'ALD', '--type', 'x-acme-widget'))) as { objects: { type: string }[] };
      expect(custom.objects.map((o) => o.type)).toEqual(['x-acme-widget']);
    });

    it.sequential('import failures: partial rejects exit 4, malformed or missing files store nothing', async () => {
      const count = async () => (JSON.parse(ok(await sw('collection', 'list', '--json'))) as { alias: string; objects: number }[]).find((c) => c.alias === 'ald')?.objects;
      const file = path.join(dir, 'partial.json');
      writeFileSync(file, bundle([indicator(10), { type: 'indicator', id: 'indicator--broken' }, indicator(11)]));
      const partial = await sw('import', file, '--collection', 'ald', '--org', 'ALD');
      expect(partial.code).toBe(4);
      expect(partial.stdout).toMatch(/3 objects: 2 added, 0 duplicates, 1 rejected/);
      expect(partial.stderr).toMatch(/objects\[1\] indicator--broken/);
      expect(await count()).toBe(2);

      writeFileSync(file, bundle([indicator(12), indicator(13)]).slice(0, -20));
      const malformed = await sw('import', file, '--collection', 'ald', '--org', 'ALD');
      expect(malformed.code).toBe(1);
      expect(malformed.stderr).toMatch(/^shieldwall: malformed JSON in bundle/);
      writeFileSync(file, JSON.stringify({ type: 'report', objects: [indicator(14)] }));
      expect((await sw('import', file, '--collection', 'ald', '--org', 'ALD')).stderr).toMatch(/not a STIX bundle/);
      expect(await count()).toBe(2);

      expect((await sw('import', path.join(dir, 'missing.json'), '--collection', 'ald', '--org', 'ALD')).code).toBe(2);
      const forbidden = await sw('import', file, '--collection', 'ald', '--org', 'BRN');
      expect(forbidden.code).toBe(1);
      expect(forbidden.stderr).toMatch(/BRN may not write collection ald/);
      expect((await sw('import', file, '--collection', 'ald', '--org', 'ALD', '--tlp', 'purple')).code).toBe(1);
    });

    it.sequential('reads a bundle from stdin and shows a progress bar on request', async () => {
      const r = await runIn(dir, ['import', '-', '--collection', 'ald', '--org', 'ALD', '--tlp', 'green', '--progress'], bundle([indicator(20), indicator(21)]));
      expect(ok(r)).toBe('imported 2 objects: 2 added, 0 duplicates, 0 rejected');
      expect(r.stderr).toMatch(/import \|.*2 objects/);
    });

    it.sequential('records imports and exports in the audit log as system actions from the cli', async () => {
      await expectAudited(dir, ['org.create', 'group.create', 'collection.grant', 'intel.import', 'intel.export']);
    });
  });

  describe('large bundles', () => {
    it('imports a 40 MB bundle with a 40 MB heap limit: the bundle is streamed, never held whole', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'big.json');
      const fd = openSync(file, 'w');
      writeSync(fd, '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[');
      const pad = 'x'.repeat(5000);
      const n = 8000;
      for (let i = 1; i <= n; i++) writeSync(fd, `${i > 1 ? ',' : ''}${JSON.stringify(indicator(i, { description: `${pad}${i}` }))}`);
      writeSync(fd, ']}');
      closeSync(fd);
      expect(statSync(file).size).toBeGreaterThan(40e6);
      for (const args of [['org', 'create', '--name', 'Big', '--short', 'BIG'], ['collection', 'create', '--title', 'Big', '--alias', 'big'], ['collection', 'grant', 'big', 'BIG', '--read', '--write']]) {
        ok(await runIn(dir, args));
      }
      const r = await runIn(dir, ['import', file, '--collection', 'big', '--org', 'BIG', '--tlp', 'green'], '', ['--max-old-space-size=40']);
      expect(ok(r)).toBe(`imported ${n} objects: ${n} added, 0 duplicates, 0 rejected`);
    });
  });

  describe('serve --demo', () => {
    it('every demo user the console suggests finds alerts in the operational picture (no empty feed)', async () => {
      const dir = tempDir();
      const { child, output, url, exited } = await serveDemo(dir);
      const out = output();
      try {
        expect(url, out).toBeDefined();
        const line = out.split('\n').find((l) => /\(decisions\)/.test(l)) ?? '';
        const suggested = [...line.matchAll(/\b([a-z]+\.(?:analyst|responder|rep|admin))\b/g)].map((m) => m[1]!);
        expect(suggested.length, out).toBeGreaterThanOrEqual(4);
        const creds = JSON.parse(readFileSync(path.join(dir, 'demo-credentials.json'), 'utf8')) as { users: { username: string; password: string }[] };
        const empty: string[] = [];
        for (const name of suggested) {
          const u = creds.users.find((x) => x.username === name);
          expect(u, name).toBeDefined();
          const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u!.username, password: u!.password }) });
          const { token } = (await login.json()) as { token: string };
          // The demo telemetry goes through the real pipeline after start: give it time.
          let recent = 0;
          for (const until = Date.now() + 60_000; recent === 0 && Date.now() < until;) {
            const cop = (await (await fetch(`${url}/api/v1/cop`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { recent: unknown[] };
            recent = cop.recent.length;
            if (recent === 0) await new Promise((r) => setTimeout(r, 500));
          }
          if (recent === 0) empty.push(name);
        }
        expect(empty).toEqual([]);
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    }, 200_000);

    it('starts with the demo alliance, prints the URL and sign-in help, and stops cleanly on SIGTERM', async () => {
      const dir = tempDir();
      const { child, output, url, exited } = await serveDemo(dir);
      expect(url, output()).toBeDefined();
      // The sign-in help follows the "listening" line once the credentials file is written.
      expect(output()).toMatch(/demo-credentials\.json/);
      const creds = JSON.parse(readFileSync(path.join(dir, 'demo-credentials.json'), 'utf8')) as { url: string; users: { username: string; password: string }[] };
      expect(creds.url).toBe(url);
      const user = creds.users[0]!;
      const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user.username, password: user.password }) });
      expect(login.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output()).toMatch(/SIGTERM: shutting down/);

      // A restart keeps the alliance and its passwords, and points the file at the new URL.
      const { child: again, output: output2, url: url2, exited: exited2 } = await serveDemo(dir);
      expect(output2()).toMatch(/already exists on this node/);
      const creds2 = JSON.parse(readFileSync(path.join(dir, 'demo-credentials.json'), 'utf8')) as typeof creds;
      expect(creds2.url).toBe(url2);
      expect(creds2.users).toEqual(creds.users);
      again.kill('SIGTERM');
      expect(await exited2).toBe(0);
    }, 300_000);
  });
});
