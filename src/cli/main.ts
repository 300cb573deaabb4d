#!/usr/bin/env node
/** Entry point of the `shieldwall` binary (package.json "bin"). */
import { run } from './program.js';

process.exitCode = await run(process.argv);
