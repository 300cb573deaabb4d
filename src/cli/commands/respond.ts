/**
 * Incident response from the shell, for operators who script it: `--as <username>` acts as
 * that user (their organisation and roles; audited with source "cli").
 *   shieldwall incident list|show|create|phase|share|metrics|export
 *   shieldwall decision list|show|propose|position|tick
 *   shieldwall assistance list|request|offer|accept|decline
 *   shieldwall alert-level board|set
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { authorize, type Action } from '../../access/index.js';
import { EventBus } from '../../core/bus.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import {
  createRespond, incidentToStix, incidentHistoryOf, CSIRT_SERVICES, DECISION_KINDS, PHASES, PLAYBOOKS, URGENCIES,
  type AuthedActor, type CsirtService, type DecisionKind, type Phase, type Respond, type Urgency,
} from '../../respond/index.js';
import { orgOf, stdio, withPlatform, type CliPlatform, type Io } from '../context.js';

type AsOpt = { as: string; json?: boolean };

/**
 * Runs a command as the `--as` user after the same permission-table check REST applies to the
 * route of the same action (src/api/route-permissions.ts): a user whose roles lack `action` is
 * refused before anything is read or written.
 */
async function withRespond<T>(o: AsOpt, action: Action, fn: (r: Respond, actor: AuthedActor, p: CliPlatform) => Promise<T>): Promise<T> {
  return withPlatform(async (p) => {
    const principal = await p.access.principalOfUser(o.as);
    authorize(principal, action);
    return fn(createRespond({ store: p.store, access: p.access, clock: p.clock, bus: new EventBus() }), { principal, source: 'cli' }, p);
  });
}

function oneOf<T extends string>(flag: string, list: readonly T[], v: string): T {
  if (!(list as readonly string[]).includes(v)) throw new AppError('BAD_REQUEST', `${flag} must be one of ${list.join(', ')}`);
  return v as T;
}

function int(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new AppError('BAD_REQUEST', `${flag} must be an integer ${min}-${max}`);
  return n;
}

/**
 * An RFC 3339 date-time with its offset (Z or ±hh:mm). Without one, Date reads it in the local
 * time zone of whoever typed it: the same deadline would close at different instants for
 * operators in different countries.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

function time(flag: string, v: string): string {
  const t = RFC3339.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw new AppError('BAD_REQUEST', `${flag} must be an RFC 3339 timestamp with its offset, e.g. 2030-01-31T12:00:00Z or 2030-01-31T13:00:00+01:00`);
  return new Date(t).toISOString();
}

/**
 * Text another member wrote (a title, a reason, a team), shown on one terminal line: its control
 * characters, line separators and bidirectional overrides are written as `\uXXXX`. Printed as they
 * are, an ESC sequence in an ally's decision title would drive the reader's terminal (retitle it,
 * clear the screen, rewrite the lines above), and a tab or newline would shift the columns or forge
 * a row a script then reads. `--json` carries the text unchanged, JSON-escaped.
 */
const plain = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const print = (io: Io, o: AsOpt, value: unknown, line: () => string[]) => {
  if (o.json) io.out(JSON.stringify(value, null, 2));
  else for (const l of line()) io.out(l);
};

