/**
 * The observables an escalated alert gives its incident: the entity it fired on (the host seen,
 * "sighted") and, for an indicator alert, the value that matched (an IOC). With them on the
 * incident, "similar incidents" finds other incidents sharing the value (respond/incidents.ts).
 */
import type { ObservableType } from '../../respond/index.js';
import type { AlertDoc } from './alert-types.js';

export interface AlertObservable {
  type: ObservableType;
  value: string;
  ioc: boolean;
  sighted: boolean;
  description: string;
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-f:]+$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** STIX object path (the matched comparison, e.g. `file:hashes.'SHA-256'`) → incident observable type. */
function typeOfPath(path: string): ObservableType | null {
  const p = path.toLowerCase();
  if (p.startsWith('ipv4-addr:')) return 'ipv4-addr';
  if (p.startsWith('ipv6-addr:')) return 'ipv6-addr';
  if (p.startsWith('domain-name:')) return 'domain-name';
  if (p.startsWith('url:')) return 'url';
  if (p.startsWith('email-addr:')) return 'email-addr';
  if (p.startsWith('file:hashes')) return p.includes('md5') ? 'file-md5' : p.includes('sha-1') || p.includes('sha1') ? 'file-sha1' : p.includes('256') ? 'file-sha256' : 'other';
  if (p.startsWith('user-account:')) return 'user-account';
  if (p.startsWith('process:')) return 'process';
  if (p.startsWith('windows-registry-key:')) return 'registry-key';
  if (p.startsWith('mutex:')) return 'mutex';
  return null;
}

/** The type of a bare value (an alert entity is a host address or name, or an account). */
function typeOfValue(v: string): ObservableType {
  if (IPV4.test(v)) return 'ipv4-addr';
  if (v.includes(':') && IPV6.test(v)) return 'ipv6-addr';
  if (DOMAIN.test(v)) return 'domain-name';
  return 'other';
}

export function alertObservables(id: string, doc: AlertDoc): AlertObservable[] {
  const out: AlertObservable[] = [];
  const entity = doc.entity.trim();
  if (entity) out.push({ type: typeOfValue(entity), value: entity, ioc: false, sighted: true, description: `entity of alert ${id} (${doc.source}, sensor ${doc.sensorId})` });
  const m = doc.matched;
  if (m.kind === 'indicator' && m.value) {
    const type = (m.path ? typeOfPath(m.path) : null) ?? typeOfValue(m.value);
    if (!out.some((o) => o.type === type && o.value === m.value)) {
      out.push({ type, value: m.value, ioc: true, sighted: true, description: `matched ${m.name ?? m.id} in alert ${id}` });
    }
  }
  return out;
}
