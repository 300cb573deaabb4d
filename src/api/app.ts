/**
 * Fastify assembly: TAXII 2.1 (discovery at /taxii2/, one literal prefix per API root), the
 * REST API under /api/v1, the web app from dist/web, one error boundary, security headers.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { AppError, ERROR_TABLE } from '../core/errors.js';
import { foreground } from '../core/follow.js';
import { limitBodies } from './body-budget.js';
import { taxiiRoutes } from '../taxii/index.js';
import type { Platform } from './platform.js';
import { isTaxiiPath, makeErrorHandler } from './errors.js';
import { docsRoutes, restRoutes, trackRoutes } from './rest/index.js';
import { requireAuth } from './rest/auth.js';
import { guardRoutes } from './route-permissions.js';
import { mispError, mispRoutes } from './rest/misp.js';
import { CursorCodec } from '../taxii/cursor.js';
import { respondRoutes } from './rest/respond.js';
import { exerciseRoutes } from './rest/exercise.js';
import { exerciseImportRoutes } from './rest/exercise-import.js';
import { sigmaRoutes } from './rest/sigma.js';
import { streamRoutes } from './rest/stream.js';
import { alertRoutes, ingestRoutes } from './rest/detect.js';
import { correlationRoutes } from './rest/correlation.js';
import { readinessRoutes } from './rest/readiness.js';
import { logRedact, logSerializers } from './log.js';
import { readinessExposureRoutes } from './rest/readiness-exposure.js';

/** The package root (where package.json is), found from this file in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

export interface AppOptions {
  logger?: boolean;
}

export async function buildApp(platform: Platform, opts: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = platform;
  // The request timeout goes to Node's server constructor: set on the server afterwards (as
  // Fastify does with its own option) it does not cut off a body that trickles in. Node checks
  // on this interval (30 s by default): a quarter of the timeout, so a trickling client is cut
  // off within 1.25 × SHIELDWALL_REQUEST_TIMEOUT_MS (test/slow-clients.test.ts).
  const timeouts = { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.requestTimeoutMs / 4))) };
  const tls = config.tlsCertFile && config.tlsKeyFile
    ? { https: { cert: fs.readFileSync(config.tlsCertFile), key: fs.readFileSync(config.tlsKeyFile), minVersion: 'TLSv1.2' as const, ...timeouts } }
    : { http: timeouts };
  const roots = config.apiRoots.map((r) => r.name);
  const onError = makeErrorHandler(roots);
  const app = Fastify({
    ...tls,
    logger: opts.logger === false || config.logLevel === 'silent' ? false : { level: config.logLevel, serializers: logSerializers, redact: logRedact },
    bodyLimit: config.maxContentLength,
    // Fastify's default (0) turns Node's own limit off: a request must arrive whole in time.
    requestTimeout: config.requestTimeoutMs,
    // Only a configured proxy's X-Forwarded-For sets req.ip (SHIELDWALL_TRUSTED_PROXY).
    trustProxy: config.trustedProxies.length ? [...config.trustedProxies] : false,
    // Route schemas use JSON Schema type unions (`['string', 'null']`): valid, and meant.
    ajv: { customOptions: { allowUnionTypes: true } },
    // Refused before routing (a path segment over the router's 100 characters, a path that is
    // not percent-encoded UTF-8): answered in the API's own error shapes like any bad request,
    // not Fastify's default body, and without echoing the path back.
    frameworkErrors: (err, req, reply) => {
      const e = new AppError('BAD_REQUEST', err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than 100 characters'
        : err.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoded UTF-8' : 'bad request path');
      // Refused before routing, so no hook runs: the headers every answer carries are set here.
      securityHeaders(reply);
      return req.url.startsWith('/api/misp/') ? mispError(req, reply, e) : onError(e, req, reply);
    },
    // Refused by Node's HTTP parser before Fastify sees a request (headers over Node's limit,
    // a request not whole within the timeout, malformed HTTP): in the API's error shape, with
    // the headers every answer carries, instead of Fastify's default body.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const e = err.code === 'HPE_HEADER_OVERFLOW' ? new AppError('HEADERS_TOO_LARGE', `the request's headers are larger than ${http.maxHeaderSize} bytes`)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new AppError('REQUEST_TIMEOUT', `the request did not arrive whole within ${config.requestTimeoutMs} ms`)
          : new AppError('BAD_REQUEST', 'malformed HTTP request');
      const body = JSON.stringify({ error: { code: e.code, message: e.message } });
      const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...SECURITY_HEADERS };
      socket.end(`HTTP/1.1 ${e.http} ${ERROR_TABLE[e.code].title}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
    },
  }) as unknown as FastifyInstance;
  app.setErrorHandler(onError);
  // Large bodies in flight are counted per account and per process (api/body-budget.ts).
  limitBodies(app, config.maxContentLength);
  trackRoutes(app); // the OpenAPI document lists every registered /api/ route
  guardRoutes(app, roots); // every /api/ and TAXII route checks its action in the permission table

  // No identifier, filter or search holds a NUL character, and PostgreSQL cannot take one in a
  // text parameter: refused here, alike on every store, rather than failing deep in a query.
  app.addHook('onRequest', async (req) => {
    if (/%00/i.test(req.url)) throw new AppError('BAD_REQUEST', 'the URL holds a NUL character (%00)');
    // Many HTTP clients name a content type on every request: a DELETE (or GET) without a body
    // is not malformed JSON. With no body at all the header says nothing, so it is dropped.
    if ((req.method === 'DELETE' || req.method === 'GET' || req.method === 'HEAD') && req.headers['content-type'] !== undefined
      && (req.headers['content-length'] === undefined || req.headers['content-length'] === '0') && req.headers['transfer-encoding'] === undefined) {
      delete req.headers['content-type'];
    }
  });
  // Background indexes (core/follow.ts) defer their next slice while requests are in progress:
  // answering comes first. The live stream is long-lived and not counted.
  const counted = new WeakSet<object>();
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/v1/stream')) return;
    counted.add(req);
    foreground.enter();
  });
  const done = async (req: object) => {
    if (counted.delete(req)) foreground.leave();
  };
  app.addHook('onResponse', done);
  app.addHook('onRequestAbort', done);

  app.addHook('onSend', async (_req, reply, payload) => {
    securityHeaders(reply);
    // Every HTML page, the index (`/`, served by the static plugin) as much as deep links.
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html') && !reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', WEB_CSP);
    return payload;
  });

  await app.register(async (scope) => taxiiRoutes(scope, { taxii: platform.taxii, access: platform.access }));
  await app.register(async (scope) => restRoutes(scope, platform), { prefix: '/api/v1' });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireAuth(platform));
    await respondRoutes(scope, platform);
    await alertRoutes(scope, platform);
    await sigmaRoutes(scope, platform);
    await exerciseRoutes(scope, platform);
    await exerciseImportRoutes(scope, platform);
    await readinessRoutes(scope, platform);
  }, { prefix: '/api/v1' });
  await app.register(async (scope) => streamRoutes(scope, platform), { prefix: '/api/v1' });
  await app.register(async (scope) => ingestRoutes(scope, platform), { prefix: '/api/v1' });
  await app.register(async (scope) => correlationRoutes(scope, platform), { prefix: '/api/v1' });
  await app.register(async (scope) => mispRoutes(scope, platform, { platform, cursors: await CursorCodec.load(platform.store) }), { prefix: '/api/misp' });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireAuth(platform));
    await readinessExposureRoutes(scope, platform);
  }, { prefix: '/api/v1' });
  await app.register(docsRoutes, { prefix: '/api' });

  const webDir = path.join(packageRoot(), 'dist', 'web');
  const hasWeb = fs.existsSync(path.join(webDir, 'index.html'));
  if (hasWeb) {
    // Source maps are not built for production (web/vite.config.ts); should one be left in
    // dist/web by a development build, it is still not served.
    await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false, cacheControl: false, allowedPath: (p) => !p.endsWith('.map') });
  }
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0]!;
    if (req.method === 'GET' && hasWeb && !url.startsWith('/api/') && !isTaxiiPath(url, roots) && (req.headers.accept ?? '').includes('text/html')) {
      reply.header('Content-Security-Policy', WEB_CSP);
      return reply.type('text/html').sendFile('index.html');
    }
    throw new AppError('NOT_FOUND', `no route ${req.method} ${url}`);
  });
  return app;
}

/** The headers every answer carries (Cache-Control unless the route set its own). */
const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' } as const;

