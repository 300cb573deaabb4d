/**
 * Builders for TAXII / federation / leak tests: a platform on a real SQLite store (memory or
 * file), organisations, a sharing group, users, tokens, collections with grants, and STIX
 * objects with TLP 2.0 markings. Everything goes through AccessService / IntelService.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, buildApp, type Platform } from '../src/api/index.js';
import { ManualClock } from '../src/core/index.js';
import type { Tlp } from '../src/core/index.js';
import { SYSTEM_ACTOR, type Principal } from '../src/access/index.js';
import { openSqliteStore, type OrgRow, type Role } from '../src/store/index.js';
import { TLP2_MARKING_IDS } from '../src/stix/index.js';
import type { FastifyInstance } from 'fastify';
import { openTestNode } from './helpers/node-mode.js';

export const TAXII = 'application/taxii+json;version=2.1';
export const ROOT = 'api1';
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

export function tmpDir(prefix = 'sw-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface NodeOptions {
  /** SQLite file; ':memory:' by default. */
  file?: string;
  env?: Record<string, string>;
  clock?: ManualClock;
}

export async function makePlatform(o: NodeOptions = {}): Promise<Platform> {
  const dataDir = o.file && o.file !== ':memory:' ? path.dirname(o.file) : tmpDir();
  const config = loadConfig({
    SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_AUTH_FAILURE_LIMIT: '100000', ...o.env,
  });
  const clock = o.clock ?? new ManualClock(T0);
  // In memory: the node under test (embedded, or scale-out in that project: helpers/node-mode.ts).
  if (!o.file || o.file === ':memory:') return openTestNode({ SHIELDWALL_LOG_LEVEL: 'silent', SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_AUTH_FAILURE_LIMIT: '100000', ...o.env }, clock);
  const store = await openSqliteStore(o.file);
  return createPlatform(config, { store, clock });
}

export interface Org {
  row: OrgRow;
  user: string;
  password: string;
  token: string;
  principal: Principal;
}

export const PASSWORD = 'correct horse battery staple';

/** An organisation with one analyst user and one API token for that user. */
export async function makeOrg(p: Platform, shortName: string, extra: { node?: string | null; roles?: Role[] } = {}): Promise<Org> {
  const row = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `Org ${shortName}`, shortName, node: extra.node ?? null });
  if (extra.node) {
    // An organisation of another node has no users here (docs/federation.md): a principal
    // standing for it only submits what arrived from its node, as a pull would.
    const principal = Object.freeze({ orgId: row.id, userId: null, username: null, roles: Object.freeze<Role[]>(extra.roles ?? ['analyst']), tokenId: null, kind: 'api' as const, groupIds: Object.freeze([]) });
    return { row, user: '', password: '', token: '', principal };
  }
  const username = `user-${shortName.toLowerCase()}`;
  const u = await p.access.createUser(SYSTEM_ACTOR, { orgId: row.id, username, password: PASSWORD, roles: extra.roles ?? ['analyst'] });
  const t = await p.access.createToken(SYSTEM_ACTOR, { orgId: row.id, userId: u.id, kind: 'api', name: `${username} token` });
  const principal = await p.access.authenticateToken(t.token, 'test');
  return { row, user: username, password: PASSWORD, token: t.token, principal };
}

/** Re-authenticates so the principal picks up group memberships made after makeOrg. */
export async function refresh(p: Platform, o: Org): Promise<Org> {
  if (!o.token) return { ...o, principal: Object.freeze({ ...o.principal, groupIds: Object.freeze(await p.store.groupsOfOrg(o.row.id)) }) };
  return { ...o, principal: await p.access.authenticateToken(o.token, 'test') };
}

export async function makeCollection(p: Platform, title: string, grants: [string, { canRead: boolean; canWrite: boolean }][], alias?: string) {
  const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: ROOT, title, ...(alias ? { alias } : {}) });
  for (const [principal, rights] of grants) await p.access.grantCollection(SYSTEM_ACTOR, c.id, principal, rights);
  return c;
}

let seq = 0;
/** A fresh UUID v4. */
export function uuid(): string {
  return crypto.randomUUID();
}

export interface IndicatorOpts {
  id?: string;
  tlp?: Tlp | null;
  name?: string;
  created?: string;
  modified?: string;
  revoked?: boolean;
}

/** A valid STIX 2.1 indicator; `tlp` adds the TLP 2.0 marking. */
export function indicator(o: IndicatorOpts = {}): Record<string, unknown> {
  seq++;
  const created = o.created ?? '2025-06-01T00:00:00.000Z';
  const ip = `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`;
  return {
    type: 'indicator', spec_version: '2.1', id: o.id ?? `indicator--${uuid()}`, created, modified: o.modified ?? created,
    name: o.name ?? `indicator ${seq}`, pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: created,
    indicator_types: ['malicious-activity'],
    ...(o.revoked ? { revoked: true } : {}),
    ...(o.tlp ? { object_marking_refs: [TLP2_MARKING_IDS[o.tlp]] } : {}),
  };
}

export function malware(name: string, tlp: Tlp | null = 'green'): Record<string, unknown> {
  return {
    type: 'malware', spec_version: '2.1', id: `malware--${uuid()}`, created: '2025-06-01T00:00:00.000Z', modified: '2025-06-01T00:00:00.000Z',
    name, is_family: true, ...(tlp ? { object_marking_refs: [TLP2_MARKING_IDS[tlp]] } : {}),
  };
}

/** Submits as an organisation's principal; throws when anything is rejected. */
export async function submit(p: Platform, who: Org, collectionId: string, objects: Record<string, unknown>[]) {
  return submitWith(p, { who, collectionId, objects });
}

export async function submitWith(p: Platform, a: { who: Org; collectionId: string; objects: Record<string, unknown>[]; recipients?: string[]; originNode?: string | null }) {
  const { who, collectionId, objects } = a;
  const opts = { ...(a.recipients ? { recipients: a.recipients } : {}), ...(a.originNode !== undefined ? { originNode: a.originNode } : {}) };
  const res = await p.intel.submit({ principal: who.principal, source: 'test' }, collectionId, objects, opts);
  const bad = res.filter((r) => r.status === 'rejected');
  if (bad.length) throw new Error(`rejected: ${JSON.stringify(bad)}`);
  return res;
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export interface Get {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

/** A TAXII request through app.inject with the TAXII Accept header. */
export async function taxii(app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, o: { auth?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Get> {
  const headers: Record<string, string> = { accept: TAXII, ...(o.auth ? { authorization: o.auth } : {}), ...(o.body !== undefined ? { 'content-type': TAXII } : {}), ...o.headers };
  const res = await app.inject({ method, url, headers, ...(o.body !== undefined ? { payload: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}) });
  let body: Record<string, unknown> = {};
  try {
    body = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {};
  } catch {
    body = { _raw: res.body };
  }
  return { status: res.statusCode, headers: res.headers as Record<string, unknown>, body };
}

export { buildApp };
