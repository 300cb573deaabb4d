/**
 * OASIS CSAF 2.0 advisories (incl. the VEX profile): reading the product tree into products with
 * a CPE (2.2 or 2.3, from `product_identification_helper.cpe`) or a vendor / product / version
 * taken from the branch path; the per-vulnerability product status, remediations and VEX flags;
 * the TLP of `document.distribution.tlp` (CSAF 2.0 knows TLP 1.0 labels only: WHITE, GREEN,
 * AMBER, RED) mapped to TLP 2.0; and the export back, where AMBER+STRICT (no TLP 1.0 label)
 * becomes RED with a note in `distribution.text` (CSAF FAQ).
 */
import type { Tlp } from '../../core/policy.js';
import { formatCpe, fromProduct, tryParseCpe, type Wfn } from '../cpe/name.js';

export interface CsafProduct {
  id: string;
  name: string;
  /** 2.3 formatted string of the product's CPE, or one built from the branch path. */
  cpe: string | null;
  /** A `product_version_range` (vers or vls) from the branch path, when the version is a range. */
  versionRange: string | null;
}

export type StatusBucket = 'first_affected' | 'known_affected' | 'last_affected' | 'known_not_affected' | 'first_fixed' | 'fixed' | 'recommended' | 'under_investigation';
export const STATUS_BUCKETS: readonly StatusBucket[] = ['first_affected', 'known_affected', 'last_affected', 'known_not_affected', 'first_fixed', 'fixed', 'recommended', 'under_investigation'];

export interface CsafVuln {
  cve: string | null;
  ids: string[];
  title: string | null;
  status: Partial<Record<StatusBucket, string[]>>;
  remediations: { category: string; details: string; productIds: string[]; url: string | null }[];
  /** VEX justifications: product id → flag label. */
  flags: Record<string, string>;
  /** Impact statements (threats of category impact): product id → details. */
  impacts: Record<string, string>;
}

export interface CsafAdvisory {
  trackingId: string;
  version: string;
  title: string;
  category: string;
  publisher: string;
  currentReleaseDate: string;
  /** TLP 2.0 from distribution.tlp; null when the document has none (the member's default applies). */
  tlp: Tlp | null;
  products: CsafProduct[];
  vulnerabilities: CsafVuln[];
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);

const TLP1_TO_2: Record<string, Tlp> = { WHITE: 'clear', GREEN: 'green', AMBER: 'amber', RED: 'red' };

export class CsafError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsafError';
  }
}

/** Reads a CSAF 2.0 document; throws {@link CsafError} naming what is missing. */
export function parseCsaf(doc: unknown): CsafAdvisory {
  if (!isObj(doc) || !isObj(doc.document)) throw new CsafError('not a CSAF document: no document object');
  const d = doc.document;
  if (d.csaf_version !== '2.0') throw new CsafError(`csaf_version must be "2.0", not ${JSON.stringify(d.csaf_version)}`);
  const tracking = isObj(d.tracking) ? d.tracking : null;
  const trackingId = tracking ? str(tracking.id) : null;
  if (!tracking || !trackingId) throw new CsafError('document.tracking.id is required');
  if (typeof d.title !== 'string' || typeof d.category !== 'string') throw new CsafError('document.title and document.category are required');
  const publisher = isObj(d.publisher) ? (str(d.publisher.name) ?? '') : '';
  let tlp: Tlp | null = null;
  if (isObj(d.distribution) && isObj(d.distribution.tlp)) {
    const label = str(d.distribution.tlp.label);
    if (!label || !TLP1_TO_2[label]) throw new CsafError(`distribution.tlp.label ${JSON.stringify(label)} is not a CSAF 2.0 TLP label (WHITE, GREEN, AMBER, RED)`);
    tlp = TLP1_TO_2[label]!;
  }
  const products = productsOf(doc.product_tree);
  const groups = new Map<string, string[]>();
  if (isObj(doc.product_tree) && Array.isArray(doc.product_tree.product_groups)) {
    for (const g of doc.product_tree.product_groups.filter(isObj)) {
      if (typeof g.group_id === 'string' && Array.isArray(g.product_ids)) groups.set(g.group_id, g.product_ids.filter((p): p is string => typeof p === 'string'));
    }
  }
  const idsOf = (x: Record<string, unknown>) => [
    ...(Array.isArray(x.product_ids) ? x.product_ids.filter((p): p is string => typeof p === 'string') : []),
    ...(Array.isArray(x.group_ids) ? x.group_ids.flatMap((g) => (typeof g === 'string' ? (groups.get(g) ?? []) : [])) : []),
  ];
  const vulnerabilities: CsafVuln[] = (Array.isArray(doc.vulnerabilities) ? doc.vulnerabilities.filter(isObj) : []).map((v) => {
    const status: Partial<Record<StatusBucket, string[]>> = {};
    if (isObj(v.product_status)) {
      for (const b of STATUS_BUCKETS) {
        const l = v.product_status[b];
        if (Array.isArray(l)) status[b] = l.filter((p): p is string => typeof p === 'string');
      }
    }
    const flags: Record<string, string> = {};
    for (const f of Array.isArray(v.flags) ? v.flags.filter(isObj) : []) for (const p of idsOf(f)) if (typeof f.label === 'string') flags[p] = f.label;
    const impacts: Record<string, string> = {};
    for (const t of Array.isArray(v.threats) ? v.threats.filter(isObj) : []) if (t.category === 'impact') for (const p of idsOf(t)) impacts[p] = str(t.details) ?? '';
    return {
      cve: str(v.cve), title: str(v.title),
      ids: Array.isArray(v.ids) ? v.ids.filter(isObj).map((i) => `${String(i.system_name)}:${String(i.text)}`) : [],
      status, flags, impacts,
      remediations: (Array.isArray(v.remediations) ? v.remediations.filter(isObj) : []).map((r) => ({ category: str(r.category) ?? 'mitigation', details: str(r.details) ?? '', productIds: idsOf(r), url: str(r.url) })),
    };
  });
  return {
    trackingId, version: str(tracking.version) ?? '1', title: d.title, category: d.category, publisher,
    currentReleaseDate: str(tracking.current_release_date) ?? '', tlp, products, vulnerabilities,
  };
}

