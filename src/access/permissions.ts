/**
 * The one permission table: which kind of action a credential may take, by role (for a user's
 * password, session or API token) or by token kind (sensor, peer). It is the first gate; the
 * second is per object — the release policy (`mayRelease`), TAXII collection grants and incident
 * shares decide on WHICH objects an allowed action reaches. Every transport asks `authorize`:
 * the HTTP layer once per route (api/route-permissions.ts), the live stream, the CLI's `--as`
 * commands and the domain services that those reach. docs/security.md "Permissions" is rendered
 * from this table (`permissionTableMarkdown`, checked by a test).
 */
import { AppError } from '../core/errors.js';
import type { Role } from '../store/index.js';
import type { Principal } from './service.js';

/** A column of the table: a role, a user with no role, or a non-user token kind. */
export type Column = Role | 'no-role' | 'sensor' | 'peer';
export const COLUMNS: readonly Column[] = ['analyst', 'responder', 'representative', 'excon', 'admin', 'no-role', 'sensor', 'peer'];

const READERS: readonly Column[] = ['analyst', 'responder', 'representative', 'excon', 'admin'];

interface Grant {
  readonly who: readonly Column[];
  readonly what: string;
}

/** Action → who may take it, and what it covers. Order is the documentation's order. */
export const PERMISSIONS = {
  'session.read': { who: [...READERS, 'no-role'], what: 'own identity and permissions (GET /me), own password, sign out' },
  'directory.read': { who: READERS, what: 'organisations, sharing groups, collections' },
  'intel.read': { who: READERS, what: 'REST intel reads, search, export, correlations, warninglists, sightings' },
  'intel.write': { who: ['analyst', 'admin'], what: 'REST intel import' },
  'taxii.read': { who: [...READERS, 'peer'], what: 'TAXII discovery, collections, manifest, objects, versions, status (federation pull)' },
  'taxii.write': { who: ['analyst', 'admin', 'peer'], what: 'TAXII add objects (federation push into granted collections)' },
  'taxii.delete': { who: ['analyst', 'admin'], what: 'TAXII delete an object (own organisation\'s objects only)' },
  'alerts.read': { who: READERS, what: 'alerts, the operational picture, detection status' },
  'alerts.triage': { who: ['analyst', 'responder', 'admin'], what: 'acknowledge, assign, mark false positive' },
  'alerts.escalate': { who: ['responder', 'admin'], what: 'escalate an alert (opens or links an incident)' },
  'incident.read': { who: READERS, what: 'incidents, timelines, attachments, similar incidents, STIX export' },
  'incident.write': { who: ['responder', 'admin'], what: 'declare, change, phase, share, transfer, publish (owner only)' },
  'incident.contribute': { who: ['analyst', 'responder', 'admin'], what: 'tasks, observables, links, timeline entries, attachments (owner or contribute share)' },
  'incident.comment': { who: ['analyst', 'responder', 'representative', 'admin'], what: 'comment (owner or contribute share)' },
  'assistance.read': { who: READERS, what: 'assistance requests and offers' },
  'assistance.write': { who: ['responder', 'admin'], what: 'request, offer, accept, decline, withdraw, close' },
  'decision.read': { who: READERS, what: 'collective decisions' },
  'decision.write': { who: ['representative'], what: 'propose, take a national position, reissue, withdraw' },
  'assessment.read': { who: READERS, what: 'attribution assessments' },
  'assessment.write': { who: ['analyst', 'responder', 'admin'], what: 'create and edit attribution assessments' },
  'alert-level.read': { who: READERS, what: 'the alert level board' },
  'alert-level.write': { who: ['representative', 'admin'], what: 'set the own organisation\'s alert level' },
  'sigma.read': { who: READERS, what: 'Sigma rules and their status' },
  'sigma.write': { who: ['analyst', 'admin'], what: 'add and remove Sigma rules' },
  'ingest.write': { who: ['admin', 'sensor'], what: 'push telemetry (POST /ingest)' },
  'stream.read': { who: READERS, what: 'the live event stream' },
  'admin.audit': { who: ['admin'], what: 'the audit log' },
  'admin.settings': { who: ['admin'], what: 'correlation exclusions and re-index, warninglists (node-wide settings)' },
  'admin.system': { who: ['admin'], what: 'node processes, detection workers, indexes, dead letters (retry, discard)' },
  'federation.read': { who: READERS, what: 'peer nodes, subscriptions and their sync status, this node\'s public key' },
  'federation.admin': { who: ['admin'], what: 'add and remove peers and subscriptions, run, reset, retry rejects, read reject lists' },
  'federation.sync': { who: ['peer'], what: 'provenance envelopes and retractions of readable object versions (federation pull); push of shared incidents and assistance requests; answers written back to them (comments, offers)' },
  'exercise.read': { who: READERS, what: 'exercises the reader takes part in (control, grant or team): run, injects, inbox, scores, report' },
  'exercise.play': { who: READERS, what: 'play in an exercise: situation reports, exercise intel (own team only)' },
  'exercise.plan': { who: ['excon', 'admin'], what: 'scenarios (read, write, import, export), create runs, exercise grants' },
  'exercise.control': { who: ['excon', 'admin'], what: 'launch, pause, resume, speed, trigger, finish, grade, archive, purge (control or launcher grant)' },
  'readiness.read': { who: READERS, what: 'frameworks, assessments released to the reader, alliance aggregates, audits, findings, vital functions, readiness reports' },
  'readiness.write': { who: ['analyst', 'responder', 'representative', 'admin'], what: 'own organisation\'s assessments (answer, submit, release), audits, findings, vital functions' },
  'readiness.admin': { who: ['admin'], what: 'import readiness frameworks' },
  'exposure.read': { who: READERS, what: 'readiness: inventories, vulnerability intelligence (KEV, CVE, EPSS), exposures, advisories (as released)' },
  'inventory.write': { who: ['analyst', 'responder', 'admin'], what: 'readiness: import, edit and retire the own organisation\'s assets' },
  'vuln-intel.write': { who: ['analyst', 'admin'], what: 'readiness: import KEV catalogs, CVE JSON 5 records, EPSS scores (node-wide)' },
  'exposure.write': { who: ['analyst', 'responder', 'admin'], what: 'readiness: change the status of the own organisation\'s exposures' },
  'advisory.write': { who: ['analyst', 'admin'], what: 'readiness: import CSAF 2.0 advisories (VEX), publish them to the alliance' },
} as const satisfies Record<string, Grant>;

