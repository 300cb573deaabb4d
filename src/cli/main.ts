#!/usr/bin/env node
/** Entry point of the `shieldwall` binary (package.json "bin"). */
import { run } from './program.js';

// Files this process creates (database, credentials, exports into the data directory) are
// the operator's only: owner read/write, nothing for group or others (docs/security.md).
process.umask(0o077);

process.exitCode = await run(process.argv);
