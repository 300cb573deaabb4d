import { describe, expect, it } from 'vitest';
import { configEnv, loadConfig } from './index.js';

describe('configEnv', () => {
  it('gives back the same configuration through loadConfig (what a supervised worker is started with)', () => {
    const c = loadConfig({
      SHIELDWALL_DATA_DIR: '/tmp/sw-node', SHIELDWALL_DATABASE_URL: 'postgres://h/db', SHIELDWALL_PORT: '0', SHIELDWALL_NODE_NAME: 'n1',
      SHIELDWALL_API_ROOTS: 'api1,exercise', SHIELDWALL_INGEST_QUEUE: '50', SHIELDWALL_ALERT_WINDOW_MINUTES: '5', SHIELDWALL_SIGHTINGS: 'anonymous',
      SHIELDWALL_SIGMA_DIR: '/tmp/rules', SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: '1500', SHIELDWALL_TEST_HOOKS: '1', SHIELDWALL_LOG_LEVEL: 'warn',
    });
    expect(loadConfig(configEnv(c))).toEqual(c);
    expect(c).toMatchObject({ workers: 1, workerBatchTimeoutMs: 1500, testHooks: true });
  });

  it('refuses more than one worker on the SQL spool and a batch limit under 100 ms', () => {
    expect(() => loadConfig({ SHIELDWALL_WORKERS: '2' })).toThrow(/SHIELDWALL_WORKERS/);
    expect(() => loadConfig({ SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: '10' })).toThrow(/SHIELDWALL_WORKER_BATCH_TIMEOUT_MS/);
    expect(loadConfig({ SHIELDWALL_WORKERS: '0' }).workers).toBe(0);
    expect(loadConfig({}).testHooks).toBe(false);
  });

  it('reads the scale-out settings, which need PostgreSQL, and refuses bad ones', () => {
    const base = { SHIELDWALL_DATA_DIR: '/tmp/sw-node', SHIELDWALL_DATABASE_URL: 'postgres://h/db', SHIELDWALL_NATS_URL: 'nats://10.0.0.5:4222,tls://nats2:4222' };
    const c = loadConfig({ ...base, SHIELDWALL_NATS_PREFIX: 'alliance-1', SHIELDWALL_NATS_PARTITIONS: '32' });
    expect(c.nats).toEqual({ url: base.SHIELDWALL_NATS_URL, prefix: 'alliance-1', partitions: 32, maxBytes: 8 * 1024 ** 3 });
    expect(loadConfig(configEnv(c))).toEqual(c);
    expect(loadConfig({}).nats).toBeUndefined();
    expect(() => loadConfig({ SHIELDWALL_NATS_URL: 'nats://x:4222' })).toThrow(/needs SHIELDWALL_DATABASE_URL/);
    expect(() => loadConfig({ ...base, SHIELDWALL_NATS_URL: 'http://x/y' })).toThrow(/not a NATS server address/);
    expect(() => loadConfig({ ...base, SHIELDWALL_NATS_PREFIX: 'a.b' })).toThrow(/SHIELDWALL_NATS_PREFIX/);
    expect(() => loadConfig({ ...base, SHIELDWALL_NATS_PARTITIONS: '0' })).toThrow(/SHIELDWALL_NATS_PARTITIONS/);
    expect(() => loadConfig({ ...base, SHIELDWALL_NATS_PARTITIONS: '5000' })).toThrow(/at most 1024/);
  });
});

describe('the node name belongs to the data directory', () => {
  it('is written with the federation keys; unset, it is read back; another name is refused with both names', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { nodeKeys } = await import('../federation/keys.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-node-name-'));
    try {
      expect(loadConfig({ SHIELDWALL_DATA_DIR: dir }).nodeName).toBe('shieldwall');
      nodeKeys(dir, 'hub');
      expect(fs.readFileSync(path.join(dir, 'federation-node-name'), 'utf8').trim()).toBe('hub');
      expect(loadConfig({ SHIELDWALL_DATA_DIR: dir }).nodeName).toBe('hub');
      expect(loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_NODE_NAME: 'hub' }).nodeName).toBe('hub');
      expect(() => loadConfig({ SHIELDWALL_DATA_DIR: dir, SHIELDWALL_NODE_NAME: 'dk' })).toThrow(/SHIELDWALL_NODE_NAME is "dk", but the federation keys .* belong to node "hub"/);
      expect(() => nodeKeys(dir, 'dk')).toThrow(/belong to node "hub", not "dk"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
