import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ANY, NA, CpeError, formatCpe, lit, parseCpe, type Value } from './name.js';
import { compareValues, cpeMatches, type Relation } from './match.js';
import { compareVersions, cve5Status, inNvdRange, type VersionEntry } from './versions.js';
import { affectedBy } from './applicability.js';

const v = (fs: string): Value => parseCpe(`cpe:2.3:a:x:${fs}:*:*:*:*:*:*:*:*`)[2]!;

describe('NISTIR 7696 Table 6-2: attribute comparison relations', () => {
  // [case, source, target, expected] — i, k: literal strings; m + wild: a string with an end wildcard.
  const cases: [number, Value, Value, Relation][] = [
    [1, ANY, ANY, 'equal'],
    [2, ANY, NA, 'superset'],
    [3, ANY, lit('i'), 'superset'],
    [4, ANY, v('m*'), 'undefined'],
    [5, NA, ANY, 'subset'],
    [6, NA, NA, 'equal'],
    [7, NA, lit('i'), 'disjoint'],
    [8, NA, v('m*'), 'undefined'],
    [9, lit('i'), ANY, 'subset'],
    [10, lit('i'), NA, 'disjoint'],
    [11, lit('i'), lit('i'), 'equal'],
    [12, lit('i'), lit('k'), 'disjoint'],
    [13, lit('m'), v('m*'), 'undefined'],
    [14, v('foo*'), lit('foobar'), 'superset'],
    [15, v('foo*'), ANY, 'subset'],
    [16, v('foo*'), NA, 'disjoint'],
    [17, v('foo*'), v('fo*'), 'undefined'],
    [18, v('foo*'), lit('barfoo'), 'disjoint'],
  ];
  it.each(cases)('case %i', (_n, s, t, want) => {
    expect(compareValues(s, t)).toBe(want);
  });

  it('compares case-insensitively and honours ? as at most one character per mark', () => {
    expect(compareValues(v('Foo'), lit('FOO'))).toBe('equal');
    expect(compareValues(v('1.?'), lit('1.2'))).toBe('superset');
    expect(compareValues(v('1.?'), lit('1.'))).toBe('superset');
    expect(compareValues(v('1.?'), lit('1.23'))).toBe('disjoint');
    expect(compareValues(v('??1'), lit('221'))).toBe('superset');
    expect(compareValues(v('??1'), lit('3221'))).toBe('disjoint');
    expect(compareValues(v('*sp?'), lit('xsp1'))).toBe('superset');
  });
});

