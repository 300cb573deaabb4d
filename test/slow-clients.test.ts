/**
 * Slow clients on a real server socket: a client that trickles a request (slowloris) is answered
 * 408 and disconnected once SHIELDWALL_REQUEST_TIMEOUT_MS has passed, so such connections cannot
 * pile up (Fastify's own default turns Node's request timeout off); a request that arrives in
 * time, and the live stream that stays open after its request arrived, are not cut.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/api/index.js';
import { socketNode, type SocketNode } from './helpers/socket-node.js';

let node: SocketNode;
let server: RunningServer;
let port: number;
let token: string;

beforeAll(async () => {
  node = await socketNode({ SHIELDWALL_REQUEST_TIMEOUT_MS: '1000' }, ['alice']);
  ({ server, port } = node);
  token = node.tokens[0]!;
});
afterAll(async () => node.close());

/** Opens a socket, writes `head`, then `drip` every 200 ms; resolves with what the server sent and when it closed (ms after connecting). */
function trickle(head: string, drip: string | null, giveUpMs: number): Promise<{ text: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ text, closedAfterMs: closed ? Date.now() - t0 : null });
    };
    const giveUp = setTimeout(() => {
      sock.destroy();
      finish(false);
    }, giveUpMs);
    sock.on('data', (d) => {
      text += d.toString('latin1');
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => undefined);
    sock.on('connect', () => {
      sock.write(head);
      if (drip !== null) timer = setInterval(() => sock.write(drip), 200);
    });
  });
}

describe('slow clients', () => {
  it('answers a client that trickles its body 408 and closes the connection after SHIELDWALL_REQUEST_TIMEOUT_MS', async () => {
    const head = 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"username":"';
    const r = await trickle(head, 'a', 6000);
    expect(r.closedAfterMs).not.toBeNull();
    // Cut off between the timeout and the timeout plus one check interval (a quarter of it).
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(900);
    expect(r.closedAfterMs!).toBeLessThan(3000);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toContain('X-Content-Type-Options: nosniff');
    expect(JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive whole within 1000 ms' } });
  });

  it("answers headers over Node's limit 431 and malformed HTTP 400, in the API's error shape with the usual headers", async () => {
    const big = await trickle(`GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, null, 3000);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 Request header fields too large\r\n/);
    expect(big.text).toContain('X-Frame-Options: DENY');
    expect(JSON.parse(big.text.slice(big.text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: "the request's headers are larger than 16384 bytes" } });
    const bad = await trickle('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', null, 3000);
    expect(bad.text).toMatch(/^HTTP\/1\.1 400 Bad request\r\n/);
    expect(JSON.parse(bad.text.slice(bad.text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'BAD_REQUEST', message: 'malformed HTTP request' } });
    expect(bad.closedAfterMs).not.toBeNull();
  });

  it('cuts off a client that sends its headers slowly too', async () => {
    const r = await trickle('GET /api/v1/me HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 6000);
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeLessThan(3000);
  });

  it('keeps a request that arrived in time, and the live stream open well past the timeout', async () => {
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const stream = await trickle(`GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`, null, 3000);
    // Still open when the test gave up after three times the request timeout.
    expect(stream.closedAfterMs).toBeNull();
    expect(stream.text).toMatch(/^HTTP\/1\.1 200/);
    expect(stream.text).toContain('text/event-stream');
  });
});
