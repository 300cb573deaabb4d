/**
 * Sigma rules from the shell (docs/cli.md "Sigma rules"):
 *   shieldwall sigma check DIR|FILE [--placeholders FILE]   compile offline, no store needed
 *   shieldwall sigma add FILE --as USER [--tlp T] [--recipients ID,...]
 *   shieldwall sigma list --as USER [--json]
 * `add` and `list` act as that user (their organisation and roles; audited with source "cli").
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { authorize, type Action } from '../../access/index.js';
import { EventBus } from '../../core/bus.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import { loadPlaceholdersFile, SigmaRules, type AuthedActor } from '../../detect/rules.js';
import { loadRulesDir, parseSigmaRule, type Placeholders } from '../../detect/sigma/index.js';
import { cliConfig, EXIT, ExitRequest, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';

type AsOpt = { as: string; json?: boolean };

/** Runs a command as the `--as` user after the permission-table check REST applies to the same action. */
async function withRules<T>(o: AsOpt, action: Action, fn: (rules: SigmaRules, actor: AuthedActor, p: CliPlatform) => Promise<T>): Promise<T> {
  return withPlatform(async (p) => {
    const principal = await p.access.principalOfUser(o.as);
    authorize(principal, action);
    const rules = await SigmaRules.open(
      { store: p.store, access: p.access, clock: p.clock, bus: new EventBus() },
      { dir: p.config.sigmaDir, placeholdersFile: p.config.sigmaPlaceholders },
    );
    return fn(rules, { principal, source: 'cli' }, p);
  });
}

/** Compiles a file or every `.yml`/`.yaml` under a directory; one line per failure. */
function check(io: Io, target: string, placeholders: Placeholders | undefined): number {
  const opts = placeholders ? { placeholders } : {};
  let files: number;
  let failures: { path: string; reason: string }[];
  let rules: number;
  if (statSync(target).isDirectory()) {
    const r = loadRulesDir(target, opts);
    ({ files } = r);
    failures = [...r.failures];
    rules = r.items.length;
  } else {
    const r = parseSigmaRule(readFileSync(target, 'utf8'), opts);
    files = 1;
    failures = r.ok ? [] : [{ path: path.basename(target), reason: r.reason }];
    rules = r.ok ? r.rules.length : 0;
  }
  for (const f of failures) io.out(`FAIL ${f.path}: ${f.reason}`);
  io.out(`${files - failures.length} of ${files} files compile (${rules} rules)`);
  return failures.length;
}

export function registerSigma(program: Command, io: Io = stdio): void {
  const sigma = program.command('sigma').description('Sigma detection rules');
  sigma.command('check <path>').description('compile rules offline and list those that fail, with the reason (exit 1 if any fails)')
    .option('--placeholders <file>', 'YAML file of placeholder values (default: SHIELDWALL_SIGMA_PLACEHOLDERS)')
    .action((target: string, o: { placeholders?: string }) => {
      const file = o.placeholders ?? cliConfig().sigmaPlaceholders;
      if (check(io, target, file ? loadPlaceholdersFile(file) : undefined) > 0) throw new ExitRequest(EXIT.USAGE);
    });
  sigma.command('add <file>').description('add a rule file (all its documents as one rule record), checked like the API does')
    .requiredOption('--as <username>', 'act as this user').option('--tlp <tlp>', 'TLP of the rule', 'green')
    .option('--recipients <ids>', 'comma-separated organisation or group identity ids (AMBER and above)').option('--json', 'print JSON')
    .action((file: string, o: AsOpt & { tlp: string; recipients?: string }) => withRules(o, 'sigma.write', async (rules, actor) => {
      if (!(TLP_LEVELS as readonly string[]).includes(o.tlp)) throw new AppError('BAD_REQUEST', `--tlp must be one of ${TLP_LEVELS.join(', ')}`);
      const recipients = o.recipients ? o.recipients.split(',').map((s) => s.trim()).filter(Boolean) : [];
      const view = await rules.add(actor, { yaml: readFileSync(file, 'utf8'), tlp: o.tlp as Tlp, recipients });
      io.out(o.json ? JSON.stringify(view, null, 2) : view.id);
    }));
  sigma.command('list').description('rules the user may read (directory and stored)')
    .requiredOption('--as <username>', 'act as this user').option('--json', 'print JSON')
    .action((o: AsOpt) => withRules(o, 'sigma.read', async (rules, actor) => {
      const items = await rules.list(actor);
      if (o.json) io.out(JSON.stringify(items, null, 2));
      else for (const r of items) io.out(`${r.id}\t${r.source}\t${r.tlp ?? 'none'}\t${r.level ?? '-'}\t${r.loaded ? 'loaded' : 'FAILED'}\t${r.title}`);
    }));
}
