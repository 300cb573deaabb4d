/** The `shieldwall` command line: program builder, runner and exit codes. */
export { buildProgram, run } from './program.js';
export { EXIT, CLI_ACTOR, exitCodeOf } from './context.js';
export type { Io } from './context.js';
