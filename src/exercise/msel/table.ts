/**
 * An MSEL sheet (header row + one inject per row, from CSV or XLSX) read into a
 * {@link DraftScenario}. Column names are matched case-insensitively with common aliases
 * (HSEEP templates vary, see docs/exercises-msel.md); unknown columns are kept as free fields
 * of the inject. Every bad row is reported with its sheet row number (the header is row 1).
 */
import {
  EXPECTATION_TYPES, INJECT_TYPES, MselImportError, defaultExpiry, defaultScore, expectationKey,
  type DraftCondition, type DraftExpectation, type DraftExpectationType, type DraftInject, type DraftInjectType, type DraftScenario, type RowIssue,
} from './draft.js';
import { parseAbsolute, parseRelative } from './time.js';

export type Cell = string | number | boolean | Date | null | undefined;

export interface TableOptions {
  /** Scenario name (the sheet carries none). */
  name?: string;
  description?: string;
  /** Exercise start for absolute times (epoch ms); default: the earliest absolute time of the sheet. */
  start?: number;
}

export const MAX_ROWS = 5000;
const MAX_CELL = 20_000;

type Field =
  | 'serial' | 'time' | 'absolute' | 'type' | 'teams' | 'title' | 'content' | 'technique'
  | 'expType' | 'expName' | 'expScore' | 'expExpiry' | 'expGroup' | 'dependsOn' | 'condition' | 'enabled'
  | 'channel' | 'from' | 'action' | 'host' | 'indicators' | 'objectives';

const ALIASES: Record<Field, string[]> = {
  serial: ['serial', '#', 'id', 'no', 'number', 'inject', 'inject id', 'serial number', 'event'],
  time: ['time', 't+', 'relative time', 'scenario time', 'designated scenario time', 'offset'],
  absolute: ['absolute time', 'datetime', 'date time', 'date/time', 'timestamp', 'date'],
  type: ['type', 'inject type', 'kind'],
  teams: ['teams', 'team', 'target', 'targets', 'target team', 'target teams', 'to', 'recipient', 'recipients'],
  title: ['title', 'subject', 'event synopsis', 'synopsis', 'name'],
  content: ['content', 'body', 'message', 'description', 'text', 'details'],
  technique: ['technique', 'attack technique', 'att&ck', 'attack'],
  expType: ['expectation type', 'expectation types', 'expectation', 'expectations', 'expected type'],
  expName: ['expectation name', 'expectation names'],
  expScore: ['expectation score', 'expected score', 'score'],
  expExpiry: ['expectation expiry', 'expiry', 'expiration', 'expectation expiration', 'expires after'],
  expGroup: ['expectation group', 'validation', 'validated by'],
  dependsOn: ['depends on', 'depends', 'parent', 'parents', 'dependency'],
  condition: ['condition', 'conditions', 'depends condition'],
  enabled: ['enabled', 'active'],
  channel: ['channel', 'mode', 'inject mode', 'medium'],
  from: ['from', 'sender', 'from (simulator)', 'simulator', 'author'],
  action: ['action', 'expected action', 'prompt action', 'expected player action'],
  host: ['host', 'hostname', 'asset'],
  indicators: ['indicators', 'iocs', 'ioc', 'observables'],
  objectives: ['objective', 'objectives', 'capability'],
};

const normaliseHeader = (h: string): string => h.trim().toLowerCase().replace(/[\s_-]+/g, ' ').replace(/:$/, '');

function columnMap(header: readonly Cell[], issues: RowIssue[]): { fields: Map<Field, number>; extra: Map<string, number> } {
  const fields = new Map<Field, number>();
  const extra = new Map<string, number>();
  header.forEach((cell, i) => {
    const raw = cellText(cell);
    if (!raw) return;
    const h = normaliseHeader(raw);
    const field = (Object.keys(ALIASES) as Field[]).find((f) => ALIASES[f].includes(h));
    if (!field) {
      extra.set(raw.trim().slice(0, 60), i);
      return;
    }
    if (fields.has(field)) issues.push({ row: 1, column: raw, message: `column ${raw} repeats the ${field} column` });
    else fields.set(field, i);
  });
  if (!fields.has('serial')) issues.push({ row: 1, message: 'the header has no serial column (serial, #, id)' });
  if (!fields.has('time') && !fields.has('absolute')) issues.push({ row: 1, message: 'the header has no time column (time, T+, absolute time)' });
  if (!fields.has('type')) issues.push({ row: 1, message: `the header has no type column (${INJECT_TYPES.join(', ')})` });
  if (!fields.has('title')) issues.push({ row: 1, message: 'the header has no title column (title, subject)' });
  return { fields, extra };
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '';
  if (c instanceof Date) return Number.isNaN(c.getTime()) ? '' : c.toISOString();
  return String(c).trim();
}

