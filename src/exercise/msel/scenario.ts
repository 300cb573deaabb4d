/**
 * A {@link DraftScenario} turned into the {@link Scenario} of model.ts: team names resolved to
 * teams (with their organisations), payloads built per inject type, dependencies grouped per
 * parent, objectives created from the names rows use. The result is checked once more with
 * the server's own `parseScenario`, so an import can never store what a JSON import refuses.
 */
import {
  COMM_CHANNELS, PROMPT_ACTIONS,
  type CommChannel, type Expectation, type Inject, type InjectDependency, type InjectPayload, type Objective, type PromptAction, type Scenario, type Team,
} from '../model.js';
import { parseScenario } from '../validate.js';
import { MselImportError, type DraftInject, type DraftScenario, type RowIssue } from './draft.js';

export interface ScenarioOptions {
  /**
   * Teams already defined (by the caller or the request); MSEL team cells name them by id or name.
   * Other names are given to {@link resolveTeam}.
   */
  teams?: readonly Team[];
  /** Organisations (STIX identity ids) that play a team the sheet names; undefined = unknown team. */
  resolveTeam?: (name: string) => readonly string[] | undefined;
  /** created/modified of generated STIX objects (epoch ms); default now. */
  now?: number;
  category?: Scenario['category'];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const slug = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'x';

export function draftToScenario(d: DraftScenario, format: string, opts: ScenarioOptions = {}): Scenario {
  const issues: RowIssue[] = [];
  const teams = resolveTeams(d, opts, issues);
  const objectives = collectObjectives(d);
  const now = new Date(opts.now ?? Date.now()).toISOString();
  const injects: Inject[] = [];
  const bySerial = new Map(d.injects.map((i) => [i.serial, i]));
  for (const i of d.injects) {
    const bad = (column: string, message: string) => issues.push({ row: i.row, column, message });
    if (!i.enabled) continue;
    if (!ID.test(i.serial)) bad('serial', `serial "${i.serial.slice(0, 40)}" may hold only letters, digits and . _ : - (starting with a letter or digit)`);
    const payload = payloadOf(i, now, bad);
    const teamIds = i.teams === 'all' ? [] : i.teams.map((t) => teams.byName.get(t.toLowerCase())?.id ?? t);
    const expectations: Expectation[] = i.expectations.map((e) => ({
      name: e.name, type: e.type, expectedScore: Math.max(1, e.score), expirySeconds: e.expirySeconds, validation: e.anyPlayer ? 'any' : 'all',
      ...(i.objectives.length ? { objectives: i.objectives.map((o) => objectives.byKey.get(o.toLowerCase())!.id) } : {}),
      ...(e.type === 'DETECTION' && i.technique ? { match: { technique: i.technique } } : {}),
    }));
    const dependsOn: InjectDependency[] = [];
    if (i.dependsOn) {
      const parents = [...new Set(i.dependsOn.conditions.map((c) => c.parent))];
      if (i.dependsOn.mode === 'or' && parents.length > 1) bad('condition', '"or" between different parents is not supported; use one parent per inject');
      for (const parent of parents) {
        const p = bySerial.get(parent);
        if (p && !p.enabled) bad('depends on', `parent ${parent} is disabled`);
        if (p && p.at > i.at) bad('depends on', `parent ${parent} (row ${p.row}) fires after this inject`);
        dependsOn.push({ parent, mode: i.dependsOn.mode, conditions: i.dependsOn.conditions.filter((c) => c.parent === parent).map((c) => ({ key: c.key, value: c.value })) });
      }
    }
    if (!payload) continue;
    injects.push({
      id: i.serial, title: i.title, offsetSeconds: i.at, type: i.type, payload, teams: teamIds, expectations,
      ...(i.content && i.type !== 'communication' && i.type !== 'prompt' ? { description: i.content } : {}),
      ...(dependsOn.length ? { dependsOn } : {}),
    });
  }
  if (issues.length) throw new MselImportError(format, issues);
  const scenario: Scenario = {
    name: d.name.slice(0, 200), storyline: d.description, category: opts.category ?? (d.category as Scenario['category'] | undefined) ?? 'other',
    objectives: objectives.list, teams: teams.list, injects, variables: Object.entries(d.variables).map(([key, value]) => ({ key, value })),
    ...(d.lessons.length ? { lessons: d.lessons.map((l, k) => ({ id: `lc-${k + 1}`, name: l.category, questions: l.questions.map((q, j) => ({ id: `lq-${k + 1}-${j + 1}`, content: q })) })) } : {}),
  };
  const checked = parseScenario(scenario);
  if (!checked.ok) throw new MselImportError(format, checked.errors.map((message) => ({ row: rowOfPath(message, injects, d), message })));
  return checked.scenario;
}

/** `$.injects[3].…` → the sheet row of that inject, else 1. */
function rowOfPath(message: string, injects: readonly Inject[], d: DraftScenario): number {
  const m = /^\$\.injects\[(\d+)\]/.exec(message);
  const inj = m ? injects[Number(m[1])] : undefined;
  return (inj && d.injects.find((x) => x.serial === inj.id)?.row) ?? 1;
}

function resolveTeams(d: DraftScenario, opts: ScenarioOptions, issues: RowIssue[]): { list: Team[]; byName: Map<string, Team> } {
  const byName = new Map<string, Team>();
  const list: Team[] = [];
  const add = (t: Team) => {
    list.push(t);
    byName.set(t.id.toLowerCase(), t);
    byName.set(t.name.toLowerCase(), t);
  };
  for (const t of opts.teams ?? []) add(t);
  for (const t of d.teams) {
    if (byName.has(t.name.toLowerCase())) continue;
    const orgs = opts.resolveTeam?.(t.name);
    if (!orgs || orgs.length === 0) {
      const row = d.injects.find((i) => i.teams !== 'all' && i.teams.includes(t.name))?.row ?? 1;
      issues.push({ row, column: 'teams', message: `team ${t.name.slice(0, 60)} is neither a team of the request nor an organisation of this node` });
      continue;
    }
    let id = ID.test(t.name) && t.name.length <= 40 ? t.name : `team-${slug(t.name)}`;
    while (byName.has(id.toLowerCase())) id = `${id}-2`;
    add({ id, name: t.name.slice(0, 200), orgs });
  }
  if (list.length === 0 && !issues.some((i) => i.column === 'teams')) issues.push({ row: 1, column: 'teams', message: 'the scenario has no team: name target teams in the sheet or give teams with the import' });
  return { list, byName };
}

function collectObjectives(d: DraftScenario): { list: Objective[]; byKey: Map<string, Objective> } {
  const byKey = new Map<string, Objective>();
  const list: Objective[] = [];
  for (const o of d.objectives) {
    const obj: Objective = { id: `obj-${list.length + 1}`, title: o.title.slice(0, 200), priority: (['low', 'medium', 'high', 'critical'] as const)[Math.min(3, Math.max(0, o.priority))] ?? 'medium', ...(o.description ? { description: o.description } : {}) };
    list.push(obj);
    byKey.set(o.title.toLowerCase(), obj);
    byKey.set(obj.id, obj);
  }
  for (const i of d.injects) {
    for (const title of i.objectives) {
      if (byKey.has(title.toLowerCase())) continue;
      const obj: Objective = { id: `obj-${list.length + 1}`, title: title.slice(0, 200), priority: 'medium' };
      list.push(obj);
      byKey.set(title.toLowerCase(), obj);
    }
  }
  return { list, byKey };
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const SHA256 = /^[0-9a-f]{64}$/i;
const URL_RE = /^https?:\/\/[^\s'"]{1,2000}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** STIX pattern of one IOC value, or undefined when it is none of the supported kinds. */
export function patternOf(v: string): string | undefined {
  const q = v.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  if (IPV4.test(v)) return `[ipv4-addr:value = '${q}']`;
  if (SHA256.test(v)) return `[file:hashes.'SHA-256' = '${v.toLowerCase()}']`;
  if (URL_RE.test(v)) return `[url:value = '${q}']`;
  if (DOMAIN.test(v)) return `[domain-name:value = '${q.toLowerCase()}']`;
  return undefined;
}

function payloadOf(i: DraftInject, now: string, bad: (c: string, m: string) => void): InjectPayload | undefined {
  switch (i.type) {
    case 'technical':
      if (!i.technique) {
        bad('technique', 'a technical inject needs an ATT&CK technique (T1059.001)');
        return undefined;
      }
      return { kind: 'technical', technique: i.technique, ...(i.host ? { host: i.host } : {}) };
    case 'communication': {
      const channel = (i.channel ?? 'message').toLowerCase();
      if (!(COMM_CHANNELS as readonly string[]).includes(channel)) {
        bad('channel', `channel "${channel.slice(0, 20)}" is not one of ${COMM_CHANNELS.join(', ')}`);
        return undefined;
      }
      if (!i.content) bad('content', 'a communication inject needs content (the message body)');
      return { kind: 'communication', channel: channel as CommChannel, from: i.from ?? 'Exercise control', subject: i.title, body: i.content || i.title };
    }
    case 'prompt': {
      const action = (i.action ?? 'other').toLowerCase();
      if (!(PROMPT_ACTIONS as readonly string[]).includes(action)) {
        bad('action', `action "${action.slice(0, 30)}" is not one of ${PROMPT_ACTIONS.join(', ')}`);
        return undefined;
      }
      return { kind: 'prompt', action: action as PromptAction, text: i.content || i.title };
    }
    case 'intel':
      return intelPayload(i, now, bad);
  }
}

function intelPayload(i: DraftInject, now: string, bad: (c: string, m: string) => void): InjectPayload | undefined {
  if (i.content.trimStart().startsWith('{')) {
    try {
      const b = JSON.parse(i.content) as { type?: unknown; id?: unknown; objects?: unknown };
      if (b.type !== 'bundle' || typeof b.id !== 'string' || !Array.isArray(b.objects)) throw new Error('not a STIX bundle');
      return { kind: 'intel', bundle: b as never, title: i.title };
    } catch (e) {
      bad('content', `content starts with { but is not a STIX bundle: ${(e as Error).message.slice(0, 100)}`);
      return undefined;
    }
  }
  if (i.indicators.length === 0) {
    bad('indicators', 'an intel inject needs indicators (IPv4, domain, URL or SHA-256 values) or a STIX bundle as content');
    return undefined;
  }
  const objects: Record<string, unknown>[] = [];
  for (const v of i.indicators) {
    const pattern = patternOf(v);
    if (!pattern) {
      bad('indicators', `"${v.slice(0, 60)}" is not an IPv4 address, domain, URL or SHA-256`);
      continue;
    }
    objects.push({
      type: 'indicator', spec_version: '2.1', id: `indicator--${crypto.randomUUID()}`, created: now, modified: now, name: `${i.title}: ${v}`.slice(0, 250),
      pattern, pattern_type: 'stix', valid_from: now, indicator_types: ['malicious-activity'],
    });
  }
  objects.push({
    type: 'report', spec_version: '2.1', id: `report--${crypto.randomUUID()}`, created: now, modified: now, name: i.title, published: now,
    report_types: ['threat-report'], ...(i.content ? { description: i.content } : {}), object_refs: objects.map((o) => o.id),
  });
  return { kind: 'intel', title: i.title, bundle: { type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects } };
}
