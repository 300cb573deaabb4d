/** Builders of small, valid STIX 2.1 objects for the e2e tests (STIX 2.1 §4.7 indicator, §4.11 malware, §5.1 relationship). */
import { randomUUID } from 'node:crypto';

export type Stix = Record<string, unknown>;

export interface Common { creator: string; label: string; at?: string }

function base(type: string, c: Common): Stix {
  const at = c.at ?? '2026-01-10T10:00:00.000Z';
  return {
    type, spec_version: '2.1', id: `${type}--${randomUUID()}`, created: at, modified: at,
    created_by_ref: c.creator, labels: [c.label],
  };
}

export function indicator(c: Common, name: string, ip: string): Stix {
  return {
    ...base('indicator', c), name, indicator_types: ['malicious-activity'],
    pattern: `[ipv4-addr:value = '${ip}']`, pattern_type: 'stix', valid_from: c.at ?? '2026-01-10T10:00:00.000Z',
  };
}

export function malware(c: Common, name: string): Stix {
  return { ...base('malware', c), name, is_family: true, malware_types: ['remote-access-trojan'] };
}

export function relationship(c: Common, type: string, source: Stix, target: Stix): Stix {
  const r = base('relationship', c);
  delete r.labels;
  return { ...r, relationship_type: type, source_ref: source.id, target_ref: target.id };
}

/** The same object with a later `modified` and the given changes: a new version (STIX 2.1 §3.6). */
export function newVersion(o: Stix, modified: string, changes: Stix): Stix {
  return { ...o, ...changes, modified };
}

export function bundle(objects: Stix[]): Stix {
  return { type: 'bundle', id: `bundle--${randomUUID()}`, objects };
}
