/**
 * BENCH_ONLY=exposure. `exposure_full_match_s`: 50,000 generated assets (3–8 products each,
 * a skewed mix of the KEV catalog's real vendor/products and a long tail) against the full
 * real KEV catalog plus 100,000 CVE JSON 5 records generated from the shapes of the five real
 * records (ranges with lessThan / lessThanOrEqual / `*` bounds, changes, defaultStatus, CPEs
 * in CNA and ADP containers): building the index and matching every asset, in memory.
 * `exposure_kev_update_to_alert_ms`: on a node (SQLite, in memory) holding those assets, a KEV
 * snapshot with one new entry → its exposures and alerts committed (importKev returning).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sharedPath } from '../test/helpers/shared.js';
import { parseCve5, parseKev, rulesOf, VulnIndex, type VulnDoc } from '../src/readiness/exposure/index.js';
import { formatCpe, fromProduct } from '../src/readiness/cpe/name.js';
import { collectGarbage, log, nowMs, round } from './stats.js';
import { prng } from '../src/core/random.js';
import { addMember, benchPlatform } from './platform.js';
import type { AuthedActor } from '../src/respond/index.js';

const DATA = sharedPath('data/readiness');

const slug = (s: string) => s.trim().toLowerCase().replace(/[^a-z0-9._-]+/g, '_');

interface Product { vendor: string; product: string }

export function productPool(kev: { vendorProject: string; product: string }[], tail: number): Product[] {
  const seen = new Map<string, Product>();
  for (const k of kev) seen.set(`${slug(k.vendorProject)}:${slug(k.product)}`, { vendor: slug(k.vendorProject), product: slug(k.product) });
  const pool = [...seen.values()];
  for (let i = 0; i < tail; i++) pool.push({ vendor: `vendor${i % 2000}`, product: `product${i}` });
  return pool;
}

const version = (r: () => number) => `${1 + Math.floor(r() * 12)}.${Math.floor(r() * 10)}.${Math.floor(r() * 30)}`;

/** 100,000 CVE 5 records: a real record's JSON with its vendor/product/versions rewritten. */
export function* generateCves(n: number, pool: Product[], r: () => number): Generator<unknown> {
  const templates = readdirSync(path.join(DATA, 'cve')).filter((f) => /^CVE-.*\.json$/.test(f)).map((f) => readFileSync(path.join(DATA, 'cve', f), 'utf8'));
  for (let i = 0; i < n; i++) {
    const doc = JSON.parse(templates[i % templates.length]!) as { cveMetadata: { cveId: string }; containers: { cna: { affected?: Record<string, unknown>[] }; adp?: { affected?: Record<string, unknown>[] }[] } };
    doc.cveMetadata.cveId = `CVE-2031-${String(100000 + i)}`;
    // Skewed: most records name the long tail, some the common products.
    const p = pool[r() < 0.3 ? Math.floor(r() * Math.min(pool.length, 800)) : Math.floor(r() * pool.length)]!;
    const hi = version(r);
    for (const a of [...(doc.containers.cna.affected ?? []), ...(doc.containers.adp ?? []).flatMap((x) => x.affected ?? [])]) {
      a.vendor = p.vendor;
      a.product = p.product;
      if (Array.isArray(a.cpes)) a.cpes = (a.cpes as string[]).map(() => `cpe:2.3:a:${p.vendor}:${p.product}:*:*:*:*:*:*:*:*`);
      if (Array.isArray(a.versions)) {
        for (const v of a.versions as Record<string, unknown>[]) {
          if (typeof v.lessThan === 'string' && v.lessThan !== '*') v.lessThan = v.lessThan.endsWith('*') ? `${hi.split('.')[0]}.*` : hi;
          if (typeof v.lessThanOrEqual === 'string') v.lessThanOrEqual = hi;
        }
      }
    }
    yield doc;
  }
}

export function generateAssets(n: number, pool: Product[], r: () => number): { name: string; criticality: string; products: string[] }[] {
  const crit = ['low', 'medium', 'medium', 'high', 'critical'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = 3 + Math.floor(r() * 6);
    const products: string[] = [];
    for (let j = 0; j < k; j++) {
      // A skewed mix: a few hundred common products carry most installations.
      const idx = r() < 0.7 ? Math.floor(r() ** 2 * Math.min(pool.length, 600)) : Math.floor(r() * pool.length);
      const p = pool[idx]!;
      products.push(formatCpe(fromProduct({ vendor: p.vendor, product: p.product, version: version(r), part: j === 0 ? 'o' : 'a' })));
    }
    out.push({ name: `host-${i}`, criticality: crit[Math.floor(r() * crit.length)]!, products });
  }
  return out;
}

