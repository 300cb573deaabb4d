/**
 * The live stream: Server-Sent Events of the bus, each event released to the subscriber by
 * the one release policy (DESIGN §2.1) and kept apart by exercise (DESIGN §2.3). Browsers'
 * EventSource cannot send headers, so the token may come as `access_token` in the query.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { BusEvent } from '../../core/bus.js';
import { authenticateHeader, mayRelease } from '../../access/index.js';
import type { Platform } from '../platform.js';

const HEARTBEAT_MS = 15_000;
const MAX_QUEUE = 1000;

export async function streamRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  // Authenticated in the route's own onRequest hook, so the permission check (stream.read,
  // api/route-permissions.ts) that follows it sees the principal.
  const authenticate = async (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown>;
    const token = typeof q.access_token === 'string' ? q.access_token : undefined;
    const header = req.headers.authorization ?? (token ? `Bearer ${token}` : undefined);
    req.principal = await authenticateHeader(platform.access, header, req.ip);
  };
  app.get('/stream', { onRequest: authenticate }, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const principal = req.principal!;
    const exercise = typeof q.exercise === 'string' ? q.exercise : null;
    if (exercise !== null && !/^[A-Za-z0-9_-]{1,100}$/.test(exercise)) throw new AppError('INVALID_FILTER', 'exercise: malformed id');
    const types = typeof q.types === 'string' ? q.types.split(',').filter(Boolean) : null;
    const audience = platform.access.audienceOf(principal);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write(`retry: 3000\n: connected\n\n`);
    let pending = 0;
    const send = (e: BusEvent) => {
      if (e.exerciseId !== exercise) return;
      if (types && !types.some((t) => e.type.startsWith(t))) return;
      if (!mayRelease(e.facts, audience, 'read')) return;
      if (pending > MAX_QUEUE) return; // a slow reader loses events rather than the server's memory
      pending++;
      res.write(`event: ${e.type}\ndata: ${JSON.stringify({ type: e.type, subject: e.subject, at: new Date(e.atUs / 1000).toISOString(), data: e.data })}\n\n`, () => pending--);
    };
    const off = platform.bus.subscribe(send);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.raw.on('close', () => {
      clearInterval(beat);
      off();
    });
  });
}
