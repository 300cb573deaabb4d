/**
 * Scenario JSON import validation: parse, don't validate (STYLE §5). Input is untrusted;
 * every problem is reported with its JSON path, all at once, and nothing partial is returned.
 */
import {
  CATEGORIES, COMM_CHANNELS, EXPECTATION_TYPES, INJECT_TYPES, PRIORITIES, PROMPT_ACTIONS,
  type Expectation, type Inject, type InjectDependency, type InjectPayload, type LessonsCategory, type Objective,
  type Scenario, type ScenarioExport, type Team, type Variable,
} from './model.js';

export const LIMITS = { teams: 100, injects: 5000, objectives: 100, expectations: 20, text: 20_000, name: 200, offset: 366 * 86400, events: 200 } as const;

export type ScenarioParse = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

class Ctx {
  readonly errors: string[] = [];
  err(path: string, msg: string): undefined { if (this.errors.length < 100) this.errors.push(`${path}: ${msg}`); return undefined; }
  str(o: Obj, k: string, path: string, opt: { optional?: boolean; max?: number; pattern?: RegExp } = {}): string | undefined {
    const v = o[k];
    if (v === undefined || v === null) return opt.optional ? undefined : this.err(`${path}.${k}`, 'is required');
    if (typeof v !== 'string') return this.err(`${path}.${k}`, 'must be a string');
    if (v.length > (opt.max ?? LIMITS.text)) return this.err(`${path}.${k}`, `longer than ${opt.max ?? LIMITS.text} characters`);
    if (opt.pattern && !opt.pattern.test(v)) return this.err(`${path}.${k}`, `malformed (${opt.pattern.source})`);
    if (!opt.optional && v.trim() === '') return this.err(`${path}.${k}`, 'must not be empty');
    return v;
  }
  num(o: Obj, k: string, path: string, r: { min: number; max: number; def?: number; int?: boolean }): number | undefined {
    const v = o[k];
    if (v === undefined && r.def !== undefined) return r.def;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.err(`${path}.${k}`, 'must be a number');
    if (v < r.min || v > r.max) return this.err(`${path}.${k}`, `must be between ${r.min} and ${r.max}`);
    if (r.int && !Number.isInteger(v)) return this.err(`${path}.${k}`, 'must be an integer');
    return v;
  }
  oneOf<T extends string>(o: Obj, k: string, path: string, spec: { values: readonly T[]; def?: T }): T | undefined {
    const { values, def } = spec;
    const v = o[k] ?? def;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) return this.err(`${path}.${k}`, `must be one of ${values.join(', ')}`);
    return v as T;
  }
  arr(o: Obj, k: string, path: string, spec: { max: number; optional?: boolean }): unknown[] | undefined {
    const { max, optional = false } = spec;
    const v = o[k];
    if (v === undefined && optional) return [];
    if (!Array.isArray(v)) return this.err(`${path}.${k}`, 'must be an array');
    if (v.length > max) return this.err(`${path}.${k}`, `at most ${max} items`);
    return v;
  }
  strings(o: Obj, k: string, path: string, max = 1000): string[] | undefined {
    const a = this.arr(o, k, path, { max: max, optional: true });
    if (!a) return undefined;
    if (!a.every((x) => typeof x === 'string' && x.length > 0 && x.length <= LIMITS.name)) return this.err(`${path}.${k}`, 'must be an array of non-empty strings');
    return a as string[];
  }
}

function objective(c: Ctx, v: unknown, path: string): Objective | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  const id = c.str(v, 'id', path, { pattern: ID }); const title = c.str(v, 'title', path, { max: LIMITS.name });
  const description = c.str(v, 'description', path, { optional: true }); const priority = c.oneOf(v, 'priority', path, { values: PRIORITIES, def: 'medium' });
  if (id === undefined || title === undefined || priority === undefined) return undefined;
  return { id, title, priority, ...(description ? { description } : {}) };
}

function team(c: Ctx, v: unknown, path: string): Team | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  const id = c.str(v, 'id', path, { pattern: ID }); const name = c.str(v, 'name', path, { max: LIMITS.name });
  const orgs = c.strings(v, 'orgs', path); const players = c.strings(v, 'players', path);
  const sensorId = c.str(v, 'sensorId', path, { optional: true, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/ });
  if (orgs && orgs.length === 0) c.err(`${path}.orgs`, 'at least one organisation');
  if (id === undefined || name === undefined || !orgs || !players) return undefined;
  return { id, name, orgs, ...(players.length ? { players } : {}), ...(sensorId ? { sensorId } : {}) };
}

