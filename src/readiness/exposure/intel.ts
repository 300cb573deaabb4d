/**
 * Vulnerability intelligence parsers: the CISA KEV catalog (JSON), CVE JSON 5 records (CNA and
 * ADP containers, kept with their provenance), EPSS scores (the FIRST bulk CSV with its
 * `#model_version` comment line, or a `CVE,CVSS3,EPSS,EPSS Percentile,…` extract) and NVD
 * configurations. Every input entry is accounted for: parsed, or refused with a reason.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { NvdConfiguration } from '../cpe/applicability.js';
import type { VersionEntry, VersionStatus } from '../cpe/versions.js';

export const CVE_ID = /^CVE-\d{4}-\d{4,19}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface Refused {
  ref: string;
  reason: string;
}
export interface Parsed<T> {
  entries: T[];
  refused: Refused[];
}

export interface KevEntry {
  cve: string;
  catalog: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
  dateAdded: string;
  dueDate: string;
  shortDescription: string;
  requiredAction: string;
  /** knownRansomwareCampaignUse: true = "Known", false = "Unknown", null = absent. */
  ransomware: boolean | null;
  notes: string;
  cwes: string[];
}

export interface KevCatalog {
  catalog: string;
  catalogVersion: string;
  dateReleased: string;
  count: number;
}

export type AffectedRule =
  | { kind: 'cve5'; source: string; vendor: string; product: string; cpes: string[]; versions: VersionEntry[]; defaultStatus: VersionStatus }
  | { kind: 'nvd'; source: string; configurations: NvdConfiguration[] }
  | { kind: 'product'; source: string; vendor: string; product: string };

export interface CvssScore {
  version: string;
  score: number;
  vector: string | null;
  source: string;
}

export interface CveInfo {
  cve: string;
  state: 'PUBLISHED' | 'REJECTED';
  title: string | null;
  description: string | null;
  published: string | null;
  cvss: CvssScore[];
  affected: AffectedRule[];
  cwes: string[];
}

export interface EpssScore {
  cve: string;
  score: number;
  percentile: number | null;
  modelVersion: string | null;
  scoreDate: string | null;
  /** The extract's NVD CVSS 3 base score, when the file carries one. */
  cvss3: number | null;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);

/** The CISA KEV catalog (known_exploited_vulnerabilities_schema.json). */
export function parseKev(doc: unknown, catalog = 'cisa'): { meta: KevCatalog } & Parsed<KevEntry> {
  if (!isObj(doc) || !Array.isArray(doc.vulnerabilities)) throw new TypeError('not a KEV catalog: no vulnerabilities array');
  const meta: KevCatalog = { catalog, catalogVersion: str(doc.catalogVersion) ?? '', dateReleased: str(doc.dateReleased) ?? '', count: typeof doc.count === 'number' ? doc.count : doc.vulnerabilities.length };
  const entries: KevEntry[] = [];
  const refused: Refused[] = [];
  const seen = new Set<string>();
  doc.vulnerabilities.forEach((v: unknown, i: number) => {
    const ref = isObj(v) && typeof v.cveID === 'string' ? v.cveID : `#${i}`;
    if (!isObj(v)) return refused.push({ ref, reason: 'entry is not an object' });
    const need = ['cveID', 'vendorProject', 'product', 'vulnerabilityName', 'dateAdded', 'dueDate', 'shortDescription', 'requiredAction'] as const;
    const missing = need.filter((k) => typeof v[k] !== 'string');
    if (missing.length) return refused.push({ ref, reason: `missing ${missing.join(', ')}` });
    const cve = (v.cveID as string).trim();
    if (!CVE_ID.test(cve)) return refused.push({ ref, reason: `cveID ${cve} is not CVE-YYYY-NNNN` });
    if (!DATE.test(v.dateAdded as string) || !DATE.test(v.dueDate as string)) return refused.push({ ref, reason: 'dateAdded / dueDate must be YYYY-MM-DD' });
    if (seen.has(cve)) return refused.push({ ref, reason: 'duplicate cveID in the catalog' });
    seen.add(cve);
    const ru = str(v.knownRansomwareCampaignUse);
    const cwes = Array.isArray(v.cwes) ? v.cwes.filter((c): c is string => typeof c === 'string' && /^CWE-\d+$/.test(c)) : [];
    entries.push({
      cve, catalog, vendorProject: v.vendorProject as string, product: v.product as string, vulnerabilityName: v.vulnerabilityName as string,
      dateAdded: v.dateAdded as string, dueDate: v.dueDate as string, shortDescription: v.shortDescription as string,
      requiredAction: (v.requiredAction as string).trim(), ransomware: ru === 'Known' ? true : ru === 'Unknown' ? false : null, notes: str(v.notes) ?? '', cwes,
    });
    return undefined;
  });
  return { meta, entries, refused };
}

