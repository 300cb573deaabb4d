/**
 * `shieldwall import` and `shieldwall export`: STIX bundles of any size, streamed. The node
 * operator acts for an organisation (--org), which must hold the collection right, and the
 * release policy decides what an export contains (purpose bulk: RED never leaves).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS, type Audience, type Tlp } from '../../core/policy.js';
import type { Principal } from '../../access/index.js';
import { exportBundle, importBundleStream, type ImportSummary } from '../../intel/index.js';
import { categoryOf, isStixTypeName, likelyTypeTypo } from '../../stix/index.js';
import type { MispImportSummary } from '../../misp/index.js';
import type { CollectionRow, OrgRow } from '../../store/index.js';
import { CLI_ACTOR, type CliPlatform, EXIT, ExitRequest, collectionOf, orgOf, stdio, withPlatform, type Io } from '../context.js';
import { assertInputFile } from '../input-file.js';

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** The organisation as a principal, to compute its collection rights and audience. */
async function orgPrincipal(p: CliPlatform, org: OrgRow): Promise<Principal> {
  return { orgId: org.id, userId: null, username: null, roles: [], tokenId: null, kind: 'api', groupIds: await p.store.groupsOfOrg(org.id) };
}

export async function checkRight(p: CliPlatform, org: OrgRow, c: CollectionRow, right: 'canRead' | 'canWrite'): Promise<Principal> {
  const principal = await orgPrincipal(p, org);
  if (!(await p.access.rights(principal)).get(c.id)?.[right]) {
    const what = right === 'canRead' ? 'read' : 'write';
    throw new AppError('FORBIDDEN', `${org.shortName} may not ${what} collection ${c.alias ?? c.id}; grant it with \`shieldwall collection grant ${c.alias ?? c.id} ${org.shortName} --${what}\``);
  }
  return principal;
}

/** Recipients by organisation short name / id or sharing-group name / id. */
async function recipientIds(p: CliPlatform, raw: string | undefined): Promise<string[]> {
  const out: string[] = [];
  const groups = await p.store.listGroups();
  for (const r of list(raw)) {
    const g = groups.find((x) => x.id === r || x.name === r);
    out.push(g ? g.id : (await orgOf(p, r)).id);
  }
  return out;
}

function tlpOption(raw: string | undefined): Tlp | null {
  if (raw === undefined) return null;
  const t = raw.toLowerCase().replace(/^tlp:/, '');
  if (!(TLP_LEVELS as readonly string[]).includes(t)) throw new AppError('BAD_REQUEST', `--tlp must be one of ${TLP_LEVELS.join(', ')}, got ${raw}`);
  return t as Tlp;
}

/**
 * `--type` names: each must be a STIX type name, and one STIX 2.1 does not define must be held
 * (for this audience) in the collections: a misspelt type (`indicators`) is refused with the type
 * it most likely means, instead of exporting an empty bundle and exiting 0.
 */
async function checkExportTypes(p: CliPlatform, types: readonly string[], cols: readonly CollectionRow[], audience: Audience): Promise<void> {
  for (const t of types) {
    if (!isStixTypeName(t)) throw new AppError('BAD_REQUEST', `--type: "${t.slice(0, 60)}" is not a STIX type name (3-250 of a-z, 0-9, -)`);
    if (categoryOf(t) !== undefined) continue;
    const page = await p.store.queryObjects({ collectionIds: cols.map((c) => c.id), audience, purpose: 'read', types: [t], limit: 1 });
    if (page.rows.length > 0) continue;
    const typo = likelyTypeTypo(t);
    throw new AppError('BAD_REQUEST', `--type: STIX 2.1 defines no type "${t}" and the collection holds none${typo ? `; did you mean "${typo}"?` : ''}`);
  }
}

interface ImportOpts { collection: string; org: string; tlp?: string; recipients?: string; preserveProvenance?: boolean; progress?: boolean; json?: boolean; batchSize?: string; format?: string }

/** A MISP file is read whole (events are small); beyond this it is refused rather than held in memory. */
const MAX_MISP_BYTES = 256 * 1024 * 1024;

/**
 * Format detection: a MISP event (`{"Event": ...}`, `{"response": [...]}`) rather than a STIX
 * bundle. Looks at the opening of the file only, so a large bundle is still streamed.
 */