export type Action = keyof typeof PERMISSIONS;
export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/** The columns a principal stands in: its roles (or `no-role`) for user credentials, else its token kind. */
export function columnsOf(p: Pick<Principal, 'kind' | 'roles'>): readonly Column[] {
  if (p.kind === 'sensor' || p.kind === 'peer') return [p.kind];
  return p.roles.length > 0 ? p.roles : ['no-role'];
}

export function allows(column: Column, action: Action): boolean {
  return (PERMISSIONS[action].who as readonly Column[]).includes(column);
}

export function can(p: Pick<Principal, 'kind' | 'roles'>, action: Action): boolean {
  return columnsOf(p).some((c) => allows(c, action));
}

/** Throws FORBIDDEN (403) naming what the action needs. */
export function authorize(p: Pick<Principal, 'kind' | 'roles'>, action: Action): void {
  if (can(p, action)) return;
  const who = PERMISSIONS[action].who.map((c) => (c === 'sensor' || c === 'peer' ? `a ${c} token` : `the ${c} role`));
  throw new AppError('FORBIDDEN', `${action} needs ${who.join(' or ')}`);
}

/** Every action the principal may take, for the web app to show only what the reader may do. */
export function permissionsOf(p: Pick<Principal, 'kind' | 'roles'>): Action[] {
  return ACTIONS.filter((a) => can(p, a));
}

const HEADER: Record<Column, string> = {
  analyst: 'analyst', responder: 'responder', representative: 'representative', excon: 'excon', admin: 'admin',
  'no-role': 'user without role', sensor: 'sensor token', peer: 'peer token',
};

/** The table as Markdown, the exact text of docs/security.md between its markers. */
export function permissionTableMarkdown(): string {
  const head = `| action | covers | ${COLUMNS.map((c) => HEADER[c]).join(' | ')} |`;
  const rule = `|---|---|${COLUMNS.map(() => ':-:').join('|')}|`;
  const rows = ACTIONS.map((a) => `| \`${a}\` | ${PERMISSIONS[a].what} | ${COLUMNS.map((c) => (allows(c, a) ? '✔' : '·')).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}
