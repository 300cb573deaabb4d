import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, deterministicScoId, isUuid, newStixId, parseStixId, STIX_SCO_NAMESPACE, uuidVersion, uuidv5 } from './ids.js';

describe('uuidv5', () => {
  it('matches the RFC 4122 / Python uuid5 reference value', () => {
    // uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org') in the Python documentation.
    expect(uuidv5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidv5('nope', 'x')).toThrow(RangeError);
  });
});

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys and drops whitespace at every depth', () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }], 'é': 'x' })).toBe('{"a":[{"c":null,"d":true}],"b":1,"é":"x"}');
  });

  it('refuses non-finite numbers and functions', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(() => 1)).toThrow();
  });
});

describe('newStixId', () => {
  it('is type--UUIDv4 and unique', () => {
    const a = newStixId('indicator');
    expect(a).toMatch(/^indicator--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newStixId('indicator')).not.toBe(a);
  });
});

describe('parseStixId', () => {
  it('splits valid ids and rejects everything else', () => {
    expect(parseStixId('x-acme-thing--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40')).toEqual({ type: 'x-acme-thing', uuid: '6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40' });
    for (const bad of ['indicator', 'indicator--', 'indicator--1234', '--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40', 42, null, `${'a'.repeat(400)}--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40`]) {
      expect(parseStixId(bad)).toBeNull();
    }
  });

  it('accepts exactly what the grammar `type--UUID` accepts (against its regular expression)', () => {
    const ID = /^[a-z][a-z0-9-]*[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
    const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
    const good = 'x-acme--thing--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40';
    // Valid ids, then each mutated at one place by a character from a set near the grammar's edges.
    const chars = fc.constantFrom(...'aAfFgGzZ09-_ .\u00e9:'.split(''));
    const mutated = fc.tuple(fc.constantFrom(good, `indicator--${'A'.repeat(8)}-0000-4000-8000-${'f'.repeat(12)}`, 'ab--6D9FF1E6-CD8B-4B1B-9F1C-0A8A1B2C3D40'),
      fc.nat(), chars, fc.constantFrom('replace', 'insert', 'delete'))
      .map(([s, at, c, how]) => {
        const i = at % (s.length + 1);
        return how === 'replace' ? s.slice(0, i) + c + s.slice(i + 1) : how === 'insert' ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + s.slice(i + 1);
      });
    fc.assert(fc.property(fc.oneof(mutated, fc.string({ maxLength: 60 })), (s) => {
      const got = parseStixId(s);
      expect(got !== null).toBe(s.length <= 300 && ID.test(s));
      if (got) expect(`${got.type}--${got.uuid}`).toBe(s);
      expect(isUuid(s.slice(-36))).toBe(UUID.test(s.slice(-36)));
    }), { numRuns: 20_000 });
  });

  it('reads the UUID version', () => {
    expect(uuidVersion('6d9ff1e6-cd8b-5b1b-9f1c-0a8a1b2c3d40')).toBe(5);
    expect(isUuid('6d9ff1e6cd8b5b1b9f1c0a8a1b2c3d40')).toBe(false);
  });
});

describe('deterministicScoId', () => {
  it('is a v5 UUID in the STIX namespace over the id-contributing properties', () => {
    const id = deterministicScoId('ipv4-addr', { value: '198.51.100.3', resolves_to_refs: ['mac-addr--6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d40'] });
    expect(id).toBe(`ipv4-addr--${uuidv5(STIX_SCO_NAMESPACE, '{"value":"198.51.100.3"}')}`);
    expect(uuidVersion(id.split('--')[1] ?? '')).toBe(5);
  });

  it('does not depend on property order and differs by value', () => {
    const a = deterministicScoId('software', { name: 'Word', vendor: 'Microsoft' });
    expect(deterministicScoId('software', { vendor: 'Microsoft', name: 'Word' })).toBe(a);
    expect(deterministicScoId('software', { vendor: 'Microsoft', name: 'Excel' })).not.toBe(a);
  });

  it('uses one hash, preferring MD5, then SHA-1, SHA-256, SHA-512', () => {
    const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
    const both = deterministicScoId('file', { hashes: { 'SHA-256': 'a'.repeat(64), MD5: md5 } });
    expect(both).toBe(deterministicScoId('file', { hashes: { MD5: md5 } }));
    expect(both).toBe(`file--${uuidv5(STIX_SCO_NAMESPACE, `{"hashes":{"MD5":"${md5}"}}`)}`);
  });

  it('falls back to a random v4 id without contributing properties (process, or none present)', () => {
    for (const [type, props] of [['process', { pid: 1 }], ['url', {}]] as const) {
      const id = deterministicScoId(type, props);
      expect(uuidVersion(id.split('--')[1] ?? '')).toBe(4);
      expect(id.startsWith(`${type}--`)).toBe(true);
    }
  });
});
