/**
 * The Sigma engine: routes each event to the rules of its logsource, skips rules whose required
 * literals are absent (one Aho-Corasick pass over the event text), evaluates the rest, applies
 * Sigma filters, and feeds correlation rules. Pure: no I/O, no clock (the caller gives time).
 */
import { CorrelationState, DEFAULT_LIMITS, type CorrelationLimits, type Hit } from './correlation.js';
import { EventView, type SigmaEvent } from './event.js';
import { Automaton } from './aho.js';
import { unionFields } from './items.js';
import { eventLogsourceKey, ruleSeesEvent, windowsLogsource } from './logsource.js';
import type { CorrelationRule, DetectionRule, EventLogsource, FilterRule, Logsource, RuleRef, SigmaItem, SigmaMatch } from './types.js';
import { traceRule } from '../trace.js';

export interface EngineOptions {
  /** Derives an event's logsource when `process` is not given one (default: Windows Channel/EventID). */
  readonly logsourceOf?: (event: SigmaEvent) => EventLogsource | undefined;
  readonly limits?: Partial<CorrelationLimits>;
}

export interface EngineIssue {
  readonly rule: string;
  readonly reason: string;
}

interface Route {
  readonly always: Int32Array; // rules to evaluate on every event of this route
  readonly filter: Automaton | undefined;
  /** Fields whose values the prefilter scans (null: all values). */
  readonly fields: readonly string[] | null;
  /** needle id -> pairs (rule index, clause bit) flattened. */
  readonly needleRules: readonly Int32Array[];
  /** rule index -> mask with one bit per chosen clause (0: rule not prefiltered here). */
  readonly full: Uint8Array;
}

/** Where a correlation sends a hit: correlation index and the ref position in its rules list. */
interface Edge {
  readonly corr: number;
  readonly ref: number;
}

const MAX_ROUTES = 512;

function filterApplies(filter: Logsource, rule: Logsource): boolean {
  // A filter applies to a referenced rule whose logsource agrees on every key the filter declares.
  return (['product', 'category', 'service'] as const).every((k) => filter[k] === undefined || filter[k] === rule[k]);
}

function refOf(r: { id: string | undefined; title: string; level: RuleRef['level'] }): RuleRef {
  return { id: r.id, title: r.title, level: r.level };
}

export class SigmaEngine {
  readonly rules: readonly DetectionRule[];
  readonly correlations: readonly CorrelationRule[];
  /** References that could not be resolved (the rest of the engine works without them). */
  readonly issues: readonly EngineIssue[];
  private readonly states: CorrelationState[];
  private readonly fromRule: (readonly Edge[])[]; // detection index -> correlation edges
  private readonly fromCorr: (readonly Edge[])[]; // correlation index -> outer correlation edges
  private readonly silentRule: boolean[];
  private readonly silentCorr: boolean[];
  private readonly logsourceOf: (event: SigmaEvent) => EventLogsource | undefined;
  private readonly routes = new Map<string, Route>();
  /** Logsource objects seen before (memoised by logsourceOf) -> route, skipping the key string. */
  private byObject = new WeakMap<EventLogsource, Route>();
  private mark: Int32Array;
  private readonly bits: Uint8Array;
  private epoch = 0;
  private seq = 0;

