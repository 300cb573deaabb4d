/**
 * The Sigma rules of a node (docs/sigma.md "Rules service"): rules read from a directory
 * (TLP:CLEAR, read-only) and rules added through the API or CLI, stored as records of kind
 * `sigma-rule` under the release policy of intel (default TLP:GREEN). Every rule is compiled
 * with the configured placeholders; one that does not compile is reported with its reason and
 * never stops the others. `snapshot()` gives one SigmaEngine over all of them and, per rule,
 * the release facts an alert raised by it must respect.
 */
import crypto from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import { TLP_LEVELS, type ReleaseFacts, type Tlp } from '../core/policy.js';
import { authorize, mayRelease, type AccessService, type Actor, type Principal } from '../access/index.js';
import type { RecordRow, Store } from '../store/index.js';
import { parseSigmaRule, SigmaEngine, type EngineOptions, type Logsource, type Placeholders, type SigmaItem } from './sigma/index.js';

export const SIGMA_RULE_KIND = 'sigma-rule';
const ACTIVE = 'active';
const REMOVED = 'removed';
/** Meta key changed with every stored rule write, so other processes know to reload. */
const SIGMA_REV_KEY = 'sigma.rev';
/** A Sigma text larger than this is refused (the largest SigmaHQ rule is about 40 KiB). */
export const MAX_RULE_BYTES = 256 * 1024;
const IDENTITY = /^identity--[0-9a-f-]{36}$/;

export type AuthedActor = Actor & { readonly principal: Principal };

export interface SigmaRulesDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
}

export interface SigmaRulesOptions {
  /** Directory of `.yml`/`.yaml` rules (recursive); those rules are TLP:CLEAR and read-only. */
  readonly dir?: string | undefined;
  /** Values of `|expand` placeholders; a rule with an unresolved placeholder is rejected. */
  readonly placeholders?: Placeholders | undefined;
  /** Passed to every SigmaEngine the snapshot builds. */
  readonly engine?: EngineOptions;
}

/** The stored document of a `sigma-rule` record; the metadata is that of the text's first rule. */
export interface SigmaRuleDoc {
  yaml: string;
  title: string;
  ruleId: string | null;
  level: string | null;
  status: string | null;
  tags: string[];
  logsource: Logsource | null;
  kind: SigmaItem['kind'];
  /** Every rule of the text (a correlation with its base rules is one record). */
  items: { kind: SigmaItem['kind']; ruleId: string | null; name: string | null; title: string }[];
}

export interface SigmaRuleView extends Omit<SigmaRuleDoc, 'yaml'> {
  /** Record id (`sigma-rule--uuid`) or `dir:<path relative to the rules directory>`. */
  id: string;
  source: 'dir' | 'api';
  tlp: Tlp | null;
  recipients: string[];
  creatorOrg: string | null;
  createdAt: string | null;
  /** Whether its rules are in the engine now (false: see `status()` for the reason). */
  loaded: boolean;
  yaml?: string;
}

export interface SigmaFailure {
  readonly source: 'dir' | 'api' | 'engine';
  /** The file (relative path), the record id, or for engine issues the rule title. */
  readonly rule: string;
  readonly reason: string;
}

export interface SigmaStatus {
  /** Files and records whose rules are in the engine. */
  readonly loaded: number;
  /** Rules in the engine (detection + correlation; filters are folded into their rules). */
  readonly rules: number;
  readonly dir: string | null;
  readonly failed: readonly SigmaFailure[];
}

/** How the pipeline names the rule of a match: `SigmaMatch` has `ruleId`, `name`, `title`. */
export type SigmaRuleRef = string | { readonly id?: string | undefined; readonly name?: string | undefined; readonly title: string };

export interface SigmaSnapshot {
  readonly engine: SigmaEngine;
  /**
   * Release facts of the rule behind a match. A correlation gets the most restrictive release
   * of itself and every rule it references (`combineRelease`); an unknown rule releases to no one.
   */
  releaseOf(ref: SigmaRuleRef): ReleaseFacts;
}