const splitList = (s: string): string[] => s.split(/[;,\n]/).map((x) => x.trim()).filter(Boolean);

interface Pending {
  inject: Omit<DraftInject, 'at' | 'dependsOn'>;
  rel?: number;
  abs?: number;
  deps: string[];
  condition: string;
}

/** Reads a sheet (first row = header) into a draft scenario, or throws {@link MselImportError}. */
export function tableToDraft(rows: readonly (readonly Cell[])[], format: string, opts: TableOptions = {}): DraftScenario {
  const issues: RowIssue[] = [];
  const [header, ...body] = rows;
  if (!header) throw new MselImportError(format, [{ row: 1, message: 'the sheet is empty' }]);
  if (body.length > MAX_ROWS) throw new MselImportError(format, [{ row: MAX_ROWS + 2, message: `at most ${MAX_ROWS} injects per MSEL` }]);
  const { fields, extra } = columnMap(header, issues);
  if (issues.length) throw new MselImportError(format, issues);

  const pending: Pending[] = [];
  const seen = new Map<string, number>();
  body.forEach((cells, i) => {
    const row = i + 2;
    const get = (f: Field): string => {
      const idx = fields.get(f);
      return idx === undefined ? '' : cellText(cells[idx]);
    };
    if (cells.every((c) => cellText(c) === '')) return; // blank line
    const bad = (column: string, message: string) => issues.push({ row, column, message });
    for (const c of cells) if (cellText(c).length > MAX_CELL) bad('any', `a cell is longer than ${MAX_CELL} characters`);

    const serial = get('serial');
    if (!serial) bad('serial', 'missing serial');
    else if (serial.length > 64) bad('serial', 'serial longer than 64 characters');
    else if (seen.has(serial)) bad('serial', `serial ${serial} already used on row ${seen.get(serial)}`);
    else seen.set(serial, row);

    const p: Pending = { inject: { serial, row, type: 'communication', teams: 'all', title: '', content: '', indicators: [], objectives: [], extra: {}, expectations: [], enabled: true }, deps: [], condition: get('condition') };
    readTime({ rel: get('time'), abs: get('absolute'), relCell: cells[fields.get('time') ?? -1], absCell: cells[fields.get('absolute') ?? -1] }, p, bad);

    const type = get('type').toLowerCase();
    if (!(INJECT_TYPES as readonly string[]).includes(type)) bad('type', `type "${type.slice(0, 40)}" is not one of ${INJECT_TYPES.join(', ')}`);
    else p.inject.type = type as DraftInjectType;

    const teams = get('teams');
    p.inject.teams = teams === '' || /^(all|\*|all teams)$/i.test(teams) ? 'all' : splitList(teams);
    p.inject.title = get('title');
    if (!p.inject.title) bad('title', 'missing title');
    else if (p.inject.title.length > 300) bad('title', 'title longer than 300 characters');
    p.inject.content = get('content');
    const technique = get('technique');
    if (technique) {
      if (/^T\d{4}(\.\d{3})?$/i.test(technique)) p.inject.technique = technique.toUpperCase();
      else bad('technique', `technique "${technique.slice(0, 40)}" is not an ATT&CK id such as T1059.001`);
    }
    if (p.inject.type === 'technical' && !p.inject.technique && !p.inject.content) bad('technique', 'a technical inject needs a technique or content');
    for (const f of ['channel', 'from', 'action', 'host'] as const) {
      const v = get(f);
      if (v) p.inject[f] = v.slice(0, 200);
    }
    p.inject.indicators = splitList(get('indicators'));
    p.inject.objectives = get('objectives').split(';').map((x) => x.trim()).filter(Boolean);
    for (const [name, idx] of extra) {
      const v = cellText(cells[idx]);
      if (v) p.inject.extra[name] = v;
    }
    const enabled = get('enabled').toLowerCase();
    if (enabled) {
      if (/^(yes|y|true|1|x)$/.test(enabled)) p.inject.enabled = true;
      else if (/^(no|n|false|0)$/.test(enabled)) p.inject.enabled = false;
      else bad('enabled', `enabled "${enabled.slice(0, 20)}" is not yes or no`);
    }
    p.inject.expectations = readExpectations({ types: get('expType'), names: get('expName'), scores: get('expScore'), expiries: get('expExpiry'), groups: get('expGroup') }, bad);
    p.deps = splitList(get('dependsOn'));
    if (p.condition && p.deps.length === 0) bad('condition', 'a condition needs a depends-on serial');
    pending.push(p);
  });

  const absolutes = pending.map((p) => p.abs).filter((a): a is number => a !== undefined);
  const start = opts.start ?? (absolutes.length ? Math.min(...absolutes) : 0);
  const bySerial = new Map(pending.map((p) => [p.inject.serial, p]));
  const injects: DraftInject[] = [];
  for (const p of pending) {
    const bad = (column: string, message: string) => issues.push({ row: p.inject.row, column, message });
    let at = p.rel ?? 0;
    if (p.abs !== undefined) {
      at = Math.round((p.abs - start) / 1000);
      if (at < 0) bad('absolute time', `${new Date(p.abs).toISOString()} is before the exercise start ${new Date(start).toISOString()}`);
    }
    const dependsOn = readCondition(p, bySerial, bad);
    injects.push({ ...p.inject, at, ...(dependsOn ? { dependsOn } : {}) });
  }
  const cycle = findCycle(injects);
  if (cycle) issues.push({ row: bySerial.get(cycle[0]!)?.inject.row ?? 1, column: 'depends on', message: `dependency cycle ${cycle.join(' → ')}` });
  if (issues.length) throw new MselImportError(format, issues);

  const teamNames = new Set<string>();
  for (const i of injects) if (i.teams !== 'all') for (const t of i.teams) teamNames.add(t);
  return {
    name: opts.name?.trim() || `MSEL import (${format})`,
    description: opts.description ?? '',
    teams: [...teamNames].map((name) => ({ name, description: '' })),
    objectives: [],
    injects: injects.sort((a, b) => a.at - b.at || a.row - b.row),
    lessons: [],
    variables: {},
  };
}