function securityHeaders(reply: FastifyReply): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (k !== 'Cache-Control' || !reply.hasHeader(k)) reply.header(k, v);
}

const WEB_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const STATUS_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(platform: Platform, opts: AppOptions = {}): Promise<RunningServer> {
  const app = await buildApp(platform, opts);
  await app.listen({ host: platform.config.host, port: platform.config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : platform.config.port;
  const scheme = platform.config.tlsCertFile ? 'https' : 'http';
  const host = platform.config.host.includes(':') ? `[${platform.config.host}]` : platform.config.host;
  // Deadlines run on the clock even when nobody looks: settle decisions (silence procedures
  // adopted at their deadline are pushed on the live stream) every few seconds.
  // TAXII status resources are kept 7 days (§4.3 asks for at least 24 hours), pruned hourly.
  let ticks = 0;
  const ticker = setInterval(() => {
    // Several API processes on one PostgreSQL: only the elected one runs the node's jobs. The
    // exercise scheduler follows the leadership: the process that takes it over (the leader
    // died, or lost its PostgreSQL connection) starts it, one that lost it stops its own, so
    // injects are neither stranded nor delivered by two processes.
    if (!platform.leader.isLeader()) {
      platform.exercise.stop();
      return;
    }
    platform.exercise.start();
    platform.respond.decisions.tick().catch((err: unknown) => app.log.error({ err }, 'decision tick failed'));
    // KEV / EPSS feeds fetched from their URL when due (a pass never overlaps the previous one).
    platform.exposure.feeds.tick().catch((err: unknown) => app.log.error({ err }, 'vulnerability feed tick failed'));
    // KEV exposure trend: a snapshot per organisation every 10 minutes (the day's last one is its point).
    platform.exposure.trend.tick().catch((err: unknown) => app.log.error({ err }, 'exposure trend snapshot failed'));
    if (ticks++ % 720 === 0) {
      const weekAgoUs = (platform.clock.now() - STATUS_RETENTION_MS) * 1000;
      platform.store.pruneStatuses(weekAgoUs).catch((err: unknown) => app.log.error({ err }, 'status pruning failed'));
      // Web sessions and live-stream tickets (one per connection) a week after they ended.
      platform.store.pruneSessions(weekAgoUs).catch((err: unknown) => app.log.error({ err }, 'session pruning failed'));
    }
  }, 5000);
  ticker.unref();
  // Detection: the supervised worker process (or, for unit tests, the in-process loop) processes
  // the telemetry spool, keeps its indicator index in step with intel, writes sightings and
  // prunes the spool. The correlation index reads its backlog now, in the background, after the
  // node listens.
  platform.detect.start();
  platform.correlations.nudge();
  // STIX vulnerability objects as a source of vulnerability intelligence: followed like the other indexes.
  platform.exposure.stix.start();
  // The exercise scheduler: a timer to the next due inject (only the elected process runs it;
  // the ticker above hands it over with the leadership).
  if (platform.leader.isLeader()) platform.exercise.start();
  return {
    app, url: `${scheme}://${host}:${port}`,
    close: async () => {
      clearInterval(ticker);
      platform.exercise.stop();
      await app.close();
      await platform.detect.stop();
    },
  };
}
