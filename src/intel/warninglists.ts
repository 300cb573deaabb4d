/**
 * Warninglists: lists of known-benign values (the node's built-in lists and imported MISP
 * warninglist JSON files). A value on an enabled list is flagged on the object and suppressed
 * from correlation; detection asks `match` for every hit, so matching is synchronous and works
 * on an in-memory compilation: merged hash maps for string / hostname / CIDR lists (one lookup
 * per value, per label or per prefix length, however many lists), arrays for substring / regex.
 *
 * MISP format (misp-warninglists): { name, version, description, type: string | substring |
 * hostname | cidr | regex, matching_attributes: [MISP attribute types], list: [...] }.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { compileLinear, describeRefusal, type LinearRegex, type LinearRegexResult } from '../core/regex.js';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../access/index.js';
import type { ObservableKind, Store, WarninglistRow, WarninglistType } from '../store/index.js';
import { normaliseValue, parseIp, OBSERVABLE_KINDS } from './observables.js';
import { BUILTIN_WARNINGLISTS } from './warninglist-defaults.js';

export interface WarninglistHit {
  listId: string;
  name: string;
}

export type WarninglistInfo = WarninglistRow & { entryCount: number };

export const WARNINGLIST_TYPES: readonly WarninglistType[] = ['string', 'substring', 'hostname', 'cidr', 'regex'];
/** Bounds of an imported list. */
export const MAX_WARNINGLIST_ENTRIES = 500_000;
/**
 * Longest entry, in UTF-8 bytes: entries are keys of a PostgreSQL B-tree index, which refuses
 * an entry over 2,704 bytes; 1,024 characters of CJK text (3,072 bytes) failed the import
 * there with a server error while SQLite took it. The same bound as an indexed observable value.
 */
const MAX_ENTRY_BYTES = 1024;
const MAX_REGEX_LENGTH = 500;
const REV_KEY = 'warninglists:rev';

/** MISP attribute types → the kinds of value they hold. */
const ATTRIBUTE_KINDS: Record<string, ObservableKind[]> = {
  'ip-src': ['ip'], 'ip-dst': ['ip'], 'ip-src|port': ['ip'], 'ip-dst|port': ['ip'], ip: ['ip'],
  'domain|ip': ['domain', 'ip'], domain: ['domain'], hostname: ['domain'], 'hostname|port': ['domain'],
  url: ['url'], uri: ['url'], link: ['url'],
  email: ['email'], 'email-src': ['email'], 'email-dst': ['email'], 'target-email': ['email'], 'email-reply-to': ['email'],
  'whois-registrant-email': ['email'], 'dns-soa-email': ['email'],
  md5: ['hash'], sha1: ['hash'], sha224: ['hash'], sha256: ['hash'], sha384: ['hash'], sha512: ['hash'], 'sha512/224': ['hash'],
  'sha512/256': ['hash'], 'sha3-224': ['hash'], 'sha3-256': ['hash'], 'sha3-384': ['hash'], 'sha3-512': ['hash'], ssdeep: ['hash'],
  imphash: ['hash'], tlsh: ['hash'], authentihash: ['hash'], 'filename|md5': ['hash'], 'filename|sha1': ['hash'], 'filename|sha256': ['hash'],
  'x509-fingerprint-md5': ['hash'], 'x509-fingerprint-sha1': ['hash'], 'x509-fingerprint-sha256': ['hash'],
};

/** Kinds a list applies to: from its MISP attribute types (unknown types = free strings); none listed = every kind. */
export function kindsOf(matchingAttributes: readonly string[]): Set<ObservableKind> {
  if (matchingAttributes.length === 0) return new Set(OBSERVABLE_KINDS);
  const out = new Set<ObservableKind>();
  for (const a of matchingAttributes) for (const k of ATTRIBUTE_KINDS[a.toLowerCase()] ?? ['string']) out.add(k);
  return out;
}

/**
 * `/body/flags` (MISP's PCRE style) or a bare expression, compiled on RE2 (core/regex.ts: linear
 * time). A refusal says why and where (the position counts from the first character of `entry`).
 */
