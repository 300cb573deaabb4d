/**
 * The fast matcher (precompiled rules grouped per product key, version keys, batches matched key by
 * key) against a brute-force reading of the same rules: every CVE's every rule evaluated
 * for every product with the reference functions (cpeMatches, cve5Status, affectedBy), no
 * index, no keys, no batching. Random samples include pattern CPEs, NA/ANY/wildcard versions,
 * 2.2 names, `changes`, `prefix*` bounds, huge version numbers and NVD configurations.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { prng } from '../../core/random.js';
import { affectedBy, criterionMatches, type NvdConfiguration } from '../cpe/applicability.js';
import { cpeMatches, cpeMatchesExceptVersion } from '../cpe/match.js';
import { attr, formatCpe, tryParseCpe, type Wfn } from '../cpe/name.js';
import { compareVersions, compileVersions, compiledStatus, cve5Status, versionKey, type VersionEntry, type VersionStatus } from '../cpe/versions.js';
import { VulnIndex, normKey, productKey, type VulnRules } from './engine.js';
import type { AffectedRule } from './intel.js';
import { generateAssets, generateCves, productPool } from '../../../bench/exposure.js';
import { parseCve5 } from './intel.js';

// ---------------------------------------------------------------- the brute-force reference

function literal(w: Wfn, i: number): string | null {
  const v = w[i];
  return v?.kind === 'str' && v.pre.kind === 'none' && v.post.kind === 'none' ? v.mid : null;
}

/** The product keys a rule names, and whether one of its names is a pattern. */
function ruleKeys(r: AffectedRule): { keys: Set<string>; wild: boolean } {
  const keys = new Set<string>();
  let wild = false;
  const add = (w: Wfn | null) => {
    if (!w) return;
    const k = productKey(w);
    if (k) keys.add(k);
    else wild = true;
  };
  if (r.kind === 'nvd') for (const c of r.configurations) for (const n of c.nodes ?? []) for (const m of n.cpeMatch ?? []) add(tryParseCpe(m.criteria));
  else {
    if (r.kind === 'cve5') r.cpes.forEach((c) => add(tryParseCpe(c)));
    if (r.vendor && r.product) keys.add(normKey(r.vendor, r.product));
  }
  return { keys, wild };
}

/** One (product, CVE): the rules naming the product's key first, then the rest, in rule order. */
function bruteDecide(rules: readonly AffectedRule[], p: Wfn, all: readonly Wfn[]): { confidence: string; via: string } | null {
  const key = productKey(p);
  const ordered = [...rules.filter((r) => key !== null && ruleKeys(r).keys.has(key)), ...rules.filter((r) => !(key !== null && ruleKeys(r).keys.has(key)))];
  let unaffected = false;
  let product: string | null = null;
  for (const r of ordered) {
    if (r.kind === 'product') {
      if (key !== null && normKey(r.vendor, r.product) === key) product = r.source;
      continue;
    }
    if (r.kind === 'nvd') {
      for (const cfg of r.configurations) {
        if (affectedBy(cfg, all).includes(p)) return { confidence: 'version', via: r.source };
        const named = (cfg.nodes ?? []).some((n) => (n.cpeMatch ?? []).some((m) => {
          const w = m.vulnerable ? tryParseCpe(m.criteria) : null;
          return w !== null && cpeMatchesExceptVersion(w, p) && !criterionMatches(m, w, p);
        }));
        if (named) unaffected = true;
      }
      continue;
    }
    const cpes = r.cpes.map(tryParseCpe).filter((w): w is Wfn => w !== null);
    const named = cpes.length
      ? cpes.some((w) => (r.versions.length ? cpeMatchesExceptVersion(w, p) : cpeMatches(w, p)))
      : key !== null && r.vendor !== '' && r.product !== '' && normKey(r.vendor, r.product) === key;
    if (!named) continue;
    const ver = literal(p, 3);
    const s: VersionStatus = ver === null ? (r.versions.length === 0 ? r.defaultStatus : 'unknown') : cve5Status(ver, r.versions, r.defaultStatus);
    if (s === 'affected') return { confidence: 'version', via: `cve5 ${r.source}` };
    if (s === 'unaffected') unaffected = true;
  }
  if (unaffected) return null;
  return product !== null ? { confidence: 'product', via: product } : null;
}

