/**
 * A peer node under a test's control: a plain HTTP server that answers whatever the test says
 * (a broken or hostile peer, or one that only records what it is sent), with an Ed25519 key
 * pair to register it with, and the teardown of a node that talks to it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Platform, RunningServer } from '../../src/api/index.js';

export type PeerHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string) => void;

export interface FakePeer {
  url: string;
  /** Base64 of the raw 32-byte public key (what `peer add --public-key` takes). */
  publicKey: string;
  privateKey: crypto.KeyObject;
  close(): Promise<void>;
}

/** Starts the peer on a free loopback port; every request is read whole, then given to `handle()`. */
export async function fakePeer(handle: () => PeerHandler): Promise<FakePeer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle()(req, res, new URL(req.url ?? '/', 'http://peer'), Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publicKey: Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64'),
    privateKey,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Closes the node's HTTP server, the node, the peer, and removes the node's directory. */
export async function closeAll(a: { server?: RunningServer; platform?: Platform; peer?: FakePeer; dir: string }): Promise<void> {
  await a.server?.close();
  await a.platform?.close();
  await a.peer?.close();
  fs.rmSync(a.dir, { recursive: true, force: true });
}
