import { describe, expect, it } from 'vitest';
import { VALID_EXAMPLES } from '../../../test/helpers/stix-examples.js';
import type { ValidateOptions } from './context.js';
import { RULE_IDS } from './rules.js';
import type { RuleId } from './rules.js';
import { validateObject } from './validate.js';

const U = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const ex = (type: string, patch: Record<string, unknown> = {}): Record<string, unknown> => ({ ...VALID_EXAMPLES[type], ...patch });
const without = (type: string, key: string): Record<string, unknown> => {
  const o = ex(type);
  delete o[key];
  return o;
};
const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { x_n: nest(depth - 1) });
const throwing = Object.defineProperty({ type: 'indicator' }, 'id', { enumerable: true, get: () => { throw new Error('boom'); } });

interface Case { name: string; input: unknown; opts?: ValidateOptions; path?: string }

/** At least one failing input per rule; each must be rejected with that rule. */
const CASES: Record<RuleId, Case[]> = {
  'input.not-object': [{ name: 'array', input: [] }, { name: 'null', input: null }, { name: 'string', input: 'indicator' }],
  'input.unprocessable': [{ name: 'throwing getter', input: throwing }],
  'limits.depth': [{ name: '40 levels', input: ex('indicator', { x_deep: nest(40) }) }],
  'limits.string-length': [{ name: 'long description', input: ex('indicator', { description: 'a'.repeat(11) }), opts: { limits: { maxStringLength: 10 } } }],
  'limits.list-length': [{ name: '3 labels, max 2', input: ex('indicator', { labels: ['a', 'b', 'c'] }), opts: { limits: { maxListLength: 2 } } }],
  'limits.property-count': [{ name: 'too many properties', input: ex('indicator'), opts: { limits: { maxProperties: 5 } } }],
  'type.format': [{ name: 'upper case', input: ex('indicator', { type: 'Indicator' }) }, { name: 'too short', input: { type: 'ab', id: `ab--${U}` } }],
  'type.unknown': [{ name: 'foo-bar', input: ex('indicator', { type: 'foo-bar', id: `foo-bar--${U}` }) }],
  'custom.disallowed': [
    { name: 'custom type', input: ex('indicator', { type: 'x-foo', id: `x-foo--${U}` }), opts: { allowCustom: false } },
    { name: 'custom property', input: ex('indicator', { x_foo: 1 }), opts: { allowCustom: false } },
  ],
  'spec-version': [{ name: '2.0', input: ex('indicator', { spec_version: '2.0' }) }],
  required: [
    { name: 'indicator without pattern', input: without('indicator', 'pattern'), path: 'pattern' },
    { name: 'SDO without modified', input: without('campaign', 'modified'), path: 'modified' },
    { name: 'no type', input: without('campaign', 'type'), path: 'type' },
    { name: 'relationship without target_ref', input: without('relationship', 'target_ref'), path: 'target_ref' },
  ],
  'id.format': [{ name: 'not a UUID', input: ex('indicator', { id: 'indicator--123' }) }],
  'id.type-mismatch': [{ name: 'malware id on indicator', input: ex('indicator', { id: `malware--${U}` }) }],
  'id.uuid-version': [{ name: 'version 0', input: ex('indicator', { id: 'indicator--a1b2c3d4-e5f6-0a7b-8c9d-0e1f2a3b4c5d' }) }],
  timestamp: [{ name: 'created yesterday', input: ex('indicator', { created: 'yesterday' }) }, { name: 'Feb 30', input: ex('indicator', { valid_from: '2024-02-30T00:00:00Z' }) }],
  'timestamp.precision': [{ name: 'seconds only', input: ex('indicator', { created: '2024-01-02T03:04:05Z' }) }],
  'modified-before-created': [{ name: 'modified earlier', input: ex('indicator', { modified: '2023-01-01T00:00:00.000Z' }) }],
  'time.order': [
    { name: 'valid_until = valid_from', input: ex('indicator', { valid_until: VALID_EXAMPLES['indicator']?.['valid_from'] }) },
    { name: 'campaign last_seen before first_seen', input: ex('campaign', { first_seen: '2024-05-01T00:00:00Z', last_seen: '2024-04-01T00:00:00Z' }) },
    { name: 'observed-data', input: ex('observed-data', { first_observed: '2024-05-01T00:00:00Z', last_observed: '2024-04-01T00:00:00Z' }) },
  ],
  'value.type': [{ name: 'revoked as string', input: ex('indicator', { revoked: 'yes' }) }, { name: 'custom null', input: ex('indicator', { x_n: null }) },
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: never stored.
    { name: 'number beyond a double (1e400)', input: ex('indicator', JSON.parse('{"x_n": {"x_m": [1e400]}}') as Record<string, unknown>), path: 'x_n.x_m[0]' }],
  'value.enum': [{ name: 'opinion maybe', input: ex('opinion', { opinion: 'maybe' }) }],
  'value.range': [
    { name: 'confidence 101', input: ex('indicator', { confidence: 101 }) },
    { name: 'sighting count 10^9', input: ex('sighting', { count: 1_000_000_000 }) },
    { name: 'latitude 91', input: ex('location', { latitude: 91 }) },
    { name: 'number_observed 0', input: ex('observed-data', { number_observed: 0 }) },
    { name: 'port 70000', input: ex('network-traffic', { dst_port: 70000 }) },
  ],
  'value.format': [
    { name: 'lang en_US', input: ex('indicator', { lang: 'en_US' }) },
    { name: 'mac upper case', input: ex('mac-addr', { value: 'D2:FB:49:24:37:18' }) },
    { name: 'ipv4 out of range', input: ex('ipv4-addr', { value: '300.1.1.1' }) },
    { name: 'payload not base64', input: ex('artifact', { payload_bin: 'not base64!' }) },
  ],
  'value.consistency': [
    { name: 'malware family without name', input: without('malware', 'name') },
    { name: 'artifact url without hashes', input: ex('artifact', { url: 'https://example.com/a' }) },
    { name: 'file without hashes or name', input: { type: 'file', id: `file--${U}`, size: 1 } },
    { name: 'network-traffic without endpoints', input: without('network-traffic', 'src_ref') },
  ],
  'list.empty': [{ name: 'report object_refs []', input: ex('report', { object_refs: [] }) }, { name: 'labels []', input: ex('indicator', { labels: [] }) }],
  'ref.format': [{ name: 'created_by_ref bob', input: ex('indicator', { created_by_ref: 'bob' }) }],
  'ref.target-type': [
    { name: 'created_by_ref to malware', input: ex('indicator', { created_by_ref: `malware--${U}` }) },
    { name: 'object_marking_refs to identity', input: ex('indicator', { object_marking_refs: [`identity--${U}`] }) },
    { name: 'relationship to marking', input: ex('relationship', { target_ref: `marking-definition--${U}` }) },
    { name: 'where_sighted_refs to malware', input: ex('sighting', { where_sighted_refs: [`malware--${U}`] }) },
  ],
  'external-reference': [
    { name: 'source only', input: ex('indicator', { external_references: [{ source_name: 'x' }] }) },
    { name: 'cve without id', input: ex('indicator', { external_references: [{ source_name: 'cve', url: 'https://x.example' }] }) },
  ],
  'granular-marking': [
    { name: 'no marking_ref nor lang', input: ex('indicator', { granular_markings: [{ selectors: ['description'] }] }) },
    { name: 'bad selector', input: ex('indicator', { granular_markings: [{ marking_ref: `marking-definition--${U}`, selectors: ['labels[0]'] }] }) },
  ],
  'kill-chain-phase': [{ name: 'no phase_name', input: ex('indicator', { kill_chain_phases: [{ kill_chain_name: 'x' }] }) }],
  hashes: [{ name: 'bad MD5', input: ex('file', { hashes: { MD5: 'xyz' } }) }],
  'dictionary.keys': [{ name: 'key with space', input: ex('process', { environment_variables: { 'bad key!': 'x' } }) }],
  'property.name': [
    { name: 'upper case', input: ex('indicator', { X_Bad: 1 }) }, { name: 'two characters', input: ex('indicator', { xy: 1 }) },
    // JSON.parse makes `__proto__` an own property; it is a name like any other, never Object.prototype's.
    { name: '__proto__', input: ex('indicator', JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>), path: '__proto__' },
  ],
  'reserved.property': [{ name: 'severity', input: ex('indicator', { severity: 'high' }) }],
  'reserved.type': [{ name: 'action', input: ex('indicator', { type: 'action', id: `action--${U}` }) }],
  'extension.key': [{ name: 'foo', input: ex('indicator', { extensions: { foo: { a: 1 } } }) }],
  'extension.type': [
    { name: 'new-thing', input: ex('indicator', { extensions: { [`extension-definition--${U}`]: { extension_type: 'new-thing' } } }) },
    { name: 'missing', input: ex('indicator', { extensions: { [`extension-definition--${U}`]: { x_a: 1 } } }) },
  ],
  'extension.value': [{ name: 'empty archive-ext', input: ex('file', { extensions: { 'archive-ext': {} } }) }],
  'indicator.pattern': [{ name: 'unclosed bracket', input: ex('indicator', { pattern: "[ipv4-addr:value = '1.2.3.4'" }) }],
  'location.position': [{ name: 'latitude only', input: { ...without('location', 'longitude'), precision: undefined } }],
  'observed-data.content': [
    { name: 'both', input: ex('observed-data', { objects: { '0': { type: 'ipv4-addr', value: '1.2.3.4' } } }) },
    { name: 'neither', input: without('observed-data', 'object_refs') },
  ],
  'marking.definition': [
    { name: 'tlp purple', input: ex('marking-definition', { definition_type: 'tlp', definition: { tlp: 'purple' } }) },
    { name: 'no definition nor extensions', input: without('marking-definition', 'definition') },
    { name: 'home-made TLP marking', input: ex('marking-definition', { definition_type: 'tlp', definition: { tlp: 'amber' }, name: 'TLP:AMBER' }) },
  ],
};

