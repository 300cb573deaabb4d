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
 */
import { affectedBy, criterionMatches } from '../cpe/applicability.js';
import { cpeMatches, cpeMatchesExceptVersion } from '../cpe/match.js';
import { attr, formatCpe, tryParseCpe, type Value, type Wfn } from '../cpe/name.js';
import { cve5Status, type VersionStatus } from '../cpe/versions.js';
import type { AffectedRule } from './intel.js';

export type Confidence = 'version' | 'product';

export interface VulnRules {
  readonly cve: string;
  readonly rules: readonly AffectedRule[];
}

export interface ProductHit {
  cve: string;
  /** The asset's product (2.3 formatted string) the rule hit. */
  product: string;
  confidence: Confidence;
  /** Which rule decided: `cve5 cna:palo_alto`, `nvd`, `kev`... */
  via: string;
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

interface Compiled {
  readonly cve: string;
  readonly rule: AffectedRule;
  /** Parsed CPEs of a cve5 rule (its `cpes`). */
  readonly cpes: readonly Wfn[];
  /** The normalised vendor:product of a cve5 / product rule's names, computed once. */
  readonly nameKey: string | null;
}

export class VulnIndex {
  readonly #byKey = new Map<string, Compiled[]>();
  readonly #wild: Compiled[] = [];
  readonly #keysOf = new Map<string, string[]>();
  readonly #wildOf = new Set<string>();

  get size(): number {
    return this.#keysOf.size;
  }

  /** Replaces the rules of one CVE. */
  put(v: VulnRules): void {
    this.remove(v.cve);
    const keys = new Set<string>();
    let anyWild = false;
    for (const rule of v.rules) {
      let wild = false;
      const nameKey = rule.kind !== 'nvd' && rule.vendor && rule.product ? normKey(rule.vendor, rule.product) : null;
      const c: Compiled = { cve: v.cve, rule, nameKey, cpes: rule.kind === 'cve5' ? rule.cpes.map(tryParseCpe).filter((w): w is Wfn => w !== null) : [] };
      const ks = new Set<string>();
      if (rule.kind === 'cve5') {
        for (const w of c.cpes) {
          const k = productKey(w);
          if (k) ks.add(k);
          else wild = true;
        }
        if (nameKey) ks.add(nameKey);
      } else if (rule.kind === 'product') {
        if (nameKey) ks.add(nameKey);
      }
      else {
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
        let list = this.#byKey.get(k);
        if (!list) this.#byKey.set(k, (list = []));
        list.push(c);
        keys.add(k);
      }
    }
    this.#keysOf.set(v.cve, [...keys]);
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
      const list = this.#byKey.get(k)?.filter((c) => c.cve !== cve);
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
    for (const p of products) {
      const k = productKey(p);
      const keyed = k ? this.#byKey.get(k) : undefined;
      const cands = this.#wild.length ? [...(keyed ?? []), ...this.#wild] : keyed;
      if (!cands || cands.length === 0) continue;
      const byCve = new Map<string, Compiled[]>();
      for (const c of cands) {
        if (only && !only.has(c.cve)) continue;
        let l = byCve.get(c.cve);
        if (!l) byCve.set(c.cve, (l = []));
        if (!l.includes(c)) l.push(c);
      }
      let text: string | null = null;
      for (const [cve, cs] of byCve) {
        const hit = decide(cs, p, products, k);
        if (hit) out.push({ cve, product: (text ??= formatCpe(p)), ...hit });
      }
    }
    return out;
  }
}

function decide(cs: readonly Compiled[], p: Wfn, all: readonly Wfn[], key: string | null): { confidence: Confidence; via: string } | null {
  let unaffected = false;
  let product: string | null = null;
  for (const c of cs) {
    const r = c.rule;
    if (r.kind === 'product') {
      if (key !== null && c.nameKey === key) product = r.source;
      continue;
    }
    if (r.kind === 'nvd') {
      for (const cfg of r.configurations) {
        if (affectedBy(cfg, all).includes(p)) return { confidence: 'version', via: r.source };
        // The product is named by a vulnerable criterion but out of its range: NVD clears it.
        const named = (cfg.nodes ?? []).some((n) => (n.cpeMatch ?? []).some((m) => {
          const w = m.vulnerable ? tryParseCpe(m.criteria) : null;
          return w !== null && cpeMatchesExceptVersion(w, p) && !criterionMatches(m, w, p);
        }));
        if (named) unaffected = true;
      }
      continue;
    }
    const s = cve5Of(c, p, key);
    if (s === 'affected') return { confidence: 'version', via: `cve5 ${r.source}` };
    if (s === 'unaffected') unaffected = true;
  }
  if (unaffected) return null;
  return product !== null ? { confidence: 'product', via: product } : null;
}

/** The CVE 5 status of a product under one `affected[]` entry; null when the entry does not name it. */
function cve5Of(c: Compiled, p: Wfn, key: string | null): VersionStatus | null {
  const r = c.rule;
  if (r.kind !== 'cve5') return null;
  const named = c.cpes.length
    ? c.cpes.some((w) => (r.versions.length ? cpeMatchesExceptVersion(w, p) : cpeMatches(w, p)))
    : key !== null && c.nameKey === key;
  if (!named) return null;
  const ver = valueText(attr(p, 'version'));
  if (ver === null) return r.versions.length === 0 ? r.defaultStatus : 'unknown';
  return cve5Status(ver, r.versions, r.defaultStatus);
}
