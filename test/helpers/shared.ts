/**
 * Where the read-only shared material (OASIS schemas, ATT&CK, SigmaHQ, telemetry) lives for
 * tests and benchmarks: SHIELDWALL_SHARED_DIR, else `../shared` beside the checkout, else
 * /work/shared (a clone elsewhere, as CI may make). The product never reads it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (where package.json is), from this file in test/helpers or dist/test/helpers. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function findShared(): string {
  const candidates = [process.env.SHIELDWALL_SHARED_DIR, path.resolve(repoRoot(), '../shared'), '/work/shared'].filter((c): c is string => !!c);
  for (const c of candidates) if (fs.existsSync(path.join(c, 'data'))) return c;
  throw new Error(`shared test data not found (tried ${candidates.join(', ')}); set SHIELDWALL_SHARED_DIR`);
}

export const SHARED_DIR = findShared();

/** A path inside the shared material, e.g. sharedPath('data/stix/ics-attack-18.1.json'). */
export function sharedPath(rel: string): string {
  return path.join(SHARED_DIR, rel);
}

/** Every file under `dir` (recursively) whose name ends with `ext`, sorted. */
export function filesUnder(dir: string, ext: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir)) {
    const p = path.join(dir, e);
    if (fs.statSync(p).isDirectory()) filesUnder(p, ext, out);
    else if (e.endsWith(ext)) out.push(p);
  }
  return out.sort();
}
