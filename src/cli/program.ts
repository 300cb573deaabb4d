/**
 * The `shieldwall` command: one commander program, one error boundary. Every failure ends as
 * a one-line message on stderr and a documented exit code (docs/cli.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isAppError } from '../core/errors.js';
import { EXIT, ExitRequest, exitCodeOf, stdio, type Io } from './context.js';
import { registerServe } from './commands/serve.js';
import { registerAdmin } from './commands/admin.js';
import { registerIntel } from './commands/intel.js';
import { registerPull } from './commands/pull.js';
import { registerRespond } from './commands/respond.js';
import { registerCorrelation } from './commands/correlation.js';
import { registerSigma } from './commands/sigma.js';
import { registerIngest } from './commands/ingest.js';
import { registerWorker } from './commands/worker.js';
import { registerStatus } from './commands/status.js';
import { registerPeer } from './commands/peer.js';
import { registerMisp } from './commands/misp.js';
import { registerReadinessAssessment } from './commands/readiness-assessment.js';
import { registerReadiness } from './commands/readiness.js';
import { registerExercise } from './commands/exercise.js';
import { registerScenario } from './commands/scenario.js';

/** The package version, from the nearest package.json above this file. */
function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    const up = path.dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}

export function buildProgram(io: Io = stdio): Command {
  const program = new Command('shieldwall')
    .description('Shieldwall: STIX 2.1 / TAXII 2.1 intelligence sharing for an alliance (configuration: SHIELDWALL_* environment variables)')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerServe(program, io);
  registerAdmin(program, io);
  registerIntel(program, io);
  registerPull(program, io);
  registerRespond(program, io);
  registerCorrelation(program, io);
  registerSigma(program, io);
  registerIngest(program, io);
  registerWorker(program, io);
  registerStatus(program, io);
  registerPeer(program, io);
  registerMisp(program, io);
  // The exposure side creates the `readiness` command; the assessment side adds its sub-commands to it
  // (the other order throws "cannot add command 'readiness'" and no CLI command would run).
  registerReadiness(program, io);
  registerExercise(program, io);
  registerScenario(program, io);
  registerReadinessAssessment(program, io);
  // Sub-commands inherit exitOverride so usage errors come back here instead of exiting.
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the program and returns the exit code; never throws. */
export async function run(argv: readonly string[], io: Io = stdio): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ExitRequest) return e.exitCode;
    if (e instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; commander already printed its message.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (isAppError(e)) {
      io.err(`shieldwall: ${e.message}`);
      return exitCodeOf(e);
    }
    const err = e as NodeJS.ErrnoException;
    if (err && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR')) {
      // One sentence naming the file, not the raw "ENOENT: no such file or directory, stat 'x'".
      const what = err.path ?? 'the file';
      const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : 'is a directory, not a file';
      io.err(`shieldwall: cannot read ${what}: ${why}`);
      return err.code === 'ENOENT' ? EXIT.NOT_FOUND : EXIT.USAGE;
    }
    io.err(`shieldwall: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.INTERNAL;
  }
}
