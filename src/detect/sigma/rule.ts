/**
 * Parsing Sigma YAML into rule items: detection rules (spec "Sigma rules"), correlation rules
 * (spec "Sigma correlation rules") and Sigma filters (spec "Sigma filters"), including
 * multi-document collections with `action: global | reset | repeat` (spec "Rule collections").
 */
import { isPair, isScalar, parseAllDocuments, visit, type Document } from 'yaml';
import { yamlNestingRefusal } from '../../core/yaml-guard.js';

import { compileDetection } from './detection.js';
import { WrittenNumber } from './items.js';
import type { Placeholders } from './items.js';
import type { CompareOp, CorrelationRule, CorrelationType, DetectionRule, FilterRule, Level, Logsource, RuleMeta, SigmaItem } from './types.js';

export interface ParseOptions {
  /** Values for `|expand` placeholders, e.g. `{ Administrators: ['admin*', 'root'] }`. */
  readonly placeholders?: Placeholders;
}

export type ParseResult = { ok: true; rule: SigmaItem; rules: readonly SigmaItem[] } | { ok: false; reason: string };
export type DocsResult = { ok: true; docs: Record<string, unknown>[] } | { ok: false; reason: string };

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof WrittenNumber);

/**
 * A number under `detection` (or a filter's `filter`) whose text is not the number's own (`1.0`,
 * `1e3`, `0x1F`) keeps that text (WrittenNumber): YAML reads `1.0` as 1, which would match only
 * `1`, never an event's `"1.0"`. Elsewhere (correlation conditions, timespans) a number stays one.
 */
function keepWrittenNumbers(doc: Document.Parsed): void {
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'number' || node.source === undefined || node.source === String(node.value)) return;
      const top = path[2];
      if (!isPair(top) || !isScalar(top.key) || (top.key.value !== 'detection' && top.key.value !== 'filter')) return;
      node.value = new WrittenNumber(node.value, node.source) as unknown as number;
    },
  });
}

const LEVELS: readonly Level[] = ['informational', 'low', 'medium', 'high', 'critical'];
const CORR_TYPES: readonly CorrelationType[] = ['event_count', 'value_count', 'temporal', 'temporal_ordered', 'value_sum', 'value_avg', 'value_percentile'];
const OPS: readonly CompareOp[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };

function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isMap(prev) && isMap(v) ? merge(prev, v) : v;
  }
  return out;
}

