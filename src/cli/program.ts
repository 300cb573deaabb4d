/**
 * The `shieldwall` command: one commander program, one error boundary. Every failure ends as
 * a one-line message on stderr and a documented exit code (docs/cli.md).
 */
import { Command, CommanderError } from 'commander';
import { isAppError } from '../core/errors.js';
import { EXIT, ExitRequest, exitCodeOf, packageVersion, stdio, type Io } from './context.js';

type Register = (program: Command, io: Io) => void;

/**
 * Every command module with the top-level commands it registers, in the order `--help` lists them.
 * A run loads only the module of the command it was asked for (`import` does not load exercises,
 * readiness or federation: a one-shot command on a small heap, docs/cli.md); help and an unknown
 * command load them all. test/cli-program.test.ts checks that these names are what each module registers.
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['serve', 'init'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['org', 'user', 'token', 'group', 'collection', 'audit'], load: async () => (await import('./commands/admin.js')).registerAdmin },
  { names: ['import', 'export'], load: async () => (await import('./commands/intel.js')).registerIntel },
  { names: ['pull'], load: async () => (await import('./commands/pull.js')).registerPull },
  { names: ['incident', 'decision', 'assistance', 'alert-level'], load: async () => (await import('./commands/respond.js')).registerRespond },
  { names: ['warninglist', 'correlation'], load: async () => (await import('./commands/correlation.js')).registerCorrelation },
  { names: ['sigma'], load: async () => (await import('./commands/sigma.js')).registerSigma },
  { names: ['ingest'], load: async () => (await import('./commands/ingest.js')).registerIngest },
  { names: ['worker'], load: async () => (await import('./commands/worker.js')).registerWorker },
  { names: ['backup', 'restore'], load: async () => (await import('./commands/backup.js')).registerBackup },
  { names: ['status', 'dead-letters'], load: async () => (await import('./commands/status.js')).registerStatus },
  { names: ['peer', 'sync'], load: async () => (await import('./commands/peer.js')).registerPeer },
  { names: ['misp'], load: async () => (await import('./commands/misp.js')).registerMisp },
  { names: ['taxii-feed'], load: async () => (await import('./commands/taxii-feed.js')).registerTaxiiFeed },
  // The exposure side creates the `readiness` command; the assessment side adds its sub-commands to it
  // (the other order throws "cannot add command 'readiness'" and no CLI command would run).
  { names: ['readiness'], load: async () => (await import('./commands/readiness.js')).registerReadiness },
  { names: ['exercise'], load: async () => (await import('./commands/exercise.js')).registerExercise },
  { names: ['scenario'], load: async () => (await import('./commands/scenario.js')).registerScenario },
  { names: ['readiness'], load: async () => (await import('./commands/readiness-assessment.js')).registerReadinessAssessment },
];

/** The first argument that is not an option: the command asked for, if any. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

/**
 * The program with the modules of the command in argv registered (all of them when argv names
 * none that is known, for help and for commander's "unknown command" message).
 */
export async function buildProgram(io: Io = stdio, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('shieldwall')
    .description('Shieldwall: STIX 2.1 / TAXII 2.1 intelligence sharing for an alliance (configuration: SHIELDWALL_* environment variables)')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const asked = commandOf(argv);
  const wanted = COMMAND_MODULES.filter((m) => asked !== undefined && m.names.includes(asked));
  for (const m of wanted.length ? wanted : COMMAND_MODULES) (await m.load())(program, io);
  // Sub-commands inherit exitOverride so usage errors come back here instead of exiting.
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the program and returns the exit code; never throws. */
export async function run(argv: readonly string[], io: Io = stdio): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
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