const STATUSES: readonly VersionStatus[] = ['affected', 'unaffected', 'unknown'];
const asStatus = (x: unknown): VersionStatus | null => (STATUSES.includes(x as VersionStatus) ? (x as VersionStatus) : null);

function versionsOf(raw: unknown): VersionEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: VersionEntry[] = [];
  for (const e of raw) {
    if (!isObj(e) || typeof e.version !== 'string') continue;
    const status = asStatus(e.status);
    if (!status) continue;
    const entry: VersionEntry = { version: e.version.trim(), status };
    if (typeof e.versionType === 'string') entry.versionType = e.versionType;
    if (typeof e.lessThan === 'string') entry.lessThan = e.lessThan.trim();
    if (typeof e.lessThanOrEqual === 'string') entry.lessThanOrEqual = e.lessThanOrEqual.trim();
    if (Array.isArray(e.changes)) {
      entry.changes = e.changes.filter(isObj).flatMap((c) => {
        const s = asStatus(c.status);
        return typeof c.at === 'string' && s ? [{ at: c.at.trim(), status: s }] : [];
      });
    }
    out.push(entry);
  }
  return out;
}

function affectedOf(container: Record<string, unknown>, source: string): AffectedRule[] {
  if (!Array.isArray(container.affected)) return [];
  return container.affected.filter(isObj).map((a) => ({
    kind: 'cve5' as const, source, vendor: str(a.vendor) ?? '', product: str(a.product) ?? str(a.packageName) ?? '',
    cpes: Array.isArray(a.cpes) ? a.cpes.filter((c): c is string => typeof c === 'string') : [],
    versions: versionsOf(a.versions), defaultStatus: asStatus(a.defaultStatus) ?? 'unknown',
  }));
}

function cvssOf(container: Record<string, unknown>, source: string): CvssScore[] {
  if (!Array.isArray(container.metrics)) return [];
  const out: CvssScore[] = [];
  for (const m of container.metrics.filter(isObj)) {
    for (const k of ['cvssV4_0', 'cvssV3_1', 'cvssV3_0', 'cvssV2_0']) {
      const c = m[k];
      if (isObj(c) && typeof c.baseScore === 'number') out.push({ version: String(c.version ?? k), score: c.baseScore, vector: str(c.vectorString), source });
    }
  }
  return out;
}

