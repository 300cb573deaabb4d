/**
 * Readiness from the shell (docs/readiness.md); `--as <username>` acts as that user.
 *   shieldwall readiness framework import <file> [--key k]   (CPRT JSON, CIS v8 style, Shieldwall JSON/YAML)
 *   shieldwall readiness framework list
 *   shieldwall readiness assessments [--framework k]
 *   shieldwall readiness aggregates [--framework k] [--year y]
 *   shieldwall readiness report [--org o] [--year y] [--framework k] [--pdf out.pdf]
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { EventBus } from '../../core/bus.js';
import { createRespond, type AuthedActor } from '../../respond/index.js';
import { createReadiness, memberPdf, type Readiness } from '../../readiness/index.js';
import { orgOf, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';
import { readInputText } from '../input-file.js';

type AsOpt = { as: string; json?: boolean };

async function withReadiness<T>(o: AsOpt, fn: (r: Readiness, actor: AuthedActor, p: CliPlatform) => Promise<T>): Promise<T> {
  return withPlatform(async (p) => {
    const principal = await p.access.principalOfUser(o.as);
    const deps = { store: p.store, access: p.access, clock: p.clock, bus: new EventBus() };
    return fn(createReadiness(deps, createRespond(deps).incidents), { principal, source: 'cli' }, p);
  });
}

function year(v: string | undefined, def: number): number {
  if (v === undefined) return def;
  if (!/^\d{4}$/.test(v)) throw new AppError('BAD_REQUEST', '--year must be a four-digit year');
  return Number(v);
}

export function registerReadinessAssessment(program: Command, io: Io = stdio): void {
  // One `readiness` command for the whole domain: the exposure side (commands/readiness.ts) may have created it.
  const rd = program.commands.find((c) => c.name() === 'readiness') ?? program.command('readiness').description('readiness: self-assessments, frameworks, aggregates, yearly reports');
  const as = (c: Command) => c.requiredOption('--as <username>', 'act as this user').option('--json', 'print JSON');
  const fw = rd.command('framework').description('frameworks as data');
  as(fw.command('import <file>').description('import a framework file (NIST CPRT CSF JSON, CIS Controls v8 style JSON, Shieldwall JSON/YAML)').option('--key <key>', 'store under this key'))
    .action((file: string, o: AsOpt & { key?: string }) => withReadiness(o, async (r, a) => {
      const f = await r.assessments.importFramework(a, readInputText(file), o.key ? { key: o.key } : {});
      const summary = { key: f.key, title: f.title, functions: f.groups.length, categories: f.categories.length, items: f.items.length };
      if (o.json) io.out(JSON.stringify(summary, null, 2));
      else io.out(`imported ${f.key}: ${f.title}, ${summary.functions} functions, ${summary.categories} categories, ${summary.items} items`);
    }));
  as(fw.command('list')).action((o: AsOpt) => withReadiness(o, async (r) => {
    const list = await r.assessments.frameworks();
    if (o.json) io.out(JSON.stringify(list.map((f) => ({ key: f.key, title: f.title, items: f.items.length })), null, 2));
    else for (const f of list) io.out(`${f.key}\t${f.items.length} items\t${f.title}`);
  }));
  as(rd.command('assessments').description('assessments visible to the user').option('--framework <key>', 'framework', 'pledge-2016'))
    .action((o: AsOpt & { framework: string }) => withReadiness(o, async (r, a) => {
      const list = await r.assessments.list(a, { frameworkKey: o.framework });
      if (o.json) io.out(JSON.stringify(list, null, 2));
      else for (const x of list) io.out(`${x.id}\t${x.year}\t${x.state}\t${x.orgId}\t${x.scores.map((s) => `${s.group}=${s.score ?? '-'}`).join(' ')}`);
    }));
  as(rd.command('aggregates').description('alliance aggregates of a year').option('--framework <key>', 'framework', 'pledge-2016').option('--year <year>'))
    .action((o: AsOpt & { framework: string; year?: string }) => withReadiness(o, async (r, a, p) => {
      const agg = await r.assessments.aggregates(a, o.framework, year(o.year, new Date(p.clock.now()).getUTCFullYear() - 1));
      if (o.json) io.out(JSON.stringify(agg, null, 2));
      else for (const f of agg.functions) io.out(`${f.group}\tn=${f.n}\tmedian ${f.median ?? '-'}\tq1 ${f.q1 ?? '-'}\tq3 ${f.q3 ?? '-'}\town ${f.own ?? '-'}`);
    }));
  as(rd.command('report').description('yearly report of a member (JSON, or PDF with --pdf)').option('--org <org>', 'organisation (short name or id; default own)')
    .option('--framework <key>', 'framework', 'pledge-2016').option('--year <year>').option('--pdf <file>', 'write the PDF here'))
    .action((o: AsOpt & { org?: string; framework: string; year?: string; pdf?: string }) => withReadiness(o, async (r, a, p) => {
      const orgId = o.org ? (await orgOf(p, o.org)).id : a.principal.orgId;
      const rep = await r.reports.member(a, orgId, year(o.year, new Date(p.clock.now()).getUTCFullYear()), o.framework);
      if (o.pdf) {
        fs.writeFileSync(o.pdf, await memberPdf(rep, new Date(p.clock.now())));
        io.out(`wrote ${o.pdf}`);
      } else io.out(JSON.stringify(rep, null, 2));
    }));
}
