#!/usr/bin/env node
/** Entry point of the `shieldwall` binary (package.json "bin"). */
import { run } from './program.js';

// Files this process creates (database, credentials, exports into the data directory) are
// the operator's only: owner read/write, nothing for group or others (docs/security.md).
process.umask(0o077);

// A reader that stops early (`shieldwall sync status | head -1`) closes the pipe: the output is
// no longer wanted, so the command ends quietly instead of with an unhandled EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await run(process.argv);
