/** STIX 2.0 -> 2.1 restore, with a 2.0 fixture bundle: the result validates and passes the OASIS schemas. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deterministicScoId, isStix20, restoreBundle, restoreObject, restoreObjectDetailed, tlpOf, validateBundle, validateObject } from '../src/stix/index.js';
import { oasisErrors } from './helpers/stix-schema.js';
import { VALID_EXAMPLES } from './helpers/stix-examples.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const load = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(here, 'fixtures/stix20-bundle.json'), 'utf8')) as Record<string, unknown>;
const byType = (objects: unknown[], type: string): Record<string, unknown> =>
  objects.find((o) => (o as Record<string, unknown>)['type'] === type) as Record<string, unknown>;

describe('restoreBundle (STIX 2.0 fixture)', () => {
  const input = load();
  const original = structuredClone(input);
  const { bundle, changes } = restoreBundle(input);
  const objects = bundle['objects'] as unknown[];

  it('the 2.0 objects are rejected before restore', () => {
    const v = validateBundle(input);
    expect(v.results.filter((r) => !r.ok)).toHaveLength(objects.length);
  });

  it('every restored object validates as STIX 2.1 and passes the OASIS schemas', () => {
    const v = validateBundle(bundle);
    expect(v.envelopeErrors).toEqual([]);
    expect(v.results.flatMap((r) => (r.ok ? [] : r.errors))).toEqual([]);
    expect(objects.flatMap((o) => oasisErrors(o))).toEqual([]);
    expect(oasisErrors(bundle)).toEqual([]);
  });

  it('drops the bundle spec_version and sets 2.1 on every object', () => {
    expect('spec_version' in bundle).toBe(false);
    expect(objects.every((o) => (o as Record<string, unknown>)['spec_version'] === '2.1')).toBe(true);
  });

  it('keeps ids, created_by_ref and references unchanged', () => {
    const before = original['objects'] as Record<string, unknown>[];
    objects.forEach((o, i) => {
      const r = o as Record<string, unknown>;
      for (const k of ['id', 'created_by_ref', 'source_ref', 'target_ref', 'sighting_of_ref', 'object_refs', 'object_marking_refs']) {
        expect(r[k]).toEqual(before[i]?.[k]);
      }
    });
  });

  it('moves type labels to *_types, keeping labels', () => {
    expect(byType(objects, 'indicator')).toMatchObject({ indicator_types: ['malicious-activity'], labels: ['malicious-activity'], pattern_type: 'stix' });
    expect(byType(objects, 'malware')).toMatchObject({ malware_types: ['remote-access-trojan'], is_family: true });
    expect(byType(objects, 'threat-actor')).toMatchObject({ threat_actor_types: ['nation-state'] });
    expect(byType(objects, 'tool')).toMatchObject({ tool_types: ['remote-access'] });
    expect(byType(objects, 'report')).toMatchObject({ report_types: ['campaign'] });
  });

  it('gives second-precision created/modified millisecond precision', () => {
    expect(byType(objects, 'indicator')).toMatchObject({ created: '2016-04-06T20:03:48.000Z', modified: '2016-04-06T20:03:48.000Z', valid_from: '2016-01-01T00:00:00Z' });
  });

  it('keeps the deprecated observed-data objects dictionary, giving its SCOs deterministic ids', () => {
    const hashes = { 'SHA-256': '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' };
    expect(byType(objects, 'observed-data')['objects']).toEqual({ '0': { id: deterministicScoId('file', { hashes }), type: 'file', hashes } });
  });

  it('resolves local references between observed SCOs and renames 2.0 properties', () => {
    const od = objects.filter((o) => (o as Record<string, unknown>)['type'] === 'observed-data')[1] as Record<string, unknown>;
    const m = od['objects'] as Record<string, Record<string, unknown>>;
    const src = deterministicScoId('ipv4-addr', { value: '198.51.100.2' });
    const dst = deterministicScoId('ipv4-addr', { value: '203.0.113.9' });
    expect(m['0']?.['id']).toBe(src);
    expect(m['2']).toMatchObject({ src_ref: src, dst_ref: dst });
    expect(m['2']?.['id']).toBe(deterministicScoId('network-traffic', { src_ref: src, dst_ref: dst, dst_port: 443, protocols: ['ipv4', 'tcp'] }));
    expect(m['3']).toMatchObject({ name: 'evil.exe', ctime: '2015-12-21T18:00:00Z' });
    expect(m['4']).toMatchObject({ image_ref: m['3']?.['id'], opened_connection_refs: [m['2']?.['id']] });
    expect(m['4']?.['id']).toMatch(/^process--[0-9a-f-]{14}4/);
  });

  it('reports what changed per object and does not modify its input', () => {
    expect(changes[1]).toEqual(['spec_version set to 2.1', 'replaced by the predefined STIX 2.1 TLP marking']);
    expect(changes[2]).toEqual(['spec_version set to 2.1', 'created given millisecond precision', 'modified given millisecond precision',
      'labels copied to indicator_types', 'pattern_type set to stix']);
    expect(input).toEqual(original);
  });

  it('keeps the TLP 1.0 marking readable as TLP amber', () => {
    expect(tlpOf(byType(objects, 'indicator'))).toBe('amber');
  });
});

describe('restoreObject', () => {
  it('passes STIX 2.1 objects through unchanged', () => {
    for (const o of Object.values(VALID_EXAMPLES)) {
      expect(restoreObject(o)).toEqual(o);
      expect(restoreObjectDetailed(o).changes).toEqual([]);
    }
  });

  it('passes non-objects through for the validator to reject', () => {
    expect(restoreObject(null)).toBe(null);
    expect(restoreObject([1])).toEqual([1]);
    expect(validateObject(restoreObject('x')).ok).toBe(false);
  });

  it('treats an explicit spec_version 2.0 as 2.0, and SCOs without one as 2.1', () => {
    expect(isStix20({ type: 'campaign', spec_version: '2.0' })).toBe(true);
    expect(isStix20({ type: 'campaign' })).toBe(true);
    expect(isStix20({ type: 'ipv4-addr', value: '1.2.3.4' })).toBe(false);
    expect(isStix20({ type: 'campaign', spec_version: '2.1' })).toBe(false);
  });

  it('does not overwrite existing 2.1 properties', () => {
    const o = restoreObject({ ...VALID_EXAMPLES['malware'], spec_version: '2.0', is_family: false, labels: ['x'] }) as Record<string, unknown>;
    expect(o).toMatchObject({ is_family: false, malware_types: ['wiper'], spec_version: '2.1' });
  });
});