  constructor(items: readonly SigmaItem[], options: EngineOptions = {}) {
    const issues: EngineIssue[] = [];
    const filters = items.filter((i): i is FilterRule => i.kind === 'filter');
    const rules = items.filter((i): i is DetectionRule => i.kind === 'detection');
    const corrs = items.filter((i): i is CorrelationRule => i.kind === 'correlation');
    const byRef = new Map<string, { kind: 'rule' | 'corr'; index: number }>();
    rules.forEach((r, index) => {
      if (r.id !== undefined) byRef.set(r.id, { kind: 'rule', index });
      if (r.name !== undefined) byRef.set(r.name, { kind: 'rule', index });
    });
    corrs.forEach((c, index) => {
      if (c.id !== undefined) byRef.set(c.id, { kind: 'corr', index });
      if (c.name !== undefined) byRef.set(c.name, { kind: 'corr', index });
    });
    // Sigma filters: AND the filter's condition onto each referenced rule (spec "Sigma filters").
    const patched = [...rules];
    for (const f of filters) {
      for (const ref of f.rules) {
        const t = byRef.get(ref);
        if (t === undefined || t.kind !== 'rule') {
          issues.push({ rule: f.title, reason: `filter references unknown rule "${ref}"` });
          continue;
        }
        const r = patched[t.index] as DetectionRule;
        if (!filterApplies(f.logsource, r.logsource)) {
          issues.push({ rule: f.title, reason: `filter logsource does not match rule "${ref}"` });
          continue;
        }
        const inner = r.match;
        const fm = f.match;
        patched[t.index] = { ...r, match: (ev) => inner(ev) && fm(ev) };
      }
    }
    this.rules = patched;
    this.correlations = corrs;
    this.fromRule = patched.map(() => []);
    this.fromCorr = corrs.map(() => []);
    this.silentRule = patched.map(() => false);
    this.silentCorr = corrs.map(() => false);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const usable = corrs.map(() => true);
    // Resolve references; a correlation with an unknown reference or a cycle is disabled.
    const canon: number[][] = corrs.map((c, ci) =>
      c.rules.map((ref) => {
        const t = byRef.get(ref);
        if (t === undefined) {
          issues.push({ rule: c.title, reason: `correlation references unknown rule "${ref}"` });
          usable[ci] = false;
          return -1;
        }
        return t.kind === 'rule' ? t.index : -2 - t.index;
      }),
    );
    const cyclic = (ci: number, seen: Set<number>): boolean => {
      if (seen.has(ci)) return true;
      seen.add(ci);
      const r = (canon[ci] ?? []).some((x) => x <= -2 && cyclic(-2 - x, seen));
      seen.delete(ci);
      return r;
    };
    corrs.forEach((c, ci) => {
      if (usable[ci] && cyclic(ci, new Set())) {
        issues.push({ rule: c.title, reason: 'correlation references form a cycle' });
        usable[ci] = false;
      }
    });
    // A referenced rule's own alerts are suppressed unless some correlation referencing it says
    // generate: true (spec: generate defaults to false).
    const loudRule = new Set<number>();
    const loudCorr = new Set<number>();
    corrs.forEach((c, ci) => {
      if (!usable[ci]) return;
      (canon[ci] as number[]).forEach((x, ref) => {
        if (x >= 0) {
          (this.fromRule[x] as Edge[]).push({ corr: ci, ref });
          this.silentRule[x] = true;
          if (c.generate) loudRule.add(x);
        } else if (x <= -2) {
          (this.fromCorr[-2 - x] as Edge[]).push({ corr: ci, ref });
          this.silentCorr[-2 - x] = true;
          if (c.generate) loudCorr.add(-2 - x);
        }
      });
    });
    for (const x of loudRule) this.silentRule[x] = false;
    for (const x of loudCorr) this.silentCorr[x] = false;
    this.states = corrs.map((c, ci) => new CorrelationState(c, canon[ci] as number[], limits));
    this.issues = issues;
    this.logsourceOf = options.logsourceOf ?? windowsLogsource;
    this.mark = new Int32Array(patched.length);
    this.bits = new Uint8Array(patched.length);
  }

