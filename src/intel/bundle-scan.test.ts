/** The streaming bundle splitter agrees with JSON.parse, whatever the chunking. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../core/errors.js';
import { BundleScanner } from './bundle-scan.js';

function scan(pieces: string[], maxNesting = 64): { items: unknown[]; envelope: Record<string, unknown> } {
  const s = new BundleScanner(maxNesting);
  const items: unknown[] = [];
  for (const p of pieces) items.push(...s.feed(p));
  s.end();
  return { items, envelope: s.envelope };
}

function splitAt(text: string, cuts: number[]): string[] {
  const sorted = [...new Set(cuts.map((c) => Math.max(0, Math.min(text.length, c))))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(text.slice(prev, c));
    prev = c;
  }
  out.push(text.slice(prev));
  return out;
}

const tricky = {
  type: 'bundle', id: 'bundle--1', spec: 2.1, flag: true, none: null, n: -12.5e3,
  objects: [
    { type: 'indicator', name: 'quote " brace } bracket ] comma , backslash \\ end', pattern: "[x:y = 'a\\'b']" },
    { type: 'note', content: 'unicode é 漢字 😀 and \u0000 control', list: [[1, 2, [3]], { a: { b: [] } }] },
    'a string item', 42, null, [], {},
  ],
  after: { nested: ['x'] },
};

describe('BundleScanner', () => {
  const text = JSON.stringify(tricky, null, 1);

  it('splits items and keeps the other members, at every single cut point', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const r = scan([text.slice(0, cut), text.slice(cut)]);
      expect(r.items).toEqual(tricky.objects);
      expect(r.envelope).toEqual({ type: 'bundle', id: 'bundle--1', spec: 2.1, flag: true, none: null, n: -12.5e3, after: { nested: ['x'] } });
    }
  });

  it('works one character at a time', () => {
    expect(scan([...text]).items).toEqual(tricky.objects);
  });

  it('agrees with JSON.parse on arbitrary JSON items and arbitrary chunking', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 6 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (items, cuts) => {
      const t = JSON.stringify({ objects: items, type: 'bundle' });
      const r = scan(splitAt(t, cuts.map((c) => c % (t.length + 1))));
      expect(r.items).toEqual(JSON.parse(t).objects);
    }), { numRuns: 300 });
  });

  it('refuses what is not a well-formed bundle', () => {
    const code = (t: string) => {
      try {
        scan([t]);
        return 'ok';
      } catch (e) {
        return (e as AppError).code;
      }
    };
    expect(code('{"objects":[1,]}')).toBe('MALFORMED_JSON');
    expect(code('{"objects":[1 2]}')).toBe('MALFORMED_JSON');
    expect(code('{"objects":[{"a":1}}')).toBe('MALFORMED_JSON');
    expect(code('{"type":"bundle"} trailing')).toBe('MALFORMED_JSON');
    expect(code('{"type" "bundle"}')).toBe('MALFORMED_JSON');
    expect(code('{"type":"bundle",}')).toBe('MALFORMED_JSON');
    expect(code('{"objects":[{"a":tru}]}')).toBe('MALFORMED_JSON');
    expect(code('{"objects":[')).toBe('MALFORMED_JSON');
    expect(code('')).toBe('INVALID_STIX');
    expect(code('[1]')).toBe('INVALID_STIX');
    expect(code('{"objects":{"a":1}}')).toBe('INVALID_STIX');
    expect(code(`{"objects":[${'['.repeat(70)}${']'.repeat(70)}]}`)).toBe('INVALID_STIX');
    expect(code('{"objects":[],"type":"bundle"}')).toBe('ok');
  });

  // Guards the linear scan: a search for backslashes restarted inside every string made one
  // large chunk quadratic (a 60 MB bundle never finished).
  it('splits one large chunk in linear time', { timeout: 10_000 }, () => {
    const objects = Array.from({ length: 20_000 }, (_, i) => ({ type: 'indicator', id: `indicator--${i}`, name: `n${i}`, pattern: "[ipv4-addr:value = '198.51.100.1']" }));
    expect(scan([JSON.stringify({ type: 'bundle', objects })]).items).toHaveLength(20_000);
  });
});
