/** How a match becomes an alert's facts: the entity it is about, severities, what Sigma reads. */
import { publicIp } from '../anomaly/index.js';
import type { NormalisedEvent } from '../normalise/index.js';
import type { AlertSeverity } from './alert-types.js';
import type { ValueKind } from './detect-types.js';
import type { IndicatorInfo } from './feed.js';

export const LEVELS: Record<string, AlertSeverity> = { informational: 'informational', low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The local asset an alert is about: the host, else the internal end of the connection (a
 * scan from many outside addresses is one alert per scanned host), else the source address,
 * else the sensor.
 */
export function entityOf(e: NormalisedEvent): string {
  const host = str(e['host.name']);
  if (host) return host;
  const src = str(e['source.ip']);
  const dst = str(e['destination.ip']);
  if (src && dst && publicIp(src) !== null && publicIp(dst) === null) return dst;
  return src ?? `sensor ${e['observer.id']}`;
}

/** Kind of value a warninglist is asked about, from the object path of an exact/CIDR hit. */
export function valueKind(path: string): ValueKind {
  if (path.startsWith('ipv4-addr:') || path.startsWith('ipv6-addr:')) return 'ip';
  if (path.startsWith('domain-name:')) return 'domain';
  if (path.startsWith('url:')) return 'url';
  if (path.startsWith('email-addr:')) return 'email';
  if (path.includes('hashes')) return 'hash';
  return 'string';
}

export function indicatorSeverity(i: IndicatorInfo): AlertSeverity {
  if (i.confidence === null || i.confidence >= 70) return 'high';
  return i.confidence >= 30 ? 'medium' : 'low';
}

/**
 * What Sigma rules read: the source's own fields (Sysmon names...) and the ECS ones. The tenant
 * fields are the context's, as on the event: an ECS document's own `organization.id` /
 * `observer.id` (laid over the event by the source's fields) would let one organisation's sensor
 * make rules see another's id: a selection on it fire, a correlation grouped by it name that
 * organisation as the alert's entity.
 */
export function sigmaView(e: NormalisedEvent): Record<string, unknown> {
  const orig = e.original as Record<string, unknown> | undefined;
  if (!orig) return e as unknown as Record<string, unknown>;
  const view: Record<string, unknown> = { ...e, ...orig };
  // Written back only when the source's fields replaced them (an ECS document's dotted keys).
  if (view['organization.id'] !== e['organization.id']) view['organization.id'] = e['organization.id'];
  if (view['observer.id'] !== e['observer.id']) view['observer.id'] = e['observer.id'];
  return view;
}
