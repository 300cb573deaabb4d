/**
 * SHIELDWALL_PUBLIC_URL: the address users, TAXII clients and peers reach a node at (behind a
 * reverse proxy or load balancer). It is checked at start, TAXII discovery names the API roots
 * under it (absolute URLs when HTTPS, TAXII 2.1 §4.1.1), and the node gives it to its peers.
 */
import { describe, expect, it } from 'vitest';
import { configEnv, loadConfig } from '../src/config/index.js';
import { http, withAlliance } from './rest-fixtures.js';

const TAXII = 'application/taxii+json;version=2.1';

describe('SHIELDWALL_PUBLIC_URL', () => {
  it('is read as an absolute http(s) address without a trailing slash, and anything else is refused at start', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ SHIELDWALL_PUBLIC_URL: ' ' }).publicUrl).toBeUndefined();
    expect(loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://cti.example' }).publicUrl).toBe('https://cti.example');
    expect(loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://CTI.example:8443/shieldwall//' }).publicUrl).toBe('https://cti.example:8443/shieldwall');
    expect(loadConfig({ SHIELDWALL_PUBLIC_URL: 'http://127.0.0.1:8080/' }).publicUrl).toBe('http://127.0.0.1:8080');
    const c = loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://cti.example/sw' });
    expect(loadConfig(configEnv(c)).publicUrl).toBe('https://cti.example/sw');
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'cti.example' })).toThrow(/SHIELDWALL_PUBLIC_URL: not a URL/);
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'ftp://cti.example/' })).toThrow(/an http\(s\) URL, not ftp:/);
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://admin:pw@cti.example/' })).toThrow(/user name or password/);
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://cti.example/?x=1' })).toThrow(/query or a fragment/);
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://cti.example/#top' })).toThrow(/query or a fragment/);
    expect(() => loadConfig({ SHIELDWALL_PUBLIC_URL: 'https://cti.example/?' })).toThrow(/query or a fragment/);
  });

  it('names the API roots in TAXII discovery under an HTTPS public address, and the node gives the address to peers', async () => {
    await withAlliance(async (al) => {
      const { get, call } = http(al);
      const taxii = (url: string) => call('GET', url, { token: al.tokens['a-analyst']!, headers: { accept: TAXII } });
      const d = await taxii('/taxii2/');
      expect(d.status).toBe(200);
      const root = al.platform.config.apiRoots[0]!.name;
      expect(d.json().api_roots).toEqual([`https://cti.example:8443/shieldwall/${root}/`]);
      expect(d.json().default).toBe(`https://cti.example:8443/shieldwall/${root}/`);
      const node = await get('a-admin', '/api/v1/federation/node');
      expect(node.status).toBe(200);
      expect(node.json()).toMatchObject({ node: al.platform.config.nodeName, url: 'https://cti.example:8443/shieldwall' });
    }, { SHIELDWALL_PUBLIC_URL: 'https://cti.example:8443/shieldwall/' });
  });

  it('keeps the API roots relative without one, or when it is plain HTTP (§4.1.1: absolute API root URLs are HTTPS)', async () => {
    for (const env of [{}, { SHIELDWALL_PUBLIC_URL: 'http://127.0.0.1:8080' }] as Record<string, string>[]) {
      await withAlliance(async (al) => {
        const { get, call } = http(al);
        const taxii = (url: string) => call('GET', url, { token: al.tokens['a-analyst']!, headers: { accept: TAXII } });
        const root = al.platform.config.apiRoots[0]!.name;
        expect((await taxii('/taxii2/')).json().api_roots).toEqual([`/${root}/`]);
        // The roots named in discovery answer at the address they name (relative: this server).
        expect((await taxii(`/${root}/`)).status).toBe(200);
        // Peers are still given the address (a mesh on a private network may run plain HTTP).
        expect((await get('a-admin', '/api/v1/federation/node')).json().url).toBe(env.SHIELDWALL_PUBLIC_URL ?? null);
      }, env);
    }
  });
});
