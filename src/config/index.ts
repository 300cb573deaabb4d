/**
 * Configuration is parsed once at boot from the environment (and CLI overrides), validated,
 * frozen and passed in explicitly. Nothing else in the code base reads process.env.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors.js';

export interface ApiRootConfig {
  /** Path segment under the server root, e.g. "api1" → /api1/. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
}

export interface Config {
  readonly dataDir: string;
  /** SHIELDWALL_DATA_DIR was given (false: dataDir is the default ./data of the working directory). */
  readonly dataDirGiven: boolean;
  /** PostgreSQL URL; when absent, the embedded SQLite store under dataDir is used. */
  readonly databaseUrl: string | undefined;
  /** Scale-out mode (docs/deploying-at-scale.md): NATS JetStream carries telemetry to `shieldwall worker` processes; needs PostgreSQL. */
  readonly nats: NatsConfig | undefined;
  readonly host: string;
  readonly port: number;
  /** Plain HTTP binds to loopback only unless this is set. */
  readonly allowPublicHttp: boolean;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /**
   * SHIELDWALL_PUBLIC_URL: the address users, TAXII clients and peer nodes reach this node at (a
   * reverse proxy or load balancer in front of it), without a trailing slash, e.g.
   * `https://cti.example/shieldwall`. TAXII discovery names the API roots under it (absolute
   * URLs, when it is HTTPS: TAXII 2.1 §4.1.1), `serve` prints it and `peer whoami` gives it to
   * the nodes that register this one.
   */
  readonly publicUrl: string | undefined;
  readonly nodeName: string;
  /** Run federation subscriptions in `serve` (SHIELDWALL_FEDERATION_SYNC, default on; docs/federation.md). */
  readonly federationSync: boolean;
  /** TAXII max_content_length in octets (§4.2.1), also the body limit of the REST API. */
  readonly maxContentLength: number;
  /**
   * SHIELDWALL_PEER_MAX_RESPONSE_BYTES: the largest answer read from a peer node (a TAXII page,
   * a status, envelopes; default 128 MiB). A larger page is asked again with half the objects;
   * an answer that stays larger fails the run with the reason, never the node's memory.
   */
  readonly peerMaxResponseBytes: number;
  /**
   * SHIELDWALL_REQUEST_TIMEOUT_MS: the time a client has to send a whole request, headers and
   * body (default 300,000: a 100 MB TAXII bundle at ~350 KB/s). A client that sends slower is
   * answered 408 and disconnected, so connections trickling a body (slowloris) cannot pile up.
   */
  readonly requestTimeoutMs: number;
  /** Server-side page size cap for TAXII and REST lists. */
  readonly maxPageSize: number;
  /**
   * Object versions one REST intel search reads at most (SHIELDWALL_SEARCH_SCAN_ROWS, default
   * 10,000): a page may come back short with a `next` cursor that continues where the read stopped,
   * so a rare term over a large store never holds the process that answers HTTP for long.
   */
  readonly searchScanRows: number;
  readonly apiRoots: readonly ApiRootConfig[];
  /** Failed authentications allowed per account and address per window before 429 (5× per address alone, 5× per account alone). */
  readonly authFailureLimit: number;
  /**
   * SHIELDWALL_TRUSTED_PROXY: the reverse proxies (addresses or CIDR blocks, comma-separated)
   * whose X-Forwarded-For names the client; none by default, so the header is ignored and a
   * client cannot choose the address the limiter and the audit log see.
   */
  readonly trustedProxies: readonly string[];
  readonly authFailureWindowMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Directory of Sigma rules (TLP:CLEAR, read-only), SHIELDWALL_SIGMA_DIR; none when absent. */
  readonly sigmaDir: string | undefined;
  /** YAML file of Sigma `|expand` placeholders (name → list of values), SHIELDWALL_SIGMA_PLACEHOLDERS. */
  readonly sigmaPlaceholders: string | undefined;
  /** Telemetry events waiting for detection beyond which ingestion answers 429, SHIELDWALL_INGEST_QUEUE. */
  readonly ingestQueue: number;
  /**
   * Per-event budget at ingest (DESIGN §2.7): an event over a cap is refused with its line number.
   * SHIELDWALL_MAX_EVENT_FIELDS (object members + array elements), SHIELDWALL_MAX_EVENT_DEPTH,
   * SHIELDWALL_MAX_EVENT_STRING_BYTES (UTF-8 bytes of all string values).
   */
  readonly eventLimits: Readonly<{ maxFields: number; maxDepth: number; maxStringBytes: number }>;
  /** Grouping window of alerts, SHIELDWALL_ALERT_WINDOW_MINUTES. */
  readonly alertWindowMinutes: number;
  /** Sightings back to producers: named (default), anonymous (signed by the alliance CSIRT) or off, SHIELDWALL_SIGHTINGS. */
  readonly sightings: 'named' | 'anonymous' | 'off';
  /** Detection worker processes `serve` supervises (0: run `shieldwall worker` yourself), SHIELDWALL_WORKERS. */
  readonly workers: number;
  /** Longest a worker may spend on one batch before it is killed and the batch retried, SHIELDWALL_WORKER_BATCH_TIMEOUT_MS. */
  readonly workerBatchTimeoutMs: number;
  /** Test-only hooks (an event that hangs its worker), SHIELDWALL_TEST_HOOKS=1; never on a real node. */
  readonly testHooks: boolean;
  /**
   * Vulnerability-intelligence feeds fetched on a schedule (docs/readiness-exposure.md):
   * SHIELDWALL_KEV_FEED_URL, SHIELDWALL_EPSS_FEED_URL, SHIELDWALL_VULN_FEED_INTERVAL_S (default
   * 86400). Used until a feed is configured through REST (PUT /api/v1/readiness/feeds/:name).
   */
  readonly vulnFeeds: Readonly<{ kev: string | null; epss: string | null; intervalS: number }>;
}