interface Entry {
  readonly id: string;
  readonly source: 'dir' | 'api';
  /** Who may change what this entry's rules do: 'dir' or the creating organisation. */
  readonly owner: string;
  readonly facts: ReleaseFacts;
  readonly items: readonly SigmaItem[];
  /** The items as the engine holds them: ids, names and references scoped by owner (scopedItem). */
  readonly scopedItems: readonly SigmaItem[];
  readonly doc: SigmaRuleDoc;
  readonly createdUs: number | null;
}

/** A failure with the entry it belongs to (for the visibility of the report). */
type Failure = SigmaFailure & { readonly entry?: Entry };

interface Built {
  readonly snapshot: SigmaSnapshot;
  readonly failures: readonly Failure[];
  readonly loaded: number;
  readonly loadedIds: ReadonlySet<string>;
  /** The entries whose rules are in the engine. */
  readonly kept: readonly Entry[];
}

const CLEAR: ReleaseFacts = Object.freeze({ tlp: 'clear', creatorOrg: null, recipients: [], originNode: null });
/** What an unknown rule releases to: nobody (RED with no creator and no recipients). */
export const NOBODY: ReleaseFacts = Object.freeze({ tlp: 'red', creatorOrg: null, recipients: [], originNode: null });
const RANK: Record<Tlp, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

/**
 * Facts that release to an audience only if every one of `all` does (an intersection). Markings
 * above GREEN are reduced to the principals each names (creator + recipients; no marking = the
 * creator alone), intersected, and given the highest level with no creator, so `mayRelease`
 * treats the creators like any recipient. A group named by one marking and a member organisation
 * named by another do not meet: the result is conservative.
 */
export function combineRelease(all: readonly ReleaseFacts[]): ReleaseFacts {
  if (all.length === 0) return NOBODY;
  if (all.length === 1) return all[0]!;
  const restricted = all.filter((f) => f.tlp === null || RANK[f.tlp] >= RANK.amber);
  if (restricted.length === 0) {
    return { tlp: all.every((f) => f.tlp === 'clear') ? 'clear' : 'green', creatorOrg: all[0]!.creatorOrg, recipients: [], originNode: null };
  }
  let tlp: Tlp = 'amber';
  let allowed = null as Set<string> | null;
  let originNode: string | null = null;
  for (const f of restricted) {
    if (f.tlp !== null && RANK[f.tlp] > RANK[tlp]) tlp = f.tlp;
    const names = new Set<string>(f.tlp === null ? [] : f.recipients);
    if (f.creatorOrg !== null) names.add(f.creatorOrg);
    allowed = allowed === null ? names : new Set([...allowed].filter((x) => names.has(x)));
    originNode ??= f.originNode;
  }
  return { tlp, creatorOrg: null, recipients: [...(allowed ?? [])].sort(), originNode };
}

