/**
 * The credential check every server harness applies to what its child wrote (issue 11: "no
 * credential in any log line of the whole test suite"). Every token the node issues — API, sensor
 * and peer tokens, session tokens, stream tickets — has the form `sw_<12 hex>_<secret>`
 * (src/access/tokens.ts), so any such string in a log is a leak whoever issued it; passwords are
 * those of the demo users the node wrote to its data directory.
 */
import fs from 'node:fs';
import path from 'node:path';

const TOKEN = /sw_[0-9a-f]{12}_[A-Za-z0-9_-]{16,}/g;

/** The demo users' passwords of a data directory (none when there is no demo alliance). */
export function demoPasswords(dataDir: string | undefined): string[] {
  if (!dataDir) return [];
  try {
    const f = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as { users?: { password?: unknown }[] };
    return (f.users ?? []).map((u) => u.password).filter((p): p is string => typeof p === 'string' && p.length >= 8);
  } catch {
    return [];
  }
}

/** Every credential found in `output`, shortened so the failure message does not repeat it. */
export function credentialsIn(output: string, passwords: readonly string[] = []): string[] {
  const found = [...output.matchAll(TOKEN)].map((m) => `token ${m[0].slice(0, 18)}…`);
  for (const p of passwords) if (output.includes(p)) found.push(`password ${p.slice(0, 2)}…`);
  return found;
}

/** Throws when the output of a server child holds a credential. */
export function assertNoCredentials(output: string, passwords: readonly string[], who: string): void {
  const found = credentialsIn(output, passwords);
  if (found.length > 0) throw new Error(`${who} wrote credentials to its log: ${[...new Set(found)].join(', ')}`);
}