describe('validateObject: one failing case per rule', () => {
  it('every rule in VALIDATION_RULES has a case', () => {
    expect(RULE_IDS.filter((r) => !(CASES[r]?.length))).toEqual([]);
  });

  for (const rule of RULE_IDS) {
    for (const c of CASES[rule]) {
      it(`${rule}: ${c.name}`, () => {
        const r = validateObject(c.input, c.opts);
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.errors.map((e) => e.rule)).toContain(rule);
        if (c.path !== undefined) expect(r.errors.find((e) => e.rule === rule)?.path).toBe(c.path);
        for (const e of r.errors) expect(e.message.length).toBeGreaterThan(0);
      });
    }
  }
});

describe('validateObject: acceptance', () => {
  it('returns the object and no errors for a valid indicator', () => {
    const o = ex('indicator');
    const r = validateObject(o);
    expect(r).toEqual({ ok: true, object: o, warnings: [] });
  });

  it('reads keys from input as names, never as Object.prototype members (hash names toString, __proto__)', () => {
    const file = JSON.parse(`{"type":"file","spec_version":"2.1","id":"file--${U}","name":"x","hashes":{"toString":"ab","__proto__":"cd","constructor":"ef"}}`) as unknown;
    expect(validateObject(file)).toMatchObject({ ok: true });
  });

  it('accepts a custom property without x_ prefix but warns', () => {
    const r = validateObject(ex('indicator', { acme_score: 3 }));
    expect(r.ok && r.warnings).toEqual(['acme_score: custom property without the x_ prefix']);
  });

  it('accepts x- custom objects and types declared by a new-sdo extension', () => {
    expect(validateObject(ex('campaign', { type: 'x-acme-thing', id: `x-acme-thing--${U}` })).ok).toBe(true);
    const ext = { [`extension-definition--${U}`]: { extension_type: 'new-sdo' } };
    expect(validateObject(ex('campaign', { type: 'acme-thing', id: `acme-thing--${U}`, extensions: ext })).ok).toBe(true);
  });

  it('accepts SCOs without spec_version and with deterministic v5 ids', () => {
    const r = validateObject({ type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' });
    expect(r).toMatchObject({ ok: true, warnings: [] });
  });

  it('warns (does not reject) a v1 UUID on an SDO', () => {
    const r = validateObject(ex('identity', { id: 'identity--1621d4d4-b67d-11e3-9670-f01faf20d111' }));
    expect(r.ok && r.warnings[0]).toMatch(/UUID version 1/);
  });

  it('warns on values outside an open vocabulary', () => {
    const r = validateObject(ex('identity', { identity_class: 'alliance' }));
    expect(r.ok && r.warnings).toEqual(['identity_class: "alliance" is not in the suggested vocabulary']);
  });

  it('accepts deprecated observed-data objects dictionaries', () => {
    const o = without('observed-data', 'object_refs');
    o['objects'] = { '0': { type: 'ipv4-addr', id: `ipv4-addr--${U}`, value: '198.51.100.3' } };
    expect(validateObject(o).ok).toBe(true);
  });

  it('validates the SCOs inside observed-data objects', () => {
    const o = without('observed-data', 'object_refs');
    o['objects'] = { '0': { type: 'ipv4-addr', value: '198.51.100.3' }, '1': ex('identity') };
    const r = validateObject(o);
    expect(!r.ok && r.errors.map((e) => `${e.path} ${e.rule}`)).toEqual(['objects.0.id required', 'objects.1 observed-data.content']);
  });

  it('accepts predefined -ext extensions and TLP 2.0 marking objects', () => {
    const f = ex('file', { extensions: { 'ntfs-ext': { sid: 'S-1-5' } } });
    expect(validateObject(f).ok).toBe(true);
  });

  it('reports the pattern error position', () => {
    const r = validateObject(ex('indicator', { pattern: "[ipv4-addr:value = '1.2.3.4'" }));
    expect(!r.ok && r.errors[0]?.message).toMatch(/position \d+/);
  });

  it('does not parse non-STIX patterns', () => {
    expect(validateObject(ex('indicator', { pattern_type: 'sigma', pattern: 'title: x' })).ok).toBe(true);
  });

  it('caps the number of errors', () => {
    const o: Record<string, unknown> = ex('indicator');
    for (let i = 0; i < 300; i++) o[`X${i}`] = 1;
    const r = validateObject(o, { limits: { maxErrors: 10 } });
    expect(!r.ok && r.errors).toHaveLength(10);
  });
});
