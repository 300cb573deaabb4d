/**
 * A small alliance for the REST tests, built through AccessService and IntelService on an
 * in-memory SQLite store: organisations A, B, C (C also in a sharing group with A), users
 * with different roles, a shared collection, a collection only A may read, and intel of
 * every TLP level created by A.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, createPlatform, type Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock, type Tlp } from '../src/core/index.js';
import { SYSTEM_ACTOR, type Principal } from '../src/access/index.js';
import { openSqliteStore, type Role } from '../src/store/index.js';
import { openTestNode } from './helpers/node-mode.js';

export type Stix = Record<string, unknown>;
export const PASSWORD = 'correct horse battery staple';
export const T0 = '2026-03-01T10:00:00.000Z';

export interface Alliance {
  platform: Platform;
  app: FastifyInstance;
  clock: ManualClock;
  orgs: { A: string; B: string; C: string };
  group: string;
  shared: string;
  privateA: string;
  readOnly: string;
  /** Bearer tokens by user name. */
  tokens: Record<string, string>;
  principals: Record<string, Principal>;
  close(): Promise<void>;
}

export function sdo(type: string, fields: Stix = {}, at = '2026-02-01T08:00:00.000Z'): Stix {
  return { type, spec_version: '2.1', id: `${type}--${randomUUID()}`, created: at, modified: at, ...fields };
}

export function indicator(name: string, fields: Stix = {}): Stix {
  return sdo('indicator', { name, pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: '2026-02-01T08:00:00Z', ...fields });
}

export function malware(name: string, fields: Stix = {}): Stix {
  return sdo('malware', { name, is_family: true, ...fields });
}

export function relationship(source: Stix, type: string, target: Stix): Stix {
  return sdo('relationship', { relationship_type: type, source_ref: source.id, target_ref: target.id });
}

export function bundle(objects: unknown[]): Stix {
  return { type: 'bundle', id: `bundle--${randomUUID()}`, objects };
}

const USERS: { name: string; org: 'A' | 'B' | 'C'; roles: Role[] }[] = [
  { name: 'a-analyst', org: 'A', roles: ['analyst'] },
  { name: 'a-admin', org: 'A', roles: ['admin'] },
  { name: 'a-responder', org: 'A', roles: ['responder'] },
  { name: 'b-analyst', org: 'B', roles: ['analyst'] },
  { name: 'c-analyst', org: 'C', roles: ['analyst'] },
  { name: 'c-admin', org: 'C', roles: ['admin', 'analyst'] },
];

/** Runs `fn` on a fresh alliance, closed afterwards whatever happens (a test's own node). */
export async function withAlliance(fn: (al: Alliance) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const al = await makeAlliance(env);
  try {
    await fn(al);
  } finally {
    await al.close();
  }
}

export async function makeAlliance(env: Record<string, string> = {}): Promise<Alliance> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sw-rest-'));
  const clock = new ManualClock(T0);
  const platform = await openTestNode({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_LOG_LEVEL: 'silent', ...env }, clock);
  const config = platform.config;
  const { access } = platform;
  const A = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Alpha CERT', shortName: 'A' })).id;
  const B = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Bravo CERT', shortName: 'B' })).id;
  const C = (await access.createOrganisation(SYSTEM_ACTOR, { name: 'Charlie CERT', shortName: 'C' })).id;
  const orgs = { A, B, C };
  const group = (await access.createGroup(SYSTEM_ACTOR, { ownerOrg: A, name: 'Alpha-Charlie', members: [C] })).id;
  const root = config.apiRoots[0]!.name;
  const shared = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: root, title: 'Alliance intel', alias: 'alliance' })).id;
  await access.grantCollection(SYSTEM_ACTOR, shared, '*', { canRead: true, canWrite: true });
  const privateA = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: root, title: 'Alpha private' })).id;
  await access.grantCollection(SYSTEM_ACTOR, privateA, A, { canRead: true, canWrite: true });
  const readOnly = (await access.createCollection(SYSTEM_ACTOR, { apiRoot: root, title: 'Reference (read-only)' })).id;
  await access.grantCollection(SYSTEM_ACTOR, readOnly, '*', { canRead: true, canWrite: false });
  const tokens: Record<string, string> = {};
  const principals: Record<string, Principal> = {};
  for (const u of USERS) {
    const row = await access.createUser(SYSTEM_ACTOR, { orgId: orgs[u.org], username: u.name, password: PASSWORD, roles: u.roles });
    const t = await access.createToken(SYSTEM_ACTOR, { orgId: row.orgId, userId: row.id, kind: 'api', name: 'test' });
    tokens[u.name] = t.token;
    principals[u.name] = await access.authenticateToken(t.token, 'fixture');
  }
  const app = await buildApp(platform);
  return {
    platform, app, clock, orgs, group, shared, privateA, readOnly, tokens, principals,
    close: async () => {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Submits objects as a user of the alliance; throws if any is rejected. */
/** A user of organisation C with the exercise-control role (`c-excon`) and an API token for it: the token. */
export async function addExcon(al: Alliance): Promise<string> {
  const u = await al.platform.access.createUser(SYSTEM_ACTOR, { orgId: al.orgs.C, username: 'c-excon', password: PASSWORD, roles: ['excon'] });
  return (await al.platform.access.createToken(SYSTEM_ACTOR, { orgId: al.orgs.C, userId: u.id, kind: 'api', name: 't' })).token;
}

export async function submitAs(al: Alliance, user: string, collection: string, batch: { objects: Stix[]; defaultTlp?: Tlp; recipients?: string[] }): Promise<void> {
  const { objects, ...opts } = batch;
  const res = await al.platform.intel.submit({ principal: al.principals[user]!, source: 'fixture' }, collection, objects, opts);
  const bad = res.filter((r) => r.status === 'rejected');
  if (bad.length) throw new Error(`fixture rejected: ${JSON.stringify(bad)}`);
  al.clock.advance(1000);
}

export interface Answer { status: number; headers: Record<string, unknown>; body: string; json: () => any }
export interface CallOptions { token?: string; body?: unknown; raw?: string; contentType?: string; ip?: string; headers?: Record<string, string> }

/** Socketless HTTP against the alliance's app (`app.inject`). */
export function http(al: Alliance) {
  const call = async (method: 'GET' | 'POST', url: string, opts: CallOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.raw !== undefined) payload = opts.raw;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers['content-type'] ??= opts.contentType ?? 'application/json';
    const res = await al.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}), remoteAddress: opts.ip ?? '127.0.0.1' });
    return { status: res.statusCode, headers: res.headers, body: res.body, json: () => JSON.parse(res.body) };
  };
  return { call, get: (user: string, url: string) => call('GET', url, { token: al.tokens[user]! }) };
}

export function expectError(a: Answer, status: number, code: string): void {
  expect(a.status, a.body).toBe(status);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(a.json().error.code).toBe(code);
  expect(typeof a.json().error.message).toBe('string');
}
