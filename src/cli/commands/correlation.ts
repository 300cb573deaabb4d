/**
 * Warninglists and correlation exclusions from the shell (node operator; audited as a system
 * action with source "cli"). A running server picks the changes up on its next read.
 *   shieldwall warninglist import FILE | list | enable ID | disable ID | delete ID
 *   shieldwall correlation exclude VALUE [--type value|cidr|regex] [--kind K] | exclusions | unexclude ID | frequent
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { Correlations, EXCLUSION_TYPES, OBSERVABLE_KINDS, Warninglists, type ExclusionType, type ObservableKind } from '../../intel/index.js';
import { CLI_ACTOR, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { printRows } from '../table.js';

async function lists(p: CliPlatform): Promise<Warninglists> {
  const w = new Warninglists(p.store, p.clock);
  await w.load();
  return w;
}

function correlations(p: CliPlatform, w: Warninglists): Correlations {
  return new Correlations({ store: p.store, clock: p.clock, intel: p.intel, warninglists: w });
}

function oneOf<T extends string>(flag: string, list: readonly T[], v: string): T {
  if (!(list as readonly string[]).includes(v)) throw new AppError('BAD_REQUEST', `${flag} must be one of ${list.join(', ')}, got ${v}`);
  return v as T;
}

export function registerCorrelation(program: Command, io: Io = stdio): void {
  const wl = program.command('warninglist').description('warninglists of known-benign values (built-in and MISP JSON imports)');
  wl.command('import <file>')
    .description('import (or replace, by name) a MISP warninglist JSON file, enabled')
    .action((file: string) => withPlatform(async (p) => {
      const text = await readFile(file, 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new AppError('BAD_REQUEST', `${file} is not valid JSON: ${(e as Error).message}`);
      }
      const { list, skipped } = await (await lists(p)).importMisp(CLI_ACTOR, json);
      io.out(`imported ${list.id} (${list.name}, version ${list.version}, ${list.type}): ${list.entryCount} entries${skipped ? `, ${skipped} unusable entries skipped` : ''}`);
    }));
  wl.command('list')
    .description('list warninglists')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const rows = (await (await lists(p)).list()).map((w) => ({ ...w, enabled: w.enabled ? 'yes' : 'no', builtin: w.builtin ? 'yes' : 'no' }));
      printRows(io, o.json, rows, ['id', 'type', 'entryCount', 'enabled', 'builtin', 'name']);
    }));
  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    wl.command(`${verb} <id>`)
      .description(`${verb} a warninglist`)
      .action((id: string) => withPlatform(async (p) => {
        const w = await (await lists(p)).setEnabled(CLI_ACTOR, id, enabled);
        io.out(`${w.id} ${w.enabled ? 'enabled' : 'disabled'}`);
      }));
  }
  wl.command('delete <id>')
    .description('delete an imported warninglist (built-in lists can only be disabled)')
    .action((id: string) => withPlatform(async (p) => {
      await (await lists(p)).delete(CLI_ACTOR, id);
      io.out(`${id} deleted`);
    }));

  const corr = program.command('correlation').description('correlation of observable values: exclusions and frequent values');
  corr.command('exclude <value>')
    .description('never correlate a value (or a CIDR block, or values matching a regular expression)')
    .option('--type <type>', `${EXCLUSION_TYPES.join(' | ')}`, 'value')
    .option('--kind <kind>', `only values of this kind: ${OBSERVABLE_KINDS.join(', ')}`)
    .option('--comment <text>', 'why', '')
    .action((value: string, o: { type: string; kind?: string; comment: string }) => withPlatform(async (p) => {
      const type = oneOf<ExclusionType>('--type', EXCLUSION_TYPES, o.type);
      const kind = o.kind === undefined ? null : oneOf<ObservableKind>('--kind', OBSERVABLE_KINDS, o.kind);
      const row = await correlations(p, await lists(p)).addExclusion(CLI_ACTOR, { type, pattern: value, kind, comment: o.comment });
      io.out(row.id);
    }));
  corr.command('exclusions')
    .description('list exclusions')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const rows = (await p.store.listCorrelationExclusions()).map((e) => ({ ...e, kind: e.kind ?? 'any', createdAt: new Date(e.createdUs / 1000).toISOString() }));
      printRows(io, o.json, rows, ['id', 'type', 'kind', 'pattern', 'createdAt', 'comment']);
    }));
  corr.command('unexclude <id>')
    .description('remove an exclusion')
    .action((id: string) => withPlatform(async (p) => {
      await correlations(p, await lists(p)).removeExclusion(CLI_ACTOR, id);
      io.out(`${id} removed`);
    }));
  corr.command('reindex')
    .description('rebuild the correlation index from every stored object (in the background of the running node)')
    .action(() => withPlatform(async (p) => {
      const cleared = await correlations(p, await lists(p)).reindex(CLI_ACTOR);
      io.out(`index emptied (${cleared.rows} rows, ${cleared.frequent} frequent values); the node re-reads the store in the background: \`shieldwall status\` shows how far`);
    }));
  corr.command('frequent')
    .description('values over the correlation cap (not linked)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const rows = (await p.store.frequentValues({ limit: 1000 })).map((f) => ({ ...f, since: new Date(f.sinceUs / 1000).toISOString() }));
      printRows(io, o.json, rows, ['kind', 'value', 'since']);
    }));
}