/** Reads a placeholders file: a YAML map of placeholder name → value or list of values. */
export function loadPlaceholdersFile(file: string): Placeholders {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'), { logLevel: 'error' });
  } catch (e) {
    throw new AppError('BAD_REQUEST', `Sigma placeholders file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new AppError('BAD_REQUEST', `Sigma placeholders file ${file}: must be a map of name → list of values`);
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || !list.every((x) => typeof x === 'string' || typeof x === 'number')) {
      throw new AppError('BAD_REQUEST', `Sigma placeholders file ${file}: "${k}" must be a value or a non-empty list of values`);
    }
    out[k] = list.map(String);
  }
  return out;
}

function docOf(yaml: string, items: readonly SigmaItem[]): SigmaRuleDoc {
  const first = items[0]!;
  const meta = first.kind === 'filter' ? { level: undefined, status: undefined, tags: [] as readonly string[], name: undefined } : first;
  return {
    yaml, title: first.title, ruleId: first.id ?? null, level: meta.level ?? null, status: meta.status ?? null, tags: [...meta.tags],
    logsource: first.kind === 'correlation' ? null : { ...first.logsource }, kind: first.kind,
    items: items.map((i) => ({ kind: i.kind, ruleId: i.id ?? null, name: i.kind === 'filter' ? null : (i.name ?? null), title: i.title })),
  };
}

function refsOf(i: SigmaItem): readonly string[] {
  return i.kind === 'detection' ? [] : i.rules;
}

function keysOf(i: SigmaItem): string[] {
  return [i.id, i.kind === 'filter' ? undefined : i.name].filter((x): x is string => x !== undefined);
}

/**
 * Rule ids and names are scoped by owner in the engine (issue #11 item 3): a stored rule's id,
 * name and references become `<owner organisation>\u001f<key>`, directory rules keep theirs. An
 * organisation's rule then never collides with, nor resolves a reference to, a rule of another
 * organisation, so adding a rule whose id or name an unreadable rule uses answers exactly as if
 * that rule did not exist. (References across owners were refused already.)
 */
const SCOPE = '\u001f';
const scopeOf = (e: { source: 'dir' | 'api'; owner: string }): string => (e.source === 'dir' ? '' : `${e.owner}${SCOPE}`);
const scoped = (s: string, k: string | undefined): string | undefined => (k === undefined ? undefined : s + k);

function scopedItem(i: SigmaItem, s: string): SigmaItem {
  if (s === '') return i;
  const rules = (rs: readonly string[]) => rs.map((r) => s + r);
  switch (i.kind) {
    case 'detection':
      return { ...i, id: scoped(s, i.id), name: scoped(s, i.name) };
    case 'filter':
      return { ...i, id: scoped(s, i.id), rules: rules(i.rules) };
    case 'correlation':
      return {
        ...i, id: scoped(s, i.id), name: scoped(s, i.name), rules: rules(i.rules),
        aliases: Object.fromEntries(Object.entries(i.aliases).map(([a, m]) => [a, Object.fromEntries(Object.entries(m).map(([r, f]) => [s + r, f]))])),
      };
  }
}

/** A rule id as the engine reports it (owner-scoped for stored rules), as the rule itself gives it. */
export function unscopedRuleId(id: string | undefined): string | undefined {
  const k = id === undefined ? -1 : id.lastIndexOf(SCOPE);
  return id === undefined || k < 0 ? id : id.slice(k + 1);
}

/** An engine message with the owner scopes taken out of the rule keys it names. */
const unscopedText = (t: string): string => t.replace(/identity--[0-9a-f-]{36}\u001f/g, '');

export class SigmaRules {
  readonly #deps: SigmaRulesDeps;
  readonly #opts: SigmaRulesOptions;
  #dir: Entry[] = [];
  #dirFailures: Failure[] = [];
  readonly #stored = new Map<string, Entry>();
  #storedFailures: Failure[] = [];
  #built: Built | null = null;
  #rev: string | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(deps: SigmaRulesDeps, options: SigmaRulesOptions = {}) {
    this.#deps = deps;
    this.#opts = options;
  }

  /** Reads the placeholders file (when given) and loads the rules: what a node does at start. */
  static async open(deps: SigmaRulesDeps, o: { dir?: string | undefined; placeholdersFile?: string | undefined; engine?: EngineOptions } = {}): Promise<SigmaRules> {
    const rules = new SigmaRules(deps, {
      dir: o.dir, ...(o.placeholdersFile ? { placeholders: loadPlaceholdersFile(o.placeholdersFile) } : {}), ...(o.engine ? { engine: o.engine } : {}),
    });
    await rules.load();
    return rules;
  }

  get placeholders(): Placeholders | undefined {
    return this.#opts.placeholders;
  }

  /**
   * Reloads the stored rules when another process (the API, while this is a detection worker)
   * added or removed one: each such write changes the revision in `meta`. True when reloaded.
   */
  async refresh(): Promise<boolean> {
    const rev = await this.#deps.store.getMeta(SIGMA_REV_KEY);
    if (rev === this.#rev) return false;
    await this.#loadStored();
    this.#rev = rev;
    this.#changed();
    return true;
  }

  /** (Re)reads the directory and the stored rules; failures are reported by `status()`. */
  async load(): Promise<void> {
    this.#rev = await this.#deps.store.getMeta(SIGMA_REV_KEY);
    this.#loadDir();
    await this.#loadStored();
    this.#changed();
  }

  /** Calls fn after every change of the rule set (load, add, remove); returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Adds a rule text (one record, even when it holds several documents). */
  async add(actor: AuthedActor, input: { yaml: string; tlp?: Tlp; recipients?: readonly string[] }): Promise<SigmaRuleView> {
    authorize(actor.principal, 'sigma.write');
    const tlp = input.tlp ?? 'green';
    if (!TLP_LEVELS.includes(tlp)) throw new AppError('BAD_REQUEST', `tlp must be one of ${TLP_LEVELS.join(', ')}`);
    const recipients = [...new Set(input.recipients ?? [])];
    const bad = recipients.find((r) => !IDENTITY.test(r));
    if (bad !== undefined) throw new AppError('BAD_REQUEST', `recipients: "${bad.slice(0, 80)}" is not an organisation or group identity id`);
    if (recipients.length > 100) throw new AppError('BAD_REQUEST', 'recipients: at most 100');
    if (typeof input.yaml !== 'string' || input.yaml.trim() === '') throw new AppError('BAD_REQUEST', 'yaml: the Sigma rule text is empty');
    if (Buffer.byteLength(input.yaml) > MAX_RULE_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `a Sigma rule text may be at most ${MAX_RULE_BYTES} bytes`);
    const parsed = parseSigmaRule(input.yaml, { ...(this.#opts.placeholders ? { placeholders: this.#opts.placeholders } : {}) });
    if (!parsed.ok) throw new AppError('UNPROCESSABLE', `the rule does not compile: ${parsed.reason}`, { details: { reason: parsed.reason } });
    const org = actor.principal.orgId;
    // Checked against the rules the poster may read (the directory, its own, those released to
    // it), by their ids and names as written: a rule it may not read is as absent here as in the
    // engine, where the keys of each owner are scoped apart.
    const audience = this.#deps.access.audienceOf(actor.principal);
    const readable = [...this.#dir, ...[...this.#stored.values()].filter((e) => e.owner === org || mayRelease(e.facts, audience, 'read'))];
    const holders = this.#holders(readable, (e) => e.items);
    const clash = this.#clash({ items: parsed.rules }, holders, (e) => e.items);
    if (clash) throw new AppError('CONFLICT', clash);
    const foreign = this.#foreignRef({ owner: org, items: parsed.rules }, holders);
    if (foreign) throw new AppError('UNPROCESSABLE', foreign, { details: { reason: foreign } });

    const nowUs = this.#deps.clock.now() * 1000;
    const doc = docOf(input.yaml, parsed.rules);
    const row: RecordRow = {
      id: `${SIGMA_RULE_KIND}--${crypto.randomUUID()}`, kind: SIGMA_RULE_KIND, parentId: null, creatorOrg: org, tlp, recipients, originNode: null,
      exerciseId: null, state: ACTIVE, createdUs: nowUs, updatedUs: nowUs, rev: 1, json: JSON.stringify(doc),
    };
    const detail = { title: doc.title, ruleId: doc.ruleId, tlp, rules: doc.items.length };
    await this.#deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', `${row.id} exists`);
      await tx.appendRecordEvent({ recordId: row.id, atUs: nowUs, kind: `${SIGMA_RULE_KIND}.created`, orgId: org, userId: actor.principal.userId, json: JSON.stringify(detail) });
      await this.#audit(tx, actor, { action: `${SIGMA_RULE_KIND}.create`, target: row.id, detail });
      await tx.setMeta(SIGMA_REV_KEY, crypto.randomUUID());
    });
    this.#publish(`${SIGMA_RULE_KIND}.created`, row, detail);
    const entry = this.#entryOfRow(row, parsed.rules, doc);
    this.#stored.set(row.id, entry);
    this.#changed();
    return this.#view(entry, true);
  }

  /** Directory rules and the stored rules the actor may read, directory first. */
  async list(actor: AuthedActor): Promise<SigmaRuleView[]> {
    const audience = this.#deps.access.audienceOf(actor.principal);
    const rows = await this.#deps.store.listRecords({ kind: SIGMA_RULE_KIND, audience, purpose: 'read', states: [ACTIVE], limit: 1000 });
    const stored = rows.map((row) => this.#stored.get(row.id) ?? this.#entryOfRow(row, [], JSON.parse(row.json) as SigmaRuleDoc));
    stored.sort((a, b) => (a.createdUs ?? 0) - (b.createdUs ?? 0));
    return [...this.#dir, ...stored].map((e) => this.#view(e, false));
  }

  async get(actor: AuthedActor, id: string): Promise<SigmaRuleView> {
    const dir = this.#dir.find((e) => e.id === id);
    if (dir) return this.#view(dir, true);
    const row = await this.#visibleRow(actor, id);
    return this.#view(this.#stored.get(row.id) ?? this.#entryOfRow(row, [], JSON.parse(row.json) as SigmaRuleDoc), true);
  }

  /** Removes a stored rule (the creating organisation only); the record stays, marked removed. */
  async remove(actor: AuthedActor, id: string): Promise<void> {
    authorize(actor.principal, 'sigma.write');
    if (this.#dir.some((e) => e.id === id)) throw new AppError('FORBIDDEN', 'directory rules are read-only: remove the file from the rules directory');
    const row = await this.#visibleRow(actor, id);
    if (row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the organisation that added a Sigma rule may remove it');
    const nowUs = this.#deps.clock.now() * 1000;
    const next: RecordRow = { ...row, state: REMOVED, updatedUs: nowUs, rev: row.rev + 1 };
    const detail = { title: (JSON.parse(row.json) as SigmaRuleDoc).title };
    await this.#deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(next))) throw new AppError('CONFLICT', `${id} was changed by someone else; reload and retry`);
      await tx.appendRecordEvent({ recordId: id, atUs: nowUs, kind: `${SIGMA_RULE_KIND}.removed`, orgId: actor.principal.orgId, userId: actor.principal.userId, json: JSON.stringify(detail) });
      await this.#audit(tx, actor, { action: `${SIGMA_RULE_KIND}.remove`, target: id, detail });
      await tx.setMeta(SIGMA_REV_KEY, crypto.randomUUID());
    });
    this.#publish(`${SIGMA_RULE_KIND}.removed`, next, detail);
    this.#stored.delete(id);
    this.#storedFailures = this.#storedFailures.filter((f) => f.rule !== id);
    this.#changed();
  }

  /**
   * Counts and failures. With an actor, only the stored rules the actor may read count, and
   * failures of the others are left out (directory rules and failures are CLEAR like the
   * directory): a count that moves when another organisation adds a RED rule would tell of it.
   * Without an actor, everything (operators).
   */
  status(actor?: AuthedActor): SigmaStatus {
    const built = this.#build();
    const audience = actor ? this.#deps.access.audienceOf(actor.principal) : null;
    const readable = (e: Entry) => audience === null || e.source === 'dir' || mayRelease(e.facts, audience, 'read');
    const failed = [...this.#dirFailures, ...this.#storedFailures, ...built.failures]
      .filter((f) => audience === null || f.source === 'dir' || (f.entry !== undefined && readable(f.entry)))
      .map((f) => ({ source: f.source, rule: f.rule, reason: f.reason }));
    const kept = built.kept.filter(readable);
    // The engine holds every detection and correlation item of the kept entries (filters are folded into their rules).
    const rules = kept.reduce((n, e) => n + e.scopedItems.filter((i) => i.kind !== 'filter').length, 0);
    return { loaded: kept.length, rules, dir: this.#opts.dir ?? null, failed };
  }

  /** One engine over every rule that compiles (rebuilt after a change, so correlation windows restart). */
  snapshot(): SigmaSnapshot {
    return this.#build().snapshot;
  }

  // ---- internals ----

  #view(e: Entry, yaml: boolean): SigmaRuleView {
    return viewOf(e, { yaml, loaded: this.#build().loadedIds.has(e.id) });
  }

  #changed(): void {
    this.#built = null;
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch {
        // A failing listener must not stop the others or undo the change.
      }
    }
  }

  #parseOptions(): { placeholders?: Placeholders } {
    return this.#opts.placeholders ? { placeholders: this.#opts.placeholders } : {};
  }

  #loadDir(): void {
    this.#dir = [];
    this.#dirFailures = [];
    const dir = this.#opts.dir;
    if (dir === undefined) return;
    let files: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/i.test(f)).sort();
    } catch (e) {
      this.#dirFailures.push({ source: 'dir', rule: dir, reason: `rules directory unreadable: ${(e as Error).message}` });
      return;
    }
    for (const rel of files) {
      const file = path.join(dir, rel);
      const name = rel.split(path.sep).join('/');
      let text: string;
      try {
        if (!statSync(file).isFile()) continue;
        text = readFileSync(file, 'utf8');
      } catch (e) {
        this.#dirFailures.push({ source: 'dir', rule: name, reason: `unreadable: ${(e as Error).message}` });
        continue;
      }
      const r = parseSigmaRule(text, this.#parseOptions());
      if (!r.ok) {
        this.#dirFailures.push({ source: 'dir', rule: name, reason: r.reason });
        continue;
      }
      this.#dir.push({ id: `dir:${name}`, source: 'dir', owner: 'dir', facts: CLEAR, items: r.rules, scopedItems: r.rules, doc: docOf(text, r.rules), createdUs: null });
    }
  }

  async #loadStored(): Promise<void> {
    this.#stored.clear();
    this.#storedFailures = [];
    const rows = new Map<string, RecordRow>();
    // The creator always sees its own records, so one pass per organisation finds them all. Paged
    // after the last (updated_us, id), a key no two rows share: paging by updated_us alone skipped,
    // at every load, the rules added in the same millisecond as a page's last one.
    for (const org of await this.#deps.store.listOrganisations()) {
      let after = { us: -1, id: '' };
      for (;;) {
        const page = await this.#deps.store.listRecords({
          kind: SIGMA_RULE_KIND, audience: { hop: 'local', orgId: org.id, groupIds: [] }, purpose: 'read', states: [ACTIVE], limit: 1000, after,
        });
        for (const row of page) if (row.creatorOrg === org.id) rows.set(row.id, row);
        if (page.length < 1000) break;
        after = { us: page[page.length - 1]!.updatedUs, id: page[page.length - 1]!.id };
      }
    }
    for (const row of [...rows.values()].sort((a, b) => a.createdUs - b.createdUs)) {
      const doc = JSON.parse(row.json) as SigmaRuleDoc;
      const r = parseSigmaRule(doc.yaml, this.#parseOptions());
      const entry = this.#entryOfRow(row, r.ok ? r.rules : [], doc);
      // A stored rule can stop compiling when the placeholders configuration changes.
      if (!r.ok) this.#storedFailures.push({ source: 'api', rule: row.id, reason: r.reason, entry });
      else this.#stored.set(row.id, entry);
    }
  }

  #entryOfRow(row: RecordRow, items: readonly SigmaItem[], doc: SigmaRuleDoc): Entry {
    return {
      id: row.id, source: 'api', owner: row.creatorOrg, items, scopedItems: items.map((i) => scopedItem(i, `${row.creatorOrg}${SCOPE}`)), doc, createdUs: row.createdUs,
      facts: { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode },
    };
  }

  async #visibleRow(actor: AuthedActor, id: string): Promise<RecordRow> {
    const row = await this.#deps.store.getRecord(id);
    const facts = row ? { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode } : null;
    if (!row || row.kind !== SIGMA_RULE_KIND || row.state !== ACTIVE || !mayRelease(facts!, this.#deps.access.audienceOf(actor.principal), 'read')) {
      throw new AppError('NOT_FOUND', `no Sigma rule ${id.slice(0, 100)}`);
    }
    return row;
  }

  /** Which entry holds each rule id and name (the first one to claim it). */
  #holders(entries: readonly Entry[], items: (e: Entry) => readonly SigmaItem[]): Map<string, Entry> {
    const m = new Map<string, Entry>();
    for (const e of entries) for (const k of items(e).flatMap(keysOf)) if (!m.has(k)) m.set(k, e);
    return m;
  }

  /** A rule id or name already used by another file or record (references must stay unambiguous). */
  #clash(e: { items: readonly SigmaItem[]; scopedItems?: readonly SigmaItem[] }, holders: ReadonlyMap<string, Entry>, items: (e: Entry) => readonly SigmaItem[]): string | null {
    const own = e.scopedItems !== undefined ? items(e as Entry) : e.items;
    const k = own.flatMap(keysOf).find((x) => { const h = holders.get(x); return h !== undefined && h !== e; });
    return k === undefined ? null : `Sigma rule id or name "${unscopedRuleId(k) ?? k}" is already in use by another loaded rule; give the rule its own id`;
  }

  /**
   * A correlation or filter must reference only rules of its own owner: a filter changes what the
   * referenced rule matches, and a correlation (generate: false) silences its rules' own alerts,
   * for every organisation. References to unknown rules are left to the engine (reported).
   */
  #foreignRef(e: { owner: string; items: readonly SigmaItem[] }, holders: ReadonlyMap<string, Entry>): string | null {
    for (const i of e.items) {
      for (const r of refsOf(i)) {
        // At build the references are scoped: one to a directory rule is looked up as written.
        const ref = holders.has(r) ? r : (unscopedRuleId(r) ?? r);
        const owner = holders.get(ref)?.owner;
        if (owner !== undefined && owner !== e.owner) {
          return `${i.kind} "${i.title}" references rule "${ref}" of another owner (${owner === 'dir' ? 'the rules directory' : 'another organisation'}); a ${i.kind} may only reference rules of its own organisation (or, in the directory, directory rules)`;
        }
      }
    }
    return null;
  }

  #build(): Built {
    if (this.#built) return this.#built;
    const failures: Failure[] = [];
    // Directory rules come first, then records by age: the earlier holder of an id keeps it.
    const holders = new Map<string, Entry>();
    const included: Entry[] = [];
    const scopedOf = (e: Entry) => e.scopedItems;
    for (const e of [...this.#dir, ...this.#stored.values()]) {
      const clash = this.#clash(e, holders, scopedOf);
      if (clash) {
        failures.push({ source: e.source, rule: e.id, reason: clash, entry: e });
        continue;
      }
      for (const k of e.scopedItems.flatMap(keysOf)) if (!holders.has(k)) holders.set(k, e);
      included.push(e);
    }
    const kept: Entry[] = [];
    for (const e of included) {
      const foreign = this.#foreignRef({ owner: e.owner, items: e.scopedItems }, holders);
      if (foreign) failures.push({ source: e.source, rule: e.id, reason: unscopedText(foreign), entry: e });
      else kept.push(e);
    }
    const engine = new SigmaEngine(kept.flatMap((e) => e.scopedItems), this.#opts.engine ?? {});
    const issuers = new Map<string, Entry>();
    for (const e of kept) for (const i of e.items) if (i.kind !== 'detection' && !issuers.has(i.title)) issuers.set(i.title, e);
    for (const issue of engine.issues) {
      const owner = issuers.get(issue.rule);
      failures.push({ source: 'engine', rule: issue.rule, reason: unscopedText(issue.reason), ...(owner ? { entry: owner } : {}) });
    }
    const snapshot = { engine, releaseOf: releaseIndex(kept) };
    this.#built = { snapshot, failures, loaded: kept.length, loadedIds: new Set(kept.map((e) => e.id)), kept };
    return this.#built;
  }

  async #audit(tx: Store, actor: AuthedActor, e: { action: string; target: string; detail: Record<string, unknown> }): Promise<void> {
    const { action, target, detail } = e;
    const p = actor.principal;
    await tx.appendAudit({ atUs: this.#deps.clock.now() * 1000, userId: p.userId, orgId: p.orgId, tokenId: p.tokenId, source: actor.source, action, target, detail: JSON.stringify(detail).slice(0, 8000) });
  }

  #publish(type: string, row: RecordRow, data: Record<string, unknown>): void {
    this.#deps.bus.publish({
      type, subject: row.id, atUs: row.updatedUs, exerciseId: null,
      facts: { tlp: row.tlp, creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: row.originNode }, data,
    });
  }
}

/** releaseOf over the included entries: by id, then name, then title (all holders combined). */
function releaseIndex(entries: readonly Entry[]): (ref: SigmaRuleRef) => ReleaseFacts {
  const byKey = new Map<string, { item: SigmaItem; entry: Entry }>();
  const byTitle = new Map<string, { item: SigmaItem; entry: Entry }[]>();
  const byPlain = new Map<string, { item: SigmaItem; entry: Entry }[]>();
  for (const entry of entries) {
    for (const item of entry.scopedItems) {
      for (const k of keysOf(item)) {
        if (!byKey.has(k)) byKey.set(k, { item, entry });
        const plain = unscopedRuleId(k) ?? k;
        byPlain.set(plain, [...(byPlain.get(plain) ?? []), { item, entry }]);
      }
      byTitle.set(item.title, [...(byTitle.get(item.title) ?? []), { item, entry }]);
    }
  }
  const memo = new Map<SigmaItem, ReleaseFacts>();
  const factsOf = (x: { item: SigmaItem; entry: Entry }, seen: Set<SigmaItem>): ReleaseFacts => {
    const hit = memo.get(x.item);
    if (hit) return hit;
    if (seen.has(x.item)) return NOBODY; // a cycle: the engine disables it anyway
    seen.add(x.item);
    const parts = [x.entry.facts];
    for (const ref of refsOf(x.item)) {
      const target = byKey.get(ref);
      parts.push(target ? factsOf(target, seen) : NOBODY);
    }
    seen.delete(x.item);
    const f = combineRelease(parts);
    memo.set(x.item, f);
    return f;
  };
  return (ref) => {
    const r = typeof ref === 'string' ? { id: ref, title: '' } : ref;
    const exact = (r.id !== undefined ? byKey.get(r.id) : undefined) ?? (r.name !== undefined ? byKey.get(r.name) : undefined);
    if (exact) return factsOf(exact, new Set());
    // An id as the rule gives it (not scoped): every owner's rule with that key must release.
    const plain = (r.id !== undefined ? byPlain.get(r.id) : undefined) ?? (r.name !== undefined ? byPlain.get(r.name) : undefined);
    if (plain) return combineRelease(plain.map((t) => factsOf(t, new Set())));
    // A rule without id: every rule of that title may have raised it, so all must release.
    const titled = byTitle.get(r.title) ?? [];
    return titled.length ? combineRelease(titled.map((t) => factsOf(t, new Set()))) : NOBODY;
  };
}

function viewOf(e: Entry, o: { yaml: boolean; loaded: boolean }): SigmaRuleView {
  const { yaml, ...doc } = e.doc;
  return {
    id: e.id, source: e.source, ...doc, tlp: e.facts.tlp, recipients: [...e.facts.recipients], creatorOrg: e.facts.creatorOrg,
    createdAt: e.createdUs === null ? null : new Date(e.createdUs / 1000).toISOString(), loaded: o.loaded, ...(o.yaml ? { yaml } : {}),
  };
}
