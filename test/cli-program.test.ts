import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { COMMAND_MODULES, buildProgram } from '../src/cli/program.js';

const quiet = { out: () => undefined, err: () => undefined };

describe('the CLI loads only the module of the command it runs', () => {
  it('each module registers exactly the top-level commands the table names for it', async () => {
    const program = new Command('t');
    for (const m of COMMAND_MODULES) {
      const before = new Set(program.commands.map((c) => c.name()));
      (await m.load())(program, quiet);
      const added = program.commands.map((c) => c.name()).filter((n) => !before.has(n));
      // `readiness` is created by the first module and extended by the second.
      const expected = m.names.filter((n) => !before.has(n));
      expect(added.sort(), m.names.join(',')).toEqual([...expected].sort());
    }
  });

  it('a run of `import` registers import/export only; help and unknown commands register everything', async () => {
    const one = await buildProgram(quiet, ['node', 'shieldwall', 'import', 'x.json']);
    expect(one.commands.map((c) => c.name()).sort()).toEqual(['export', 'import']);
    const all = COMMAND_MODULES.flatMap((m) => m.names);
    for (const argv of [['node', 'shieldwall'], ['node', 'shieldwall', '--help'], ['node', 'shieldwall', 'no-such-command']]) {
      const p = await buildProgram(quiet, argv);
      expect(new Set(p.commands.map((c) => c.name()))).toEqual(new Set(all));
    }
    const rd = await buildProgram(quiet, ['node', 'shieldwall', 'readiness', 'assessment', 'list']);
    const sub = rd.commands.find((c) => c.name() === 'readiness')!.commands.map((c) => c.name());
    expect(sub).toContain('inventory');
    expect(sub).toContain('framework');
  });
});