async function looksLikeMisp(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8');
    if (/"type"\s*:\s*"bundle"/.test(head)) return false;
    return /^\s*(\[\s*)?\{\s*"(Event|response)"\s*:/.test(head);
  } finally {
    await fh.close();
  }
}

function reportMisp(io: Io, r: MispImportSummary, json: boolean | undefined): void {
  if (json) return io.out(JSON.stringify(r, null, 2));
  for (const e of r.events) io.out(`MISP event ${e.uuid} "${e.info}" → ${e.container} (TLP:${e.tlp.toUpperCase()}${e.recipients.length ? `, recipients ${e.recipients.join(', ')}` : ''})`);
  io.out(`attributes: ${r.imported} imported, ${r.skipped} skipped; STIX objects: ${r.total} (${r.added} added, ${r.duplicates} duplicates, ${r.rejected} rejected)`);
  for (const a of r.attributes.filter((x) => x.status === 'skipped')) io.err(`  skipped attribute ${a.uuid} (${a.type}): ${a.reason ?? ''}`);
  for (const e of r.errors) io.err(`  rejected ${e.id ?? '(no id)'}: ${e.message}`);
  for (const n of r.notes) io.err(`  note: ${n}`);
}

function progressBar(totalBytes: number | null): { update: (objects: number, bytes: number) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, hideCursor: true, etaBuffer: 20,
    // --progress on a pipe (CI logs): cli-progress stays silent off a TTY unless told otherwise.
    noTTYOutput: true, notTTYSchedule: 200,
    format: totalBytes ? 'import |{bar}| {percentage}% | {objects} objects | ETA {eta_formatted}' : 'import | {objects} objects | {mb} MB',
  }, cliProgress.Presets.shades_classic);
  bar.start(totalBytes ?? 1, 0, { objects: 0, mb: '0.0' });
  return {
    update: (objects, bytes) => bar.update(totalBytes ? bytes : 0, { objects, mb: (bytes / 1e6).toFixed(1) }),
    stop: () => bar.stop(),
  };
}

