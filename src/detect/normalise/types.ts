/**
 * The one event shape every telemetry format is normalised to: a flat record keyed by ECS field
 * names (elastic/ecs, dotted form as in `generated/csv/fields.csv`), plus the source's own fields
 * under `original` (Sigma rules name Sysmon fields such as `Image` / `CommandLine`) and a
 * `logsource` for Sigma routing (Sigma spec "Log source": product / category / service).
 *
 * Flat dotted keys rather than nested objects: lookups by ECS name are one property read, and the
 * Sigma `EventView` reads a flat key before walking a dotted path.
 */

import type { EventLogsource } from '../sigma/types.js';

/** Formats `normaliseLine` accepts; `auto` sniffs the line (see `sniffFormat`). */
export type TelemetryFormat = 'suricata-eve' | 'ecs' | 'windows' | 'zeek' | 'syslog' | 'cef';

export interface NormaliseContext {
  /** The organisation that sent the telemetry; always wins over any `organization.id` in the data. */
  readonly orgId: string;
  /** The sensor (observer) that produced it. */
  readonly sensorId: string;
  /** Reception time in ms, used for the year of RFC 3164 timestamps (they carry none). */
  readonly receivedAt?: number;
}

export interface NormaliseOptions {
  /** Longest line accepted, in UTF-16 code units (default {@link DEFAULT_MAX_LINE}). */
  readonly maxLineLength?: number;
  /** Deepest JSON nesting accepted (default {@link DEFAULT_MAX_DEPTH}). */
  readonly maxDepth?: number;
  /** Most fields (object members plus array elements, any depth) of one event (budget.ts). */
  readonly maxFields?: number;
  /** Most UTF-8 bytes of string values in one event (budget.ts). */
  readonly maxStringBytes?: number;
}

export const DEFAULT_MAX_LINE = 1_048_576;
export const DEFAULT_MAX_DEPTH = 32;

/**
 * Sigma routing keys of an event (values lower case, as in rules): the Sigma engine's own type,
 * so what the normaliser writes is what routing reads (several values per key, a field map).
 */
export type { EventLogsource };

export interface DnsAnswer {
  readonly name?: string;
  readonly type?: string;
  readonly data?: string;
  readonly ttl?: number;
}

/**
 * A normalised event. Only the fields a source carries are present. Every value is a string,
 * number, boolean, string array, or (for `dns.answers`, `original`, `logsource`,
 * `log.syslog.structured_data`) a plain object / array of objects.
 */
export interface NormalisedEvent {
  readonly '@timestamp': string;
  readonly 'event.kind': 'alert' | 'event' | 'metric' | 'enrichment' | 'signal';
  readonly 'event.category': readonly string[];
  readonly 'event.type': readonly string[];
  readonly 'event.dataset': string;
  readonly 'event.module': string;
  readonly 'organization.id': string;
  readonly 'observer.id': string;
  readonly 'source.ip'?: string;
  readonly 'source.port'?: number;
  readonly 'destination.ip'?: string;
  readonly 'destination.port'?: number;
  readonly 'destination.domain'?: string;
  readonly 'network.transport'?: string;
  readonly 'network.protocol'?: string;
  readonly 'dns.question.name'?: string;
  readonly 'dns.answers'?: readonly DnsAnswer[];
  readonly 'dns.resolved_ip'?: readonly string[];
  readonly 'url.full'?: string;
  readonly 'url.original'?: string;
  readonly 'url.domain'?: string;
  readonly 'url.path'?: string;
  readonly 'http.request.method'?: string;
  readonly 'user_agent.original'?: string;
  readonly 'tls.client.server_name'?: string;
  /** Same value as `tls.client.server_name` (ECS's name); kept because callers asked for it. */
  readonly 'tls.server.sni'?: string;
  readonly 'file.hash.sha256'?: string;
  readonly 'file.hash.sha1'?: string;
  readonly 'file.hash.md5'?: string;
  readonly 'process.executable'?: string;
  readonly 'process.command_line'?: string;
  readonly 'process.parent.executable'?: string;
  readonly 'user.name'?: string;
  readonly 'host.name'?: string;
  readonly message?: string;
  /** The source record as parsed (JSON object, or the parsed syslog/CEF fields). */
  readonly original: Readonly<Record<string, unknown>>;
  readonly logsource: EventLogsource;
  readonly [field: string]: unknown;
}

export type NormaliseResult =
  | { readonly ok: true; readonly format: TelemetryFormat; readonly event: NormalisedEvent }
  | { readonly ok: false; readonly error: string };
