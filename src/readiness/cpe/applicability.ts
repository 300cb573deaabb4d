/**
 * NVD applicability statements ("configurations", NVD API 2.0): a configuration is a list of
 * nodes joined by AND/OR; a node is a list of cpeMatch criteria joined by AND/OR. An entry with
 * `vulnerable: false` is context ("running on"): it can satisfy an AND configuration but never
 * makes a product affected. A configuration with no cpeMatch matches nothing (not an error).
 */
import { cpeMatches, cpeMatchesExceptVersion } from './match.js';
import { attr, tryParseCpe, type Wfn } from './name.js';
import { hasBounds, inNvdRange, type NvdBounds } from './versions.js';

export interface NvdCpeMatch extends NvdBounds {
  vulnerable: boolean;
  criteria: string;
}
export interface NvdNode {
  operator?: 'AND' | 'OR';
  negate?: boolean;
  cpeMatch?: NvdCpeMatch[];
}
export interface NvdConfiguration {
  operator?: 'AND' | 'OR';
  negate?: boolean;
  nodes?: NvdNode[];
}

/** Whether one criterion matches one concrete product, ranges included. */
export function criterionMatches(m: NvdCpeMatch, crit: Wfn, product: Wfn): boolean {
  if (!hasBounds(m)) return cpeMatches(crit, product);
  if (!cpeMatchesExceptVersion(crit, product)) return false;
  const v = attr(product, 'version');
  // A range can only be decided on a concrete version (ANY / NA / a pattern is not in it).
  return v.kind === 'str' && v.pre.kind === 'none' && v.post.kind === 'none' && inNvdRange(v.mid, m);
}

/** The products of `products` that the configuration makes affected; empty when it does not apply. */
export function affectedBy(cfg: NvdConfiguration, products: readonly Wfn[]): Wfn[] {
  const nodes = cfg.nodes ?? [];
  if (nodes.length === 0) return [];
  const results = nodes.map((n) => evalNode(n, products));
  const op = cfg.operator ?? (nodes.length > 1 ? 'AND' : 'OR');
  const sat = op === 'AND' ? results.every((r) => r.ok) : results.some((r) => r.ok);
  if ((cfg.negate ?? false) ? sat : !sat) return [];
  return [...new Set(results.filter((r) => r.ok).flatMap((r) => r.vulnerable))];
}

function evalNode(n: NvdNode, products: readonly Wfn[]): { ok: boolean; vulnerable: Wfn[] } {
  const ms = n.cpeMatch ?? [];
  if (ms.length === 0) return { ok: false, vulnerable: [] };
  const hits = ms.map((m) => {
    const crit = tryParseCpe(m.criteria);
    const matched = crit ? products.filter((p) => criterionMatches(m, crit, p)) : [];
    return { m, matched };
  });
  const op = n.operator ?? 'OR';
  let ok = op === 'AND' ? hits.every((h) => h.matched.length > 0) : hits.some((h) => h.matched.length > 0);
  if (n.negate) ok = !ok;
  return { ok, vulnerable: ok && !n.negate ? hits.filter((h) => h.m.vulnerable).flatMap((h) => h.matched) : [] };
}