export function compileRegex(entry: string): LinearRegexResult {
  if (entry.length > MAX_REGEX_LENGTH) return { ok: false, refusal: { reason: `longer than ${MAX_REGEX_LENGTH} characters`, position: MAX_REGEX_LENGTH } };
  let body = entry;
  let flags = '';
  const m = /^\/(.*)\/([a-z]*)$/s.exec(entry);
  if (m) {
    body = m[1]!;
    // PCRE flags without a meaning for a match test are dropped; 'i', 'm', 's' mean the same.
    flags = [...new Set(m[2]!.split(''))].filter((f) => 'ims'.includes(f)).join('');
  }
  const r = compileLinear(body, flags);
  if (r.ok || !m) return r;
  return { ok: false, refusal: { reason: r.refusal.reason, position: r.refusal.position + 1 } };
}

function hostnameEntry(entry: string): string | null {
  const e = entry.trim().replace(/^\*\./, '').replace(/^\./, '');
  return normaliseValue('domain', e)?.value ?? null;
}

/** Host part of a normalised URL, or of an e-mail address. */
function hostOf(kind: ObservableKind, value: string): string | null {
  if (kind === 'email') return value.slice(value.lastIndexOf('@') + 1) || null;
  if (kind === 'url') {
    try {
      const h = new URL(value).hostname;
      return h.startsWith('[') ? h.slice(1, -1) : h;
    } catch {
      return null;
    }
  }
  return kind === 'domain' ? value : null;
}

interface Compiled {
  strings: Map<ObservableKind, Map<string, WarninglistHit>>;
  hosts: Map<ObservableKind, Map<string, WarninglistHit>>;
  /** kind → version → prefix → network → list. */
  cidrs: Map<ObservableKind, Map<4 | 6, Map<number, Map<bigint, WarninglistHit>>>>;
  substrings: Map<ObservableKind, { needle: string; hit: WarninglistHit }[]>;
  regexes: Map<ObservableKind, { re: LinearRegex; hit: WarninglistHit }[]>;
}

const emptyCompiled = (): Compiled => ({ strings: new Map(), hosts: new Map(), cidrs: new Map(), substrings: new Map(), regexes: new Map() });

function bucket<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

/** Adds one list to the compilation; returns how many entries could not be used. */
function compileList(c: Compiled, w: { id: string; name: string; type: WarninglistType; matchingAttributes: readonly string[] }, entries: readonly string[]): number {
  const hit: WarninglistHit = { listId: w.id, name: w.name };
  const kinds = kindsOf(w.matchingAttributes);
  let bad = 0;
  for (const raw of entries) {
    let used = false;
    for (const kind of kinds) {
      switch (w.type) {
        case 'string': {
          const v = normaliseValue(kind, raw)?.value ?? raw.trim().toLowerCase();
          const m = bucket(c.strings, kind, () => new Map<string, WarninglistHit>());
          if (!m.has(v)) m.set(v, hit);
          // Free strings are compared case-insensitively.
          if (kind === 'string') { const lc = v.toLowerCase(); if (!m.has(lc)) m.set(lc, hit); }
          used = true;
          break;
        }
        case 'hostname': {
          if (kind === 'ip' || kind === 'hash' || kind === 'string') break;
          const h = hostnameEntry(raw);
          if (!h) break;
          const m = bucket(c.hosts, kind, () => new Map<string, WarninglistHit>());
          if (!m.has(h)) m.set(h, hit);
          used = true;
          break;
        }
        case 'cidr': {
          if (kind !== 'ip' && kind !== 'url') break;
          const b = parseIp(raw);
          if (!b) break;
          const byPrefix = bucket(bucket(c.cidrs, kind, () => new Map()), b.version, () => new Map<number, Map<bigint, WarninglistHit>>());
          const m = bucket(byPrefix, b.prefix, () => new Map<bigint, WarninglistHit>());
          if (!m.has(b.network)) m.set(b.network, hit);
          used = true;
          break;
        }
        case 'substring': {
          const needle = raw.trim().toLowerCase();
          if (!needle) break;
          bucket(c.substrings, kind, () => []).push({ needle, hit });
          used = true;
          break;
        }
        case 'regex': {
          const r = compileRegex(raw);
          if (!r.ok) break;
          bucket(c.regexes, kind, () => []).push({ re: r.re, hit });
          used = true;
          break;
        }
      }
    }
    if (!used) bad++;
  }
  return bad;
}