function readTime({ rel, abs, relCell, absCell }: { rel: string; abs: string; relCell: Cell; absCell: Cell }, p: Pending, bad: (c: string, m: string) => void): void {
  if (absCell instanceof Date) p.abs = absCell.getTime();
  else if (abs) {
    const a = parseAbsolute(abs);
    if (a === undefined) bad('absolute time', `"${abs.slice(0, 40)}" is not a date-time such as 2026-11-17T09:30:00Z`);
    else p.abs = a;
  }
  if (p.abs !== undefined) return;
  if (relCell instanceof Date) {
    p.abs = relCell.getTime();
    return;
  }
  if (!rel) {
    if (!abs) bad('time', 'missing time');
    return;
  }
  const r = parseRelative(rel);
  if (r !== undefined) {
    p.rel = r;
    return;
  }
  const a = parseAbsolute(rel);
  if (a !== undefined) p.abs = a;
  else bad('time', `"${rel.slice(0, 40)}" is neither a relative time (T+01:30, 90m, 1h30m) nor a date-time`);
}

function readExpectations(
  cols: { types: string; names: string; scores: string; expiries: string; groups: string },
  bad: (c: string, m: string) => void,
): DraftExpectation[] {
  const types = splitList(cols.types);
  const names = cols.names.split(';').map((s) => s.trim());
  const scores = cols.scores.split(';').map((s) => s.trim());
  const expiries = cols.expiries.split(';').map((s) => s.trim());
  const groups = cols.groups.split(';').map((s) => s.trim().toLowerCase());
  if (types.length === 0 && (cols.scores || cols.expiries || cols.names)) bad('expectation type', 'an expectation score, name or expiry without an expectation type');
  const out: DraftExpectation[] = [];
  types.forEach((raw, k) => {
    const type = raw.toUpperCase();
    if (!(EXPECTATION_TYPES as readonly string[]).includes(type)) {
      bad('expectation type', `expectation "${raw.slice(0, 30)}" is not one of ${EXPECTATION_TYPES.join(', ')}`);
      return;
    }
    const t = type as DraftExpectationType;
    // One score/expiry/group for all, or one per type (`;`-separated, in the same order).
    const pick = (list: string[]) => (list.length === 1 ? list[0] : list[k]) ?? '';
    const scoreText = pick(scores);
    let score = defaultScore(t);
    if (scoreText) {
      const s = Number(scoreText);
      if (!Number.isFinite(s) || s < 0 || s > 1000) bad('expectation score', `score "${scoreText.slice(0, 20)}" is not a number from 0 to 1000`);
      else score = s;
    }
    const expiryText = pick(expiries);
    let expirySeconds = defaultExpiry(t);
    if (expiryText) {
      const e = parseRelative(expiryText);
      if (e === undefined || e <= 0) bad('expectation expiry', `expiry "${expiryText.slice(0, 20)}" is not a positive duration (30m, 2h, 01:00)`);
      else expirySeconds = e;
    }
    const group = pick(groups);
    let anyPlayer = true;
    if (group) {
      if (/^(any|one|at least one|at least one player)$/.test(group)) anyPlayer = true;
      else if (/^(all|all players|every player)$/.test(group)) anyPlayer = false;
      else bad('expectation group', `validation "${group.slice(0, 20)}" is neither "at least one" nor "all"`);
    }
    const name = (names.length === types.length ? names[k] : '') || expectationKey(t);
    if (out.some((e) => e.name.toLowerCase() === name.toLowerCase())) bad('expectation name', `expectation name ${name} repeats on this row`);
    out.push({ type: t, name, score, expirySeconds, anyPlayer });
  });
  return out;
}

