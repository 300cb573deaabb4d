/**
 * The exposure matcher: which assets a vulnerability affects. Rules are indexed by a normalised
 * `vendor:product` key (letters and digits only, so "Palo Alto Networks / PAN-OS" and
 * `paloaltonetworks:pan-os` meet), so matching an asset costs its products' candidates, not
 * every vulnerability (no N×M). Rules whose vendor or product is a pattern go to a short list
 * tested against every product.
 *
 * Per (product, CVE): a version-aware rule (CVE 5 `affected`, NVD configuration) that says
 * affected wins; one that says unaffected clears the product; when none decides, a KEV entry
 * naming the vendor and product makes it affected with confidence `product` (KEV has no
 * versions: the member confirms or marks it false positive).
 *
 * Speed (bench `exposure_full_match_s`): the index holds, per product key, one entry per CVE
 * with that CVE's rules already grouped (no per-product regrouping); each CVE 5 rule's CPEs are
 * parsed and classified once (the common `cpe:2.3:a:vendor:product:*:…` form is decided by
 * three string comparisons) and its version ranges are compiled to comparison keys once
 * (cpe/versions.ts `compileVersions`), so a candidate costs string comparisons, no parsing.
 * {@link VulnIndex.matchMany} matches a batch of assets key by key: the profile of the
 * asset-by-asset loop was dominated by fetching each key's candidates from memory again for
 * every asset (the loop head and the rule's kind, not the comparisons), which walking all
 * products of a key in a row avoids.
 */
import { affectedBy, criterionMatches } from '../cpe/applicability.js';
import { cpeMatches, cpeMatchesExceptVersion } from '../cpe/match.js';
import { attr, formatCpe, hasWildcard, tryParseCpe, type Value, type Wfn } from '../cpe/name.js';
import { compileVersions, compiledStatus, cve5Status, versionKey, type CompiledVersions, type VersionKey, type VersionStatus } from '../cpe/versions.js';
import type { AffectedRule } from './intel.js';

export type Confidence = 'version' | 'product';

export interface VulnRules {
  readonly cve: string;
  readonly rules: readonly AffectedRule[];
}

export interface ProductHit {
  readonly cve: string;
  /** The asset's product (2.3 formatted string) the rule hit. */
  readonly product: string;
  readonly confidence: Confidence;
  /** Which rule decided: `cve5 cna:palo_alto`, `nvd`, `kev`... */
  readonly via: string;
}

const normPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');
export const normKey = (vendor: string, product: string) => `${normPart(vendor)}:${normPart(product)}`;

function valueText(v: Value | undefined): string | null {
  return v?.kind === 'str' && v.pre.kind === 'none' && v.post.kind === 'none' ? v.mid : null;
}

/** The normalised key of a concrete product, null when vendor or product is not a literal. */
export function productKey(w: Wfn): string | null {
  const v = valueText(w[1]);
  const p = valueText(w[2]);
  return v !== null && p !== null ? normKey(v, p) : null;
}

/**
 * A CVE 5 rule's CPE, classified once: `simple` when part is a literal or ANY, vendor and
 * product are literals and every attribute after the version is ANY — then "matches except
 * version" is: the product has no wildcard outside its version and equal part/vendor/product.
 */
interface CompiledCpe {
  readonly wfn: Wfn;
  readonly simple: { part: string | null; vendor: string; product: string; versionAny: boolean } | null;
}

interface Compiled {
  readonly cve: string;
  readonly rule: AffectedRule;
  /** Parsed CPEs of a cve5 rule (its `cpes`). */
  readonly cpes: readonly CompiledCpe[];
  /** The normalised vendor:product of a cve5 / product rule's names, computed once. */
  readonly nameKey: string | null;
  /** A cve5 rule's versions compiled to keys; null when not cve5 or a bound has no exact key (then cve5Status decides). */
  readonly versions: CompiledVersions | null;
  /** What this rule says when it decides (built once, shared by every hit it decides). */
  readonly verdict: Verdict;
}

interface Verdict {
  readonly confidence: Confidence;
  readonly via: string;
}

/** One CVE's rules that can hit one product key, in rule order. */
interface Group {
  readonly cve: string;
  readonly rules: readonly Compiled[];
  readonly hasNvd: boolean;
}

/** What a product (one asset's product name) brings to every decision, computed once per name. */
interface Target {
  readonly wfn: Wfn;
  readonly text: string;
  readonly key: string | null;
  readonly part: string | null;
  readonly vendor: string | null;
  readonly product: string | null;
  /** No wildcard in any attribute but the version / in any attribute. */
  readonly concreteExceptVersion: boolean;
  readonly concrete: boolean;
  /** The literal version, its key (null: no exact key, use cve5Status). */
  readonly version: string | null;
  readonly versionKey: VersionKey | null;
}