  private route(ls: EventLogsource | undefined): Route {
    if (ls !== undefined) {
      const hit = this.byObject.get(ls);
      if (hit !== undefined) return hit;
    }
    const key = ls === undefined ? '*' : eventLogsourceKey(ls);
    let r = this.routes.get(key);
    if (r !== undefined) {
      if (ls !== undefined) this.byObject.set(ls, r);
      return r;
    }
    const always: number[] = [];
    const seen: number[] = [];
    const freq = new Map<string, number>();
    this.rules.forEach((rule, i) => {
      if (!ruleSeesEvent(rule, ls)) return;
      // Keyword rules read every value: cheaper to evaluate than to widen the scanned text.
      if (rule.req === null || rule.fields === null) always.push(i);
      else {
        seen.push(i);
        for (const c of rule.req) for (const n of c) freq.set(n, (freq.get(n) ?? 0) + 1);
      }
    });
    // Estimated chance that a clause holds on an event: short needles and needles many rules
    // share (".exe", "\\windows\\") are common in events too. Each rule keeps its two least
    // likely clauses; it becomes a candidate only when both are satisfied.
    const cost = (c: readonly string[]): number => c.reduce((a, n) => a + (1 + (freq.get(n) ?? 0)) / Math.pow(n.length, 1.5), 0);
    const needles = new Map<string, number[]>();
    const full = new Uint8Array(this.rules.length);
    const fields: (readonly string[] | null)[] = [];
    for (const i of seen) {
      const rule = this.rules[i] as DetectionRule;
      const chosen = [...(rule.req ?? [])].sort((a, b) => cost(a) - cost(b)).slice(0, 2);
      chosen.forEach((c, k) => {
        for (const n of c) {
          // Any piece of a required literal is required too: the last 12 characters (the most
          // specific part of the usual path/file-name literals) keep the automaton small.
          const w = n.length > 12 ? n.slice(-12) : n;
          (needles.get(w) ?? (needles.set(w, []).get(w) as number[])).push(i, 1 << k);
        }
      });
      full[i] = (1 << chosen.length) - 1;
      fields.push(rule.fields);
    }
    const list = [...needles.keys()];
    r = {
      always: Int32Array.from(always),
      filter: list.length > 0 ? new Automaton(list, true) : undefined,
      fields: unionFields(fields),
      needleRules: list.map((n) => Int32Array.from(needles.get(n) as number[])),
      full,
    };
    if (this.routes.size >= MAX_ROUTES) {
      this.routes.clear();
      this.byObject = new WeakMap();
    }
    this.routes.set(key, r);
    if (ls !== undefined) this.byObject.set(ls, r);
    return r;
  }

  /** Detection rules (without correlation state) that match the event. */
  evaluate(event: SigmaEvent, logsource?: EventLogsource): DetectionRule[] {
    const ls = logsource ?? this.logsourceOf(event);
    const ev = new EventView(event, ls?.fieldMap);
    const hits: DetectionRule[] = [];
    this.candidates(ev, ls, (i) => {
      const rule = this.rules[i] as DetectionRule;
      try {
        if (rule.match(ev)) hits.push(rule);
      } catch {
        // A rule that fails on an odd event simply does not match it.
      }
    });
    return hits;
  }

