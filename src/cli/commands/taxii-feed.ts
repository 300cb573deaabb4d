/**
 * `shieldwall taxii-feed add|list|pull|reset|remove`: collections of third-party TAXII 2.1
 * servers pulled on a schedule into a local collection (federation/taxii-feeds.ts, docs/federation.md
 * "TAXII feeds"). Credentials come from stdin (never the command line) and are kept sealed.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import { FederationRegistry, TaxiiFeeds, type NewTaxiiFeed } from '../../federation/index.js';
import { CLI_ACTOR, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { readSecret } from '../secret.js';
import { printRows } from '../table.js';
import { readCa } from './peer.js';

const feedsOf = (p: CliPlatform) => new TaxiiFeeds({
  store: p.store, clock: p.clock, intel: p.intel,
  registry: new FederationRegistry({ store: p.store, clock: p.clock, dataDir: p.config.dataDir, nodeName: p.config.nodeName, peerMaxResponseBytes: p.config.peerMaxResponseBytes }),
});

const when = (us: number | null) => (us === null ? '-' : new Date(us / 1000).toISOString());

interface AddOpts {
  url: string; apiRoot: string; collection: string; into: string; org: string; tlp?: string; tokenStdin?: boolean; basicUser?: string; ca?: string; interval: string;
}

export function registerTaxiiFeed(program: Command, io: Io = stdio): void {
  const feed = program.command('taxii-feed').description('collections of third-party TAXII 2.1 servers, pulled on a schedule into a local collection');
  feed.command('add <name>')
    .description('add a feed; credentials are read from stdin (--token-stdin, or the password of --basic-user) and kept encrypted')
    .requiredOption('--url <url>', 'the TAXII server\'s address, e.g. https://cti.example (its API root is under it)')
    .option('--api-root <root>', 'the API root as the server\'s discovery names it: its name, path (taxii2/root) or URL under --url', 'api1')
    .requiredOption('--collection <id>', 'collection id on the server')
    .requiredOption('--into <collection>', 'local collection (id, alias or title)')
    .requiredOption('--org <org>', 'local organisation that imports (short name or id)')
    .option('--tlp <level>', `TLP of objects without one (${TLP_LEVELS.join(', ')}): a policy fact, never written into them`)
    .option('--token-stdin', 'read a bearer token from stdin')
    .option('--basic-user <name>', 'HTTP Basic user name (its password from stdin)')
    .option('--ca <file>', 'PEM CA certificate to trust for the server')
    .option('--interval <s>', 'seconds between scheduled pulls (0: only `taxii-feed pull`)', '3600')
    .action((name: string, o: AddOpts) => withPlatform(async (p) => {
      if (o.tokenStdin && o.basicUser) throw new AppError('BAD_REQUEST', 'give --token-stdin or --basic-user, not both');
      const interval = Number(o.interval);
      let auth: NewTaxiiFeed['auth'] = { kind: 'none' };
      if (o.tokenStdin) auth = { kind: 'bearer', token: await readSecret('bearer token: ', 'no token on stdin: pipe the token the TAXII server issued, e.g. < token.txt') };
      else if (o.basicUser) auth = { kind: 'basic', username: o.basicUser, password: await readSecret(`password of ${o.basicUser}: `, 'no password on stdin: pipe it, e.g. < password.txt') };
      const v = await feedsOf(p).add(CLI_ACTOR, {
        name, url: o.url, apiRoot: o.apiRoot, remoteCollection: o.collection, localCollection: o.into, org: o.org,
        ...(o.tlp ? { tlp: o.tlp as Tlp } : {}), auth, ...(o.ca ? { ca: readCa(o.ca) } : {}), intervalS: Number.isFinite(interval) ? interval : NaN,
      });
      io.out(`added TAXII feed ${v.name}: ${v.url} ${v.apiRoot}/${v.remoteCollection} into ${v.localCollection}, ${v.intervalS ? `every ${v.intervalS} s` : 'manual only'}`);
    }, { create: true }));
  feed.command('list').description('feeds and their state').option('--json', 'as JSON').action((o: { json?: boolean }) => withPlatform(async (p) => {
    const list = await feedsOf(p).list();
    if (o.json) return io.out(JSON.stringify(list, null, 2));
    if (list.length === 0) return io.out('no TAXII feeds');
    printRows(io, false, list.map((f) => ({
      name: f.name, source: `${f.url} ${f.apiRoot}/${f.remoteCollection}`, every: f.intervalS ? `${f.intervalS} s` : 'manual',
      added: String(f.state.added), rejected: String(f.state.rejected), last_success: when(f.state.lastSuccessUs), last_error: f.state.lastError ?? '-',
    })), ['name', 'source', 'every', 'added', 'rejected', 'last_success', 'last_error']);
  }));
  feed.command('pull <name>').description('pull a feed now, from where the last pull stopped').option('--json', 'as JSON').action((name: string, o: { json?: boolean }) => withPlatform(async (p) => {
    const r = await feedsOf(p).pull(name, { maxMs: Infinity });
    if (o.json) io.out(JSON.stringify(r));
    else io.out(`${r.feed}: ${r.received} received in ${r.pages} pages, ${r.added} added, ${r.duplicates} already here, ${r.rejected} refused${r.rejected ? ` (taxii-feed list --json shows why)` : ''}`);
  }));
  feed.command('reset <name>').description('walk the collection again from the start at the next pull (what is here counts as duplicates)').action((name: string) => withPlatform(async (p) => {
    await feedsOf(p).reset(CLI_ACTOR, name);
    io.out(`TAXII feed ${name}: the next pull starts from the beginning`);
  }));
  feed.command('remove <name>').description('remove a feed (what it imported stays)').action((name: string) => withPlatform(async (p) => {
    await feedsOf(p).remove(CLI_ACTOR, name);
    io.out(`removed TAXII feed ${name}`);
  }));
}
