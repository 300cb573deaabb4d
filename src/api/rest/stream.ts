/**
 * The live stream: Server-Sent Events of the bus, each event released to the subscriber by
 * the one release policy (DESIGN §2.1) and kept apart by exercise (DESIGN §2.3). Browsers'
 * EventSource cannot send headers: the web app first asks for a single-use ticket
 * (`POST /stream/ticket`, 30 s) and puts that in the URL, never its session token, since URLs
 * end up in proxy and access logs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { BusEvent } from '../../core/bus.js';
import { authenticateHeader, can, eventFor, WWW_AUTHENTICATE } from '../../access/index.js';
import type { Platform } from '../platform.js';

const HEARTBEAT_MS = 15_000;
const MAX_QUEUE = 1000;
/**
 * Live streams one account (a user, else a token) may hold open on this process at once: a few
 * browser tabs and tools. Every bus event is released to each open stream on the event loop
 * that answers HTTP, so an account opening thousands would slow the node for everyone.
 */
export const MAX_STREAMS_PER_ACCOUNT = 16;
/**
 * How often an open stream looks at its credential again. A stream outlives the request that
 * authenticated it: a token revoked (sign-out, `token revoke`), a user disabled, a role or a
 * sharing group membership taken away must stop or narrow what it sends, as they would a REST read.
 */
export const RECHECK_MS = 5_000;

export async function streamRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const open = new Map<string, number>();
  // A stream never finishes by itself, and the server waits for every response when it closes:
  // a process stopping (SIGTERM, a rolling restart of a scale-out node) ends its streams first, and
  // their browsers reconnect (`retry`), behind a load balancer to another API process.
  const ending = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of [...ending]) end();
    done();
  });
  // Authenticated in the routes' own onRequest hooks, so the permission check (stream.read,
  // api/route-permissions.ts) that follows sees the principal.
  const byHeader = async (req: FastifyRequest) => {
    req.principal = await authenticateHeader(platform.access, req.headers.authorization, req.ip);
  };
  const byTicketOrHeader = async (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    req.principal = typeof q.ticket === 'string' && !req.headers.authorization
      ? await platform.access.redeemStreamTicket(q.ticket, req.ip).catch(asUnauthenticated)
      : await authenticateHeader(platform.access, req.headers.authorization, req.ip);
  };
  app.post('/stream/ticket', { onRequest: byHeader }, async (req) => platform.access.issueStreamTicket(req.principal!, req.ip));

  app.get('/stream', { onRequest: byTicketOrHeader }, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const principal = req.principal!;
    const exercise = typeof q.exercise === 'string' ? q.exercise : null;
    if (exercise !== null && !/^[A-Za-z0-9_-]{1,100}$/.test(exercise)) throw new AppError('INVALID_FILTER', 'exercise: malformed id');
    const types = typeof q.types === 'string' ? q.types.split(',').filter(Boolean) : null;
    let audience = platform.access.audienceOf(principal);
    // An exercise's events go to its participants only (404 to anyone else, as its REST reads answer).
    if (exercise !== null) await platform.exercise.open({ principal, source: req.ip }, exercise);
    const account = principal.userId ?? principal.tokenId ?? principal.orgId;
    const held = open.get(account) ?? 0;
    if (held >= MAX_STREAMS_PER_ACCOUNT) {
      throw new AppError('RATE_LIMITED', `this account already holds ${held} live streams (at most ${MAX_STREAMS_PER_ACCOUNT}); close one first`, { headers: { 'Retry-After': '5' } });
    }
    open.set(account, held + 1);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write(`retry: 3000\n: connected\n\n`);
    let pending = 0;
    const send = (e: BusEvent) => {
      if (e.exerciseId !== exercise) return;
      if (types && !types.some((t) => e.type.startsWith(t))) return;
      const data = eventFor(e, audience);
      if (data === null) return;
      if (pending > MAX_QUEUE) return; // a slow reader loses events rather than the server's memory
      pending++;
      res.write(`event: ${e.type}\ndata: ${JSON.stringify({ type: e.type, subject: e.subject, at: new Date(e.atUs / 1000).toISOString(), data })}\n\n`, () => pending--);
    };
    const off = platform.bus.subscribe(send);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    let checking = false;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(beat);
      clearInterval(recheck);
      off();
      ending.delete(endNow);
      const left = (open.get(account) ?? 1) - 1;
      if (left > 0) open.set(account, left);
      else open.delete(account);
    };
    const endNow = () => {
      stop();
      res.end();
    };
    ending.add(endNow);
    const recheck = setInterval(() => {
      if (checking) return;
      checking = true;
      platform.access.recheck(principal).then((now) => {
        if (now !== null && can(now, 'stream.read')) {
          audience = platform.access.audienceOf(now);
          return;
        }
        // No longer allowed: the stream ends, and the browser's reconnect needs a valid credential.
        stop();
        res.end();
      }, (e: unknown) => {
        // Fail closed: a stream whose reader cannot be checked is not fed (the client reconnects).
        req.log.warn({ err: e }, 'live stream: credential recheck failed');
        stop();
        res.end();
      }).finally(() => {
        checking = false;
      });
    }, RECHECK_MS);
    req.raw.on('close', stop);
  });
}

function asUnauthenticated(e: unknown): never {
  if (e instanceof AppError && e.code === 'UNAUTHENTICATED') throw new AppError('UNAUTHENTICATED', 'invalid or spent stream ticket', { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } });
  throw e;
}
