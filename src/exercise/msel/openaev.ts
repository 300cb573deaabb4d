/**
 * The OpenAEV (formerly OpenBAS) scenario export (`export_version` 1: scenario_information,
 * scenario_teams, scenario_objectives, scenario_injects, scenario_lessons_*, scenario_variables;
 * shared reference §5.4) read into a {@link Scenario}. Inject time is `inject_depends_duration`
 * (seconds from start); conditions come from `inject_depends_on`; expectations from the
 * inject's content, else the contract's `predefinedExpectations`. OpenAEV's PREVENTION has no
 * counterpart here (nothing blocks the synthetic telemetry), so it becomes a MANUAL expectation
 * named `Prevention` that control grades. Problems name the inject (`inject 2 (whoami)`).
 */
import {
  CATEGORIES, EXPECTATION_TYPES,
  type Expectation, type ExpectationType, type Inject, type InjectDependency, type InjectPayload, type Objective, type Priority, type Scenario, type Team,
} from '../model.js';
import { parseScenario } from '../validate.js';
import { MselImportError, type RowIssue } from './draft.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface OpenAevOptions {
  /** Teams for injects when the export has none, or to give export teams their organisations (matched by name). */
  teams?: readonly Team[];
  /** Organisations playing an exported team, by its name. */
  resolveTeam?: (name: string) => readonly string[] | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'x';
const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

/** OpenAEV priority (scale 1–? in the UI, strings in exports) → ours. */
function priorityOf(v: unknown): Priority {
  if (typeof v === 'number') return v >= 4 ? 'critical' : v >= 3 ? 'high' : v >= 2 ? 'medium' : 'low';
  const s = str(v).toLowerCase();
  return (['low', 'medium', 'high', 'critical'] as const).find((p) => p === s) ?? 'medium';
}

function expectationsOf(inj: Obj): Obj[] {
  const content = isObj(inj.inject_content) ? inj.inject_content : {};
  const own = arr(content.expectations).filter(isObj);
  if (own.length) return own;
  const contract = isObj(inj.inject_injector_contract) ? inj.inject_injector_contract : {};
  const converted = isObj(contract.convertedContent) ? contract.convertedContent : {};
  const field = arr(converted.fields).filter(isObj).find((f) => f.key === 'expectations');
  return arr(field?.predefinedExpectations).filter(isObj);
}

function expectationOf(e: Obj, where: string, issues: RowIssue[], index: number): Expectation | undefined {
  const raw = str(e.expectation_type).toUpperCase();
  let type: ExpectationType;
  let name = str(e.expectation_name);
  if (raw === 'PREVENTION') {
    type = 'MANUAL';
    name = 'Prevention';
  } else if (raw === 'TEXT' || raw === 'DOCUMENT') {
    type = 'REPORT';
  } else if ((EXPECTATION_TYPES as readonly string[]).includes(raw)) {
    type = raw as ExpectationType;
  } else {
    issues.push({ row: index, column: 'expectation_type', message: `${where}: expectation type ${raw.slice(0, 30) || '(none)'} has no counterpart (DETECTION, PREVENTION, MANUAL, TEXT, DOCUMENT)` });
    return undefined;
  }
  // Condition keys of OpenAEV name typed expectations by their type (`Detection`), manual ones by name.
  if (raw !== 'MANUAL') name = raw.charAt(0) + raw.slice(1).toLowerCase();
  const score = typeof e.expectation_score === 'number' ? e.expectation_score : type === 'MANUAL' ? 50 : 100;
  const expiry = typeof e.expectation_expiration_time === 'number' ? e.expectation_expiration_time : type === 'DETECTION' ? 21_600 : 86_400;
  return {
    name: name.slice(0, 200) || type, type, expectedScore: Math.min(1000, Math.max(1, score)), expirySeconds: Math.max(1, Math.round(expiry)),
    validation: e.expectation_expectation_group === true ? 'any' : 'all',
    ...(str(e.expectation_description) ? { description: str(e.expectation_description) } : {}),
  };
}