function report(io: Io, r: ImportSummary, json: boolean | undefined): void {
  if (json) io.out(JSON.stringify(r, null, 2));
  else io.out(`imported ${r.total} objects: ${r.added} added, ${r.duplicates} duplicates, ${r.rejected} rejected`);
  if (!json) {
    for (const e of r.errors) io.err(`  rejected objects[${e.index}] ${e.id ?? '(no id)'}: ${e.message}`);
    if (r.rejected > r.errors.length) io.err(`  ... and ${r.rejected - r.errors.length} more rejects`);
  }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of process.stdin) {
    n += (chunk as Buffer).length;
    if (n > MAX_MISP_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `a MISP document on stdin is larger than ${MAX_MISP_BYTES} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

export function registerIntel(program: Command, io: Io = stdio): void {
  program.command('import <file>')
    .description('import a STIX 2.1 bundle (any size; "-" reads stdin) or a MISP event (recognised by its content) into a collection for an organisation, all or nothing')
    .requiredOption('--collection <collection>', 'collection id, alias or title')
    .requiredOption('--org <org>', 'organisation recorded as creator (short name or id)')
    .option('--tlp <level>', `TLP for objects without one: ${TLP_LEVELS.join(', ')}`)
    .option('--recipients <list>', 'comma list of recipient organisations or sharing groups (for amber, amber+strict, red)')
    .option('--preserve-provenance', 'keep created_by_ref naming an identity outside the alliance (e.g. MITRE)')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .option('--json', 'print the summary as JSON')
    .option('--batch-size <n>', 'objects per batch', '1000')
    .option('--format <format>', 'auto (default: MISP event JSON is recognised), stix or misp', 'auto')
    .action((file: string, o: ImportOpts) => withPlatform(async (p) => {
      const org = await orgOf(p, o.org);
      const c = await collectionOf(p, o.collection);
      await checkRight(p, org, c, 'canWrite');
      if (!['auto', 'stix', 'misp'].includes(o.format ?? 'auto')) throw new AppError('BAD_REQUEST', `--format must be auto, stix or misp, got ${o.format}`);
      if (file !== '-') assertInputFile(file);
      const misp = o.format === 'misp' || (o.format !== 'stix' && file !== '-' && (await looksLikeMisp(file)));
      if (misp) {
        if (o.tlp || o.recipients) throw new AppError('BAD_REQUEST', 'a MISP event carries its own release: TLP from its tags, recipients from its distribution and sharing group (--tlp and --recipients apply to STIX bundles)');
        const size = file === '-' ? 0 : (await stat(file)).size;
        if (size > MAX_MISP_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `a MISP file is read whole; ${file} is larger than ${MAX_MISP_BYTES} bytes`);
        const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          throw new AppError('MALFORMED_JSON', `${file} is not valid JSON: ${(e as Error).message}`);
        }
        // MISP is loaded only for a MISP file: a STIX import stays small (docs/cli.md).
        const { importMisp, isMispDocument } = await import('../../misp/index.js');
        if (o.format !== 'misp' && !isMispDocument(doc)) throw new AppError('INVALID_STIX', `${file} is neither a STIX bundle nor a MISP event`);
        const r = await importMisp(p.intel, { actor: CLI_ACTOR, collectionId: c.id, document: doc }, { asOrg: org.id, preserveProvenance: o.preserveProvenance !== false });
        reportMisp(io, r, o.json);
        if (r.rejected > 0) throw new ExitRequest(EXIT.PARTIAL);
        return;
      }
      const defaultTlp = tlpOption(o.tlp);
      const recipients = await recipientIds(p, o.recipients);
      const batchSize = Number(o.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new AppError('BAD_REQUEST', '--batch-size must be an integer 1-100000');
      const size = file === '-' ? null : (await stat(file)).size;
      const readable = file === '-' ? process.stdin : createReadStream(file);
      const bar = o.progress || process.stderr.isTTY ? progressBar(size) : null;
      let summary: ImportSummary;
      try {
        summary = await importBundleStream(p.intel, { actor: CLI_ACTOR, collectionId: c.id, readable }, {
          asOrg: org.id, defaultTlp, recipients, preserveProvenance: o.preserveProvenance === true, batchSize,
          onProgress: (pr) => bar?.update(pr.objects, pr.bytes),
        });
      } finally {
        bar?.stop();
      }
      report(io, summary, o.json);
      if (summary.rejected > 0) throw new ExitRequest(EXIT.PARTIAL);
    }));

  program.command('export')
    .description('export what an organisation may receive in bulk from a collection as one STIX bundle')
    .requiredOption('--collection <collections>', 'collection id, alias or title (comma list allowed)')
    .requiredOption('--org <org>', 'organisation the export is for (its release rights apply)')
    .option('-o, --output <file>', 'write to this file (default stdout)')
    .option('--type <types>', 'comma list of STIX types')
    .option('--tlp <levels>', 'comma list of TLP levels to include')
    .option('--all-versions', 'every visible version, not only the latest')
    .option('--public', 'a public export: only TLP:CLEAR')
    .action((o: { collection: string; org: string; output?: string; type?: string; tlp?: string; allVersions?: boolean; public?: boolean }) => withPlatform(async (p) => {
      const org = await orgOf(p, o.org);
      const cols: CollectionRow[] = [];
      let principal: Principal | null = null;
      for (const ref of list(o.collection)) {
        const c = await collectionOf(p, ref);
        principal = await checkRight(p, org, c, 'canRead');
        cols.push(c);
      }
      if (!principal) throw new AppError('BAD_REQUEST', '--collection is empty');
      const audience: Audience = o.public ? { hop: 'public' } : p.access.audienceOf(principal);
      await checkExportTypes(p, list(o.type), cols, audience);
      const tlps = list(o.tlp).map((t) => tlpOption(t) as Tlp);
      const filters = {
        ...(o.type ? { types: list(o.type) } : {}),
        ...(tlps.length ? { tlps } : {}),
        ...(o.allVersions ? { version: { kind: 'all' as const } } : {}),
      };
      const req = { actor: CLI_ACTOR, collectionIds: cols.map((c) => c.id), audience, filters };
      if (!o.output) {
        // A reader that goes away (`| head`) makes the next write fail with a clear message.
        process.stdout.on('error', () => undefined);
        const r = await exportBundle(p.access, req, process.stdout);
        io.err(`exported ${r.count} objects (${r.id})`);
        return;
      }
      // Write beside the target and rename on success: a failed export never leaves half a file.
      const partial = `${o.output}.partial`;
      const out = createWriteStream(partial, { mode: 0o600 });
      try {
        const r = await exportBundle(p.access, req, out);
        out.end();
        await finished(out);
        await rename(partial, o.output);
        io.err(`exported ${r.count} objects to ${o.output} (${r.id})`);
      } catch (e) {
        out.destroy();
        await rm(partial, { force: true });
        throw e;
      }
    }));
}
