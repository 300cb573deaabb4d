/**
 * Vocabularies of the respond domain, from the standards they come from (see
 * docs/respond.md): CISA severity, NIST SP 800-61 phases, the STIX Incident Core Extension
 * v2.0 enums, PAP, FIRST CSIRT services, ICD 203 and the Admiralty code.
 */

/** CISA Cyber Incident Severity Schema, levels 0–5 with their colours. */
export const SEVERITIES = [
  { level: 0, name: 'Baseline', colour: 'white', hex: '#FFFFFF' },
  { level: 1, name: 'Low', colour: 'green', hex: '#00A651' },
  { level: 2, name: 'Medium', colour: 'yellow', hex: '#FFDE00' },
  { level: 3, name: 'High', colour: 'orange', hex: '#FF8C00' },
  { level: 4, name: 'Severe', colour: 'red', hex: '#E4002B' },
  { level: 5, name: 'Emergency', colour: 'black', hex: '#000000' },
] as const;

/** NIST SP 800-61 r2 life cycle (preparation is outside an incident), plus closed. */
export const PHASES = ['detection-analysis', 'containment-eradication-recovery', 'post-incident-activity', 'closed'] as const;
export type Phase = (typeof PHASES)[number];
/** Allowed phase moves: forward, back from containment to analysis (the cycle of 800-61), reopen. */
export const PHASE_MOVES: Readonly<Record<Phase, readonly Phase[]>> = {
  'detection-analysis': ['containment-eradication-recovery', 'post-incident-activity', 'closed'],
  'containment-eradication-recovery': ['detection-analysis', 'post-incident-activity', 'closed'],
  'post-incident-activity': ['closed', 'containment-eradication-recovery'],
  closed: ['detection-analysis'],
};

/** STIX Incident Core Extension v2.0 `incident-determination-enum`. */
export const DETERMINATIONS = ['blocked', 'confirmed', 'failed-attempt', 'false-positive', 'suspected'] as const;
export type Determination = (typeof DETERMINATIONS)[number];
/** STIX Incident Core Extension v2.0 `incident-investigation-ov`. */
export const INVESTIGATION_STATUSES = ['new', 'open', 'closed'] as const;
export type InvestigationStatus = (typeof INVESTIGATION_STATUSES)[number];

/** PAP (MISP taxonomy v3). */
export const PAP_LEVELS = ['clear', 'green', 'amber', 'red'] as const;
export type Pap = (typeof PAP_LEVELS)[number];

export const TASK_STATUSES = ['open', 'in-progress', 'completed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const OBSERVABLE_TYPES = ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file-md5', 'file-sha1', 'file-sha256', 'hostname', 'user-account', 'process', 'registry-key', 'mutex', 'other'] as const;
export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

/** FIRST CSIRT Services Framework v2.1, Information Security Incident Management and neighbours. */
export const CSIRT_SERVICES = [
  'incident-report-acceptance', 'incident-analysis', 'artifact-and-forensic-evidence-analysis', 'malware-analysis', 'mitigation-and-recovery',
  'incident-coordination', 'crisis-management-support', 'vulnerability-analysis', 'threat-intelligence', 'monitoring-and-detection',
] as const;
export type CsirtService = (typeof CSIRT_SERVICES)[number];

export const URGENCIES = ['routine', 'priority', 'immediate', 'flash'] as const;
export type Urgency = (typeof URGENCIES)[number];

/** Incident categories with a playbook of tasks (mandatory ones block closure). */
export const PLAYBOOKS: Readonly<Record<string, readonly { title: string; mandatory: boolean; after?: number[] }[]>> = {
  default: [
    { title: 'Triage and validate the report (RS.MA-02)', mandatory: true },
    { title: 'Categorise and prioritise (RS.MA-03)', mandatory: true, after: [0] },
    { title: 'Contain affected systems (RS.MI-01)', mandatory: false, after: [1] },
    { title: 'Lessons learned (ID.IM)', mandatory: true, after: [1] },
  ],
  ransomware: [
    { title: 'Isolate infected hosts from the network', mandatory: true },
    { title: 'Identify the strain and its encryption scope', mandatory: true, after: [0] },
    { title: 'Preserve evidence: memory and disk images', mandatory: true, after: [0] },
    { title: 'Check backups integrity before restore', mandatory: true, after: [1] },
    { title: 'Restore services from clean backups', mandatory: false, after: [3] },
    { title: 'Notify national authority and allies', mandatory: true, after: [1] },
    { title: 'Lessons learned', mandatory: true, after: [4] },
  ],
  ddos: [
    { title: 'Confirm attack traffic and targeted services', mandatory: true },
    { title: 'Engage upstream providers / scrubbing', mandatory: false, after: [0] },
    { title: 'Share attacking sources with allies', mandatory: true, after: [0] },
    { title: 'Lessons learned', mandatory: true, after: [1] },
  ],
  phishing: [
    { title: 'Collect the message and headers', mandatory: true },
    { title: 'Extract and block indicators', mandatory: true, after: [0] },
    { title: 'Identify recipients who interacted', mandatory: true, after: [0] },
    { title: 'Reset compromised credentials', mandatory: false, after: [2] },
  ],
  'apt-intrusion': [
    { title: 'Scope the intrusion (hosts, accounts, timeline)', mandatory: true },
    { title: 'Preserve forensic evidence', mandatory: true },
    { title: 'Malware analysis of recovered samples', mandatory: false, after: [1] },
    { title: 'Coordinated eviction', mandatory: true, after: [0, 1] },
    { title: 'Share indicators and TTPs with the alliance', mandatory: true, after: [0] },
    { title: 'Attribution assessment', mandatory: false, after: [4] },
    { title: 'Lessons learned', mandatory: true, after: [3] },
  ],
};

/** ICD 203 likelihood terms (one row only) with their probability ranges. */
export const ICD203_LIKELIHOOD = [
  { term: 'almost no chance', range: [1, 5] }, { term: 'very unlikely', range: [5, 20] }, { term: 'unlikely', range: [20, 45] },
  { term: 'roughly even chance', range: [45, 55] }, { term: 'likely', range: [55, 80] }, { term: 'very likely', range: [80, 95] },
  { term: 'almost certain', range: [95, 99] },
] as const;
export type Likelihood = (typeof ICD203_LIKELIHOOD)[number]['term'];
export const CONFIDENCE_LEVELS = ['low', 'moderate', 'high'] as const;
export type ConfidenceLevel = (typeof CONFIDENCE_LEVELS)[number];

/** Admiralty code: source reliability A–F, information credibility 1–6. */
export const RELIABILITY = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type Reliability = (typeof RELIABILITY)[number];
export const CREDIBILITY = [1, 2, 3, 4, 5, 6] as const;
export type Credibility = (typeof CREDIBILITY)[number];

/** ACH consistency ratings (Heuer, ch. 8) and their scores (PARC ACH: II −2, I −1, others 0). */
export const ACH_RATINGS = { CC: 0, C: 0, N: 0, NA: 0, I: -1, II: -2 } as const;
export type AchRating = keyof typeof ACH_RATINGS;

/** Alliance cyber alert levels. */
export const ALERT_LEVELS = [
  { level: 1, name: 'NORMAL' }, { level: 2, name: 'GUARDED' }, { level: 3, name: 'ELEVATED' }, { level: 4, name: 'HIGH' }, { level: 5, name: 'SEVERE' },
] as const;

export function isOneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}