function payloadOf(inj: Obj, title: string): InjectPayload {
  const contract = isObj(inj.inject_injector_contract) ? inj.inject_injector_contract : {};
  const converted = isObj(contract.convertedContent) ? contract.convertedContent : {};
  const type = str(contract.injector_contract_injector_type) || str(isObj(converted.config) ? converted.config.type : '');
  const content = isObj(inj.inject_content) ? inj.inject_content : {};
  const payload = isObj(contract.injector_contract_payload) ? contract.injector_contract_payload : undefined;
  const externalIds = [
    ...arr(converted.contract_attack_patterns_external_ids).map(str),
    ...arr(payload?.payload_attack_patterns).filter(isObj).map((a) => str(a.attack_pattern_external_id)),
  ];
  const technique = externalIds.find((x) => TECHNIQUE.test(x));
  if (payload || type === 'openbas_implant' || type === 'openbas_caldera') {
    const command = str(payload?.command_content);
    return {
      kind: 'technical', ...(technique ? { technique } : {}),
      ...(command || !technique ? { atomic: { name: str(payload?.payload_name) || title, ...(technique ? { technique } : {}), executor: { name: str(payload?.command_executor) || 'manual', ...(command ? { command } : {}) } } } : {}),
    };
  }
  const subject = str(content.subject) || title;
  const body = str(content.body) || str(content.message) || str(inj.inject_description) || title;
  if (type === 'openbas_email') return { kind: 'communication', channel: 'email', from: 'Exercise control', subject, body };
  if (type === 'openbas_ovh_sms') return { kind: 'communication', channel: 'phone', from: 'Exercise control', subject, body };
  if (type === 'openbas_mastodon' || type === 'openbas_channel') return { kind: 'communication', channel: 'media', from: 'Simulated media', subject, body };
  if (type === 'openbas_manual') return { kind: 'prompt', action: 'other', text: body };
  return { kind: 'communication', channel: 'message', from: 'Exercise control', subject, body };
}

