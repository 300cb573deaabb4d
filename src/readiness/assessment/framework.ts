/**
 * Frameworks as data: one shape (functions → categories → items, a maturity scale) read from
 * the NIST CPRT CSF 2.0 JSON export, a CIS Controls v8 style list of safeguards with
 * implementation groups, or the Shieldwall framework format (JSON or YAML). See
 * docs/readiness.md for the formats. Parsing never trusts the file: every field is checked,
 * sizes are capped, and a refused file names why (UNPROCESSABLE, 422).
 */
import YAML from 'yaml';
import { yamlNestingRefusal } from '../../core/yaml-guard.js';
import { AppError } from '../../core/errors.js';

export interface Scale {
  /** Lowest and highest maturity level (tiers 1–4, or 0–5). */
  readonly min: number;
  readonly max: number;
  /** One label per level, min first (optional). */
  readonly labels?: readonly string[];
}
export interface FrameworkGroup {
  readonly id: string;
  readonly title: string;
}
export interface FrameworkCategory {
  readonly id: string;
  readonly title: string;
  readonly group: string;
}
export interface FrameworkItem {
  readonly id: string;
  readonly text: string;
  readonly group: string;
  readonly category: string;
  /** CIS implementation groups (1, 2, 3) the safeguard belongs to, when the framework has them. */
  readonly ig?: readonly number[];
}
export interface Framework {
  /** Stable short key, e.g. `csf-2.0`, `pledge-2016`, `cis-v8`. */
  readonly key: string;
  readonly title: string;
  readonly version: string;
  readonly source: 'nist-cprt' | 'cis-v8' | 'shieldwall';
  readonly scale: Scale;
  readonly groups: readonly FrameworkGroup[];
  readonly categories: readonly FrameworkCategory[];
  readonly items: readonly FrameworkItem[];
}

export const MAX_ITEMS = 5000;
const KEY = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const ITEM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function refuse(message: string): never {
  throw new AppError('UNPROCESSABLE', `framework refused: ${message}`);
}

/** NIST CSF tiers (CSWP 29 §3): context for governance and management, 1–4. */
export const CSF_TIERS: Scale = { min: 1, max: 4, labels: ['Partial', 'Risk Informed', 'Repeatable', 'Adaptive'] };
/** A 0–5 capability maturity scale (CMMI-like, used by ENISA NCAF style models). */
export const MATURITY_0_5: Scale = { min: 0, max: 5, labels: ['None', 'Initial', 'Managed', 'Defined', 'Measured', 'Optimised'] };

interface CprtElement { element_type?: unknown; element_identifier?: unknown; title?: unknown; text?: unknown }
interface CprtRelationship { source_element_identifier?: unknown; dest_element_identifier?: unknown; relationship_identifier?: unknown }

/**
 * The NIST CPRT export: `response.elements.{elements[], relationships[]}`. Withdrawn CSF 1.1
 * leftovers are the elements with a `projection` to a `withdraw_reason` element (`WR-…`);
 * without them CSF 2.0 has 6 functions, 22 categories and 106 subcategories.
 */
