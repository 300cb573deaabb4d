/**
 * `shieldwall misp export <event>` (one event as MISP JSON, for an organisation: the release
 * policy decides what it holds) and `shieldwall misp feed add|list|pull|remove` (MISP feeds,
 * pulled on a schedule by `serve`; docs/misp.md).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { exportMispEvent, MispFeeds } from '../../misp/index.js';
import { type CliPlatform, EXIT, ExitRequest, collectionOf, orgOf, stdio, withPlatform, type Io } from '../context.js';
import { checkRight } from './intel.js';

const feeds = (p: CliPlatform) => new MispFeeds({ store: p.store, intel: p.intel, clock: p.clock });
const when = (us: number | null) => (us === null ? '-' : new Date(us / 1000).toISOString());

export function registerMisp(program: Command, io: Io = stdio): void {
  const misp = program.command('misp').description('MISP interoperability: export events as MISP JSON, consume MISP feeds');

  misp.command('export <event>')
    .description('export one event (MISP event uuid or report/grouping id) as MISP event JSON, as an organisation may read it')
    .requiredOption('--collection <collection>', 'collection id, alias or title')
    .requiredOption('--org <org>', 'organisation the export is for (its release rights apply)')
    .option('-o, --output <file>', 'write to this file (default stdout)')
    .action((ref: string, o: { collection: string; org: string; output?: string }) => withPlatform(async (p) => {
      const org = await orgOf(p, o.org);
      const c = await collectionOf(p, o.collection);
      const principal = await checkRight(p, org, c, 'canRead');
      const r = await exportMispEvent(p.store, { audience: p.access.audienceOf(principal), collectionIds: [c.id], ref });
      await p.access.audit({ principal: null, source: 'cli' }, 'misp.export', ref, { org: org.id, collection: c.id, attributes: (r.event.Event.Attribute as unknown[]).length });
      const text = `${JSON.stringify(r.event, null, 2)}\n`;
      if (o.output) await writeFile(o.output, text, { mode: 0o600 });
      else io.out(text.trimEnd());
      for (const s of r.skipped) io.err(`  not exported ${s.id}: ${s.reason}`);
    }));

  const feed = misp.command('feed').description('MISP feeds (manifest.json + event files, from a directory or an http(s) URL)');
  feed.command('add <name> <source>')
    .description('add a feed: <source> is a directory or an http(s) URL holding manifest.json')
    .requiredOption('--collection <collection>', 'collection the events go into')
    .requiredOption('--org <org>', 'organisation that imports them')
    .option('--interval <seconds>', 'seconds between scheduled pulls by `serve` (0 = manual only)', '3600')
    .action((name: string, source: string, o: { collection: string; org: string; interval: string }) => withPlatform(async (p) => {
      const org = await orgOf(p, o.org);
      const c = await collectionOf(p, o.collection);
      await checkRight(p, org, c, 'canWrite');
      const intervalS = Number(o.interval);
      const f = await feeds(p).add({ name, source, collectionId: c.id, orgId: org.id, intervalS });
      io.out(`added MISP feed ${f.name} (${f.id})`);
    }));
  feed.command('list').description('feeds and their state').option('--json', 'as JSON').action((o: { json?: boolean }) => withPlatform(async (p) => {
    const list = await feeds(p).list();
    if (o.json) return io.out(JSON.stringify(list.map(({ state, ...f }) => ({ ...f, state: { ...state, events: Object.keys(state.events).length } })), null, 2));
    if (!list.length) return io.out('no MISP feeds');
    for (const f of list) {
      io.out(`${f.name}\t${f.source}\tevery ${f.intervalS}s\tevents ${Object.keys(f.state.events).length}\tlast run ${when(f.state.lastRunUs)}\tlast success ${when(f.state.lastSuccessUs)}\t${f.state.lastError ?? 'ok'}`);
    }
  }));
  feed.command('pull <name>').description('pull a feed now (only new or updated events)').option('--json', 'as JSON').action((name: string, o: { json?: boolean }) => withPlatform(async (p) => {
    const r = await feeds(p).pull(name);
    if (o.json) io.out(JSON.stringify(r, null, 2));
    else {
      io.out(`${r.feed}: ${r.manifestEvents} events in the manifest, ${r.imported} imported (${r.attributes} attributes), ${r.upToDate} up to date, ${r.failed} failed`);
      for (const f of r.failures.slice(0, 20)) io.err(`  ${f.uuid}: ${f.reason}`);
      for (const f of r.refused.slice(0, 20)) io.err(`  ${f.event}: refused ${f.id ?? ''}: ${f.reason}`);
    }
    if (r.failed > 0 || r.refused.length > 0) throw new ExitRequest(EXIT.PARTIAL);
  }));
  feed.command('remove <name>').description('remove a feed (what it imported stays)').action((name: string) => withPlatform(async (p) => {
    await feeds(p).remove(name);
    io.out(`removed MISP feed ${name}`);
  }));
  for (const c of [misp, feed, ...misp.commands, ...feed.commands]) c.exitOverride();
}