function payload(c: Ctx, type: string, v: unknown, path: string): InjectPayload | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  if (v.kind !== undefined && v.kind !== type) return c.err(`${path}.kind`, `must equal the inject type ${type}`);
  switch (type) {
    case 'technical': {
      const technique = c.str(v, 'technique', path, { optional: true, pattern: /^T\d{4}(\.\d{3})?$/ });
      if (v.atomic !== undefined) {
        if (!isObj(v.atomic) || !isObj(v.atomic.executor) || typeof v.atomic.executor.name !== 'string') c.err(`${path}.atomic`, 'must be an Atomic Red Team test with executor.name');
        else if (v.atomic.executor.command !== undefined && (typeof v.atomic.executor.command !== 'string' || v.atomic.executor.command.length > LIMITS.text)) c.err(`${path}.atomic.executor.command`, 'must be a string');
      }
      if (v.caldera !== undefined && (!isObj(v.caldera) || !isObj(v.caldera.platforms))) c.err(`${path}.caldera`, 'must be a Caldera ability with platforms');
      const events = c.arr(v, 'events', path, { max: LIMITS.events, optional: true });
      if (events && !events.every(isObj)) c.err(`${path}.events`, 'must be an array of objects');
      const network = c.arr(v, 'network', path, { max: LIMITS.events, optional: true });
      if (network && !network.every(isObj)) c.err(`${path}.network`, 'must be an array of objects');
      c.str(v, 'host', path, { optional: true, max: LIMITS.name });
      if (!technique && v.atomic === undefined && v.caldera === undefined && !events?.length && !network?.length) c.err(path, 'a technical inject needs technique, atomic, caldera, network or events');
      return { ...(v as object), kind: 'technical' } as InjectPayload;
    }
    case 'intel': {
      const b = v.bundle;
      if (!isObj(b) || b.type !== 'bundle' || typeof b.id !== 'string' || !Array.isArray(b.objects)) return c.err(`${path}.bundle`, 'must be a STIX bundle {type: bundle, id, objects}');
      if (b.objects.length > LIMITS.events || !b.objects.every((o) => isObj(o) && typeof o.type === 'string' && typeof o.id === 'string')) return c.err(`${path}.bundle.objects`, `at most ${LIMITS.events} STIX objects with type and id`);
      const title = c.str(v, 'title', path, { optional: true, max: LIMITS.name });
      return { kind: 'intel', bundle: b as never, ...(title ? { title } : {}) };
    }
    case 'communication': {
      const channel = c.oneOf(v, 'channel', path, { values: COMM_CHANNELS, def: 'message' }); const from = c.str(v, 'from', path, { max: LIMITS.name });
      const subject = c.str(v, 'subject', path, { max: LIMITS.name }); const body = c.str(v, 'body', path);
      if (!channel || from === undefined || subject === undefined || body === undefined) return undefined;
      return { kind: 'communication', channel, from, subject, body };
    }
    case 'prompt': {
      const action = c.oneOf(v, 'action', path, { values: PROMPT_ACTIONS }); const text = c.str(v, 'text', path);
      if (!action || text === undefined) return undefined;
      return { kind: 'prompt', action, text };
    }
    default: return undefined;
  }
}

function expectation(c: Ctx, v: unknown, path: string): Expectation | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  const type = c.oneOf(v, 'type', path, { values: EXPECTATION_TYPES });
  const name = c.str(v, 'name', path, { max: LIMITS.name, optional: true }) ?? (type ? type[0] + type.slice(1).toLowerCase() : undefined);
  const expectedScore = c.num(v, 'expectedScore', path, { min: 1, max: 1000, def: type === 'MANUAL' ? 50 : 100 });
  const human = type === 'REPORT' || type === 'MANUAL' || type === 'DECISION';
  const expirySeconds = c.num(v, 'expirySeconds', path, { min: 1, max: LIMITS.offset, def: human ? 86400 : 21600 });
  const validation = c.oneOf(v, 'validation', path, { values: ['any', 'all'] as const, def: 'any' });
  const objectives = c.strings(v, 'objectives', path, 100);
  const description = c.str(v, 'description', path, { optional: true });
  let match: Expectation['match'];
  if (v.match !== undefined) {
    if (!isObj(v.match)) c.err(`${path}.match`, 'must be an object');
    else {
      const category = c.str(v.match, 'category', `${path}.match`, { optional: true, max: LIMITS.name });
      const ruleRef = c.str(v.match, 'ruleRef', `${path}.match`, { optional: true, max: LIMITS.name });
      const technique = c.str(v.match, 'technique', `${path}.match`, { optional: true, pattern: /^T\d{4}(\.\d{3})?$/ });
      const minSeverity = v.match.minSeverity === undefined ? undefined : c.num(v.match, 'minSeverity', `${path}.match`, { min: 0, max: 5, int: true });
      match = { ...(category ? { category } : {}), ...(ruleRef ? { ruleRef } : {}), ...(technique ? { technique } : {}), ...(minSeverity !== undefined ? { minSeverity } : {}) };
    }
  }
  if (!type || !name || expectedScore === undefined || expirySeconds === undefined || !validation || !objectives) return undefined;
  return { name, type, expectedScore, expirySeconds, validation, ...(objectives.length ? { objectives } : {}), ...(description ? { description } : {}), ...(match ? { match } : {}) };
}