export function fromCprt(doc: unknown, key = 'csf-2.0'): Framework {
  const r = (doc as { response?: { elements?: { elements?: unknown; relationships?: unknown; documents?: unknown } } } | null)?.response?.elements;
  if (!r || !Array.isArray(r.elements) || !Array.isArray(r.relationships)) refuse('not a CPRT export (response.elements.elements[] and relationships[] expected)');
  const els = r.elements as CprtElement[];
  const reasons = new Set(els.filter((e) => e.element_type === 'withdraw_reason').map((e) => String(e.element_identifier)));
  const withdrawn = new Set<string>();
  for (const rel of r.relationships as CprtRelationship[]) {
    if (rel.relationship_identifier === 'projection' && reasons.has(String(rel.dest_element_identifier))) withdrawn.add(String(rel.source_element_identifier));
  }
  const live = (type: string) => els.filter((e) => e.element_type === type && typeof e.element_identifier === 'string' && !withdrawn.has(e.element_identifier));
  const groups = live('function').map((e) => ({ id: String(e.element_identifier), title: titleCase(String(e.title ?? e.element_identifier)) }));
  const gIds = new Set(groups.map((g) => g.id));
  const categories = live('category').map((e) => {
    const id = String(e.element_identifier);
    return { id, title: String(e.title || id), group: id.split('.')[0]! };
  }).filter((c) => gIds.has(c.group));
  const cIds = new Set(categories.map((c) => c.id));
  const items = live('subcategory').map((e) => {
    const id = String(e.element_identifier);
    return { id, text: String(e.text ?? ''), category: id.split('-')[0]!, group: id.split('.')[0]! };
  }).filter((i) => cIds.has(i.category));
  const docs = Array.isArray(r.documents) ? (r.documents as { name?: unknown; version?: unknown }[]) : [];
  const version = String(docs[0]?.version ?? '2.0').replace(/^Version\s+/, '');
  return check({ key, title: String(docs[0]?.name ?? 'NIST Cybersecurity Framework'), version, source: 'nist-cprt', scale: CSF_TIERS, groups, categories, items });
}

/**
 * CIS Controls v8 style: `{ "controls": [{ "id": "1", "title": "...", "safeguards": [{ "id": "1.1",
 * "title": "...", "ig": [1,2,3] }] }] }`. Ship only ids and IG flags: the safeguard text is
 * CIS-copyrighted, so an admin imports it from their own licensed copy.
 */
export function fromCis(doc: unknown, key = 'cis-v8'): Framework {
  const d = doc as { format?: unknown; title?: unknown; version?: unknown; controls?: unknown };
  if (!Array.isArray(d?.controls)) refuse('not a CIS Controls file (controls[] expected)');
  const groups: FrameworkGroup[] = [];
  const categories: FrameworkCategory[] = [];
  const items: FrameworkItem[] = [];
  for (const c of d.controls as { id?: unknown; title?: unknown; safeguards?: unknown }[]) {
    const cid = String(c?.id ?? '');
    if (!ITEM_ID.test(cid) || !Array.isArray(c.safeguards)) refuse(`control ${cid.slice(0, 40)}: id and safeguards[] expected`);
    const gid = `CIS-${cid}`;
    groups.push({ id: gid, title: String(c.title ?? `Control ${cid}`).slice(0, 300) });
    categories.push({ id: gid, title: String(c.title ?? `Control ${cid}`).slice(0, 300), group: gid });
    for (const s of c.safeguards as { id?: unknown; title?: unknown; ig?: unknown }[]) {
      const sid = String(s?.id ?? '');
      if (!ITEM_ID.test(sid)) refuse(`safeguard ${sid.slice(0, 40)}: bad id`);
      const ig = Array.isArray(s.ig) ? s.ig : [];
      if (!ig.length || ig.some((x) => x !== 1 && x !== 2 && x !== 3)) refuse(`safeguard ${sid}: ig must list implementation groups among 1, 2, 3`);
      items.push({ id: sid, text: String(s.title ?? '').slice(0, 2000), group: gid, category: gid, ig: [...new Set(ig as number[])].sort() });
    }
  }
  return check({ key, title: String(d.title ?? 'CIS Critical Security Controls'), version: String(d.version ?? '8'), source: 'cis-v8', scale: MATURITY_0_5, groups, categories, items });
}

/**
 * The Shieldwall format: `{ format: "shieldwall-framework", key, title, version, scale: {min,
 * max, labels}, functions: [{ id, title, categories: [{ id, title, items: [{ id, text }] }] }] }`.
 */