const MEMO_MAX = 20_000;

function matchCidr(c: Compiled, kind: ObservableKind, text: string): WarninglistHit | null {
  const byVersion = c.cidrs.get(kind);
  if (!byVersion) return null;
  const b = parseIp(text);
  if (!b) return null;
  const byPrefix = byVersion.get(b.version);
  if (!byPrefix) return null;
  const width = b.version === 4 ? 32 : 128;
  for (const [prefix, nets] of byPrefix) {
    if (prefix > b.prefix) continue;
    const shift = BigInt(width - prefix);
    const hit = nets.get((b.network >> shift) << shift);
    if (hit) return hit;
  }
  return null;
}

function matchCompiled(c: Compiled, kind: ObservableKind, raw: string): WarninglistHit | null {
  const norm = normaliseValue(kind, raw);
  const value = norm?.value ?? raw.trim();
  const strings = c.strings.get(kind);
  if (strings) {
    const hit = strings.get(value) ?? (kind === 'string' ? strings.get(value.toLowerCase()) : undefined);
    if (hit) return hit;
  }
  const host = hostOf(kind, value);
  const hosts = c.hosts.get(kind);
  if (hosts && host) {
    // The name itself, then each parent domain: a.b.example.com, b.example.com, example.com, com.
    for (let h: string | null = host; h; h = h.includes('.') ? h.slice(h.indexOf('.') + 1) : null) {
      const hit = hosts.get(h);
      if (hit) return hit;
    }
  }
  if (kind === 'ip') {
    const hit = matchCidr(c, kind, value);
    if (hit) return hit;
  } else if (kind === 'url' && host) {
    const hit = matchCidr(c, kind, host);
    if (hit) return hit;
  }
  const subs = c.substrings.get(kind);
  if (subs) {
    const lc = value.toLowerCase();
    for (const s of subs) if (lc.includes(s.needle)) return s.hit;
  }
  const res = c.regexes.get(kind);
  if (res) for (const r of res) if (r.re.test(value) || (value !== raw && r.re.test(raw))) return r.hit;
  return null;
}

/** A MISP warninglist JSON document, checked field by field (422 naming the field otherwise). */
export interface MispWarninglist {
  name: string;
  version: number;
  description: string;
  type: WarninglistType;
  matchingAttributes: string[];
  list: string[];
}

