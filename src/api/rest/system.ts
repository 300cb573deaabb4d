/**
 * The node's processes for its administrators: GET /api/v1/system (API process, detection
 * workers, queue and lag, events/s, dead letters, store health) and the dead letters of the
 * caller's organisation with retry / discard (docs/rest-api.md, docs/pipeline.md).
 */
import os from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { formatMicros } from '../../core/time.js';
import type { Principal } from '../../access/index.js';
import { deadLetterView, type DeadLetter } from '../../detect/pipeline/index.js';
import type { DeadLetterRow } from '../../store/index.js';
import { LAST_BACKUP_META, readLastBackup } from '../../ops/last-backup.js';
import { principalOf } from './auth.js';
import { readableCollectionIds, type RestDeps } from './context.js';
import { parseLimit, queryOf } from './parse.js';

const STARTED_MS = Date.now();


function seqParam(req: FastifyRequest): number {
  const raw = (req.params as Record<string, string>)['seq'] ?? '';
  const n = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new AppError('NOT_FOUND', `no dead letter ${raw.slice(0, 40)}`);
  return n;
}

/**
 * The rule an event hung on, only when the reader may know it: a stage name, a Sigma rule it
 * may read, or an indicator it may read (a rule's title or an indicator id can be TLP:RED).
 */
async function ruleRefFor(deps: RestDeps, p: Principal, ref: string | null): Promise<string | null> {
  if (ref === null) return null;
  if (ref.startsWith('stage:') || ref.startsWith('test-hook:')) return ref;
  const { platform } = deps;
  if (ref.startsWith('sigma:')) {
    const key = ref.slice('sigma:'.length);
    const rules = await platform.sigma.list({ principal: p, source: 'rest' });
    return rules.some((r) => r.ruleId === key || r.title === key || r.items.some((i) => i.ruleId === key || i.title === key)) ? ref : null;
  }
  const collectionIds = await readableCollectionIds(deps, p);
  if (collectionIds.length === 0) return null;
  const page = await platform.store.queryObjects({ collectionIds, audience: platform.access.audienceOf(p), purpose: 'read', ids: [ref], limit: 1 });
  return page.rows.length > 0 ? ref : null;
}