export async function benchExposure(o: { assets: number; cves: number }): Promise<Record<string, number | string>> {
  const r = prng(12);
  const kevDoc = JSON.parse(readFileSync(path.join(DATA, 'kev/known_exploited_vulnerabilities-2024.09.09.json'), 'utf8')) as { vulnerabilities: Record<string, unknown>[] };
  const kev = parseKev(kevDoc);
  const pool = productPool(kev.entries, 20_000);
  const assets = generateAssets(o.assets, pool, r);
  // The records are generated as they are indexed (100,000 parsed documents would hold ~1 GB);
  // generating one (a JSON.parse of its template) is counted in the index time.
  const cveDocs = generateCves(o.cves, pool, r);
  collectGarbage();

  // --- full match, in memory: parse the records, build the index, match every asset.
  const t0 = nowMs();
  // CPU time of this process too: on the shared machine the wall time mostly measures the load.
  const cpu0 = process.cpuUsage();
  const index = new VulnIndex();
  for (const e of kev.entries) {
    const doc: VulnDoc = { cve: e.cve, title: null, description: null, cvss: [], epss: null, kev: { ...e, firstSeen: '', lastSeen: '', catalogVersion: '', removedAt: null }, affected: [], cwes: [], sources: [] };
    index.put({ cve: e.cve, rules: rulesOf(doc) });
  }
  for (const d of cveDocs) {
    const c = parseCve5(d);
    index.put({ cve: c.cve, rules: c.affected });
  }
  const tIndex = nowMs();
  let hits = 0;
  const exposed = new Set<number>();
  for (let i = 0; i < assets.length; i += 5000) {
    const found = index.matchMany(assets.slice(i, i + 5000).map((a) => a.products));
    for (const [j, h] of found.entries()) {
      hits += h.length;
      if (h.length) exposed.add(i + j);
    }
  }
  const t1 = nowMs();
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const fullS = (t1 - t0) / 1000;
  log(`exposure: ${o.assets} assets × (${kev.entries.length} KEV + ${o.cves} CVE records): index (incl. generating the records) ${round((tIndex - t0) / 1000)} s, match ${round((t1 - tIndex) / 1000)} s, total ${round(fullS)} s (CPU ${round(cpuS)} s); ${hits} exposures on ${exposed.size} assets`);

  // --- a KEV update to its alerts, through the service on a node holding the inventory.
  const node = await benchPlatform();
  try {
    const { exposures } = node.platform.exposure;
    const who = (await addMember(node.platform, 'EXP', 'Exposure bench member')).actor as AuthedActor;
    const tImp = nowMs();
    for (let i = 0; i < assets.length; i += 5000) await exposures.importAssets(who, assets.slice(i, i + 5000));
    // The previous snapshot: one entry, matching nothing (loading the full catalog here would
    // write every KEV exposure of 50,000 assets first, which is the full match measured above).
    const base = { cveID: 'CVE-2099-0000', vendorProject: 'nobody', product: 'nothing', vulnerabilityName: 'bench', dateAdded: '2099-01-01', shortDescription: 'bench', requiredAction: 'Apply updates.', dueDate: '2099-01-22' };
    await exposures.importKev(who, { catalogVersion: '2099.01.01', dateReleased: '2099-01-01T00:00:00Z', count: 1, vulnerabilities: [base] });
    log(`exposure: node loaded with ${assets.length} assets in ${round((nowMs() - tImp) / 1000)} s`);
    const target = pool[40]!;
    const fresh = { ...base, cveID: 'CVE-2099-0001', vendorProject: target.vendor, product: target.product };
    collectGarbage();
    const tk = nowMs();
    const res = await exposures.importKev(who, { catalogVersion: '2099.01.02', dateReleased: '2099-01-02T00:00:00Z', count: 2, vulnerabilities: [base, fresh] });
    const kevMs = nowMs() - tk;
    log(`exposure: KEV update (1 new entry) → ${res.exposures} exposures, ${res.alerts} alerts in ${round(kevMs)} ms`);
    return {
      exposure_assets: o.assets, exposure_cve_records: o.cves, exposure_kev_entries: kev.entries.length, exposure_full_match_s: round(fullS), exposure_full_match_cpu_s: round(cpuS),
      exposure_index_build_s: round((tIndex - t0) / 1000), exposure_matches: hits, exposure_kev_update_to_alert_ms: round(kevMs), exposure_kev_update_alerts: res.alerts,
      exposure_kev_update_exposures: res.exposures,
    };
  } finally {
    await node.dispose();
  }
}
