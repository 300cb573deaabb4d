/**
 * What every command shares: the documented exit codes (docs/cli.md), the mapping from
 * AppError codes to them, the operator actor, and opening the platform from the environment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, isAppError, type ErrorCode } from '../core/errors.js';
import { AccessService, type Actor } from '../access/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import type { Platform } from '../api/index.js';
import { IntelService } from '../intel/index.js';
import { openStore } from '../store/index.js';

export const EXIT = Object.freeze({
  OK: 0,
  USAGE: 1,
  NOT_FOUND: 2,
  CONFLICT: 3,
  PARTIAL: 4,
  INTERNAL: 70,
});

/** One table from error code to exit code; anything not listed is a usage/validation error. */
const EXIT_OF: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: EXIT.NOT_FOUND,
  CONFLICT: EXIT.CONFLICT,
  INTERNAL: EXIT.INTERNAL,
  UNAVAILABLE: EXIT.INTERNAL,
};

export function exitCodeOf(e: AppError): number {
  return EXIT_OF[e.code] ?? EXIT.USAGE;
}

/**
 * The node operator acting from a shell. With no principal, the audit log records the write
 * as a system action with source "cli".
 */
export const CLI_ACTOR: Actor = Object.freeze({ principal: null, source: 'cli' });

/** Thrown by commands that finished but must end with a particular non-zero code. */
export class ExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** The package version, from the nearest package.json above this file. */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    const up = path.dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function cliConfig(overrides: Partial<Config> = {}): Readonly<Config> {
  // The CLI is the one place that hands process.env to the configuration parser.
  return loadConfig(process.env, overrides);
}

/**
 * What the admin commands need of the platform: the store and the services that write to it.
 * It is wired here rather than through createPlatform so that a one-shot command does not load
 * the HTTP server and TAXII stack (seconds of start-up on a slow disk).
 */
export type CliPlatform = Pick<Platform, 'config' | 'clock' | 'store' | 'access' | 'intel'>;

/** Opens the node's store and services, runs fn, and always closes the store. */
export async function withPlatform<T>(fn: (p: CliPlatform) => Promise<T>, overrides: Partial<Config> & { create?: boolean } = {}): Promise<T> {
  const { create, ...rest } = overrides;
  const config = cliConfig(rest);
  const clock = systemClock;
  // A command run without SHIELDWALL_DATA_DIR must not quietly create an empty ./data store (and
  // then answer "no organisation"): only `init` does that; an explicitly given directory may be new.
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, mustExist: create !== true && !config.dataDirGiven });
  try {
    const access = new AccessService(store, clock, { authFailureLimit: config.authFailureLimit, authFailureWindowMs: config.authFailureWindowMs });
    return await fn({ config, clock, store, access, intel: new IntelService(store, clock) });
  } finally {
    await store.close();
  }
}

/** Looks up an organisation by short name or identity id; a clear NOT_FOUND otherwise. */
export async function orgOf(p: CliPlatform, ref: string) {
  return p.access.organisation(ref);
}

/** Finds a collection by id, alias or exact title. */
export async function collectionOf(p: CliPlatform, ref: string) {
  const all = await p.store.listCollections();
  const hits = all.filter((c) => c.id === ref || c.alias === ref);
  const found = hits.length ? hits : all.filter((c) => c.title === ref);
  if (found.length > 1) throw new AppError('BAD_REQUEST', `collection "${ref}" is ambiguous: use its id`);
  if (!found[0]) throw new AppError('NOT_FOUND', `no collection ${ref}`);
  return found[0];
}

export { isAppError };