export function registerRespond(program: Command, io: Io = stdio): void {
  const inc = program.command('incident').description('incidents (NIST SP 800-61 life cycle)');
  const as = (c: Command) => c.requiredOption('--as <username>', 'act as this user').option('--json', 'print JSON');

  as(inc.command('list').description('incidents visible to the user').option('--phase <phase>', 'only this phase'))
    .action((o: AsOpt & { phase?: string }) => withRespond(o, 'incident.read', async (r, a) => {
      const items = await r.incidents.list(a, o.phase ? { phases: [oneOf('--phase', PHASES, o.phase)] } : {});
      print(io, o, items, () => items.map((i) => `${i.id}\tsev ${i.severity}\t${i.phase}\t${i.tlp ?? 'none'}\t${plain(i.title)}`));
    }));
  as(inc.command('show <id>')).action((id: string, o: AsOpt) => withRespond(o, 'incident.read', async (r, a) => {
    const i = await r.incidents.get(a, id);
    print(io, o, i, () => [`${plain(i.title)} (${i.id})`, `phase ${i.phase}, severity ${i.severity}, ${i.determination}, TLP ${i.tlp ?? 'none'}`,
      ...i.tasks.map((t) => `  [${t.status}]${t.mandatory ? '*' : ' '} ${plain(t.title)}`)]);
  }));
  as(inc.command('create').description('declare an incident')
    .requiredOption('--title <title>').requiredOption('--severity <0-5>').option('--category <name>', `playbook: ${Object.keys(PLAYBOOKS).join(', ')}`, 'default')
    .option('--tlp <tlp>', 'TLP of the incident', 'amber').option('--description <text>'))
    .action((o: AsOpt & { title: string; severity: string; category: string; tlp: string; description?: string }) => withRespond(o, 'incident.write', async (r, a) => {
      const i = await r.incidents.create(a, {
        title: o.title, severity: int('--severity', o.severity, 0, 5), category: o.category, tlp: oneOf('--tlp', TLP_LEVELS, o.tlp) as Tlp,
        ...(o.description ? { description: o.description } : {}),
      });
      print(io, o, i, () => [i.id]);
    }));
  as(inc.command('phase <id> <to>').description(`move to a phase: ${PHASES.join(', ')}`).option('--summary <text>', 'closing summary, with the move to closed'))
    .action((id: string, to: string, o: AsOpt & { summary?: string }) => withRespond(o, 'incident.write', async (r, a) => {
      const i = await r.incidents.transition(a, id, oneOf('phase', PHASES, to) as Phase, o.summary ? { summary: o.summary } : {});
      print(io, o, i, () => [`${i.id} ${i.phase}`]);
    }));
  as(inc.command('share <id>').requiredOption('--org <org>', 'organisation (short name or id)').option('--permission <p>', 'read or contribute', 'read'))
    .action((id: string, o: AsOpt & { org: string; permission: string }) => withRespond(o, 'incident.write', async (r, a, p) => {
      const org = await orgOf(p, o.org);
      const i = await r.incidents.share(a, id, [{ orgId: org.id, permission: oneOf('--permission', ['read', 'contribute'] as const, o.permission) }]);
      print(io, o, i, () => i.shares.map((s) => `${s.orgId}\t${s.permission}`));
    }));
  as(inc.command('metrics').description('MTTD / MTTR per organisation, seconds'))
    .action((o: AsOpt) => withRespond(o, 'incident.read', async (r, a) => {
      const m = await r.incidents.metrics(a);
      print(io, o, m, () => ['org\tincidents\tmttd\tmttt\tmttc\tmttr', ...m.map((x) => `${x.orgId}\t${x.incidents}\t${x.mttd ?? '-'}\t${x.mttt ?? '-'}\t${x.mttc ?? '-'}\t${x.mttr ?? '-'}`)]);
    }));
  as(inc.command('export <id>').description('STIX 2.1 bundle of the incident (Incident Core Extension v2.0)').option('-o, --output <file>'))
    .action((id: string, o: AsOpt & { output?: string }) => withRespond(o, 'incident.read', async (r, a) => {
      const i = await r.incidents.get(a, id);
      const text = JSON.stringify({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: incidentToStix(i, await incidentHistoryOf(r.incidents, a, id)) }, null, 2);
      if (o.output) fs.writeFileSync(o.output, text);
      else io.out(text);
    }));

  const dec = program.command('decision').description('consensus and silence-procedure decisions');
  as(dec.command('list')).action((o: AsOpt) => withRespond(o, 'decision.read', async (r, a) => {
    const items = await r.decisions.list(a);
    print(io, o, items, () => items.map((d) => `${d.id}\t${d.procedure}\t${d.state}\t${d.deadline}\t${plain(d.title)}`));
  }));
  as(dec.command('show <id>')).action((id: string, o: AsOpt) => withRespond(o, 'decision.read', async (r, a) => {
    const d = await r.decisions.get(a, id);
    print(io, o, d, () => [`${plain(d.title)}: ${d.state} (${d.procedure}, revision ${d.revision}, deadline ${d.deadline})`, ...d.positions.map((p) => `  ${p.orgId} r${p.revision} ${p.position}${p.reason ? `: ${plain(p.reason)}` : ''}`)]);
  }));
  as(dec.command('propose').requiredOption('--title <t>').requiredOption('--text <t>').requiredOption('--procedure <p>', 'consensus or silence')
    .requiredOption('--participants <orgs>', 'comma list of organisations').requiredOption('--deadline <time>').option('--kind <k>', DECISION_KINDS.join(', '), 'other'))
    .action((o: AsOpt & { title: string; text: string; procedure: string; participants: string; deadline: string; kind: string }) => withRespond(o, 'decision.write', async (r, a, p) => {
      const participants = await Promise.all(o.participants.split(',').filter(Boolean).map(async (x) => (await orgOf(p, x.trim())).id));
      const d = await r.decisions.propose(a, {
        title: o.title, text: o.text, kind: oneOf('--kind', DECISION_KINDS, o.kind) as DecisionKind, procedure: oneOf('--procedure', ['consensus', 'silence'] as const, o.procedure),
        participants, deadline: time('--deadline', o.deadline),
      });
      print(io, o, d, () => [d.id]);
    }));
  as(dec.command('position <id> <position>').description('concur, object or break-silence').option('--reason <text>'))
    .action((id: string, position: string, o: AsOpt & { reason?: string }) => withRespond(o, 'decision.write', async (r, a) => {
      const d = await r.decisions.position(a, id, oneOf('position', ['concur', 'object', 'break-silence'] as const, position), o.reason);
      print(io, o, d, () => [`${d.id} ${d.state}`]);
    }));
  dec.command('tick').description('settle every decision whose deadline has passed (the server does this every few seconds)')
    .action(() => withPlatform(async (p) => {
      const n = await createRespond({ store: p.store, access: p.access, clock: p.clock, bus: new EventBus() }).decisions.tick();
      io.out(`${n} decision(s) settled`);
    }));

  const ast = program.command('assistance').description('requests for assistance and offers');
  as(ast.command('list')).action((o: AsOpt) => withRespond(o, 'assistance.read', async (r, a) => {
    const items = await r.assistance.list(a);
    print(io, o, items, () => items.map((x) => `${x.id}\t${x.state}\t${x.urgency}\t${x.offers.length} offer(s)\t${plain(x.title)}`));
  }));
  as(ast.command('request').requiredOption('--title <t>').requiredOption('--services <list>', CSIRT_SERVICES.join(', '))
    .requiredOption('--deadline <time>', 'offer deadline').option('--urgency <u>', URGENCIES.join(', '), 'priority').option('--to <orgs>', 'comma list (default: all members)')
    .option('--incident <id>').option('--tlp <tlp>', 'TLP', 'amber'))
    .action((o: AsOpt & { title: string; services: string; deadline: string; urgency: string; to?: string; incident?: string; tlp: string }) => withRespond(o, 'assistance.write', async (r, a, p) => {
      const routedTo = o.to ? await Promise.all(o.to.split(',').map(async (x) => (await orgOf(p, x.trim())).id)) : 'all' as const;
      const x = await r.assistance.request(a, {
        title: o.title, services: o.services.split(',').map((s) => oneOf('--services', CSIRT_SERVICES, s.trim()) as CsirtService),
        urgency: oneOf('--urgency', URGENCIES, o.urgency) as Urgency, routedTo, offerDeadline: time('--deadline', o.deadline), tlp: oneOf('--tlp', TLP_LEVELS, o.tlp) as Tlp,
        ...(o.incident ? { incidentId: o.incident } : {}),
      });
      print(io, o, x, () => [x.id]);
    }));
  as(ast.command('offer <requestId>').requiredOption('--team <t>').requiredOption('--services <list>').requiredOption('--capacity <c>')
    .requiredOption('--from <time>').requiredOption('--until <time>'))
    .action((id: string, o: AsOpt & { team: string; services: string; capacity: string; from: string; until: string }) => withRespond(o, 'assistance.write', async (r, a) => {
      const x = await r.assistance.offer(a, id, {
        team: o.team, capacity: o.capacity, availableFrom: time('--from', o.from), availableUntil: time('--until', o.until),
        services: o.services.split(',').map((s) => oneOf('--services', CSIRT_SERVICES, s.trim()) as CsirtService),
      });
      print(io, o, x, () => [`${x.id} ${x.offers.length} offer(s)`]);
    }));
  for (const verb of ['accept', 'decline'] as const) {
    as(ast.command(`${verb} <offerId>`).option('--reason <text>')).action((id: string, o: AsOpt & { reason?: string }) => withRespond(o, 'assistance.write', async (r, a) => {
      const x = await r.assistance.decideOffer(a, id, verb, o.reason);
      print(io, o, x, () => [`${x.id} ${x.state}`]);
    }));
  }

  const lvl = program.command('alert-level').description('alliance cyber alert levels');
  lvl.command('board').option('--json', 'print JSON').action((o: { json?: boolean }) => withPlatform(async (p) => {
    const b = await createRespond({ store: p.store, access: p.access, clock: p.clock, bus: new EventBus() }).levels.board();
    if (o.json) io.out(JSON.stringify(b, null, 2));
    else for (const m of [{ orgName: 'ALLIANCE', ...b.alliance }, ...b.members]) io.out(`${plain(m.orgName)}\t${m.level} ${m.name}`);
  }));
  as(lvl.command('set <level>').requiredOption('--reason <text>').description('set your organisation\'s own level (1-5)'))
    .action((level: string, o: AsOpt & { reason: string }) => withRespond(o, 'alert-level.write', async (r, a) => {
      const x = await r.levels.setOwn(a, int('level', level, 1, 5), o.reason);
      print(io, o, x, () => [`${x.scope} ${x.level} ${x.name}`]);
    }));
}