const TERM = /^(?:([^:\s]+)\s*:\s*)?([A-Za-z][\w .-]{0,60}?)\s*(?:=\s*|\s+)?(executed|execution|met|success|succeeded|true|failed|missed|false|not met)?$/i;

function readCondition(p: Pending, bySerial: Map<string, Pending>, bad: (c: string, m: string) => void): DraftInject['dependsOn'] {
  if (p.deps.length === 0) return undefined;
  for (const d of p.deps) {
    if (d === p.inject.serial) bad('depends on', `inject ${d} depends on itself`);
    else if (!bySerial.has(d)) bad('depends on', `no inject with serial ${d.slice(0, 64)}`);
  }
  const text = p.condition.trim();
  if (!text) return { mode: 'and', conditions: p.deps.map((parent) => ({ parent, key: 'Execution', value: true })) };
  const hasAnd = /\s+and\s+/i.test(text);
  const hasOr = /\s+or\s+/i.test(text);
  if (hasAnd && hasOr) {
    bad('condition', 'a condition uses either "and" or "or", not both');
    return undefined;
  }
  const mode = hasOr ? 'or' : 'and';
  const conditions: DraftCondition[] = [];
  for (const term of text.split(/\s+(?:and|or)\s+/i)) {
    const m = term.length > 200 ? null : TERM.exec(term.trim());
    if (!m) {
      bad('condition', `"${term.slice(0, 40)}" is not a condition such as "executed", "Detection failed" or "S3:Detection met"`);
      continue;
    }
    const parent = m[1] ?? (p.deps.length === 1 ? p.deps[0]! : undefined);
    if (!parent) {
      bad('condition', `"${term.slice(0, 40)}" must name its parent (serial:Detection failed) when there are several`);
      continue;
    }
    if (!p.deps.includes(parent)) {
      bad('condition', `condition names ${parent.slice(0, 64)}, which is not in depends on`);
      continue;
    }
    const word = m[2]!.trim();
    const verb = (m[3] ?? '').toLowerCase();
    if (/^(executed|execution)$/i.test(word) && !verb) {
      conditions.push({ parent, key: 'Execution', value: true });
      continue;
    }
    const value = !/^(failed|missed|false|not met)$/.test(verb);
    const parentExpectations = bySerial.get(parent)?.inject.expectations ?? [];
    const match = parentExpectations.find((e) => e.name.toLowerCase() === word.toLowerCase() || e.type === word.toUpperCase());
    if (!match) {
      bad('condition', `inject ${parent} has no expectation named ${word.slice(0, 40)}`);
      continue;
    }
    conditions.push({ parent, key: match.name, value });
  }
  return { mode, conditions };
}

function findCycle(injects: readonly DraftInject[]): string[] | undefined {
  const parents = new Map(injects.map((i) => [i.serial, [...new Set(i.dependsOn?.conditions.map((c) => c.parent) ?? [])]]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (s: string): string[] | undefined => {
    if (state.get(s) === 2) return undefined;
    if (state.get(s) === 1) return [...stack.slice(stack.indexOf(s)), s];
    state.set(s, 1);
    stack.push(s);
    for (const p of parents.get(s) ?? []) {
      const c = visit(p);
      if (c) return c;
    }
    stack.pop();
    state.set(s, 2);
    return undefined;
  };
  for (const i of injects) {
    const c = visit(i.serial);
    if (c) return c;
  }
  return undefined;
}
