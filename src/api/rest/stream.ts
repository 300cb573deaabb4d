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
import { authenticateHeader, eventFor, WWW_AUTHENTICATE } from '../../access/index.js';
import type { Platform } from '../platform.js';

const HEARTBEAT_MS = 15_000;
const MAX_QUEUE = 1000;

export async function streamRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
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
    const audience = platform.access.audienceOf(principal);
    // An exercise's events go to its participants only (404 to anyone else, as its REST reads answer).
    if (exercise !== null) await platform.exercise.open({ principal, source: req.ip }, exercise);

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
    req.raw.on('close', () => {
      clearInterval(beat);
      off();
    });
  });
}

function asUnauthenticated(e: unknown): never {
  if (e instanceof AppError && e.code === 'UNAUTHENTICATED') throw new AppError('UNAUTHENTICATED', 'invalid or spent stream ticket', { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } });
  throw e;
}