function compileCpe(w: Wfn): CompiledCpe {
  const part = w[0]!;
  const vendor = valueText(w[1]);
  const product = valueText(w[2]);
  let rest = true;
  for (let i = 4; i < w.length; i++) if (w[i]!.kind !== 'any') rest = false;
  const partOk = part.kind === 'any' || valueText(part) !== null;
  const simple = partOk && vendor !== null && product !== null && rest
    ? { part: part.kind === 'any' ? null : valueText(part), vendor, product, versionAny: w[3]!.kind === 'any' }
    : null;
  return { wfn: w, simple };
}

/**
 * A 2.3 name already in the form formatCpe writes (lower case, every value `*`, `-` or plain
 * characters): its own text (inventories are stored formatted; formatting again costs as much as parsing).
 */
const CANONICAL = /^cpe:2\.3(?::[a-z0-9._-]+|:\*){11}$/;

function targetOf(w: Wfn, text?: string): Target {
  let concreteExceptVersion = true;
  for (let i = 0; i < w.length; i++) if (i !== 3 && hasWildcard(w[i]!)) concreteExceptVersion = false;
  const version = valueText(attr(w, 'version'));
  return {
    wfn: w, text: text ?? formatCpe(w), key: productKey(w), part: valueText(w[0]), vendor: valueText(w[1]), product: valueText(w[2]),
    concreteExceptVersion, concrete: concreteExceptVersion && !hasWildcard(w[3]!), version, versionKey: version === null ? null : versionKey(version),
  };
}

const NO_CPES: readonly CompiledCpe[] = [];
/** Compiled CPE names shared across CVEs (records name the same products again and again): less to parse and to keep. */
const CPES = new Map<string, CompiledCpe | null>();
function compiledCpeOf(s: string): CompiledCpe | null {
  let c = CPES.get(s);
  if (c === undefined) {
    const w = tryParseCpe(s);
    c = w ? compileCpe(w) : null;
    if (CPES.size >= 100_000) CPES.clear();
    CPES.set(s, c);
  }
  return c;
}

/** `cpeMatchesExceptVersion(S, T)` (or `cpeMatches` when `withVersion`), through the simple form when S has it. */
function cpeHits(c: CompiledCpe, t: Target, withVersion: boolean): boolean {
  const s = c.simple;
  if (s === null || (withVersion && !s.versionAny)) return withVersion ? cpeMatches(c.wfn, t.wfn) : cpeMatchesExceptVersion(c.wfn, t.wfn);
  if (!(withVersion ? t.concrete : t.concreteExceptVersion)) return false;
  return (s.part === null || s.part === t.part) && s.vendor === t.vendor && s.product === t.product;
}


export class VulnIndex {
  readonly #byKey = new Map<string, Group[]>();
  readonly #wild: Compiled[] = [];
  readonly #keysOf = new Map<string, string[]>();
  readonly #wildOf = new Set<string>();

  get size(): number {
    return this.#keysOf.size;
  }

  /** Replaces the rules of one CVE. */
  put(v: VulnRules): void {
    this.remove(v.cve);
    const byKey = new Map<string, Compiled[]>();
    let anyWild = false;
    for (const rule of v.rules) {
      let wild = false;
      const nameKey = rule.kind !== 'nvd' && rule.vendor && rule.product ? normKey(rule.vendor, rule.product) : null;
      const cpes = rule.kind === 'cve5' ? rule.cpes.map(compiledCpeOf).filter((c): c is CompiledCpe => c !== null) : NO_CPES;
      const versions = rule.kind === 'cve5' ? compileVersions(rule.versions, rule.defaultStatus) : null;
      const verdict = verdictOf(rule.kind === 'product' ? 'product' : 'version', rule.kind === 'cve5' ? `cve5 ${rule.source}` : rule.source);
      const c: Compiled = { cve: v.cve, rule, nameKey, cpes, versions, verdict };
      const ks = new Set<string>();
      if (rule.kind === 'cve5') {
        for (const w of cpes) {
          const k = productKey(w.wfn);
          if (k) ks.add(k);
          else wild = true;
        }
        if (nameKey) ks.add(nameKey);
      } else if (rule.kind === 'product') {
        if (nameKey) ks.add(nameKey);
      } else {
        for (const cfg of rule.configurations) {
          for (const n of cfg.nodes ?? []) {
            for (const m of n.cpeMatch ?? []) {
              const w = tryParseCpe(m.criteria);
              const k = w ? productKey(w) : null;
              if (k) ks.add(k);
              else if (w) wild = true;
            }
          }
        }
      }
      if (wild) this.#wild.push(c);
      anyWild ||= wild;
      for (const k of ks) {
        let list = byKey.get(k);
        if (!list) byKey.set(k, (list = []));
        list.push(c);
      }
    }
    for (const [k, rules] of byKey) {
      let list = this.#byKey.get(k);
      if (!list) this.#byKey.set(k, (list = []));
      list.push({ cve: v.cve, rules, hasNvd: rules.some((r) => r.rule.kind === 'nvd') });
    }
    this.#keysOf.set(v.cve, [...byKey.keys()]);
    if (anyWild) this.#wildOf.add(v.cve);
  }