export async function systemRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  const { platform } = deps;
  const { detect, store } = platform;
  const admin = (req: FastifyRequest): Principal => {
    const p = principalOf(req);
    // admin.system is checked by the route's permission hook (api/route-permissions.ts).
    return p;
  };
  const view = async (p: Principal, row: DeadLetterRow): Promise<DeadLetter> => deadLetterView(row, await ruleRefFor(deps, p, row.ruleRef));

  app.get('/system', async (req) => {
    const p = admin(req);
    queryOf(req.query, []);
    const t0 = performance.now();
    let storeHealth: { dialect: string; ok: boolean; latencyMs: number; error?: string };
    try {
      await store.getMeta('detect.cursor');
      storeHealth = { dialect: store.capabilities.dialect, ok: true, latencyMs: Math.round((performance.now() - t0) * 100) / 100 };
    } catch (e) {
      storeHealth = { dialect: store.capabilities.dialect, ok: false, latencyMs: Math.round(performance.now() - t0), error: e instanceof Error ? e.message.slice(0, 200) : 'unknown' };
    }
    const queue = await detect.queue().catch(() => null);
    const stats = await detect.stats().catch(() => null);
    const mine = await detect.deadLetters.list(p.orgId, { limit: 200 });
    const flagged = new Map<string, number>();
    for (const d of mine) {
      const ref = await ruleRefFor(deps, p, d.ruleRef);
      if (ref !== null) flagged.set(ref, (flagged.get(ref) ?? 0) + 1);
    }
    const mem = process.memoryUsage();
    const w = detect.supervisor?.status() ?? null;
    const self = { role: 'api', host: os.hostname(), pid: process.pid, startedAt: new Date(STARTED_MS).toISOString(), uptimeS: Math.round(process.uptime()), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, self: true,
      // Whether this process runs the node's background jobs (and, on PostgreSQL without NATS, its
      // detection worker): the others stand by (docs/deploying-at-scale.md).
      leader: platform.leader.isLeader() };
    // Both bounded (a NATS that does not answer costs at most a couple of seconds), side by side.
    const [scale, nats] = platform.scale ? await Promise.all([platform.scale.deployment(), platform.scale.health()]) : [null, null];
    return {
      node: platform.config.nodeName, generatedAt: new Date(platform.clock.now()).toISOString(),
      processes: scale ? [self, ...scale.processes] : [self],
      detection: {
        mode: detect.mode,
        // Scale-out: the SQL spool is not used; the telemetry stream's queue is in `stream`.
        queue: scale ? null : queue,
        ...(scale ? { stream: scale.stream } : {}),
        eventsPerSecond: scale ? scale.stream.eventsPerSecond : (w?.eventsPerSecond ?? 0),
        processed: scale ? scale.processed : (stats?.processed ?? 0), alertsWritten: scale ? scale.alertsWritten : (stats?.alertsWritten ?? 0),
        indicators: scale ? scale.indicators : (stats?.indicators ?? 0), sigmaRules: scale ? scale.sigmaRules : (stats?.sigmaRules ?? 0),
      },
      workers: scale ? scale.workers : w ? [{ pid: w.pid, state: w.state, startedAt: w.startedAt, lastHeartbeatAt: w.lastHeartbeatAt, heartbeatAgeMs: w.heartbeatAgeMs, stale: w.stale, restarts: w.restarts, batch: w.batch, lastExit: w.lastExit, eventsPerSecond: w.eventsPerSecond, rssBytes: w.stats?.rssBytes ?? null, warmUp: w.stats?.warmUp ?? null }] : [],
      deadLetters: { total: await detect.deadLetters.count(), organisation: await detect.deadLetters.count(p.orgId), flaggedRules: [...flagged].map(([ref, count]) => ({ ref, count })).sort((a, b) => b.count - a.count) },
      store: storeHealth,
      // Scale-out: whether the telemetry stream's NATS answers (ingest answers 503 while it does not).
      nats,
      // The last `shieldwall backup` of the node (its time and what it held), or null: never.
      backup: readLastBackup(await store.getMeta(LAST_BACKUP_META).catch(() => null)),
      // The indexes that follow the store (built after the node listens, fed after commits).
      indexes: (await platform.indexes()).map((i) => ({
        name: i.name, cursor: i.cursorUs > 0 ? formatMicros(i.cursorUs) : null, behind: i.behind, lagMs: Math.round(i.lagMs), ready: i.ready, error: i.error,
      })),
    };
  });

  app.get('/system/dead-letters', async (req) => {
    const p = admin(req);
    const q = queryOf(req.query, ['limit', 'before']);
    const limit = parseLimit(q, 50, platform.config.maxPageSize);
    const rawBefore = q['before'];
    const before = rawBefore === undefined ? undefined : Number(rawBefore);
    if (before !== undefined && (!Number.isSafeInteger(before) || before < 1)) throw new AppError('BAD_REQUEST', 'before must be a positive integer (a dead letter seq)');
    const rows = await detect.deadLetters.list(p.orgId, { limit, ...(before !== undefined ? { beforeSeq: before } : {}) });
    return { items: await Promise.all(rows.map((r) => view(p, r))) };
  });

  app.get('/system/dead-letters/:seq', async (req) => {
    const p = admin(req);
    return view(p, await detect.deadLetters.get(p.orgId, seqParam(req)));
  });

  app.post('/system/dead-letters/:seq/retry', async (req, reply) => {
    const p = admin(req);
    const seq = await detect.deadLetters.retry({ principal: p, source: req.ip }, seqParam(req));
    return reply.code(202).send({ retried: true, seq });
  });

  app.post('/system/dead-letters/:seq/discard', async (req) => {
    const p = admin(req);
    await detect.deadLetters.discard({ principal: p, source: req.ip }, seqParam(req));
    return { discarded: true };
  });
}