function bruteMatch(vulns: readonly VulnRules[], products: readonly Wfn[]): string[] {
  const out: string[] = [];
  for (const p of products) {
    for (const v of vulns) {
      const hit = bruteDecide(v.rules, p, products);
      if (hit) out.push(`${formatCpe(p)}|${v.cve}|${hit.confidence}|${hit.via}`);
    }
  }
  return out.sort();
}

const flat = (hits: readonly { cve: string; product: string; confidence: string; via: string }[]) => hits.map((h) => `${h.product}|${h.cve}|${h.confidence}|${h.via}`).sort();

// ---------------------------------------------------------------- random rules and inventories

const VENDORS = ['acme', 'globex', 'initech', 'Palo Alto Networks'];
const PRODUCTS = ['agent', 'pan-os', 'server', 'web_console'];
const VERSIONS = ['0', '1', '1.0', '1.0rc1', '1.0.1', '1.2', '1.10', '2.0', '2.426.3', '2.426.9', '10.2.9-h1', '10.2.10', '007.1', '12345678901234567890.1', 'beta', '3.x'];

function randomSample(seed: number, patterns = true): { vulns: VulnRules[]; assets: string[][] } {
  const r = prng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const slug = (s: string) => s.toLowerCase().replace(/ /g, '_');
  const cpeOf = (o: { part?: string; vendor?: string; product?: string; version?: string; tsw?: string }) =>
    `cpe:2.3:${o.part ?? 'a'}:${o.vendor ?? '*'}:${o.product ?? '*'}:${o.version ?? '*'}:*:*:*:*:${o.tsw ?? '*'}:*:*`;
  const entry = (): VersionEntry => {
    const kind = Math.floor(r() * 5);
    const status = pick(['affected', 'affected', 'unaffected', 'unknown'] as const);
    if (kind === 0) return { version: pick(VERSIONS), status };
    const e: VersionEntry = { version: pick(['0', '*', ...VERSIONS]), status };
    if (kind === 1) e.lessThan = pick(['*', '2.426.*', '1.*', '10.*', ...VERSIONS]);
    else if (kind === 2) e.lessThanOrEqual = pick(VERSIONS);
    else e.lessThan = pick(VERSIONS);
    if (r() < 0.4) e.changes = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ at: pick(VERSIONS), status: pick(['affected', 'unaffected'] as const) }));
    return e;
  };
  const rule = (): AffectedRule => {
    const k = r();
    const vendor = pick(VENDORS);
    const product = pick(PRODUCTS);
    if (k < 0.55) {
      const cpes = r() < 0.5 ? [] : Array.from({ length: 1 + Math.floor(r() * 2) }, () => cpeOf({
        part: pick(['a', 'o', '*']), vendor: patterns && r() < 0.1 ? 'ac*' : slug(vendor), product: patterns && r() < 0.1 ? '*' : slug(product),
        version: r() < 0.2 ? pick(VERSIONS) : '*', tsw: r() < 0.15 ? 'linux' : '*',
      }));
      return { kind: 'cve5', source: pick(['cna:x', 'adp:cisa']), vendor: r() < 0.1 ? '' : vendor, product, cpes, versions: Array.from({ length: Math.floor(r() * 4) }, entry), defaultStatus: pick(['affected', 'unaffected', 'unknown'] as const) };
    }
    if (k < 0.8) return { kind: 'product', source: 'kev:cisa', vendor, product };
    const cm = () => ({
      vulnerable: r() < 0.8, criteria: cpeOf({ part: pick(['a', 'o']), vendor: patterns && r() < 0.1 ? 'glob?x' : slug(pick(VENDORS)), product: slug(pick(PRODUCTS)) }),
      ...(r() < 0.5 ? { versionStartIncluding: pick(VERSIONS) } : {}), ...(r() < 0.5 ? { versionEndExcluding: pick(VERSIONS) } : {}),
    });
    const configurations: NvdConfiguration[] = [{ operator: pick(['AND', 'OR'] as const), nodes: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({ operator: pick(['AND', 'OR'] as const), negate: r() < 0.1, cpeMatch: Array.from({ length: 1 + Math.floor(r() * 2) }, cm) })) }];
    return { kind: 'nvd', source: 'nvd', configurations };
  };
  const vulns = Array.from({ length: 60 }, (_, i) => ({ cve: `CVE-2030-${1000 + i}`, rules: Array.from({ length: 1 + Math.floor(r() * 3) }, rule) }));
  const product = (): string => {
    const v = r() < 0.1 ? '*' : r() < 0.1 ? '-' : r() < 0.05 ? '1.*' : pick(VERSIONS);
    const part = pick(['a', 'o']);
    const vendor = slug(pick(VENDORS));
    const prod = slug(pick(PRODUCTS));
    if (r() < 0.15 && v !== '1.*') return `cpe:/${part}:${vendor}:${prod}:${v === '*' ? '' : v}`;
    return cpeOf({ part, vendor, product: prod, version: v, tsw: r() < 0.1 ? 'linux' : r() < 0.05 ? 'lin*' : '*' });
  };
  const assets = Array.from({ length: 150 }, () => Array.from({ length: 1 + Math.floor(r() * 4) }, product));
  return { vulns, assets };
}