/** Reads an OpenAEV scenario export (parsed JSON) or throws {@link MselImportError}. */
export function scenarioFromOpenAev(input: unknown, opts: OpenAevOptions = {}): Scenario {
  const issues: RowIssue[] = [];
  if (!isObj(input) || input.export_version === undefined || !isObj(input.scenario_information)) {
    throw new MselImportError('OpenAEV', [{ row: 0, message: 'not an OpenAEV scenario export (export_version and scenario_information expected)' }]);
  }
  if (input.export_version !== 1) throw new MselImportError('OpenAEV', [{ row: 0, message: `export_version ${String(input.export_version).slice(0, 10)} is not supported (1 is)` }]);
  const info = input.scenario_information;

  // Teams: the export's own (team_id, team_name), given organisations by name; else the request's.
  const teams: Team[] = [];
  const teamIdOf = new Map<string, string>();
  const given = new Map((opts.teams ?? []).flatMap((t) => [[t.name.toLowerCase(), t], [t.id.toLowerCase(), t]] as const));
  arr(input.scenario_teams).filter(isObj).forEach((t, k) => {
    const name = str(t.team_name) || `Team ${k + 1}`;
    const match = given.get(name.toLowerCase());
    const orgs = match?.orgs ?? opts.resolveTeam?.(name);
    if (!orgs?.length) {
      issues.push({ row: k, column: 'scenario_teams', message: `team ${name.slice(0, 60)} is neither a team of the request nor an organisation of this node` });
      return;
    }
    const id = match?.id ?? `team-${slug(name)}`;
    teamIdOf.set(str(t.team_id), id);
    teams.push({ ...(match ?? {}), id, name: name.slice(0, 200), orgs: [...orgs] });
  });
  for (const t of opts.teams ?? []) if (!teams.some((x) => x.id === t.id)) teams.push(t);
  if (teams.length === 0) issues.push({ row: 0, column: 'scenario_teams', message: 'the export has no team: give the teams that play it with the import' });

  const objectives: Objective[] = arr(input.scenario_objectives).filter(isObj).map((o, k) => ({
    id: `obj-${k + 1}`, title: (str(o.objective_title) || `Objective ${k + 1}`).slice(0, 200), priority: priorityOf(o.objective_priority),
    ...(str(o.objective_description) ? { description: str(o.objective_description) } : {}),
  }));

  const raw = arr(input.scenario_injects).filter(isObj);
  const injectIdOf = new Map<string, string>();
  raw.forEach((inj, k) => {
    const id = str(inj.inject_id);
    injectIdOf.set(id, ID.test(id) ? id : `inject-${k + 1}`);
  });
  const injects: Inject[] = [];
  raw.forEach((inj, k) => {
    const title = (str(inj.inject_title) || `Inject ${k + 1}`).slice(0, 200);
    const where = `inject ${k + 1} (${title.slice(0, 40)})`;
    if (inj.inject_enabled === false) return;
    const offset = inj.inject_depends_duration;
    if (typeof offset !== 'number' || !Number.isFinite(offset) || offset < 0) {
      issues.push({ row: k + 1, column: 'inject_depends_duration', message: `${where}: inject_depends_duration must be seconds ≥ 0` });
      return;
    }
    const expectations = expectationsOf(inj).map((e) => expectationOf(e, where, issues, k + 1)).filter((e): e is Expectation => e !== undefined);
    const teamIds = inj.inject_all_teams === true ? [] : arr(inj.inject_teams).map((t) => teamIdOf.get(str(isObj(t) ? t.team_id : t))).filter((t): t is string => !!t);
    const dependsOn: InjectDependency[] = [];
    for (const d of arr(inj.inject_depends_on).filter(isObj)) {
      const rel = isObj(d.dependency_relationship) ? d.dependency_relationship : {};
      const parent = injectIdOf.get(str(rel.inject_parent_id));
      const cond = isObj(d.dependency_condition) ? d.dependency_condition : {};
      if (!parent) {
        issues.push({ row: k + 1, column: 'inject_depends_on', message: `${where}: parent ${str(rel.inject_parent_id).slice(0, 40)} is not an inject of the export` });
        continue;
      }
      const conditions = arr(cond.conditions).filter(isObj).map((c) => ({ key: str(c.key) === 'Prevention' ? 'Prevention' : str(c.key), value: c.value === true }));
      dependsOn.push({ parent, mode: cond.mode === 'or' ? 'or' : 'and', conditions: conditions.length ? conditions : [{ key: 'Execution', value: true }] });
    }
    const payload = payloadOf(inj, title);
    injects.push({
      id: injectIdOf.get(str(inj.inject_id))!, title, offsetSeconds: Math.round(offset), type: payload.kind, payload, teams: teamIds, expectations,
      ...(str(inj.inject_description) ? { description: str(inj.inject_description) } : {}), ...(dependsOn.length ? { dependsOn } : {}),
    });
  });

  const questions = arr(input.scenario_lessons_questions).filter(isObj);
  const lessons = arr(input.scenario_lessons_categories).filter(isObj).map((c, k) => ({
    id: `lc-${k + 1}`, name: str(c.lessons_category_name) || `Category ${k + 1}`,
    ...(str(c.lessons_category_description) ? { description: str(c.lessons_category_description) } : {}),
    questions: questions.filter((q) => str(q.lessons_question_category) === str(c.lessons_category_id))
      .map((q, j) => ({ id: `lq-${k + 1}-${j + 1}`, content: str(q.lessons_question_content) || '?', ...(str(q.lessons_question_explanation) ? { explanation: str(q.lessons_question_explanation) } : {}) })),
  }));
  const variables = arr(input.scenario_variables).filter(isObj)
    .map((v) => ({ key: str(v.variable_key), value: str(v.variable_value), ...(str(v.variable_description) ? { description: str(v.variable_description) } : {}) }))
    .filter((v) => /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(v.key));
  if (issues.length) throw new MselImportError('OpenAEV', issues);

  const category = str(info.scenario_category);
  const scenario: Scenario = {
    name: (str(info.scenario_name) || 'OpenAEV scenario').slice(0, 200),
    storyline: [str(info.scenario_subtitle), str(info.scenario_description)].filter(Boolean).join('\n\n'),
    category: (CATEGORIES as readonly string[]).includes(category) ? (category as Scenario['category']) : 'other',
    objectives, teams, injects, variables, ...(lessons.length ? { lessons } : {}),
  };
  const checked = parseScenario(scenario);
  if (!checked.ok) throw new MselImportError('OpenAEV', checked.errors.map((message) => ({ row: 0, message })));
  return checked.scenario;
}