  /** The product keys a CVE's rules can hit, or null when a rule is a vendor/product pattern (it can hit anything). */
  keysOf(cve: string): readonly string[] | null {
    if (this.#wildOf.has(cve)) return null;
    return this.#keysOf.get(cve) ?? [];
  }

  remove(cve: string): void {
    const keys = this.#keysOf.get(cve);
    if (!keys) return;
    for (const k of keys) {
      const list = this.#byKey.get(k)?.filter((g) => g.cve !== cve);
      if (list?.length) this.#byKey.set(k, list);
      else this.#byKey.delete(k);
    }
    if (this.#wildOf.delete(cve)) {
      for (let i = this.#wild.length - 1; i >= 0; i--) if (this.#wild[i]!.cve === cve) this.#wild.splice(i, 1);
    }
    this.#keysOf.delete(cve);
  }

  /** Every (product, CVE) of the asset's products that is affected. */
  match(products: readonly Wfn[], only?: ReadonlySet<string>): ProductHit[] {
    const out: ProductHit[] = [];
    for (const p of products) this.#matchOne(targetOf(p), products, only, out);
    return out;
  }

  /** {@link match} for product names as stored (CPE strings). Names that do not parse are skipped (assets are stored with formatted names). */
  matchNames(names: readonly string[], only?: ReadonlySet<string>): ProductHit[] {
    return this.matchMany([names], only)[0]!;
  }

  /**
   * Matches many assets at once (product names per asset); the hits of each asset in the order
   * {@link match} gives them. Products are bucketed by key and each key's candidate CVEs are
   * walked for all its products in a row (the candidates stay in the CPU cache instead of being
   * fetched again for every asset), each distinct name is parsed once.
   */
  matchMany(assets: readonly (readonly string[])[], only?: ReadonlySet<string>): ProductHit[][] {
    // Each distinct name parsed once per call (a cache across calls held the whole inventory's parsed names: more GC than it saved).
    const parsed = new Map<string, Target | null>();
    const targets: Target[][] = assets.map((names) => {
      const ts: Target[] = [];
      for (const n of names) {
        let t = parsed.get(n);
        if (t === undefined) {
          const w = tryParseCpe(n);
          parsed.set(n, (t = w ? targetOf(w, CANONICAL.test(n) ? n : undefined) : null));
        }
        if (t) ts.push(t);
      }
      return ts;
    });
    const allOf = (i: number): readonly Wfn[] => targets[i]!.map((t) => t.wfn);
    if (this.#wild.length) {
      // Pattern rules can hit any product: asset by asset.
      return targets.map((ts, i) => {
        const out: ProductHit[] = [];
        const all = allOf(i);
        for (const t of ts) this.#matchOne(t, all, only, out);
        return out;
      });
    }
    // One slot per (asset, product), filled key by key, concatenated per asset in product order.
    const offsets: number[] = [];
    let n = 0;
    const buckets = new Map<string, number[]>();
    for (const [i, ts] of targets.entries()) {
      offsets.push(n);
      for (const t of ts) {
        if (t.key !== null && this.#byKey.has(t.key)) {
          let b = buckets.get(t.key);
          if (!b) buckets.set(t.key, (b = []));
          b.push(n);
        }
        n++;
      }
    }
    const assetOfSlot = new Int32Array(n);
    for (let i = 0, s = 0; i < targets.length; i++) for (let j = 0; j < targets[i]!.length; j++) assetOfSlot[s++] = i;
    const slots: (ProductHit[] | undefined)[] = new Array(n);
    const alls = new Map<number, readonly Wfn[]>();
    for (const [key, slotIds] of buckets) {
      const groups = this.#byKey.get(key)!;
      for (const slot of slotIds) {
        const ai = assetOfSlot[slot]!;
        const t = targets[ai]![slot - offsets[ai]!]!;
        let hits: ProductHit[] | undefined;
        for (const g of groups) {
          if (only && !only.has(g.cve)) continue;
          let all: readonly Wfn[] = NO_PRODUCTS;
          if (g.hasNvd) {
            all = alls.get(ai) ?? allOf(ai);
            alls.set(ai, all);
          }
          const hit = decide(g.rules, t, all);
          if (hit) (hits ??= []).push({ cve: g.cve, product: t.text, confidence: hit.confidence, via: hit.via });
        }
        slots[slot] = hits;
      }
    }
    return targets.map((ts, i) => {
      const out: ProductHit[] = [];
      for (let s = offsets[i]!, e = s + ts.length; s < e; s++) {
        const h = slots[s];
        if (h) for (const x of h) out.push(x);
      }
      return out;
    });
  }

  #matchOne(t: Target, all: readonly Wfn[], only: ReadonlySet<string> | undefined, out: ProductHit[]): void {
    const keyed = t.key !== null ? this.#byKey.get(t.key) : undefined;
    if (this.#wild.length === 0) {
      for (const g of keyed ?? []) {
        if (only && !only.has(g.cve)) continue;
        const hit = decide(g.rules, t, all);
        if (hit) out.push({ cve: g.cve, product: t.text, confidence: hit.confidence, via: hit.via });
      }
      return;
    }
    // Pattern rules: merge them into the keyed groups of their CVE (after its keyed rules), then the CVEs only they name.
    const byCve = new Map<string, Compiled[]>();
    for (const g of keyed ?? []) if (!only || only.has(g.cve)) byCve.set(g.cve, [...g.rules]);
    for (const c of this.#wild) {
      if (only && !only.has(c.cve)) continue;
      let l = byCve.get(c.cve);
      if (!l) byCve.set(c.cve, (l = []));
      if (!l.includes(c)) l.push(c);
    }
    for (const [cve, cs] of byCve) {
      const hit = decide(cs, t, all);
      if (hit) out.push({ cve, product: t.text, confidence: hit.confidence, via: hit.via });
    }
  }
}

const NO_PRODUCTS: readonly Wfn[] = [];

/** Verdicts are shared (a handful of sources: `cve5 cna:…`, `kev:cisa`, `nvd`). */
const VERDICTS = new Map<string, Verdict>();
function verdictOf(confidence: Confidence, via: string): Verdict {
  const k = `${confidence} ${via}`;
  let v = VERDICTS.get(k);
  if (!v) {
    if (VERDICTS.size >= 10_000) VERDICTS.clear();
    VERDICTS.set(k, (v = { confidence, via }));
  }
  return v;
}

function decide(cs: readonly Compiled[], t: Target, all: readonly Wfn[]): Verdict | null {
  let unaffected = false;
  let product: Verdict | null = null;
  for (const c of cs) {
    const r = c.rule;
    if (r.kind === 'product') {
      if (t.key !== null && c.nameKey === t.key) product = c.verdict;
      continue;
    }
    if (r.kind === 'nvd') {
      const p = t.wfn;
      for (const cfg of r.configurations) {
        if (affectedBy(cfg, all).includes(p)) return c.verdict;
        // The product is named by a vulnerable criterion but out of its range: NVD clears it.
        const named = (cfg.nodes ?? []).some((n) => (n.cpeMatch ?? []).some((m) => {
          const w = m.vulnerable ? tryParseCpe(m.criteria) : null;
          return w !== null && cpeMatchesExceptVersion(w, p) && !criterionMatches(m, w, p);
        }));
        if (named) unaffected = true;
      }
      continue;
    }
    const s = cve5Of(c, r, t);
    if (s === 'affected') return c.verdict;
    if (s === 'unaffected') unaffected = true;
  }
  if (unaffected) return null;
  return product;
}

/** The CVE 5 status of a product under one `affected[]` entry; null when the entry does not name it. */
function cve5Of(c: Compiled, r: Extract<AffectedRule, { kind: 'cve5' }>, t: Target): VersionStatus | null {
  let named: boolean;
  if (c.cpes.length) {
    const ranged = r.versions.length > 0;
    named = false;
    for (const w of c.cpes) {
      if (cpeHits(w, t, !ranged)) {
        named = true;
        break;
      }
    }
  } else named = t.key !== null && c.nameKey === t.key;
  if (!named) return null;
  if (t.version === null) return r.versions.length === 0 ? r.defaultStatus : 'unknown';
  return c.versions !== null && t.versionKey !== null ? compiledStatus(t.versionKey, c.versions) : cve5Status(t.version, r.versions, r.defaultStatus);
}