/** One CVE JSON 5 record; throws with the reason when it is not one. */
export function parseCve5(doc: unknown): CveInfo {
  if (!isObj(doc) || doc.dataType !== 'CVE_RECORD') throw new TypeError('not a CVE JSON 5 record (dataType must be CVE_RECORD)');
  const meta = doc.cveMetadata;
  const containers = doc.containers;
  if (!isObj(meta) || typeof meta.cveId !== 'string' || !CVE_ID.test(meta.cveId)) throw new TypeError('cveMetadata.cveId missing or malformed');
  if (meta.state !== 'PUBLISHED' && meta.state !== 'REJECTED') throw new TypeError(`cveMetadata.state ${String(meta.state)} is not PUBLISHED or REJECTED`);
  if (!isObj(containers) || !isObj(containers.cna)) throw new TypeError('containers.cna missing');
  const cna = containers.cna;
  const cnaName = isObj(cna.providerMetadata) ? (str(cna.providerMetadata.shortName) ?? 'cna') : 'cna';
  const adps = Array.isArray(containers.adp) ? containers.adp.filter(isObj) : [];
  const descriptions = Array.isArray(cna.descriptions) ? cna.descriptions.filter(isObj) : [];
  const en = descriptions.find((d) => String(d.lang ?? '').startsWith('en')) ?? descriptions[0];
  const cwes = new Set<string>();
  for (const c of [cna, ...adps]) {
    for (const pt of Array.isArray(c.problemTypes) ? c.problemTypes.filter(isObj) : []) {
      for (const d of Array.isArray(pt.descriptions) ? pt.descriptions.filter(isObj) : []) if (typeof d.cweId === 'string') cwes.add(d.cweId);
    }
  }
  const adpName = (a: Record<string, unknown>) => `adp:${isObj(a.providerMetadata) ? (str(a.providerMetadata.shortName) ?? 'adp') : 'adp'}`;
  return {
    cve: meta.cveId, state: meta.state, title: str(cna.title), description: en ? str(en.value) : null, published: str(meta.datePublished),
    cvss: [...cvssOf(cna, `cna:${cnaName}`), ...adps.flatMap((a) => cvssOf(a, adpName(a)))],
    affected: [...affectedOf(cna, `cna:${cnaName}`), ...adps.flatMap((a) => affectedOf(a, adpName(a)))],
    cwes: [...cwes].sort(),
  };
}

/** EPSS scores from CSV text: the FIRST bulk layout (`#model_version:…,score_date:…` then `cve,epss,percentile`) or the KEV extract layout. */
export function parseEpss(text: string): Parsed<EpssScore> {
  let modelVersion: string | null = null;
  let scoreDate: string | null = null;
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  if (firstLine.startsWith('#')) {
    for (const kv of firstLine.slice(1).split(',')) {
      const [k, val] = kv.split(':', 2).map((s) => s.trim());
      if (k === 'model_version' && val) modelVersion = val;
      if (k === 'score_date') scoreDate = kv.slice(kv.indexOf(':') + 1).trim();
    }
  }
  const rows = parseCsv(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), comment: '#', skip_empty_lines: true, relax_column_count: true, bom: true }) as Record<string, string>[];
  const entries: EpssScore[] = [];
  const refused: Refused[] = [];
  rows.forEach((r, i) => {
    const cve = (r.cve ?? '').trim();
    const ref = cve || `row ${i + 2}`;
    if (!CVE_ID.test(cve)) return refused.push({ ref, reason: 'no CVE id in the cve column' });
    const score = Number(r.epss);
    if (r.epss === undefined || r.epss.trim() === '' || !Number.isFinite(score) || score < 0 || score > 1) return refused.push({ ref, reason: 'epss must be a number in [0, 1]' });
    const pRaw = r.percentile ?? r['epss percentile'];
    const percentile = pRaw !== undefined && pRaw.trim() !== '' && Number.isFinite(Number(pRaw)) ? Number(pRaw) : null;
    const c = r.cvss3;
    const cvss3 = c !== undefined && c.trim() !== '' && Number.isFinite(Number(c)) ? Number(c) : null;
    entries.push({ cve, score, percentile, modelVersion, scoreDate, cvss3 });
    return undefined;
  });
  return { entries, refused };
}

/** An NVD API 2.0 CVE item's configurations (the `cve` object of a `vulnerabilities[]` entry). */
export function nvdRuleOf(item: unknown): AffectedRule | null {
  if (!isObj(item) || !Array.isArray(item.configurations)) return null;
  return { kind: 'nvd', source: 'nvd', configurations: item.configurations.filter(isObj) as NvdConfiguration[] };
}
