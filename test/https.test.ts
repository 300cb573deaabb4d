/**
 * Transport security (TAXII §8.2.2): HTTPS with a given certificate and key, TLS 1.2 or later;
 * plain HTTP only on loopback unless explicitly allowed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { createPlatform, startServer, type RunningServer, type Platform } from '../src/api/index.js';
import { openSqliteStore } from '../src/store/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-tls-'));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');

describe('HTTPS', () => {
  let platform: Platform;
  let server: RunningServer;
  beforeAll(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const config = loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_PORT: '0', SHIELDWALL_TLS_CERT: cert, SHIELDWALL_TLS_KEY: key, SHIELDWALL_LOG_LEVEL: 'silent' });
    platform = await createPlatform(config, { store: await openSqliteStore(':memory:') });
    server = await startServer(platform, { logger: false });
  });
  afterAll(async () => {
    await server.close();
    await platform.close();
  });

  it('serves TAXII over TLS with the given certificate', async () => {
    expect(server.url.startsWith('https://')).toBe(true);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get(`${server.url}/taxii2/`, { ca: fs.readFileSync(cert), headers: { accept: 'application/taxii+json;version=2.1' } }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      }).on('error', reject);
    });
    expect(status).toBe(401);
    expect(JSON.parse(body)).toMatchObject({ http_status: '401' });
  });

  it('refuses TLS 1.1', async () => {
    const port = Number(new URL(server.url).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(cert), servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      s.on('secureConnect', () => { resolve('connected'); s.end(); });
      s.on('error', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
  });
});

describe('plain HTTP binding', () => {
  it('refuses a non-loopback address without TLS', () => {
    expect(() => loadConfig({ SHIELDWALL_HOST: '0.0.0.0' })).toThrow(/refusing plain HTTP/);
  });
  it('allows it when told to', () => {
    expect(loadConfig({ SHIELDWALL_HOST: '0.0.0.0', SHIELDWALL_ALLOW_PUBLIC_HTTP: '1' }).host).toBe('0.0.0.0');
  });
  it('requires certificate and key together', () => {
    expect(() => loadConfig({ SHIELDWALL_TLS_CERT: cert })).toThrow(/together/);
  });
});
