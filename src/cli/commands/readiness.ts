/**
 * Readiness exposure from the shell (`--as <username>` acts as that user, audited with source "cli"):
 *   shieldwall readiness inventory import <file> [--tlp t] [--recipient org]...
 *   shieldwall readiness kev import <file|url>      (a KEV catalog snapshot; a URL is fetched with undici)
 *   shieldwall readiness cve import <file>...       (CVE JSON 5 records)
 *   shieldwall readiness epss import <file>         (EPSS CSV)
 *   shieldwall readiness csaf import <file> / exposures [--kev]
 * Each import prints what was imported and every refused entry with its reason.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { readAtMost } from '../../core/read-capped.js';
import { EventBus } from '../../core/bus.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import type { AuthedActor } from '../../respond/index.js';
import { createExposure, parseInventory, type ExposureModule, type Refused } from '../../readiness/exposure/index.js';
import { EXIT, ExitRequest, orgOf, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { readInputText } from '../input-file.js';

type AsOpt = { as: string; json?: boolean };
const MAX_URL_BYTES = 64 * 1024 * 1024;

async function withExposure<T>(o: AsOpt, fn: (m: ExposureModule, actor: AuthedActor, p: CliPlatform) => Promise<T>): Promise<T> {
  return withPlatform(async (p) => {
    const principal = await p.access.principalOfUser(o.as);
    return fn(createExposure({ store: p.store, access: p.access, clock: p.clock, bus: new EventBus(), intel: p.intel }), { principal, source: 'cli' }, p);
  });
}

function json(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('BAD_REQUEST', `${file} is not JSON: ${(e as Error).message}`);
  }
}

async function fetchText(url: string): Promise<string> {
  // Loaded on first use: a node that never fetches a feed starts without it.
  const { request } = await import('undici');
  const res = await request(url, { method: 'GET', headersTimeout: 30_000, bodyTimeout: 120_000 });
  if (res.statusCode !== 200) throw new AppError('UNAVAILABLE', `${url} answered ${res.statusCode}`);
  const body = await readAtMost(res.body, MAX_URL_BYTES);
  if (body === null) throw new AppError('PAYLOAD_TOO_LARGE', `${url} is larger than ${MAX_URL_BYTES} bytes`);
  return body.toString('utf8');
}

function printRefused(io: Io, refused: readonly Refused[]): void {
  for (const r of refused) io.out(`refused\t${r.ref}\t${r.reason}`);
}

/** An import that refused entries finished partly: exit 4, as docs/cli.md says of every import. */
function partial(refused: readonly Refused[]): void {
  if (refused.length > 0) throw new ExitRequest(EXIT.PARTIAL);
}

export function registerReadiness(program: Command, io: Io = stdio): void {
  const root = program.command('readiness').description('readiness: inventory, vulnerability intelligence, exposures, CSAF advisories');
  const as = (c: Command) => c.requiredOption('--as <username>', 'act as this user').option('--json', 'print JSON');

  const inv = root.command('inventory').description('the own organisation\'s assets');
  as(inv.command('import <file>').description('import assets from CSV (name, vital_function, criticality, owner, products) or JSON')
    .option('--tlp <tlp>', 'TLP of the assets and their exposures', 'amber').option('--recipient <org...>', 'organisations the assets are shared with'))
    .action((file: string, o: AsOpt & { tlp: string; recipient?: string[] }) => withExposure(o, async (m, a, p) => {
      if (!(TLP_LEVELS as readonly string[]).includes(o.tlp)) throw new AppError('BAD_REQUEST', `--tlp must be one of ${TLP_LEVELS.join(', ')}`);
      let items: unknown[];
      try {
        items = parseInventory(readInputText(file));
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw new AppError('BAD_REQUEST', `${file}: ${(e as Error).message}`);
      }
      const recipients = await Promise.all((o.recipient ?? []).map(async (r) => (await orgOf(p, r)).id));
      const r = await m.exposures.importAssets(a, items, { tlp: o.tlp as Tlp, recipients });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`assets: ${r.created} created, ${r.updated} updated, ${r.refused.length} refused; ${r.exposures} new exposures`);
        printRefused(io, r.refused);
      }
      partial(r.refused);
    }));

  as(root.command('kev').command('import <source>').description('import a CISA KEV catalog snapshot from a file or an https URL'))
    .action((source: string, o: AsOpt) => withExposure(o, async (m, a) => {
      const text = /^https?:\/\//.test(source) ? await fetchText(source) : readInputText(source);
      const r = await m.exposures.importKev(a, json(source, text));
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`KEV ${r.catalogVersion}: ${r.entries} entries, ${r.added.length} new, ${r.removed.length} removed (${r.removed.join(' ') || 'none'}), ${r.refused.length} refused; ${r.exposures} new exposures, ${r.alerts} alerts`);
        printRefused(io, r.refused);
      }
      partial(r.refused);
    }));

  as(root.command('cve').command('import <files...>').description('import CVE JSON 5 records'))
    .action((files: string[], o: AsOpt) => withExposure(o, async (m, a) => {
      const r = await m.exposures.importCves(a, files.map((f) => json(f, readInputText(f))));
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`CVE records: ${r.imported} imported, ${r.refused.length} refused; ${r.exposures} new exposures`);
        printRefused(io, r.refused);
      }
      partial(r.refused);
    }));

  as(root.command('epss').command('import <source>').description('import EPSS scores (CSV file or URL)'))
    .action((source: string, o: AsOpt) => withExposure(o, async (m, a) => {
      const text = /^https?:\/\//.test(source) ? await fetchText(source) : readInputText(source);
      const r = await m.exposures.importEpss(a, text);
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`EPSS: ${r.imported} imported, ${r.refused.length} refused`);
        printRefused(io, r.refused);
      }
      partial(r.refused);
    }));

  as(root.command('csaf').command('import <file>').description('import a CSAF 2.0 advisory (VEX statements clear matching exposures)')
    .option('--default-tlp <tlp>', 'TLP when the document has none'))
    .action((file: string, o: AsOpt & { defaultTlp?: string }) => withExposure(o, async (m, a) => {
      if (o.defaultTlp && !(TLP_LEVELS as readonly string[]).includes(o.defaultTlp)) throw new AppError('BAD_REQUEST', `--default-tlp must be one of ${TLP_LEVELS.join(', ')}`);
      const r = await m.advisories.import(a, json(file, readInputText(file)), o.defaultTlp ? { defaultTlp: o.defaultTlp as Tlp } : {});
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(`${r.advisory.id}\t${r.advisory.trackingId}\tTLP ${r.advisory.tlp ?? 'none'}\t${r.advisory.title}`);
        for (const x of r.outcomes) io.out(`${x.action}\t${x.cve}\t${x.exposure}\t${x.status}`);
      }
    }));

  as(root.command('exposures').description('exposures visible to the user, highest priority first').option('--kev', 'only known exploited'))
    .action((o: AsOpt & { kev?: boolean }) => withExposure(o, async (m, a) => {
      const items = await m.exposures.listExposures(a, o.kev ? { kev: true } : {});
      if (o.json) io.out(JSON.stringify(items, null, 2));
      else for (const e of items) io.out(`${e.status}\t${e.cve}${e.kev ? ' KEV' : ''}\tdue ${e.dueDate}\t${e.assetName}\t${e.product}`);
    }));
}
