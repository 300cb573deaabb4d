/**
 * Harness of the scale-out acceptance test: a node prepared through the platform in this
 * process (organisations, sensors, indicators, a Sigma correlation), the BUILT `shieldwall serve`
 * and `shieldwall worker` in child processes, the telemetry of the test, and alert snapshots
 * comparable across nodes (ids differ between nodes; names do not).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlatform } from '../src/api/index.js';
import { SYSTEM_ACTOR } from '../src/access/index.js';
import { loadConfig } from '../src/config/index.js';
import { freePort, spawnCaptured, waitForServer } from './helpers/net.js';
import { freshPostgresDb } from './helpers/pg.js';
import { NATS_URL, TEST_STREAM_BYTES, uniquePrefix } from './helpers/nats.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
export const ORGS = ['DSK', 'NOR', 'EST'] as const;
export type OrgName = (typeof ORGS)[number];

export interface Prepared {
  readonly env: Record<string, string>;
  readonly orgIds: Record<OrgName, string>;
  /** Per organisation: two sensor tokens and an analyst API token. */
  readonly sensors: Record<OrgName, [string, string]>;
  readonly analysts: Record<OrgName, string>;
  /** The TAXII collection every organisation may read and write (api1). */
  readonly collectionId: string;
}

const CORRELATION = `title: Whoami burst base
name: whoami_base
id: 0b7e8d1c-5a6f-4c3b-9e2d-1f0a9b8c7d6e
status: test
level: medium
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\whoami.exe'
  condition: sel
---
title: Whoami burst
id: 1c8f9e2d-6b7a-4d4c-8f3e-2a1b0c9d8e7f
level: high
correlation:
  type: event_count
  rules: [whoami_base]
  group-by: [Hostname]
  timespan: 10m
  condition: {gte: 3}
`;

/** Organisations, sensors, indicators (GREEN, so released to all) and the correlation rule, on the node `env` names. */
export async function prepare(env: Record<string, string>): Promise<Prepared> {
  const p = await createPlatform(loadConfig({ ...env, SHIELDWALL_LOG_LEVEL: 'silent' }));
  try {
    const orgIds = {} as Record<OrgName, string>;
    const sensors = {} as Record<OrgName, [string, string]>;
    const analysts = {} as Record<OrgName, string>;
    for (const name of ORGS) {
      const org = await p.access.createOrganisation(SYSTEM_ACTOR, { name: `${name} CERT`, shortName: name });
      orgIds[name] = org.id;
      const user = await p.access.createUser(SYSTEM_ACTOR, { orgId: org.id, username: `${name.toLowerCase()}.analyst`, password: 'correct horse battery staple', roles: ['analyst', 'admin'] });
      analysts[name] = (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, userId: user.id, kind: 'api', name: 'test' })).token;
      sensors[name] = [
        (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'fw-1' })).token,
        (await p.access.createToken(SYSTEM_ACTOR, { orgId: org.id, kind: 'sensor', name: 'edr-1' })).token,
      ];
    }
    const c = await p.access.createCollection(SYSTEM_ACTOR, { apiRoot: 'api1', title: 'feed' });
    for (const id of Object.values(orgIds)) await p.access.grantCollection(SYSTEM_ACTOR, c.id, id, { canRead: true, canWrite: true });
    const principal = await p.access.authenticateToken(analysts.DSK, 'test');
    const ind = (n: number, name: string, pattern: string) => ({
      type: 'indicator', spec_version: '2.1', id: `indicator--5c0f0000-0000-4000-8000-00000000000${n}`, created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z',
      name, pattern, pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z', confidence: 90,
    });
    const res = await p.intel.submit({ principal, source: 'test' }, c.id, [
      ind(1, 'C2 address', "[ipv4-addr:value = '198.51.100.7']"),
      ind(2, 'Lookup then beacon', "([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 300 SECONDS"),
      ind(3, 'Via the second API', "[ipv4-addr:value = '192.0.2.99']"),
    ], { defaultTlp: 'green' });
    if (res.some((r) => r.status !== 'added')) throw new Error(`indicators not added: ${JSON.stringify(res)}`);
    await p.sigma.add({ principal, source: 'test' }, { yaml: CORRELATION, tlp: 'green' });
    return { env, orgIds, sensors, analysts, collectionId: c.id };
  } finally {
    await p.close();
  }
}

export interface Proc {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  readonly exited: Promise<void>;
}