describe('version keys', () => {
  const ver = fc.array(fc.constantFrom('0', '00', '1', '2', '10', '007', 'a', 'rc', 'b', '.', '-', '_', ' ', 'h', 'Z'), { maxLength: 7 }).map((xs) => xs.join(''));
  it('order versions exactly as compareVersions', () => {
    fc.assert(fc.property(ver, ver, (a, b) => {
      // Seven pieces can join into a number of more than 15 digits: no key (tested below), the caller falls back.
      fc.pre(versionKey(a) !== null && versionKey(b) !== null);
      const ka = versionKey(a)!.key;
      const kb = versionKey(b)!.key;
      expect(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(compareVersions(a, b));
    }), { numRuns: 3000 });
  });

  it('refuse numbers compareVersions reads as floats (the caller falls back)', () => {
    expect(versionKey('1.12345678901234567890')).toBeNull();
    expect(versionKey('2101000700700700')).toBeNull(); // 16 digits (a generated case that once reached compiledStatus)
    expect(versionKey('1.000000000000000000007')!.key).toBe(versionKey('1.7')!.key);
  });

  it('compiled version entries give the status cve5Status gives', () => {
    const b = fc.constantFrom('0', '*', '1', '1.0', '1.0rc1', '1.2', '2.426.3', '2.426.*', '2.*', '10.2.9-h1', '.*', 'x*');
    const st = fc.constantFrom('affected' as const, 'unaffected' as const, 'unknown' as const);
    const e = fc.record({ version: b, status: st, lessThan: fc.option(b, { nil: undefined }), lessThanOrEqual: fc.option(b, { nil: undefined }), changes: fc.option(fc.array(fc.record({ at: b, status: st }), { maxLength: 3 }), { nil: undefined }) })
      .map((x) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as unknown as VersionEntry);
    fc.assert(fc.property(fc.array(e, { maxLength: 4 }), ver, st, (entries, v, dflt) => {
      fc.pre(versionKey(v) !== null); // a number of more than 15 digits: engine.ts uses cve5Status itself
      const c = compileVersions(entries, dflt)!;
      expect(c).not.toBeNull();
      expect(compiledStatus(versionKey(v)!, c)).toBe(cve5Status(v, entries, dflt));
    }), { numRuns: 3000 });
  });
});

describe('the fast matcher equals the brute-force reading of the rules', () => {
  it.each([[1, true], [2, true], [3, true], [4, false], [5, false], [6, false]])('on random rules and inventories (seed %i, pattern CPEs: %s)', (seed, patterns) => {
    const { vulns, assets } = randomSample(seed, patterns);
    const index = new VulnIndex();
    for (const v of vulns) index.put(v);
    let total = 0;
    const confidences = new Set<string>();
    for (const names of assets) {
      const products = names.map((n) => tryParseCpe(n)).filter((w): w is Wfn => w !== null);
      const want = bruteMatch(vulns, products);
      total += want.length;
      for (const w of want) confidences.add(w.split('|')[2]!);
      expect(flat(index.matchNames(names))).toEqual(want);
      // The memoised second pass and the Wfn entry point agree too.
      expect(flat(index.matchNames(names))).toEqual(want);
      expect(flat(index.match(products))).toEqual(want);
    }
    // In one batch, per asset, in the order the asset-by-asset matcher gives.
    const many = index.matchMany(assets);
    assets.forEach((names, i) => expect(many[i]).toEqual(index.matchNames(names)));
    assets.forEach((names, i) => expect(many[i]).toEqual(index.match(names.map((n) => tryParseCpe(n)).filter((w): w is Wfn => w !== null))));
    // The sample is not trivial: many hits, by versions and by product.
    expect(total).toBeGreaterThan(100);
    expect([...confidences].sort()).toEqual(['product', 'version']);
  });

  it('with `only`, after replacing and removing CVEs (the index follows its changes)', () => {
    const { vulns, assets } = randomSample(9);
    const index = new VulnIndex();
    for (const v of vulns) index.put(v);
    for (const names of assets.slice(0, 30)) index.matchNames(names);
    const replaced = vulns.map((v, i) => (i % 3 === 0 ? { cve: v.cve, rules: vulns[(i + 7) % vulns.length]!.rules } : v));
    const removed = new Set(vulns.filter((_, i) => i % 5 === 1).map((v) => v.cve));
    for (const [i, v] of replaced.entries()) if (i % 3 === 0) index.put(v);
    for (const cve of removed) index.remove(cve);
    const order = replaced.filter((v) => !removed.has(v.cve));
    const only = new Set(vulns.filter((_, i) => i % 2 === 0).map((v) => v.cve));
    for (const names of assets) {
      const products = names.map((n) => tryParseCpe(n)).filter((w): w is Wfn => w !== null);
      expect(flat(index.matchNames(names))).toEqual(bruteMatch(order, products));
      expect(flat(index.matchNames(names, only))).toEqual(bruteMatch(order.filter((v) => only.has(v.cve)), products));
    }
    expect(index.matchMany(assets, only).map(flat)).toEqual(assets.map((names) => bruteMatch(order.filter((v) => only.has(v.cve)), names.map((n) => tryParseCpe(n)).filter((w): w is Wfn => w !== null))));
  });

  it('on the bench generator: real KEV-like products, CVE 5 records from the real shapes', () => {
    const r = prng(5);
    const kev = [{ vendorProject: 'Microsoft', product: 'Windows' }, { vendorProject: 'Palo Alto Networks', product: 'PAN-OS' }, { vendorProject: 'Jenkins', product: 'Jenkins' }];
    const pool = productPool(kev, 50);
    const vulns: VulnRules[] = kev.map((k, i) => ({ cve: `CVE-2020-${1000 + i}`, rules: [{ kind: 'product', source: 'kev:cisa', vendor: k.vendorProject, product: k.product }] }));
    for (const d of generateCves(150, pool, r)) {
      const c = parseCve5(d);
      vulns.push({ cve: c.cve, rules: c.affected });
    }
    const index = new VulnIndex();
    for (const v of vulns) index.put(v);
    const assets = generateAssets(200, pool, r);
    const many = index.matchMany(assets.map((a) => a.products));
    assets.forEach((a, i) => expect(flat(many[i]!)).toEqual(bruteMatch(vulns, a.products.map((n) => tryParseCpe(n)!))));
    expect(many.flat().length).toBeGreaterThan(200);
  });

  it('keeps attr() semantics: a product with a wildcard version is decided by ranges as unknown', () => {
    const index = new VulnIndex();
    index.put({ cve: 'CVE-2030-0001', rules: [{ kind: 'cve5', source: 'cna:x', vendor: 'acme', product: 'agent', cpes: [], versions: [{ version: '0', lessThan: '2.0', status: 'affected' }], defaultStatus: 'unaffected' }] });
    const w = tryParseCpe('cpe:2.3:a:acme:agent:1.*:*:*:*:*:*:*:*')!;
    expect(attr(w, 'version').kind).toBe('str');
    expect(index.matchNames([formatCpe(w)])).toEqual([]);
    expect(index.matchNames(['cpe:2.3:a:acme:agent:1.5:*:*:*:*:*:*:*']).map((h) => h.cve)).toEqual(['CVE-2030-0001']);
    expect(index.matchNames(['not a cpe'])).toEqual([]);
  });
});