/** Split YAML text into rule documents, applying the collection actions. */
export function splitDocuments(text: string): DocsResult {
  const deep = yamlNestingRefusal(text);
  if (deep !== null) return { ok: false, reason: deep };
  let parsed;
  try {
    // logLevel 'error': the parser's warnings (an unknown directive…) stay in the documents
    // instead of going to process.emitWarning, where any user's upload would write to the
    // node's stderr.
    parsed = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  } catch (e) {
    return { ok: false, reason: `YAML: ${(e as Error).message}` };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const docs: Obj[] = [];
  let global: Obj | undefined;
  let previous: Obj | undefined;
  for (const [i, d] of list.entries()) {
    const err = d.errors[0];
    if (err !== undefined) return { ok: false, reason: `YAML document ${i + 1}: ${err.message.split('\n')[0] ?? err.message}` };
    let js: unknown;
    try {
      keepWrittenNumbers(d);
      js = d.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // An alias expanded more than 100 times (a "billion laughs" document), and the like.
      return { ok: false, reason: `YAML document ${i + 1}: ${(e as Error).message}` };
    }
    if (js === null || js === undefined) continue; // empty document (e.g. trailing ---)
    if (!isMap(js)) return { ok: false, reason: `document ${i + 1} is not a map` };
    const { action, ...rest } = js;
    if (action === 'global') {
      global = rest;
      continue;
    }
    if (action === 'reset') {
      global = undefined;
      continue;
    }
    let doc: Obj;
    if (action === 'repeat') {
      if (previous === undefined) return { ok: false, reason: `document ${i + 1}: "action: repeat" without a previous rule` };
      doc = merge(previous, rest);
    } else if (action !== undefined) {
      return { ok: false, reason: `document ${i + 1}: unknown action ${JSON.stringify(action)}` };
    } else {
      doc = global === undefined ? rest : merge(global, rest);
    }
    docs.push(doc);
    previous = doc;
  }
  if (docs.length === 0) return { ok: false, reason: 'no rule document in the text' };
  return { ok: true, docs };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function metaOf(doc: Obj): RuleMeta | string {
  const title = doc['title'];
  if (typeof title !== 'string' || title.trim() === '') return 'missing or empty "title"';
  if (title.length > 256) return '"title" longer than 256 characters';
  const level = doc['level'];
  if (level !== undefined && level !== null && !LEVELS.includes(level as Level)) return `invalid level ${JSON.stringify(level)}`;
  const rawTags = doc['tags'];
  if (rawTags !== undefined && rawTags !== null && !(Array.isArray(rawTags) && rawTags.every((t) => typeof t === 'string'))) {
    return '"tags" must be a list of strings';
  }
  const tags = (Array.isArray(rawTags) ? rawTags : []) as string[];
  const attack = tags
    .map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t)?.[1])
    .filter((t): t is string => t !== undefined)
    .map((t) => t.toUpperCase());
  const id = doc['id'];
  if (id !== undefined && typeof id !== 'string') return '"id" must be a string';
  return {
    id,
    name: str(doc['name']),
    title,
    level: (level ?? undefined) as Level | undefined,
    status: str(doc['status']),
    tags,
    attack,
  };
}

function logsourceOf(v: unknown): Logsource | string {
  if (!isMap(v)) return 'missing "logsource" map';
  const out: { product?: string; category?: string; service?: string } = {};
  for (const k of ['product', 'category', 'service'] as const) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string') return `logsource.${k} must be a string`;
    out[k] = x.toLowerCase();
  }
  return out;
}

function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

export function parseTimespan(v: unknown): number | undefined {
  const m = typeof v === 'string' ? /^(\d+)([smhdwMy])$/.exec(v.trim()) : null;
  if (m === null) return undefined;
  const n = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return n > 0 ? n : undefined;
}

function correlationOf(doc: Obj, meta: RuleMeta): CorrelationRule | string {
  const c = doc['correlation'];
  if (!isMap(c)) return '"correlation" must be a map';
  const type = c['type'];
  if (!CORR_TYPES.includes(type as CorrelationType)) return `unknown correlation type ${JSON.stringify(type)}`;
  const t = type as CorrelationType;
  const rules = stringList(c['rules']);
  if (rules === undefined) return 'correlation.rules must be a non-empty list of rule ids or names';
  const timespanMs = parseTimespan(c['timespan']);
  if (timespanMs === undefined) return `correlation.timespan ${JSON.stringify(c['timespan'])} is not <number><s|m|h|d|w|M|y>`;
  const gb = c['group-by'];
  const groupBy = gb === undefined || gb === null ? [] : stringList(gb);
  if (groupBy === undefined) return 'correlation.group-by must be a list of field names';
  const cond = c['condition'];
  const criteria: { op: CompareOp; value: number }[] = [];
  let field: string[] = [];
  const temporal = t === 'temporal' || t === 'temporal_ordered';
  if (cond === undefined || cond === null) {
    if (!temporal) return `correlation type ${t} requires a condition`;
  } else if (isMap(cond)) {
    for (const [k, v] of Object.entries(cond)) {
      if (k === 'field') {
        const f = stringList(v);
        if (f === undefined) return 'condition.field must be a field name or a list of them';
        field = f;
      } else if (OPS.includes(k as CompareOp)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) return `condition.${k} must be a number`;
        criteria.push({ op: k as CompareOp, value: v });
      } else {
        return `unknown correlation condition key "${k}"`;
      }
    }
    if (criteria.length === 0) return 'correlation condition has no gt/gte/lt/lte/eq/neq criterion';
  } else {
    return 'correlation.condition must be a map (boolean temporal conditions are a pySigma extension, not supported)';
  }
  if (t.startsWith('value_') && field.length === 0) return `correlation type ${t} requires condition.field`;
  if (t !== 'value_count' && field.length > 1) return `condition.field lists several fields, only value_count links them`;
  const aliasesRaw = c['aliases'];
  const aliases: Record<string, Record<string, string>> = {};
  if (aliasesRaw !== undefined && aliasesRaw !== null) {
    if (!isMap(aliasesRaw)) return 'correlation.aliases must be a map';
    for (const [alias, m] of Object.entries(aliasesRaw)) {
      if (!isMap(m) || !Object.values(m).every((x) => typeof x === 'string')) return `alias "${alias}" must map rule names to field names`;
      aliases[alias] = m as Record<string, string>;
    }
  }
  const gen = c['generate'] ?? doc['generate'];
  if (gen !== undefined && typeof gen !== 'boolean') return 'correlation.generate must be a boolean';
  return {
    ...meta,
    kind: 'correlation',
    type: t,
    rules,
    groupBy,
    timespanMs,
    condition: criteria,
    field,
    aliases,
    generate: gen === true,
  };
}