/** Starts `shieldwall <command>`; for `serve`, waits until it answers. */
export async function start(command: 'serve' | 'worker', env: Record<string, string>, args: readonly string[] = []): Promise<Proc> {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');
  const port = await freePort();
  const { child, output, exited } = await spawnCaptured([CLI, command, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), SHIELDWALL_HOST: '127.0.0.1', SHIELDWALL_PORT: String(port), SHIELDWALL_LOG_LEVEL: 'warn', ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  if (command === 'serve') await waitForServer(child, url, output);
  return { child, url, output, exited };
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

export interface Batch {
  readonly org: OrgName;
  readonly sensor: 0 | 1;
  readonly lines: string[];
}

/**
 * The telemetry: per organisation, beacons to the C2 address from several hosts, whoami bursts
 * on three hosts (the correlation fires once per host: 4 events, threshold 3), and a DNS lookup of
 * evil.example on the firewall followed 30 s later by a connection to 203.0.113.9 seen by the
 * EDR (FOLLOWEDBY across two sensors of one organisation). Event times are explicit.
 */
export function telemetry(t0Ms: number): Batch[] {
  const batches: Batch[] = [];
  const ts = (s: number) => new Date(t0Ms + s * 1000).toISOString();
  const flow = (s: number, src: string, dest: string) => JSON.stringify({ timestamp: ts(s), event_type: 'flow', src_ip: src, src_port: 40000 + s, dest_ip: dest, dest_port: 443, proto: 'TCP' });
  const dns = (s: number, name: string) => JSON.stringify({ timestamp: ts(s), event_type: 'dns', src_ip: '10.0.0.5', src_port: 5353, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: name, rrtype: 'A' } });
  const whoami = (s: number, host: string) => JSON.stringify({ EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': ts(s), Hostname: host, Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all', User: 'CORP\\bob' });
  for (let round = 0; round < 8; round++) {
    for (const org of ORGS) {
      const s = round * 20;
      const lines = [
        ...Array.from({ length: 50 }, (_, i) => flow(s + (i % 10), `10.${round}.0.${i % 5}`, i % 3 === 0 ? '198.51.100.7' : '93.184.216.34')),
        ...(round % 2 === 0 ? ['ws1', 'ws2', 'ws3'].map((h) => whoami(s + 1, `${org.toLowerCase()}-${h}`)) : []),
      ];
      batches.push({ org, sensor: 0, lines });
      if (round === 3) batches.push({ org, sensor: 0, lines: [dns(s + 2, 'evil.example')] });
      if (round === 4) batches.push({ org, sensor: 1, lines: [flow(s - 18 + 30, '10.9.9.9', '203.0.113.9')] });
    }
  }
  return batches;
}

export interface AlertView {
  readonly source: string;
  readonly title: string;
  readonly entity: string;
  readonly count: number;
}

/** The alerts an organisation's analyst reads, as comparable facts (sorted). */
export async function alertsOf(url: string, token: string): Promise<AlertView[]> {
  const res = await fetch(`${url}/api/v1/alerts?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`alerts: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { alerts: { source: string; title: string; entity: string; count: number }[] };
  return body.alerts.map((a) => ({ source: a.source, title: a.title, entity: a.entity, count: a.count }))
    .sort((a, b) => `${a.source}|${a.title}|${a.entity}`.localeCompare(`${b.source}|${b.title}|${b.entity}`));
}

export async function post(url: string, token: string, lines: readonly string[]): Promise<Response> {
  return fetch(`${url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
}

/** Server-sent events of a stream, collected until `close`. */
export function subscribe(url: string, token: string): { events: { type: string; data: Record<string, unknown> }[]; close(): void; ready: Promise<void> } {
  const ac = new AbortController();
  const events: { type: string; data: Record<string, unknown> }[] = [];
  let ok!: () => void;
  const ready = new Promise<void>((r) => (ok = r));
  void (async () => {
    const res = await fetch(`${url}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    ok();
    const reader = res.body!.getReader();
    let buf = '';
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)) as { type: string; data: Record<string, unknown> });
      }
    }
  })().catch(() => undefined);
  return { events, close: () => ac.abort(), ready };
}

/**
 * A scale-out deployment's ground, prepared: a fresh PostgreSQL database, a data directory, a
 * unique stream prefix, the node's organisations (prepare) and the environment every process of
 * it shares. What it made is undone by the returned cleanups (the stream included), in order.
 */
export async function scaleDeployment(name: string, o: { partitions: number; env?: Record<string, string> }): Promise<{ prep: Prepared; env: Record<string, string>; cleanups: (() => Promise<void>)[] }> {
  const db = await freshPostgresDb();
  const prefix = uniquePrefix(name);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `shieldwall-${name}-`));
  const cleanups: (() => Promise<void>)[] = [
    db.drop,
    async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    async () => {
      const { openNats } = await import('../src/scale/index.js');
      const link = await openNats({ url: NATS_URL, prefix, partitions: o.partitions, maxBytes: TEST_STREAM_BYTES, maxAgeMs: 3_600_000, name: 'cleanup' });
      await link.jsm.streams.delete(link.names.stream).catch(() => undefined);
      await link.close();
    },
  ];
  const prep = await prepare({ SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_DATABASE_URL: db.url });
  const env = {
    SHIELDWALL_DATA_DIR: dataDir, SHIELDWALL_DATABASE_URL: db.url, SHIELDWALL_NATS_URL: NATS_URL, SHIELDWALL_NATS_MAX_BYTES: String(TEST_STREAM_BYTES), SHIELDWALL_NATS_PREFIX: prefix,
    SHIELDWALL_NATS_PARTITIONS: String(o.partitions), ...(o.env ?? {}),
  };
  return { prep, env, cleanups };
}