  private candidates(ev: EventView, ls: EventLogsource | undefined, visit: (i: number) => void): void {
    const route = this.route(ls);
    if (route.filter === undefined) {
      for (const i of route.always) visit(i);
      return;
    }
    if (++this.epoch === 0x7fffffff) {
      this.mark.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const mark = this.mark;
    const bits = this.bits;
    const full = route.full;
    const found: number[] = [];
    const hit = (id: number): void => {
      const pairs = route.needleRules[id] as Int32Array;
      for (let p = 0; p < pairs.length; p += 2) {
        const i = pairs[p] as number;
        if (mark[i] !== epoch) {
          mark[i] = epoch;
          bits[i] = 0;
        }
        const before = bits[i] as number;
        const after = before | (pairs[p + 1] as number);
        if (after !== before) {
          bits[i] = after;
          if (after === full[i]) found.push(i);
        }
      }
    };
    // Each field value is scanned on its own: a needle never spans two fields.
    const filter = route.filter;
    if (route.fields === null) for (const v of ev.all()) filter.scan(v, hit);
    else for (const f of route.fields) {
      const vs = ev.strings(f);
      if (vs !== null) for (const v of vs) filter.scan(v, hit);
    }
    // Visit in rule order (always-evaluated and prefiltered rules merged), so output order does
    // not depend on where needles occur in the event.
    found.sort((a, b) => a - b);
    const always = route.always;
    let x = 0;
    let y = 0;
    while (x < always.length || y < found.length) {
      const a = x < always.length ? (always[x] as number) : Infinity;
      const b = y < found.length ? (found[y] as number) : Infinity;
      if (a < b) {
        visit(a);
        x++;
      } else {
        visit(b);
        y++;
      }
    }
  }

  /**
   * Process one event at `timeMs` (events must arrive in time order for correlations). Returns
   * the detection alerts (minus those suppressed by `generate: false` correlations) and any
   * correlation alerts completed by this event.
   */
  /** Whether any rule may see an event of this logsource (a caller skips building the event's view when none). */
  seesLogsource(ls: EventLogsource): boolean {
    const r = this.route(ls);
    return r.always.length > 0 || r.filter !== undefined;
  }

  /** `scope`: whose correlation groups the event counts in (default: its organisation; detect/scope.ts). */
  process(event: SigmaEvent, timeMs: number, logsource?: EventLogsource, scope?: string): SigmaMatch[] {
    const ls = logsource ?? this.logsourceOf(event);
    const ev = new EventView(event, ls?.fieldMap);
    const out: SigmaMatch[] = [];
    const seq = ++this.seq;
    const field = (name: string): string | undefined => ev.strings(name)?.[0];
    const org = event['organization.id'];
    const groupScope = scope ?? (typeof org === 'string' ? org : '');
    this.candidates(ev, ls, (i) => {
      const rule = this.rules[i] as DetectionRule;
      traceRule(`sigma:${rule.id ?? rule.title}`);
      let hit = false;
      try {
        hit = rule.match(ev);
      } catch {
        hit = false;
      }
      if (!hit) return;
      if (!this.silentRule[i]) out.push(this.detectionMatch(rule, timeMs));
      for (const e of this.fromRule[i] as Edge[]) {
        this.feed(e, { ref: e.ref, rule: refOf(rule), timeMs, seq, field, scope: groupScope }, out, 0);
      }
    });
    return out;
  }

  private feed(edge: Edge, hit: Hit, out: SigmaMatch[], depth: number): void {
    const state = this.states[edge.corr] as CorrelationState;
    const m = state.feed(hit);
    if (m === null) return;
    if (!this.silentCorr[edge.corr]) out.push(m);
    if (depth > 16) return;
    const key = m.correlation?.groupKey ?? {};
    const field = (name: string): string | undefined => key[name];
    for (const e of this.fromCorr[edge.corr] as Edge[]) {
      this.feed(e, { ref: e.ref, rule: refOf(state.rule), timeMs: hit.timeMs, seq: hit.seq, field, ...(hit.scope === undefined ? {} : { scope: hit.scope }) }, out, depth + 1);
    }
  }

  private detectionMatch(rule: DetectionRule, timeMs: number): SigmaMatch {
    return {
      kind: 'detection',
      ruleId: rule.id,
      name: rule.name,
      title: rule.title,
      level: rule.level,
      tags: rule.tags,
      attack: rule.attack,
      timeMs,
    };
  }

  /** Number of live correlation groups (for memory monitoring). */
  correlationGroups(): number {
    return this.states.reduce((n, s) => n + s.groupCount, 0);
  }

  /**
   * Forgets the correlation windows of the organisations `which` selects (their scope): a
   * scale-out worker taking a partition back rebuilds them from the warm-up replay alone.
   */
  forgetScopes(which: (orgId: string) => boolean): number {
    return this.states.reduce((n, s) => n + s.forgetScopes(which), 0);
  }
}