function filterOf(doc: Obj, options: ParseOptions): FilterRule | string {
  const title = doc['title'];
  if (typeof title !== 'string' || title.trim() === '') return 'missing or empty "title"';
  const ls = logsourceOf(doc['logsource']);
  if (typeof ls === 'string') return `filter: ${ls} (mandatory for filters)`;
  const f = doc['filter'];
  if (!isMap(f)) return '"filter" must be a map';
  const rules = stringList(f['rules']);
  if (rules === undefined) return 'filter.rules must list rule ids or names';
  const { rules: _r, ...detection } = f;
  const c = compileDetection(detection, options.placeholders);
  if (!c.ok) return `filter: ${c.reason}`;
  const id = doc['id'];
  return { kind: 'filter', id: typeof id === 'string' ? id : undefined, title, logsource: ls, rules, match: c.compiled.pred };
}

/** Turn one (already merged) document into an item. */
export function itemOf(doc: Obj, options: ParseOptions = {}): SigmaItem | string {
  if (doc['filter'] !== undefined && doc['detection'] === undefined) return filterOf(doc, options);
  const meta = metaOf(doc);
  if (typeof meta === 'string') return meta;
  if (doc['correlation'] !== undefined) return correlationOf(doc, meta);
  const ls = logsourceOf(doc['logsource']);
  if (typeof ls === 'string') return ls;
  if (doc['detection'] === undefined) return 'missing "detection"';
  const c = compileDetection(doc['detection'], options.placeholders);
  if (!c.ok) return c.reason;
  const rule: DetectionRule = { ...meta, kind: 'detection', logsource: ls, match: c.compiled.pred, req: c.compiled.req, fields: c.compiled.fields };
  return rule;
}

/**
 * Parse and compile a Sigma YAML text (one rule, or a collection / correlation file with several
 * documents). `rule` is the first item; `rules` all of them. Never throws.
 */
export function parseSigmaRule(text: string, options: ParseOptions = {}): ParseResult {
  try {
    const d = splitDocuments(text);
    if (!d.ok) return d;
    const items: SigmaItem[] = [];
    for (const [i, doc] of d.docs.entries()) {
      const it = itemOf(doc, options);
      if (typeof it === 'string') {
        const title = typeof doc['title'] === 'string' ? ` ("${doc['title']}")` : '';
        return { ok: false, reason: d.docs.length > 1 ? `document ${i + 1}${title}: ${it}` : it };
      }
      items.push(it);
    }
    return { ok: true, rule: items[0] as SigmaItem, rules: items };
  } catch (e) {
    return { ok: false, reason: `the rule could not be compiled: ${(e as Error).message}` };
  }
}
