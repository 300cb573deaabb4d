/**
 * Exercise scenarios from the shell (docs/exercises-msel.md), acting as a user (`--as`):
 *   shieldwall scenario import <file> [--format csv|xlsx|json|openaev] [--name] [--start] [--team id=name:org,org]
 *   shieldwall scenario report-pdf <exerciseId> --out <file>
 * The format defaults from the file extension (.csv, .xlsx, .json; an OpenAEV export is JSON
 * with export_version). Team names of a sheet resolve to --team definitions, else to
 * organisations (name, short name or id), as over REST.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { EventBus } from '../../core/bus.js';
import { ExerciseService, type Team } from '../../exercise/index.js';
import { IMPORT_FORMATS, importScenario, parseAbsolute, type ImportFormat } from '../../exercise/msel/index.js';
import { reportPdf } from '../../exercise/pdf/report-pdf.js';
import { afterActionReport } from '../../exercise/report.js';
import { stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { readInputBytes } from '../input-file.js';

type AsOpt = { as: string; json?: boolean };

function service(p: CliPlatform): ExerciseService {
  // Importing and reporting never fire injects: no ingest from the shell.
  return new ExerciseService({
    store: p.store, access: p.access, clock: p.clock, bus: new EventBus(),
    ingest: { ingest: () => Promise.reject(new AppError('UNAVAILABLE', 'the CLI does not run exercises; use the server')) },
  });
}

function formatOf(file: string, content: Buffer, given?: string): ImportFormat {
  if (given) {
    if (!(IMPORT_FORMATS as readonly string[]).includes(given)) throw new AppError('BAD_REQUEST', `--format must be one of ${IMPORT_FORMATS.join(', ')}`);
    return given as ImportFormat;
  }
  if (/\.xlsx$/i.test(file)) return 'xlsx';
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.json$/i.test(file)) return /"export_version"\s*:/.test(content.subarray(0, 4096).toString('utf8')) ? 'openaev' : 'json';
  throw new AppError('BAD_REQUEST', 'cannot tell the format from the file name: give --format');
}

/** `team-a=Team A:identity--…,identity--…` */
function teamOf(spec: string): Team {
  const m = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,99})=([^:]{1,200}):(.+)$/.exec(spec);
  if (!m) throw new AppError('BAD_REQUEST', `--team ${spec.slice(0, 60)}: expected id=name:org[,org]`);
  return { id: m[1]!, name: m[2]!, orgs: m[3]!.split(',').map((s) => s.trim()).filter(Boolean) };
}

export function registerScenario(program: Command, io: Io = stdio): void {
  const sc = program.command('scenario').description('exercise scenarios: import MSEL sheets and OpenAEV exports, render reports');
  sc.command('import <file>').description('import a scenario (MSEL CSV/XLSX, OpenAEV export, JSON)')
    .requiredOption('--as <username>', 'act as this user (exercise planner)').option('--json', 'print JSON')
    .option('--format <format>', IMPORT_FORMATS.join('|')).option('--name <name>', 'scenario name (sheets)')
    .option('--start <time>', 'exercise start for absolute MSEL times (RFC 3339)')
    .option('--team <spec>', 'a team id=name:org[,org] (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action((file: string, o: AsOpt & { format?: string; name?: string; start?: string; team: string[] }) => withPlatform(async (p) => {
      const content = readInputBytes(file);
      const format = formatOf(file, content, o.format);
      // Read like the sheet's absolute times (UTC unless it names a zone), not in the shell's time zone.
      const start = o.start === undefined ? undefined : parseAbsolute(o.start) ?? Number.NaN;
      if (start !== undefined && Number.isNaN(start)) throw new AppError('BAD_REQUEST', '--start must be a timestamp (RFC 3339; UTC unless it names a zone)');
      const orgs = await p.store.listOrganisations();
      const scenario = await importScenario({
        format, content: format === 'xlsx' ? new Uint8Array(content) : content.toString('utf8'),
        resolveTeam: (name) => {
          const n = name.trim().toLowerCase();
          const org = orgs.find((x) => x.id === n || x.name.toLowerCase() === n || x.shortName.toLowerCase() === n);
          return org ? [org.id] : undefined;
        },
        ...(o.name ? { name: o.name } : {}), ...(start !== undefined ? { start } : {}), ...(o.team.length ? { teams: o.team.map(teamOf) } : {}),
      });
      const principal = await p.access.principalOfUser(o.as);
      const rec = await service(p).createScenario({ principal, source: 'cli' }, scenario);
      if (o.json) io.out(JSON.stringify(rec, null, 2));
      else io.out(`${rec.id}\t${rec.scenario.injects.length} injects\t${rec.scenario.teams.length} teams\t${rec.scenario.name}`);
    }));
  sc.command('report-pdf <exerciseId>').description('write the after-action report of an exercise as PDF')
    .requiredOption('--as <username>', 'act as this user').requiredOption('--out <file>', 'PDF file to write')
    .action((id: string, o: AsOpt & { out: string }) => withPlatform(async (p) => {
      const principal = await p.access.principalOfUser(o.as);
      const pdf = await reportPdf(afterActionReport(await service(p).reportInput({ principal, source: 'cli' }, id)));
      fs.writeFileSync(o.out, pdf);
      io.out(`${o.out}\t${pdf.length} bytes`);
    }));
}
