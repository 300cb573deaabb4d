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

/** What Sigma rules read: the source's own fields (Sysmon names...) and the ECS ones. */
export function sigmaView(e: NormalisedEvent): Record<string, unknown> {
  const orig = e.original as Record<string, unknown> | undefined;
  return orig ? { ...e, ...orig } : (e as unknown as Record<string, unknown>);
}