export function fromShieldwall(doc: unknown): Framework {
  const d = doc as { key?: unknown; title?: unknown; version?: unknown; scale?: { min?: unknown; max?: unknown; labels?: unknown }; functions?: unknown };
  if (!Array.isArray(d?.functions)) refuse('functions[] expected');
  const min = d.scale?.min ?? 0;
  const max = d.scale?.max ?? 5;
  if (!Number.isInteger(min) || !Number.isInteger(max) || (min as number) < 0 || (max as number) > 10 || (min as number) >= (max as number)) refuse('scale: integers 0 ≤ min < max ≤ 10 expected');
  const labels = Array.isArray(d.scale?.labels) ? (d.scale.labels as unknown[]).map((l) => String(l).slice(0, 100)) : undefined;
  if (labels && labels.length !== (max as number) - (min as number) + 1) refuse('scale.labels: one label per level expected');
  const groups: FrameworkGroup[] = [];
  const categories: FrameworkCategory[] = [];
  const items: FrameworkItem[] = [];
  for (const f of d.functions as { id?: unknown; title?: unknown; categories?: unknown }[]) {
    const fid = String(f?.id ?? '');
    if (!ITEM_ID.test(fid) || !Array.isArray(f.categories)) refuse(`function ${fid.slice(0, 40)}: id and categories[] expected`);
    groups.push({ id: fid, title: String(f.title ?? fid).slice(0, 300) });
    for (const c of f.categories as { id?: unknown; title?: unknown; items?: unknown }[]) {
      const cid = String(c?.id ?? '');
      if (!ITEM_ID.test(cid) || !Array.isArray(c.items)) refuse(`category ${cid.slice(0, 40)}: id and items[] expected`);
      categories.push({ id: cid, title: String(c.title ?? cid).slice(0, 300), group: fid });
      for (const i of c.items as { id?: unknown; text?: unknown }[]) {
        const iid = String(i?.id ?? '');
        if (!ITEM_ID.test(iid)) refuse(`item ${iid.slice(0, 40)}: bad id`);
        items.push({ id: iid, text: String(i.text ?? '').slice(0, 2000), group: fid, category: cid });
      }
    }
  }
  return check({
    key: String(d.key ?? ''), title: String(d.title ?? '').slice(0, 300), version: String(d.version ?? '1').slice(0, 40), source: 'shieldwall',
    scale: { min: min as number, max: max as number, ...(labels ? { labels } : {}) }, groups, categories, items,
  });
}

/** Any supported file: JSON or YAML text, its format recognised from its shape. */
export function parseFramework(text: string, opts: { key?: string } = {}): Framework {
  if (text.length > 20_000_000) refuse('file larger than 20 MB');
  const json = text.trimStart().startsWith('{');
  const deep = json ? null : yamlNestingRefusal(text);
  if (deep !== null) refuse(deep);
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : YAML.parse(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (e) {
    refuse(`neither JSON nor YAML: ${(e as Error).message.slice(0, 200)}`);
  }
  const d = doc as Record<string, unknown> | null;
  if (d && typeof d === 'object' && 'response' in d) return fromCprt(d, opts.key);
  if (d && typeof d === 'object' && Array.isArray(d.controls)) return fromCis(d, opts.key);
  if (d && typeof d === 'object' && Array.isArray(d.functions)) return fromShieldwall(opts.key ? { ...d, key: opts.key } : d);
  return refuse('unknown format (expected a NIST CPRT export, a CIS Controls file or a Shieldwall framework)');
}

function check(f: Framework): Framework {
  if (!KEY.test(f.key)) refuse(`key "${f.key.slice(0, 64)}" must be 1-64 of a-z, 0-9, '.', '-'`);
  if (!f.title) refuse('title missing');
  if (!f.items.length) refuse('no items');
  if (f.items.length > MAX_ITEMS) refuse(`more than ${MAX_ITEMS} items`);
  const seen = new Set<string>();
  for (const i of f.items) {
    if (seen.has(i.id)) refuse(`item ${i.id} appears twice`);
    seen.add(i.id);
  }
  return f;
}

function titleCase(s: string): string {
  return s.length > 1 && s === s.toUpperCase() ? s[0] + s.slice(1).toLowerCase() : s;
}