function dependency(c: Ctx, v: unknown, path: string): InjectDependency | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  const parent = c.str(v, 'parent', path, { pattern: ID }); const mode = c.oneOf(v, 'mode', path, { values: ['and', 'or'] as const, def: 'and' });
  const conds = c.arr(v, 'conditions', path, { max: 20 });
  if (!parent || !mode || !conds) return undefined;
  const conditions = conds.map((x, i) => {
    if (!isObj(x) || typeof x.key !== 'string' || x.key === '' || x.key.length > LIMITS.name || typeof x.value !== 'boolean') return c.err(`${path}.conditions[${i}]`, 'must be {key: string, value: boolean}');
    return { key: x.key, value: x.value };
  });
  if (conditions.length === 0) c.err(`${path}.conditions`, 'at least one condition');
  if (conditions.some((x) => x === undefined)) return undefined;
  return { parent, mode, conditions: conditions as { key: string; value: boolean }[] };
}

function inject(c: Ctx, v: unknown, path: string): Inject | undefined {
  if (!isObj(v)) return c.err(path, 'must be an object');
  const id = c.str(v, 'id', path, { pattern: ID }); const title = c.str(v, 'title', path, { max: LIMITS.name });
  const description = c.str(v, 'description', path, { optional: true });
  const offsetSeconds = c.num(v, 'offsetSeconds', path, { min: 0, max: LIMITS.offset });
  const type = c.oneOf(v, 'type', path, { values: INJECT_TYPES });
  const p = type ? payload(c, type, v.payload, `${path}.payload`) : undefined;
  const teams = c.strings(v, 'teams', path);
  const deps = c.arr(v, 'dependsOn', path, { max: 10, optional: true })?.map((d, i) => dependency(c, d, `${path}.dependsOn[${i}]`));
  const exps = c.arr(v, 'expectations', path, { max: LIMITS.expectations, optional: true })?.map((e, i) => expectation(c, e, `${path}.expectations[${i}]`));
  if (exps) {
    const names = exps.filter((e) => e).map((e) => e!.name);
    if (new Set(names).size !== names.length) c.err(`${path}.expectations`, 'expectation names must be unique within an inject');
  }
  if (!id || !title || offsetSeconds === undefined || !type || !p || !teams || !deps || !exps || deps.some((d) => !d) || exps.some((e) => !e)) return undefined;
  return {
    id, title, offsetSeconds, type, payload: p, teams, expectations: exps as Expectation[],
    ...(description ? { description } : {}), ...(deps.length ? { dependsOn: deps as InjectDependency[] } : {}),
  };
}

function lessons(c: Ctx, v: unknown, path: string): LessonsCategory[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 50) return c.err(path, 'must be an array of at most 50 categories');
  return v.map((cat, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(cat) || typeof cat.id !== 'string' || typeof cat.name !== 'string' || !Array.isArray(cat.questions)) { c.err(p, 'must be {id, name, questions[]}'); return { id: '', name: '', questions: [] }; }
    const questions = cat.questions.map((q, j) => {
      if (!isObj(q) || typeof q.id !== 'string' || typeof q.content !== 'string') { c.err(`${p}.questions[${j}]`, 'must be {id, content}'); return { id: '', content: '' }; }
      return { id: q.id, content: q.content, ...(typeof q.explanation === 'string' ? { explanation: q.explanation } : {}) };
    });
    return { id: cat.id, name: cat.name, questions, ...(typeof cat.description === 'string' ? { description: cat.description } : {}) };
  });
}

