/**
 * REST routes of detection: telemetry ingestion (sensors), alerts, and the common operational
 * picture. The ingest route has its own scope: it reads raw NDJSON / syslog bodies, gzip or not.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { can } from '../../access/index.js';
import type { AuthedActor } from '../../respond/index.js';
import { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from '../../detect/pipeline/index.js';
import type { AlertSeverity, AlertSource, AlertStatus } from '../../detect/pipeline/index.js';
// Answers are typed by the shared wire contract the web app reads too (src/contract).
import type { AlertDetailWire, AlertListWire, AlertWire, Cop, EscalateAnswer } from '../../contract/index.js';
import type { TelemetryFormat } from '../../detect/normalise/index.js';
import type { Platform } from '../platform.js';
import { principalOf, requireAuth } from './auth.js';
import { Body, RECORD_ID } from './body.js';
import { queryOf } from './parse.js';

const gunzipAsync = promisify(gunzip);
const FORMATS: readonly (TelemetryFormat | 'auto')[] = ['auto', 'suricata-eve', 'ecs', 'windows', 'zeek', 'syslog', 'cef'];
const INGEST_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/json', 'text/plain'];
/** Sightings read per request for an indicator's summary (no index on sighting_of_ref). */
const MAX_SIGHTING_SCAN = 20_000;
const SENSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function listParam<T extends string>(raw: unknown, allowed: readonly T[], name: string): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new AppError('BAD_REQUEST', `${name} must be a comma-separated list`);
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (!(allowed as readonly string[]).includes(p)) throw new AppError('BAD_REQUEST', `${name}: unknown value "${p.slice(0, 40)}"; one of ${allowed.join(', ')}`);
  return parts as T[];
}

async function decode(req: FastifyRequest, limit: number): Promise<Buffer> {
  const raw = req.body;
  if (!Buffer.isBuffer(raw)) return Buffer.alloc(0);
  const enc = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (enc === 'identity' || enc === '') return raw;
  if (enc !== 'gzip' && enc !== 'x-gzip') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${enc.slice(0, 40)} is not supported (gzip or identity)`);
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new AppError('PAYLOAD_TOO_LARGE', `the decompressed body is larger than ${limit} bytes; send smaller batches`);
    }
    throw new AppError('BAD_REQUEST', `the gzip body is corrupt: ${(e as Error).message}`);
  }
}

/** Longest Idempotency-Key header accepted on POST /ingest (a longer one is a 400). */
const MAX_IDEMPOTENCY_KEY = 200;

/** POST /ingest, in a scope whose body parsers keep the raw bytes. */
export async function ingestRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const limit = platform.config.maxContentLength;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(INGEST_TYPES, { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', (req, _payload, done) => {
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${String(req.headers['content-type'] ?? '(none)').slice(0, 60)} is not accepted; send ${INGEST_TYPES.join(', ')}`), undefined);
  });
  app.post('/ingest', { onRequest: requireAuth(platform) }, async (req, reply) => {
    const p = principalOf(req);
    const q = req.query as Record<string, unknown>;
    const format = (q['format'] ?? 'auto') as TelemetryFormat | 'auto';
    if (!FORMATS.includes(format)) throw new AppError('BAD_REQUEST', `format must be one of ${FORMATS.join(', ')}`);
    let sensorId: string;
    if (p.kind === 'sensor') {
      sensorId = (p.tokenId ? (await platform.store.getToken(p.tokenId))?.name : undefined) ?? 'sensor';
    } else if (p.roles.includes('admin')) {
      const s = q['sensor'] ?? 'api';
      if (typeof s !== 'string' || !SENSOR_NAME.test(s)) throw new AppError('BAD_REQUEST', 'sensor must be a name of letters, digits and . _ : -');
      sensorId = s;
    } else {
      throw new AppError('FORBIDDEN', 'ingestion needs a sensor token (shieldwall token create --kind sensor) or an administrator');
    }
    if (req.body === undefined) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `send the events as ${INGEST_TYPES.join(', ')}`);
    const bytes = await decode(req, limit);
    // A sensor that repeats a request's Idempotency-Key has it stored once (scale-out: the stream's msgID).
    const key = req.headers['idempotency-key'];
    // Refused rather than ignored: a key dropped in silence would store every resend again.
    if (typeof key === 'string' && key.length > MAX_IDEMPOTENCY_KEY) throw new AppError('BAD_REQUEST', `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY} characters (got ${key.length})`);
    const requestKey = typeof key === 'string' && key.length > 0 ? key : undefined;
    const summary = await platform.detect.ingest(p, bytes, { format, sensorId, ...(requestKey ? { requestKey } : {}) });
    return reply.code(202).send(summary);
  });
}