export function parseMispWarninglist(raw: unknown): MispWarninglist {
  const bad = (msg: string) => new AppError('UNPROCESSABLE', `not a MISP warninglist: ${msg}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('expected a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !o.name.trim() || o.name.length > 300) throw bad('name must be a string of 1-300 characters');
  const version = typeof o.version === 'string' && /^\d{1,15}$/.test(o.version) ? Number(o.version) : o.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw bad('version must be a non-negative integer');
  if (o.description !== undefined && typeof o.description !== 'string') throw bad('description must be a string');
  const type = o.type ?? 'string';
  if (typeof type !== 'string' || !(WARNINGLIST_TYPES as readonly string[]).includes(type)) throw bad(`type must be one of ${WARNINGLIST_TYPES.join(', ')}`);
  const attrs = o.matching_attributes ?? [];
  if (!Array.isArray(attrs) || attrs.some((a) => typeof a !== 'string' || a.length > 100) || attrs.length > 200) throw bad('matching_attributes must be a list of attribute types');
  if (!Array.isArray(o.list) || o.list.length === 0) throw bad('list must be a non-empty array');
  if (o.list.length > MAX_WARNINGLIST_ENTRIES) throw bad(`list has more than ${MAX_WARNINGLIST_ENTRIES} entries`);
  // A character is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4): shorter strings need no count.
  const idx = o.list.findIndex((e) => typeof e !== 'string' || (e.length > MAX_ENTRY_BYTES / 3 && Buffer.byteLength(e) > MAX_ENTRY_BYTES));
  if (idx >= 0) throw bad(`list[${idx}] must be a string of at most ${MAX_ENTRY_BYTES} bytes (UTF-8)`);
  const list = [...new Set((o.list as string[]).map((e) => e.trim()).filter(Boolean))];
  if (list.length === 0) throw bad('list has no non-empty entry');
  return {
    name: o.name.trim(), version, description: typeof o.description === 'string' ? o.description.slice(0, 5000) : '',
    type: type as WarninglistType, matchingAttributes: attrs as string[], list,
  };
}

/** Stable id of an imported list: from its name, so a newer version replaces the older one. */
export function mispListId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
  return `misp-${slug || 'list'}`;
}

export class Warninglists {
  #compiled: Compiled = emptyCompiled();
  /**
   * Answers for recent values: telemetry repeats the same few addresses and names, and each
   * indicator hit asks about its value. Cleared when the lists change; bounded (cleared when full).
   */
  #memo = new Map<string, WarninglistHit | null>();
  #rev: string | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(private readonly store: Store, private readonly clock: Clock) {}

  /** Seeds the built-in lists (a newer shipped version replaces the stored entries, keeping enabled/disabled), then compiles every enabled list. */
  async load(): Promise<void> {
    const stored = new Map((await this.store.listWarninglists()).map((w) => [w.id, w]));
    const nowUs = this.clock.now() * 1000;
    for (const b of BUILTIN_WARNINGLISTS) {
      const s = stored.get(b.id);
      if (s && s.version >= b.version) continue;
      await this.store.putWarninglist({
        id: b.id, name: b.name, version: b.version, description: b.description, type: b.type, matchingAttributes: b.matchingAttributes,
        enabled: s ? s.enabled : b.enabledByDefault, builtin: true, createdUs: s?.createdUs ?? nowUs, updatedUs: nowUs,
      }, b.list);
    }
    await this.#compile();
  }

  /** Reloads when another process (the CLI, another node process) changed the lists. */
  async refresh(): Promise<boolean> {
    const rev = await this.store.getMeta(REV_KEY);
    if (rev === this.#rev) return false;
    await this.#compile();
    return true;
  }

  async #compile(): Promise<void> {
    const rev = await this.store.getMeta(REV_KEY);
    const c = emptyCompiled();
    for (const w of await this.store.listWarninglists()) {
      if (w.enabled) compileList(c, w, await this.store.warninglistEntries(w.id));
    }
    this.#compiled = c;
    this.#memo = new Map();
    this.#rev = rev;
    for (const l of this.#listeners) {
      try {
        l();
      } catch {
        // A failing listener must not stop the others.
      }
    }
  }

  /** The first enabled list the value is on, or null. Synchronous: detection calls it per hit. */
  match(kind: ObservableKind, value: string): WarninglistHit | null {
    if (typeof value !== 'string' || value.length > 4 * MAX_ENTRY_BYTES) return null;
    if (value.length > 256) return matchCompiled(this.#compiled, kind, value);
    const key = `${kind}\u0000${value}`;
    const had = this.#memo.get(key);
    if (had !== undefined) return had;
    const hit = matchCompiled(this.#compiled, kind, value);
    if (this.#memo.size >= MEMO_MAX) this.#memo.clear();
    this.#memo.set(key, hit);
    return hit;
  }

  /** Called after the in-memory lists changed (load, import, enable, disable, delete). Returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async list(): Promise<WarninglistInfo[]> {
    return this.store.listWarninglists();
  }

  async get(id: string): Promise<WarninglistInfo> {
    const w = (await this.store.listWarninglists()).find((x) => x.id === id);
    if (!w) throw new AppError('NOT_FOUND', `no warninglist ${id.slice(0, 100)}`);
    return w;
  }

  /**
   * Imports (or replaces, by name) a MISP warninglist, enabled. Entries that cannot be used for
   * the list's type (an unparsable CIDR, a blank line) are skipped, counted and not stored; a list
   * of which no entry is usable is refused. A regex entry that RE2 cannot run (a backreference,
   * lookaround, a syntax error) refuses the whole list with 422, the entry and the position:
   * never stored to be skipped or run slowly later (DESIGN §2.7).
   */
  async importMisp(actor: Actor, raw: unknown): Promise<{ list: WarninglistInfo; skipped: number }> {
    const m = parseMispWarninglist(raw);
    if (m.type === 'regex') refuseRegexEntries(m.list);
    const id = mispListId(m.name);
    const existing = (await this.store.listWarninglists()).find((w) => w.id === id);
    const probe = { id, name: m.name, type: m.type, matchingAttributes: m.matchingAttributes };
    // Only usable entries are stored: the stored list is what matches.
    const usable = m.list.filter((e) => compileList(emptyCompiled(), probe, [e]) === 0);
    const skipped = m.list.length - usable.length;
    if (usable.length === 0) throw new AppError('UNPROCESSABLE', `not a MISP warninglist: no entry of the list is a usable ${m.type} entry`);
    const nowUs = this.clock.now() * 1000;
    await this.store.transaction(async (tx) => {
      await tx.putWarninglist({
        id, name: m.name, version: m.version, description: m.description, type: m.type, matchingAttributes: m.matchingAttributes,
        enabled: existing?.enabled ?? true, builtin: false, createdUs: existing?.createdUs ?? nowUs, updatedUs: nowUs,
      }, usable);
      await this.#changed(tx, actor, { action: 'warninglist.import', target: id, detail: { name: m.name, version: m.version, type: m.type, entries: usable.length, skipped } });
    });
    await this.#compile();
    return { list: await this.get(id), skipped };
  }

  async setEnabled(actor: Actor, id: string, enabled: boolean): Promise<WarninglistInfo> {
    await this.get(id);
    await this.store.transaction(async (tx) => {
      await tx.setWarninglistEnabled(id, enabled, this.clock.now() * 1000);
      await this.#changed(tx, actor, { action: enabled ? 'warninglist.enable' : 'warninglist.disable', target: id });
    });
    await this.#compile();
    return this.get(id);
  }

  /** Deletes an imported list; a built-in list can only be disabled. */
  async delete(actor: Actor, id: string): Promise<void> {
    const w = await this.get(id);
    if (w.builtin) throw new AppError('CONFLICT', `${id} is a built-in warninglist: disable it instead`);
    await this.store.transaction(async (tx) => {
      await tx.deleteWarninglist(id);
      await this.#changed(tx, actor, { action: 'warninglist.delete', target: id, detail: { name: w.name } });
    });
    await this.#compile();
  }

  /** Bumps the revision other processes watch (refresh) and audits the write, in the writer's transaction. */
  async #changed(tx: Store, actor: Actor, a: { action: string; target: string; detail?: Record<string, unknown> }): Promise<void> {
    const nowUs = this.clock.now() * 1000;
    await tx.setMeta(REV_KEY, randomUUID());
    await auditWrite(tx, actor, { ...a, atUs: nowUs });
  }
}

function refuseRegexEntries(list: readonly string[]): void {
  list.forEach((entry, i) => {
    if (entry.trim() === '') return;
    const r = compileRegex(entry);
    if (r.ok) return;
    throw new AppError('UNPROCESSABLE', `list[${i}]: regular expression refused: ${describeRefusal(r.refusal)}`, {
      details: { entry: i, reason: r.refusal.reason, position: r.refusal.position },
    });
  });
}

/** Audit row for a correlation / warninglist write (DESIGN §2.5), in the caller's transaction. */
export async function auditWrite(store: Store, actor: Actor, a: { action: string; target: string | null; atUs: number; detail?: Record<string, unknown> }): Promise<void> {
  const p = actor.principal;
  await store.appendAudit({
    atUs: a.atUs, userId: p?.userId ?? null, orgId: p?.orgId ?? null, tokenId: p?.tokenId ?? null, source: actor.source,
    action: a.action, target: a.target, detail: a.detail ? JSON.stringify(a.detail) : null,
  });
}