/** Parses a scenario (or a {@link ScenarioExport} envelope); cross-checks ids and dependencies. */
export function parseScenario(input: unknown): ScenarioParse {
  const c = new Ctx();
  let v = input;
  if (isObj(v) && v.format === 'shieldwall-scenario') {
    if (v.version !== 1) return { ok: false, errors: ['$.version: unsupported export version (expected 1)'] };
    v = v.scenario;
  }
  if (!isObj(v)) return { ok: false, errors: ['$: must be a JSON object'] };
  const name = c.str(v, 'name', '$', { max: LIMITS.name });
  const storyline = c.str(v, 'storyline', '$', { optional: true }) ?? '';
  const category = c.oneOf(v, 'category', '$', { values: CATEGORIES, def: 'other' });
  const objectives = c.arr(v, 'objectives', '$', { max: LIMITS.objectives, optional: true })?.map((o, i) => objective(c, o, `$.objectives[${i}]`));
  const teams = c.arr(v, 'teams', '$', { max: LIMITS.teams })?.map((t, i) => team(c, t, `$.teams[${i}]`));
  const injects = c.arr(v, 'injects', '$', { max: LIMITS.injects })?.map((x, i) => inject(c, x, `$.injects[${i}]`));
  const variables: Variable[] = [];
  for (const [i, x] of (c.arr(v, 'variables', '$', { max: 200, optional: true }) ?? []).entries()) {
    if (!isObj(x) || typeof x.key !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(x.key) || typeof x.value !== 'string') c.err(`$.variables[${i}]`, 'must be {key: identifier, value: string}');
    else variables.push({ key: x.key, value: x.value, ...(typeof x.description === 'string' ? { description: x.description } : {}) });
  }
  const ls = lessons(c, v.lessons, '$.lessons');
  if (teams && teams.length === 0) c.err('$.teams', 'at least one team');
  if (c.errors.length || !name || !category || !objectives || !teams || !injects) return { ok: false, errors: c.errors.length ? c.errors : ['$: invalid scenario'] };
  const s: Scenario = {
    name, storyline, category, objectives: objectives as Objective[], teams: teams as Team[], injects: injects as Inject[], variables,
    ...(ls ? { lessons: ls } : {}),
  };
  crossCheck(c, s);
  return c.errors.length ? { ok: false, errors: c.errors } : { ok: true, scenario: s };
}

function crossCheck(c: Ctx, s: Scenario): void {
  const dup = (ids: string[], path: string) => { const seen = new Set<string>(); for (const id of ids) { if (seen.has(id)) c.err(path, `duplicate id ${id}`); seen.add(id); } };
  dup(s.teams.map((t) => t.id), '$.teams'); dup(s.objectives.map((o) => o.id), '$.objectives'); dup(s.injects.map((i) => i.id), '$.injects');
  const teams = new Set(s.teams.map((t) => t.id)); const objs = new Set(s.objectives.map((o) => o.id));
  const byId = new Map(s.injects.map((i) => [i.id, i]));
  s.injects.forEach((inj, i) => {
    for (const t of inj.teams) if (!teams.has(t)) c.err(`$.injects[${i}].teams`, `unknown team ${t}`);
    inj.expectations.forEach((e, j) => { for (const o of e.objectives ?? []) if (!objs.has(o)) c.err(`$.injects[${i}].expectations[${j}].objectives`, `unknown objective ${o}`); });
    inj.dependsOn?.forEach((d, j) => {
      const parent = byId.get(d.parent);
      if (!parent) { c.err(`$.injects[${i}].dependsOn[${j}].parent`, `unknown inject ${d.parent}`); return; }
      if (parent.offsetSeconds > inj.offsetSeconds) c.err(`$.injects[${i}].dependsOn[${j}].parent`, `parent ${d.parent} fires after its child`);
      for (const cond of d.conditions) if (cond.key !== 'Execution' && !parent.expectations.some((e) => e.name === cond.key)) c.err(`$.injects[${i}].dependsOn[${j}].conditions`, `parent ${d.parent} has no expectation named ${cond.key}`);
    });
  });
  // cycles: parents always fire no later than their children; equal offsets could still loop
  const state = new Map<string, number>();
  const visit = (id: string): boolean => {
    if (state.get(id) === 1) return true; if (state.get(id) === 2) return false;
    state.set(id, 1);
    for (const d of byId.get(id)?.dependsOn ?? []) if (byId.has(d.parent) && visit(d.parent)) return true;
    state.set(id, 2); return false;
  };
  for (const id of byId.keys()) if (visit(id)) { c.err('$.injects', `dependency cycle through ${id}`); break; }
}

/** The JSON export envelope of a scenario (import accepts it back). */
export function exportScenario(s: Scenario): ScenarioExport {
  return { format: 'shieldwall-scenario', version: 1, scenario: s };
}
