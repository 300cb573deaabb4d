/**
 * Large request bodies in flight are budgeted (api/body-budget.ts): with a body limit of 1 MB an
 * account may be sending 2 MB of bodies at once and the process 4 MB; past them the next large
 * request is refused at once (429 for the account, 503 for the process) instead of being read
 * into memory, small requests are never counted, and the budget comes back when a client goes.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBudget } from '../src/api/body-budget.js';
import { socketNode, type SocketNode } from './helpers/socket-node.js';

const LIMIT = 1_000_000;
let node: SocketNode;
let port: number;
let tokens: string[];
let serverUrl: string;

beforeAll(async () => {
  node = await socketNode({ SHIELDWALL_MAX_CONTENT_LENGTH: String(LIMIT) }, ['u1', 'u2', 'u3']);
  ({ port, tokens } = node);
  serverUrl = node.server.url;
});
afterAll(async () => node.close());

/** A large import whose body is announced in full but only started: the server holds it open, reading. */
function startUpload(token: string, length = LIMIT) {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => {
    text += d.toString('latin1');
  });
  sock.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => sock.on('connect', () => {
    sock.write(`POST /api/v1/intel/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"type":"bundle","x":"`);
    resolve();
  }));
  const answered = new Promise<string>((resolve) => {
    sock.on('data', () => {
      if (text.includes('\r\n\r\n') && text.endsWith('}')) resolve(text);
    });
  });
  return { sock, ready, answered, get text() { return text; } };
}

const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('request bodies in flight', () => {
  it('budgets per account and per process', () => {
    const b = new BodyBudget(4, 2);
    b.take('a', 2);
    expect(() => b.take('a', 1)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    b.take('b', 2);
    expect(() => b.take('c', 1)).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    b.give('a', 2);
    b.take('c', 1);
    expect(b.inFlight).toBe(3);
  });

  it('refuses a large upload at once past the account\'s share (429) and the process\'s total (503), counts no small request, and frees the budget when clients go', async () => {
    const [t1, t2, t3] = tokens as [string, string, string];
    const held = [startUpload(t1), startUpload(t1)];
    await Promise.all(held.map((h) => h.ready));
    await settle();
    expect(held.map((h) => h.text)).toEqual(['', '']); // accepted: the server is reading them

    const third = startUpload(t1);
    const refused = await third.answered;
    expect(status(refused)).toBe(429);
    expect(refused).toMatch(/retry-after: 5/i);
    expect(refused).toContain('"code":"RATE_LIMITED"');
    third.sock.destroy();

    held.push(startUpload(t2), startUpload(t2));
    await settle();
    const busy = startUpload(t3);
    const unavailable = await busy.answered;
    expect(status(unavailable)).toBe(503);
    expect(unavailable).toContain('"code":"UNAVAILABLE"');
    busy.sock.destroy();

    // Small requests are never counted.
    const small = await fetch(`${serverUrl}/api/v1/intel/import`, { method: 'POST', headers: { authorization: `Bearer ${t3}`, 'content-type': 'application/json' }, body: '{"type":"bundle","id":"bundle--0","objects":[]}' });
    expect(small.status).toBeLessThan(500);
    expect(small.status).not.toBe(429);

    for (const h of held) h.sock.destroy();
    await settle(300);
    // The budget is back: a whole large body from the third account is read and answered by the route.
    const body = JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [], pad: 'y'.repeat(200_000) });
    const big = await fetch(`${serverUrl}/api/v1/intel/import`, { method: 'POST', headers: { authorization: `Bearer ${t3}`, 'content-type': 'application/json' }, body });
    expect([429, 503]).not.toContain(big.status);
    expect(big.status).toBeLessThan(500);
  });
});
