/**
 * An alliance for the respond tests: member organisations A (declares), B and C (allies), D
 * (outsider), each with a responder, a representative and an analyst; on an in-memory
 * SQLite store with a manual clock, through the real Fastify app (socketless inject).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, createPlatform, type Platform } from '../src/api/index.js';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { openSqliteStore, type Role } from '../src/store/index.js';
import { openTestNode } from './helpers/node-mode.js';

export const T0 = '2026-05-01T08:00:00.000Z';
export type Org = 'A' | 'B' | 'C' | 'D';
export type Who = `${Org}-${'resp' | 'rep' | 'analyst'}`;
const ROLES: Record<string, Role[]> = { resp: ['responder'], rep: ['representative'], analyst: ['analyst'] };

export interface RespondWorld {
  platform: Platform;
  app: FastifyInstance;
  clock: ManualClock;
  orgs: Record<Org, string>;
  collection: string;
  call(who: Who, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
  tokens: Record<Who, string>;
  close(): Promise<void>;
}

export async function respondWorld(): Promise<RespondWorld> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-respond-'));
  const clock = new ManualClock(T0);
  const platform = await openTestNode({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_LOG_LEVEL: 'silent' }, clock);
  const { access } = platform;
  const orgs = {} as Record<Org, string>;
  const tokens = {} as Record<Who, string>;
  for (const o of ['A', 'B', 'C', 'D'] as const) {
    orgs[o] = (await access.createOrganisation(SYSTEM_ACTOR, { name: `Nation ${o}`, shortName: o })).id;
    for (const kind of ['resp', 'rep', 'analyst'] as const) {
      const u = await access.createUser(SYSTEM_ACTOR, { orgId: orgs[o], username: `${o.toLowerCase()}-${kind}`, password: 'long enough password', roles: ROLES[kind]! });
      tokens[`${o}-${kind}`] = (await access.createToken(SYSTEM_ACTOR, { orgId: orgs[o], userId: u.id, kind: 'api', name: 't' })).token;
    }
  }
  const coll = await access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'Alliance intel', alias: 'intel' });
  await access.grantCollection(SYSTEM_ACTOR, coll.id, '*', { canRead: true, canWrite: true });
  const app = await buildApp(platform, { logger: false });
  return {
    platform, app, clock, orgs, tokens, collection: coll.id,
    async call(who, method, url, body) {
      const r = await app.inject({
        method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${tokens[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      let json: unknown = null;
      try {
        json = JSON.parse(r.body);
      } catch {
        json = r.body;
      }
      return { status: r.statusCode, json, headers: r.headers as Record<string, unknown> };
    },
    async close() {
      await app.close();
      await platform.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const inHours = (clock: ManualClock, h: number) => new Date(clock.now() + h * 3600_000).toISOString();