export async function alertRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { alerts } = platform;
  const actor = (req: FastifyRequest): AuthedActor => ({ principal: principalOf(req), source: req.ip });
  const id = (req: FastifyRequest): string => {
    const v = (req.params as Record<string, string>)['id'] ?? '';
    if (!RECORD_ID.test(v)) throw new AppError('NOT_FOUND', `no alert ${v.slice(0, 80)}`);
    return v;
  };

  app.get('/alerts', async (req): Promise<AlertListWire> => {
    // Refused, never ignored: `?exercise=` answered the real operations' alerts as if it were that exercise's.
    if ((req.query as Record<string, unknown>)['exercise'] !== undefined) {
      throw new AppError('INVALID_FILTER', 'exercise: this list is of real operations; an exercise\'s alerts are at /exercises/{id}/alerts', { details: { parameter: 'exercise' } });
    }
    const q = queryOf(req.query, ['status', 'severity', 'source', 'org', 'limit']);
    const limit = q['limit'] === undefined ? 100 : Number(q['limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AppError('BAD_REQUEST', 'limit must be an integer 1-1000');
    return {
      alerts: await alerts.list(actor(req), {
        statuses: listParam<AlertStatus>(q['status'], ALERT_STATUSES, 'status'),
        severities: listParam<AlertSeverity>(q['severity'], ALERT_SEVERITIES, 'severity'),
        sources: listParam<AlertSource>(q['source'], ALERT_SOURCES, 'source'),
        ...(typeof q['org'] === 'string' ? { orgId: q['org'] } : {}),
        limit,
      }),
    };
  });

  app.get('/alerts/:id', async (req): Promise<AlertDetailWire> => alerts.get(actor(req), id(req)));

  app.patch('/alerts/:id', async (req): Promise<AlertWire> => {
    const b = Body.of(req.body);
    return alerts.patch(actor(req), id(req), {
      ...(b.has('status') ? { status: b.oneOf('status', ALERT_STATUSES) } : {}),
      ...(Object.prototype.hasOwnProperty.call(req.body, 'assignee') ? { assignee: b.has('assignee') ? b.str('assignee', { max: 128 }) : null } : {}),
      ...(b.has('note') ? { note: b.str('note', { max: 2000 }) } : {}),
      ...(b.has('rev') ? { rev: b.int('rev', 1, Number.MAX_SAFE_INTEGER) } : {}),
    });
  });

  app.post('/alerts/:id/escalate', async (req): Promise<EscalateAnswer> => {
    const b = Body.of(req.body ?? {});
    const incidentId = b.optStr('incidentId', { max: 100 });
    if (incidentId !== undefined && !RECORD_ID.test(incidentId)) throw new AppError('BAD_REQUEST', 'incidentId: not an incident id');
    const title = b.optStr('title', { max: 300 });
    return alerts.escalate(actor(req), id(req), { ...(incidentId ? { incidentId } : {}), ...(title ? { title } : {}) });
  });

  app.get('/cop', async (req): Promise<Cop> => {
    const raw = (req.query as Record<string, unknown>)['hours'];
    const hours = raw === undefined ? 24 : Number(raw);
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 31) throw new AppError('BAD_REQUEST', 'hours must be an integer 1-744');
    return alerts.cop(actor(req), hours);
  });

  // The pipeline's counters are the node's, but how many indicators and rules it holds (and when
  // the last indicator came) would tell a reader of intelligence it may not read: those go to the
  // node's administrators (admin.system, as GET /system); other readers get the Sigma rules they may read.
  app.get('/detect/status', async (req) => {
    const s = await detectStats(platform);
    const a = actor(req);
    if (can(a.principal, 'admin.system')) return s;
    return { ...s, indicators: null, sigmaRules: platform.sigma.status(a).rules, feed: null };
  });

  // How often an indicator fired, and where the reader may know it: the sightings it may read.
  app.get('/intel/:id/sightings', async (req) => {
    const p = principalOf(req);
    const id = (req.params as Record<string, string>)['id'] ?? '';
    if (!/^[a-z0-9-]+--[0-9a-f-]{36}$/.test(id)) throw new AppError('NOT_FOUND', `no visible object ${id.slice(0, 80)}`);
    const collectionIds = [...(await platform.access.rights(p))].filter(([, r]) => r.canRead).map(([c]) => c);
    const audience = platform.access.audienceOf(p);
    const per = new Map<string, { orgId: string | null; count: number; firstSeen: string | null; lastSeen: string | null }>();
    let scanned = 0;
    let addedAfter: number | undefined;
    for (;;) {
      const page = await platform.store.queryObjects({ collectionIds, audience, purpose: 'read', types: ['sighting'], version: { kind: 'last' }, limit: 1000, ...(addedAfter !== undefined ? { addedAfter } : {}) });
      for (const row of page.rows) {
        const o = JSON.parse(row.json) as { sighting_of_ref?: string; count?: number; first_seen?: string; last_seen?: string; where_sighted_refs?: string[] };
        if (o.sighting_of_ref !== id) continue;
        const where = o.where_sighted_refs?.[0] ?? null;
        const k = where ?? 'anonymous';
        const cur = per.get(k) ?? { orgId: where, count: 0, firstSeen: null, lastSeen: null };
        cur.count += typeof o.count === 'number' ? o.count : 1;
        if (o.first_seen && (cur.firstSeen === null || o.first_seen < cur.firstSeen)) cur.firstSeen = o.first_seen;
        if (o.last_seen && (cur.lastSeen === null || o.last_seen > cur.lastSeen)) cur.lastSeen = o.last_seen;
        per.set(k, cur);
      }
      scanned += page.rows.length;
      const last = page.rows[page.rows.length - 1];
      if (!page.more || !last || scanned >= MAX_SIGHTING_SCAN) break;
      addedAfter = last.dateAdded;
    }
    const organisations = [...per.values()].map((x) => ({ ...x, name: x.orgId ? platform.detect.orgName(x.orgId) : null })).sort((a, b) => b.count - a.count);
    return { indicatorId: id, total: organisations.reduce((n, x) => n + x.count, 0), organisations, truncated: scanned >= MAX_SIGHTING_SCAN };
  });
}

/**
 * The pipeline's counters. On a scale-out node no worker reports to this process: they are the
 * workers' own as they announce them (presence), and the queue is the stream's — ingest chunks
 * waiting, in partitions no worker owns too — where the embedded figures would all read 0.
 */
async function detectStats(platform: Platform) {
  const s = await platform.detect.stats();
  if (!platform.scale) return s;
  const d = await platform.scale.deployment();
  return { ...s, processed: d.processed, alertsWritten: d.alertsWritten, queueDepth: d.stream.waitingMessages, indicators: d.indicators, sigmaRules: d.sigmaRules };
}