function productsOf(tree: unknown): CsafProduct[] {
  if (!isObj(tree)) return [];
  const out = new Map<string, CsafProduct>();
  const add = (p: unknown, path: { category: string; name: string }[]) => {
    if (!isObj(p) || typeof p.product_id !== 'string') return;
    const helper = isObj(p.product_identification_helper) ? p.product_identification_helper : {};
    const named = typeof helper.cpe === 'string' ? tryParseCpe(helper.cpe) : null;
    const vendor = path.find((b) => b.category === 'vendor')?.name;
    const product = path.find((b) => b.category === 'product_name')?.name ?? path.find((b) => b.category === 'product_family')?.name;
    const version = path.find((b) => b.category === 'product_version')?.name;
    const range = path.find((b) => b.category === 'product_version_range')?.name ?? null;
    let w: Wfn | null = named;
    if (!w && vendor && product) w = fromProduct({ vendor, product, version: version ?? null });
    out.set(p.product_id, { id: p.product_id, name: str(p.name) ?? p.product_id, cpe: w ? formatCpe(w) : null, versionRange: range });
  };
  const walk = (branches: unknown, path: { category: string; name: string }[]) => {
    if (!Array.isArray(branches)) return;
    for (const b of branches.filter(isObj)) {
      const here = [...path, { category: String(b.category ?? ''), name: String(b.name ?? '') }];
      if (b.product) add(b.product, here);
      walk(b.branches, here);
    }
  };
  walk(tree.branches, []);
  for (const p of Array.isArray(tree.full_product_names) ? tree.full_product_names : []) add(p, []);
  for (const r of Array.isArray(tree.relationships) ? tree.relationships.filter(isObj) : []) add(r.full_product_name, []);
  return [...out.values()];
}

/**
 * The document as exported: the stored CSAF with its distribution set from the record's TLP.
 * AMBER+STRICT has no TLP 1.0 label: exported as RED with a note. CLEAR is exported as WHITE.
 */
export function exportCsaf(doc: Record<string, unknown>, tlp: Tlp | null): Record<string, unknown> {
  const out = structuredClone(doc);
  const d = out.document as Record<string, unknown>;
  const dist = isObj(d.distribution) ? { ...d.distribution } : {};
  if (tlp === null) {
    delete dist.tlp;
  } else {
    const label = tlp === 'clear' ? 'WHITE' : tlp === 'amber+strict' ? 'RED' : tlp.toUpperCase();
    dist.tlp = { label, url: 'https://www.first.org/tlp/' };
    if (tlp === 'amber+strict') {
      const note = 'Shared as TLP:AMBER+STRICT (TLP 2.0), which CSAF 2.0 cannot express; labelled RED here. Do not share beyond the recipient organisation.';
      dist.text = typeof dist.text === 'string' && dist.text ? `${dist.text} ${note}` : note;
    }
  }
  if (Object.keys(dist).length) d.distribution = dist;
  else delete d.distribution;
  return out;
}

/** The CSAF file name (§5.1): lower-case tracking id, runs of other characters as `_`, `.json`. */
export function csafFileName(trackingId: string): string {
  return `${trackingId.toLowerCase().replace(/[^+\-a-z0-9]+/g, '_')}.json`;
}

export interface NewVexStatement {
  cve: string;
  status: 'known_affected' | 'known_not_affected' | 'fixed' | 'under_investigation';
  justification?: string;
  remediation?: string;
}

/**
 * A CSAF 2.0 VEX document authored here (one product, several statements), meeting the VEX
 * profile: every known_not_affected product has an impact statement (flag), every
 * known_affected one an action statement (remediation, none_available when none is given).
 */
export function buildVex(a: { trackingId: string; title: string; publisher: string; namespace: string; at: string; product: { name: string; cpe: string }; statements: NewVexStatement[] }): Record<string, unknown> {
  const pid = 'CSAFPID-0001';
  return {
    document: {
      category: 'csaf_vex', csaf_version: '2.0', title: a.title,
      publisher: { category: 'coordinator', name: a.publisher, namespace: a.namespace },
      notes: [{ category: 'summary', text: a.title, title: 'Summary' }],
      tracking: {
        id: a.trackingId, status: 'final', version: '1', initial_release_date: a.at, current_release_date: a.at,
        revision_history: [{ date: a.at, number: '1', summary: 'Initial version.' }],
      },
    },
    product_tree: { full_product_names: [{ name: a.product.name, product_id: pid, product_identification_helper: { cpe: a.product.cpe } }] },
    vulnerabilities: a.statements.map((s) => ({
      cve: s.cve,
      notes: [{ category: 'description', text: `${s.cve}: ${s.status.replace(/_/g, ' ')}`, title: 'Status' }],
      product_status: { [s.status]: [pid] },
      ...(s.status === 'known_not_affected' ? { flags: [{ label: s.justification ?? 'vulnerable_code_not_present', product_ids: [pid] }] } : {}),
      ...(s.status === 'known_affected' || s.status === 'fixed'
        ? { remediations: [{ category: s.status === 'fixed' ? 'vendor_fix' : s.remediation ? 'mitigation' : 'none_available', details: s.remediation ?? 'No remediation is available yet.', product_ids: [pid] }] }
        : {}),
    })),
  };
}
