/**
 * Reading a file named on the command line. A file that cannot be read is one sentence naming
 * it, with the exit code of docs/cli.md: 2 when it is not there, 1 otherwise (a directory, no
 * permission) — never the raw "ENOENT: no such file or directory, open 'x'" with exit 1.
 */
import fs from 'node:fs';
import { AppError } from '../core/errors.js';

const WHY: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
};

/** The error for a file that could not be read; `label` names it (e.g. `--ca x`), default the path. */
export function unreadable(file: string, e: unknown, label = file): AppError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const why = (code !== undefined ? WHY[code] : undefined) ?? (e instanceof Error ? e.message : String(e));
  return new AppError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_REQUEST', `cannot read ${label.slice(0, 300)}: ${why}`);
}

/** The file's bytes. */
export function readInputBytes(file: string, label?: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw unreadable(file, e, label);
  }
}

/** The file as UTF-8 text. */
export function readInputText(file: string, label?: string): string {
  return readInputBytes(file, label).toString('utf8');
}

/** Checks the file can be opened as a file, before a command streams it (a directory only fails on the first read, without its name). */
export function assertInputFile(file: string, label?: string): void {
  let isDir: boolean;
  try {
    isDir = fs.statSync(file).isDirectory();
  } catch (e) {
    throw unreadable(file, e, label);
  }
  if (isDir) throw unreadable(file, Object.assign(new Error('directory'), { code: 'EISDIR' }), label);
}