/**
 * One supervised worker at most on the SQL spool: it is a single ordered cursor (stateful
 * detection needs the events of a sensor in order), so a second worker would only wait on it.
 */
function workerCount(env: Record<string, string | undefined>): number {
  const n = int(env, 'SHIELDWALL_WORKERS', 1, 0);
  if (n > 1) throw new AppError('BAD_REQUEST', `SHIELDWALL_WORKERS must be 0 or 1 on the SQL spool, got "${n}"`);
  return n;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function int(env: Record<string, string | undefined>, key: string, def: number, min = 1): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new AppError('BAD_REQUEST', `${key} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function parseApiRoots(raw: string | undefined): ApiRootConfig[] {
  const names = (raw ?? 'api1').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(n) || n === 'taxii2' || n === 'api') {
      throw new AppError('BAD_REQUEST', `SHIELDWALL_API_ROOTS: invalid API root name "${n}"`);
    }
  }
  return names.map((name, i) => ({
    name,
    title: i === 0 ? 'Shieldwall alliance intelligence' : `Shieldwall API root ${name}`,
    description: i === 0 ? 'Default API root: shared threat intelligence of the alliance' : `API root ${name}`,
  }));
}

const IPV4_OR_CIDR = /^(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/;
const IPV6_OR_CIDR = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(\/\d{1,3})?$/;

function trustedProxies(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const a of list) {
    if (!IPV4_OR_CIDR.test(a) && !IPV6_OR_CIDR.test(a)) throw new AppError('BAD_REQUEST', `SHIELDWALL_TRUSTED_PROXY: "${a}" is not an IP address or CIDR block`);
  }
  return list;
}

export interface NatsConfig {
  /** SHIELDWALL_NATS_URL: nats://host:port (comma-separated for a cluster). */
  readonly url: string;
  /** SHIELDWALL_NATS_PREFIX: names the stream and subjects of this node, so nodes can share a NATS server. */
  readonly prefix: string;
  /** SHIELDWALL_NATS_PARTITIONS: fixed number of partitions (more than the most workers you will run; never change it on a running node). */
  readonly partitions: number;
  /** SHIELDWALL_NATS_MAX_BYTES: stream size cap; a full stream answers ingestion 429. */
  readonly maxBytes: number;
}

function natsConfig(env: Record<string, string | undefined>, databaseUrl: string | undefined): NatsConfig | undefined {
  const url = env.SHIELDWALL_NATS_URL;
  if (!url) return undefined;
  if (!databaseUrl) throw new AppError('BAD_REQUEST', 'SHIELDWALL_NATS_URL needs SHIELDWALL_DATABASE_URL (scale-out runs on PostgreSQL)');
  for (const u of url.split(',')) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(u.trim()) && !/^[^\s/:]+:\d+$/.test(u.trim())) throw new AppError('BAD_REQUEST', `SHIELDWALL_NATS_URL: not a NATS server address: "${u}"`);
  }
  const prefix = env.SHIELDWALL_NATS_PREFIX || 'shieldwall';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw new AppError('BAD_REQUEST', `SHIELDWALL_NATS_PREFIX must be 1-64 letters, digits, _ or -, got "${prefix}"`);
  const partitions = int(env, 'SHIELDWALL_NATS_PARTITIONS', 16);
  if (partitions > 1024) throw new AppError('BAD_REQUEST', `SHIELDWALL_NATS_PARTITIONS must be at most 1024, got "${partitions}"`);
  return Object.freeze({ url, prefix, partitions, maxBytes: int(env, 'SHIELDWALL_NATS_MAX_BYTES', 8 * 1024 ** 3, 1024 * 1024) });
}

function sightingMode(raw: string | undefined): Config['sightings'] {
  const v = raw ?? 'named';
  if (v !== 'named' && v !== 'anonymous' && v !== 'off') throw new AppError('BAD_REQUEST', `SHIELDWALL_SIGHTINGS must be named, anonymous or off, got "${v}"`);
  return v;
}

/**
 * SHIELDWALL_PUBLIC_URL, checked: an absolute http(s) URL with no user, query or fragment (TAXII
 * 2.1 §4.1.1: an API root URL has no query), returned without a trailing slash.
 */
function publicUrl(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new AppError('BAD_REQUEST', `SHIELDWALL_PUBLIC_URL: not a URL: ${v.slice(0, 200)}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AppError('BAD_REQUEST', `SHIELDWALL_PUBLIC_URL: an http(s) URL, not ${u.protocol}`);
  if (u.username || u.password) throw new AppError('BAD_REQUEST', 'SHIELDWALL_PUBLIC_URL: must not hold a user name or password');
  if (u.search || u.hash || v.includes('?') || v.includes('#')) throw new AppError('BAD_REQUEST', 'SHIELDWALL_PUBLIC_URL: must not hold a query or a fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function feedUrl(env: Record<string, string | undefined>, key: string): string | null {
  const v = env[key]?.trim();
  if (!v) return null;
  if (!/^https?:\/\/\S+$/i.test(v)) throw new AppError('BAD_REQUEST', `${key}: an http(s) URL`);
  return v;
}

/**
 * The file, beside the federation keys of a data directory, that names the node they belong to
 * (written with them, federation/keys.ts): a node keeps its name, by which its peers know it and
 * check its signatures.
 */
export const NODE_NAME_FILE = 'federation-node-name';

/** The node name a data directory's federation keys belong to, or null before they exist. */
export function storedNodeName(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, NODE_NAME_FILE), 'utf8').trim() || null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/**
 * SHIELDWALL_NODE_NAME, or the name the data directory's keys belong to when it is not set; a
 * different name than theirs is refused (the node would sign as another node).
 */
function nodeNameOf(env: Record<string, string | undefined>, dataDir: string): string {
  const given = env.SHIELDWALL_NODE_NAME || undefined;
  const stored = storedNodeName(dataDir);
  if (given !== undefined && stored !== null && given !== stored) {
    throw new AppError('BAD_REQUEST', `SHIELDWALL_NODE_NAME is "${given.slice(0, 63)}", but the federation keys in ${dataDir} belong to node "${stored}" (${NODE_NAME_FILE}): `
      + `a node keeps the name its peers know it by; set SHIELDWALL_NODE_NAME=${stored} or leave it unset`);
  }
  return given ?? stored ?? 'shieldwall';
}

/** Parses the environment once; throws AppError('BAD_REQUEST') with a one-line message on bad values. */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Readonly<Config> {
  const host = env.SHIELDWALL_HOST ?? '127.0.0.1';
  const logLevel = (env.SHIELDWALL_LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(logLevel)) {
    throw new AppError('BAD_REQUEST', `SHIELDWALL_LOG_LEVEL: unknown level "${logLevel}"`);
  }
  const dataDir = path.resolve(env.SHIELDWALL_DATA_DIR ?? path.join(process.cwd(), 'data'));
  const cfg: Config = {
    dataDir,
    dataDirGiven: env.SHIELDWALL_DATA_DIR !== undefined && env.SHIELDWALL_DATA_DIR !== '',
    databaseUrl: env.SHIELDWALL_DATABASE_URL || undefined,
    nats: natsConfig(env, env.SHIELDWALL_DATABASE_URL || undefined),
    host,
    port: int(env, 'SHIELDWALL_PORT', 8443, 0),
    allowPublicHttp: env.SHIELDWALL_ALLOW_PUBLIC_HTTP === '1' || env.SHIELDWALL_ALLOW_PUBLIC_HTTP === 'true',
    tlsCertFile: env.SHIELDWALL_TLS_CERT || undefined,
    tlsKeyFile: env.SHIELDWALL_TLS_KEY || undefined,
    publicUrl: publicUrl(env.SHIELDWALL_PUBLIC_URL),
    nodeName: nodeNameOf(env, dataDir),
    federationSync: !(env.SHIELDWALL_FEDERATION_SYNC === '0' || env.SHIELDWALL_FEDERATION_SYNC === 'false'),
    maxContentLength: int(env, 'SHIELDWALL_MAX_CONTENT_LENGTH', 100 * 1024 * 1024),
    peerMaxResponseBytes: int(env, 'SHIELDWALL_PEER_MAX_RESPONSE_BYTES', 128 * 1024 * 1024, 64 * 1024),
    requestTimeoutMs: int(env, 'SHIELDWALL_REQUEST_TIMEOUT_MS', 300_000, 1000),
    maxPageSize: int(env, 'SHIELDWALL_MAX_PAGE_SIZE', 1000),
    searchScanRows: int(env, 'SHIELDWALL_SEARCH_SCAN_ROWS', 10_000, 100),
    apiRoots: parseApiRoots(env.SHIELDWALL_API_ROOTS),
    authFailureLimit: int(env, 'SHIELDWALL_AUTH_FAILURE_LIMIT', 20),
    authFailureWindowMs: int(env, 'SHIELDWALL_AUTH_FAILURE_WINDOW_MS', 60_000),
    trustedProxies: trustedProxies(env.SHIELDWALL_TRUSTED_PROXY),
    logLevel,
    sigmaDir: env.SHIELDWALL_SIGMA_DIR ? path.resolve(env.SHIELDWALL_SIGMA_DIR) : undefined,
    sigmaPlaceholders: env.SHIELDWALL_SIGMA_PLACEHOLDERS ? path.resolve(env.SHIELDWALL_SIGMA_PLACEHOLDERS) : undefined,
    ingestQueue: int(env, 'SHIELDWALL_INGEST_QUEUE', 200_000),
    eventLimits: Object.freeze({
      maxFields: int(env, 'SHIELDWALL_MAX_EVENT_FIELDS', 10_000),
      maxDepth: int(env, 'SHIELDWALL_MAX_EVENT_DEPTH', 32),
      maxStringBytes: int(env, 'SHIELDWALL_MAX_EVENT_STRING_BYTES', 524_288),
    }),
    alertWindowMinutes: int(env, 'SHIELDWALL_ALERT_WINDOW_MINUTES', 60),
    sightings: sightingMode(env.SHIELDWALL_SIGHTINGS),
    workers: workerCount(env),
    workerBatchTimeoutMs: int(env, 'SHIELDWALL_WORKER_BATCH_TIMEOUT_MS', 30_000, 100),
    testHooks: env.SHIELDWALL_TEST_HOOKS === '1',
    vulnFeeds: Object.freeze({ kev: feedUrl(env, 'SHIELDWALL_KEV_FEED_URL'), epss: feedUrl(env, 'SHIELDWALL_EPSS_FEED_URL'), intervalS: int(env, 'SHIELDWALL_VULN_FEED_INTERVAL_S', 86_400, 300) }),
    ...overrides,
  };
  if ((cfg.tlsCertFile === undefined) !== (cfg.tlsKeyFile === undefined)) {
    throw new AppError('BAD_REQUEST', 'SHIELDWALL_TLS_CERT and SHIELDWALL_TLS_KEY must be given together');
  }
  if (!cfg.tlsCertFile && !cfg.allowPublicHttp && !LOOPBACK.has(cfg.host)) {
    throw new AppError(
      'BAD_REQUEST',
      `refusing plain HTTP on ${cfg.host}: give SHIELDWALL_TLS_CERT/SHIELDWALL_TLS_KEY or set SHIELDWALL_ALLOW_PUBLIC_HTTP=1`,
    );
  }
  return Object.freeze({ ...cfg, apiRoots: Object.freeze(cfg.apiRoots.map((r) => Object.freeze(r))) });
}

/**
 * The environment that makes `loadConfig` give back this configuration: what a supervised
 * worker process is started with, so it reads the same store with the same options.
 */
export function configEnv(c: Readonly<Config>): Record<string, string> {
  const env: Record<string, string> = {
    SHIELDWALL_DATA_DIR: c.dataDir, SHIELDWALL_HOST: c.host, SHIELDWALL_PORT: String(c.port), SHIELDWALL_ALLOW_PUBLIC_HTTP: c.allowPublicHttp ? '1' : '0',
    SHIELDWALL_NODE_NAME: c.nodeName, SHIELDWALL_FEDERATION_SYNC: c.federationSync ? '1' : '0', SHIELDWALL_MAX_CONTENT_LENGTH: String(c.maxContentLength), SHIELDWALL_PEER_MAX_RESPONSE_BYTES: String(c.peerMaxResponseBytes), SHIELDWALL_MAX_PAGE_SIZE: String(c.maxPageSize),
    SHIELDWALL_SEARCH_SCAN_ROWS: String(c.searchScanRows), SHIELDWALL_REQUEST_TIMEOUT_MS: String(c.requestTimeoutMs), SHIELDWALL_API_ROOTS: c.apiRoots.map((r) => r.name).join(','), SHIELDWALL_AUTH_FAILURE_LIMIT: String(c.authFailureLimit),
    SHIELDWALL_AUTH_FAILURE_WINDOW_MS: String(c.authFailureWindowMs), SHIELDWALL_LOG_LEVEL: c.logLevel, SHIELDWALL_INGEST_QUEUE: String(c.ingestQueue),
    SHIELDWALL_ALERT_WINDOW_MINUTES: String(c.alertWindowMinutes), SHIELDWALL_SIGHTINGS: c.sightings, SHIELDWALL_WORKERS: String(c.workers),
    SHIELDWALL_WORKER_BATCH_TIMEOUT_MS: String(c.workerBatchTimeoutMs), SHIELDWALL_TEST_HOOKS: c.testHooks ? '1' : '0',
    SHIELDWALL_KEV_FEED_URL: c.vulnFeeds.kev ?? '', SHIELDWALL_EPSS_FEED_URL: c.vulnFeeds.epss ?? '', SHIELDWALL_VULN_FEED_INTERVAL_S: String(c.vulnFeeds.intervalS),
    SHIELDWALL_DATABASE_URL: c.databaseUrl ?? '', SHIELDWALL_NATS_URL: c.nats?.url ?? '', SHIELDWALL_NATS_PREFIX: c.nats?.prefix ?? '',
    SHIELDWALL_NATS_PARTITIONS: c.nats ? String(c.nats.partitions) : '', SHIELDWALL_NATS_MAX_BYTES: c.nats ? String(c.nats.maxBytes) : '', SHIELDWALL_TLS_CERT: c.tlsCertFile ?? '', SHIELDWALL_TLS_KEY: c.tlsKeyFile ?? '',
    SHIELDWALL_PUBLIC_URL: c.publicUrl ?? '', SHIELDWALL_SIGMA_DIR: c.sigmaDir ?? '', SHIELDWALL_SIGMA_PLACEHOLDERS: c.sigmaPlaceholders ?? '',
  };
  return env;
}
