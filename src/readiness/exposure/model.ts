/** Record kinds, documents and the priority / due-date policy of the exposure domain. */
import type { CvssScore, EpssScore, KevEntry, AffectedRule } from './intel.js';
import type { Confidence } from './engine.js';

export const ASSET = 'readiness-asset';
export const EXPOSURE = 'readiness-exposure';
export const ADVISORY = 'readiness-advisory';
export const VULN = 'readiness-vuln';

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Criticality = (typeof CRITICALITIES)[number];
export const EXPOSURE_STATUSES = ['open', 'mitigated', 'accepted', 'false_positive'] as const;
export type ExposureStatus = (typeof EXPOSURE_STATUSES)[number];

export interface AssetDoc {
  name: string;
  vitalFunction: string | null;
  criticality: Criticality;
  owner: string | null;
  /** Products as CPE 2.3 formatted strings (2.2 URIs and vendor/product/version are converted on input). */
  products: string[];
  retired: boolean;
}

export interface KevState extends KevEntry {
  /** When this node first / last saw the CVE in the catalog (CISA removes entries silently). */
  firstSeen: string;
  lastSeen: string;
  catalogVersion: string;
  removedAt: string | null;
}

export interface VulnDoc {
  cve: string;
  title: string | null;
  description: string | null;
  cvss: CvssScore[];
  epss: EpssScore | null;
  kev: KevState | null;
  affected: AffectedRule[];
  cwes: string[];
  sources: string[];
}

export interface ExposureDoc {
  orgId: string;
  assetId: string;
  assetName: string;
  criticality: Criticality;
  cve: string;
  product: string;
  confidence: Confidence;
  via: string;
  kev: boolean;
  ransomware: boolean;
  epss: number | null;
  cvss: number | null;
  priority: number;
  dueDate: string;
  cisaDueDate: string | null;
  advisories: string[];
  firstSeen: string;
}

/** Days to remediate, by the member's policy (KEV entries first; CISA's own due date is kept only as a reference). */
export interface DuePolicy {
  kevDays: number;
  days: Record<Criticality, number>;
}
export const DEFAULT_DUE_POLICY: DuePolicy = { kevDays: 14, days: { critical: 30, high: 60, medium: 90, low: 180 } };

const CRIT_WEIGHT: Record<Criticality, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * One number that sorts as the issue asks: KEV first (ransomware use before the rest), then
 * EPSS, then CVSS, then the asset's criticality. Each term is bounded so a lower key never
 * outweighs a higher one.
 */
export function priorityOf(e: { kev: boolean; ransomware: boolean; epss: number | null; cvss: number | null; criticality: Criticality }): number {
  const kev = e.kev ? (e.ransomware ? 2 : 1) : 0;
  const epss = Math.round((e.epss ?? 0) * 1000); // 0..1000
  const cvss = Math.round((e.cvss ?? 0) * 10); // 0..100
  return kev * 1e8 + epss * 1e4 + cvss * 10 + CRIT_WEIGHT[e.criticality];
}

export function dueDateOf(p: DuePolicy, e: { kev: boolean; criticality: Criticality }, fromMs: number): string {
  const days = e.kev ? Math.min(p.kevDays, p.days[e.criticality]) : p.days[e.criticality];
  return new Date(fromMs + days * 86_400_000).toISOString().slice(0, 10);
}

/** The best CVSS base score: the newest version, CNA before ADP. */
export function bestCvss(scores: readonly CvssScore[]): number | null {
  const order = (v: string) => (v.startsWith('4') ? 0 : v.startsWith('3.1') ? 1 : v.startsWith('3') ? 2 : 3);
  const sorted = [...scores].sort((a, b) => order(a.version) - order(b.version) || (a.source.startsWith('cna') ? -1 : 1));
  return sorted[0]?.score ?? null;
}
