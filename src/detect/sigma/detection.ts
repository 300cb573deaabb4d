/**
 * Compilation of a rule's `detection` section: search identifiers (maps = AND of items, lists of
 * maps = OR, lists of plain values = keyword search) combined by the condition grammar.
 * Spec: "Detection" and "Condition" sections of the Sigma rules specification v2.1.0.
 */
import { parseCondition, selectIdentifiers, type CondNode } from './condition.js';
import { andReq, compileItem, unionFields, orReq, WrittenNumber, type Compiled, type Placeholders, type Pred, type Req } from './items.js';

export type DetectionResult = { ok: true; compiled: Compiled } | { ok: false; reason: string };

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof WrittenNumber);

function and(items: readonly Compiled[]): Compiled {
  const preds = items.map((c) => c.pred);
  const req = andReq(items.map((c) => c.req));
  const fields = unionFields(items.map((c) => c.fields));
  if (preds.length === 1) return { pred: preds[0] as Pred, req, fields };
  if (preds.length === 2) {
    const [a, b] = preds as [Pred, Pred];
    return { pred: (ev) => a(ev) && b(ev), req, fields };
  }
  return {
    pred: (ev) => {
      for (const p of preds) if (!p(ev)) return false;
      return true;
    },
    req,
    fields,
  };
}

function or(items: readonly Compiled[]): Compiled {
  const preds = items.map((c) => c.pred);
  const req = orReq(items.map((c) => c.req));
  const fields = unionFields(items.map((c) => c.fields));
  if (preds.length === 1) return { pred: preds[0] as Pred, req, fields };
  return {
    pred: (ev) => {
      for (const p of preds) if (p(ev)) return true;
      return false;
    },
    req,
    fields,
  };
}

function compileMap(map: Record<string, unknown>, ph: Placeholders | undefined): DetectionResult {
  const keys = Object.keys(map);
  if (keys.length === 0) return { ok: false, reason: 'empty selection map' };
  const items: Compiled[] = [];
  for (const k of keys) {
    const r = compileItem(k, map[k], ph);
    if (!r.ok) return r;
    items.push(r.item);
  }
  return { ok: true, compiled: and(items) };
}

/** One search identifier's value. */
export function compileSearch(value: unknown, ph: Placeholders | undefined): DetectionResult {
  if (isMap(value)) return compileMap(value, ph);
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, reason: 'empty search list' };
    const alts: Compiled[] = [];
    const keywords: unknown[] = [];
    for (const v of value) {
      if (isMap(v)) {
        const r = compileMap(v, ph);
        if (!r.ok) return r;
        alts.push(r.compiled);
      } else if (Array.isArray(v)) {
        return { ok: false, reason: 'nested lists are not valid in a search identifier' };
      } else if (v === null) {
        return { ok: false, reason: 'null is not a valid keyword' };
      } else {
        keywords.push(v);
      }
    }
    if (keywords.length > 0) {
      const r = compileItem('', keywords, ph);
      if (!r.ok) return r;
      alts.push(r.item);
    }
    return { ok: true, compiled: or(alts) };
  }
  if (typeof value === 'string' || typeof value === 'number' || value instanceof WrittenNumber) {
    const r = compileItem('', [value], ph);
    return r.ok ? { ok: true, compiled: r.item } : r;
  }
  return { ok: false, reason: `search identifier must be a map, a list or a keyword, got ${value === null ? 'null' : typeof value}` };
}

function compileNode(node: CondNode, ids: ReadonlyMap<string, Compiled>): Compiled | string {
  switch (node.t) {
    case 'id': {
      const c = ids.get(node.name);
      return c ?? `condition references undefined search identifier "${node.name}"`;
    }
    case 'and':
    case 'or': {
      const xs: Compiled[] = [];
      for (const x of node.xs) {
        const c = compileNode(x, ids);
        if (typeof c === 'string') return c;
        xs.push(c);
      }
      return node.t === 'and' ? and(xs) : or(xs);
    }
    case 'not': {
      const c = compileNode(node.x, ids);
      if (typeof c === 'string') return c;
      const p = c.pred;
      return { pred: (ev) => !p(ev), req: null, fields: c.fields };
    }
    case 'of': {
      const names = selectIdentifiers(node.pattern, [...ids.keys()]);
      if (names.length === 0) return `"${node.quant === 'all' ? 'all' : '1'} of ${node.pattern}" matches no search identifier`;
      const xs = names.map((n) => ids.get(n) as Compiled);
      return node.quant === 'all' ? and(xs) : or(xs);
    }
  }
}

/**
 * Compile the whole `detection` map. `extra` adds identifiers (used for Sigma filters, which add
 * their own selections under private names).
 */
export function compileDetection(detection: unknown, ph: Placeholders | undefined): DetectionResult {
  if (!isMap(detection)) return { ok: false, reason: 'detection must be a map' };
  const cond = detection['condition'];
  const ids = new Map<string, Compiled>();
  for (const [name, value] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) return { ok: false, reason: `invalid search identifier name "${name}"` };
    const r = compileSearch(value, ph);
    if (!r.ok) return { ok: false, reason: `search identifier "${name}": ${r.reason}` };
    ids.set(name, r.compiled);
  }
  if (detection['timeframe'] !== undefined) {
    return { ok: false, reason: 'detection.timeframe (Sigma v1 aggregation) is not part of Sigma v2; use a correlation rule' };
  }
  const conds = typeof cond === 'string' ? [cond] : Array.isArray(cond) && cond.every((c) => typeof c === 'string') ? (cond as string[]) : null;
  if (conds === null || conds.length === 0) return { ok: false, reason: 'detection.condition is missing or not a string / list of strings' };
  const out: Compiled[] = [];
  for (const c of conds) {
    if (c.includes('|')) return { ok: false, reason: `condition "${c}" uses the Sigma v1 aggregation pipe, replaced by correlation rules in v2` };
    const parsed = parseCondition(c);
    if (!parsed.ok) return parsed;
    const compiled = compileNode(parsed.node, ids);
    if (typeof compiled === 'string') return { ok: false, reason: compiled };
    out.push(compiled);
  }
  // A list of conditions is their OR (spec "Condition").
  return { ok: true, compiled: or(out) };
}

export type { Req };