describe('CPE names', () => {
  it('parses the 2.3 formatted string with quoting', () => {
    const w = parseCpe('cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*');
    expect(w[3]).toEqual(lit('7.4.0.1570'));
    expect(w[4]).toEqual(NA);
    expect(w[5]).toEqual(ANY);
    const q = parseCpe('cpe:2.3:a:foo\\\\bar:big\\$money_manager_2010:*:*:*:*:special:ipod_touch:80gb:*');
    expect(q[1]).toEqual(lit('foo\\bar'));
    expect(q[2]).toEqual(lit('big$money_manager_2010'));
    // A quoted asterisk is a literal, not a wildcard.
    expect(parseCpe('cpe:2.3:a:x:y\\*:*:*:*:*:*:*:*:*')[2]).toEqual(lit('y*'));
  });

  it('parses the 2.2 URI binding into the same WFN, with percent-encoding and a packed edition', () => {
    const a = parseCpe('cpe:/a:redhat:openshift:4.6::el8');
    expect(formatCpe(a)).toBe('cpe:2.3:a:redhat:openshift:4.6:*:el8:*:*:*:*:*');
    const b = parseCpe('cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~');
    expect(formatCpe(b)).toBe('cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*');
    expect(parseCpe('cpe:/a:foo%5cbar:big%24money')[2]).toEqual(lit('big$money'));
    expect(parseCpe('cpe:/a:x:y:1.%02')[3]).toEqual(v('1.*'));
  });

  it('refuses malformed names with a reason', () => {
    expect(() => parseCpe('cpe:2.3:a:x:y')).toThrow(CpeError);
    expect(() => parseCpe('cpe:2.3:q:x:y:*:*:*:*:*:*:*:*')).toThrow(/part/);
    expect(() => parseCpe('cpe:2.3:a:x:y*z:*:*:*:*:*:*:*:*')).toThrow(/start or end/);
    expect(() => parseCpe('cpe:2.3:a:x:y$z:*:*:*:*:*:*:*:*')).toThrow(/quoted/);
    expect(() => parseCpe('nope')).toThrow(/not a CPE/);
  });

  it('matches names: criteria ANY matches NA, but inventory NA never matches a value', () => {
    const crit = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*');
    expect(cpeMatches(crit, parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*'))).toBe(false);
    expect(cpeMatches(crit, parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp2:*:*:*:*:*:*'))).toBe(true);
    expect(cpeMatches(parseCpe('cpe:2.3:a:x:y:1.0:*:*:*:*:*:*:*'), parseCpe('cpe:2.3:a:x:y:-:*:*:*:*:*:*:*'))).toBe(false);
    expect(cpeMatches(parseCpe('cpe:2.3:a:x:y:*:*:*:*:*:*:*:*'), parseCpe('cpe:2.3:a:x:y:-:*:*:*:*:*:*:*'))).toBe(true);
  });
});

describe('version ranges', () => {
  it('orders versions segment by segment', () => {
    expect(compareVersions('10.2.9', '10.2.9-h1')).toBe(-1);
    expect(compareVersions('10.2.10', '10.2.9-h1')).toBe(1);
    expect(compareVersions('2.426.3', '2.426.3')).toBe(0);
    expect(compareVersions('1.0rc1', '1.0.1')).toBe(-1);
  });

  it('applies the CVE 5 first-match algorithm with changes and defaultStatus (CVE-2024-3400, CVE-2024-23897 shapes)', () => {
    const pan: VersionEntry[] = [
      { version: '10.1.0', status: 'unaffected' },
      { version: '10.2.0', lessThan: '10.2.9-h1', versionType: 'custom', status: 'affected', changes: [{ at: '10.2.8-h3', status: 'unaffected' }, { at: '10.2.7-h8', status: 'unaffected' }] },
    ];
    expect(cve5Status('10.2.5', pan)).toBe('affected');
    expect(cve5Status('10.2.7-h8', pan)).toBe('unaffected');
    expect(cve5Status('10.2.9-h1', pan)).toBe('unknown');
    expect(cve5Status('10.1.0', pan)).toBe('unaffected');
    const jenkins: VersionEntry[] = [
      { status: 'unaffected', version: '0', lessThan: '1.606', versionType: 'maven' },
      { status: 'unaffected', version: '2.442', lessThan: '*', versionType: 'maven' },
      { status: 'unaffected', version: '2.426.3', lessThan: '2.426.*', versionType: 'maven' },
    ];
    expect(cve5Status('2.426.2', jenkins, 'affected')).toBe('affected');
    expect(cve5Status('2.426.3', jenkins, 'affected')).toBe('unaffected');
    expect(cve5Status('2.426.9', jenkins, 'affected')).toBe('unaffected');
    expect(cve5Status('2.427', jenkins, 'affected')).toBe('affected');
    expect(cve5Status('2.500', jenkins, 'affected')).toBe('unaffected');
    expect(cve5Status('1.5', jenkins, 'affected')).toBe('unaffected');
  });

  it('reads NVD bounds and treats vulnerable:false as context only', () => {
    expect(inNvdRange('2.4.49', { versionStartIncluding: '2.4.49', versionEndExcluding: '2.4.51' })).toBe(true);
    expect(inNvdRange('2.4.51', { versionStartIncluding: '2.4.49', versionEndExcluding: '2.4.51' })).toBe(false);
    const cfg = {
      operator: 'AND' as const,
      nodes: [
        { operator: 'OR' as const, cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:acme:agent:*:*:*:*:*:*:*:*', versionEndExcluding: '3.0' }] },
        { operator: 'OR' as const, cpeMatch: [{ vulnerable: false, criteria: 'cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*' }] },
      ],
    };
    const agent = parseCpe('cpe:2.3:a:acme:agent:2.1:*:*:*:*:*:*:*');
    const windows = parseCpe('cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*');
    expect(affectedBy(cfg, [agent, windows])).toEqual([agent]);
    expect(affectedBy(cfg, [agent])).toEqual([]); // the context is missing
    expect(affectedBy(cfg, [windows])).toEqual([]); // context alone is never affected
    expect(affectedBy({ nodes: [{ cpeMatch: [] }] }, [agent])).toEqual([]);
  });
});

// ---- property: the matcher equals a brute-force reading of the rules ----

type Gen = { kind: 'any' } | { kind: 'na' } | { kind: 'str'; pre: string; mid: string; post: string };
const midArb = fc.string({ unit: fc.constantFrom('a', 'b', '.', '1', '$'), maxLength: 4 });
const wildArb = fc.constantFrom('', '', '*', '?', '??');
const genArb: fc.Arbitrary<Gen> = fc.oneof(
  fc.constant({ kind: 'any' as const }),
  fc.constant({ kind: 'na' as const }),
  fc.record({ kind: fc.constant('str' as const), pre: wildArb, mid: midArb, post: wildArb }),
);
const concreteArb: fc.Arbitrary<Gen> = fc.oneof(
  fc.constant({ kind: 'any' as const }),
  fc.constant({ kind: 'na' as const }),
  fc.record({ kind: fc.constant('str' as const), pre: fc.constant(''), mid: midArb.filter((s) => s.length > 0), post: fc.constant('') }),
);

/** A formatted-string value that the parser accepts, or null when the generated value has no binding. */
function bind(g: Gen): string | null {
  if (g.kind === 'any') return '*';
  if (g.kind === 'na') return '-';
  if (g.mid === '' && (g.pre === '*' || g.post === '*')) return null; // "*" alone is ANY, "**" invalid
  if (g.mid === '' && g.pre === '' && g.post === '') return null;
  if (g.pre === '' && g.post === '' && g.mid === '-') return null;
  return g.pre + g.mid.replace(/\$/g, '\\$') + g.post;
}

/** Every way to split the target around the literal: the obvious, slow reading of "S matches T". */
function bruteStringMatch(p: { pre: string; mid: string; post: string }, t: string): boolean {
  const allows = (w: string, n: number) => (w === '*' ? true : n <= w.length);
  for (let a = 0; a <= t.length; a++) {
    for (let b = a; b <= t.length; b++) {
      if (t.slice(a, b) === p.mid && allows(p.pre, a) && allows(p.post, t.length - b)) return true;
    }
  }
  return false;
}

function bruteMatches(s: Gen, t: Gen): boolean {
  if (t.kind === 'str' && (t.pre || t.post)) return false; // undefined
  if (s.kind === 'any') return true;
  if (s.kind === 'na') return t.kind === 'na';
  if (t.kind !== 'str') return false; // a value never matches ANY (subset) nor NA (disjoint)
  return bruteStringMatch(s, t.mid);
}

describe('property: cpeMatches equals the brute-force reading of NISTIR 7696', () => {
  it('on random names', () => {
    fc.assert(
      fc.property(fc.array(genArb, { minLength: 3, maxLength: 3 }), fc.array(concreteArb, { minLength: 3, maxLength: 3 }), (src, tgt) => {
        const sb = src.map(bind);
        const tb = tgt.map(bind);
        fc.pre(sb.every((x) => x !== null) && tb.every((x) => x !== null));
        const S = parseCpe(`cpe:2.3:a:${sb.join(':')}:*:*:*:*:*:*:*`);
        const T = parseCpe(`cpe:2.3:a:${tb.join(':')}:*:*:*:*:*:*:*`);
        const want = src.every((s, i) => bruteMatches(s, tgt[i]!));
        expect(cpeMatches(S, T)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});
