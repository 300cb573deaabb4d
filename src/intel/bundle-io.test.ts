/** Streaming bundle import (one transaction per bundle) and policy-filtered bulk export. */
import { createReadStream, readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Audience } from '../core/policy.js';
import { AccessService, type Actor } from '../access/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { TLP2_MARKING_IDS } from '../stix/index.js';
import { exportBundle, importBundleStream, MAX_REPORTED_ERRORS } from './bundle-io.js';
import { IntelService } from './service.js';
import { sharedPath } from '../../test/helpers/shared.js';

const ICS = sharedPath('data/stix/ics-attack-18.1.json');
const T = '2025-05-01T10:00:00.000Z';
const SYS: Actor = { principal: null, source: 'test' };

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function indicator(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuid(n)}`, created: T, modified: T, name: `ind ${n}`,
    pattern: `[ipv4-addr:value = '198.51.100.${n % 250}']`, pattern_type: 'stix', valid_from: T, ...over,
  };
}

function bundleText(objects: unknown[]): string {
  return JSON.stringify({ type: 'bundle', id: `bundle--${uuid(999_999)}`, objects });
}

/** The text in small chunks, as a network body or a file would arrive. */
function chunked(text: string, size = 4096): Readable {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return Readable.from(parts);
}

/** Collects what a Writable receives. */
function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A store whose transactions fail on the n-th putObjects call, after earlier batches were written. */
function failingStore(inner: Store, failOnCall: number): Store {
  let calls = 0;
  const wrap = (s: Store): Store => new Proxy(s, {
    get(target, key) {
      if (key === 'transaction') return <T>(fn: (tx: Store) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)));
      if (key === 'putObjects') {
        return async (...args: Parameters<Store['putObjects']>) => {
          if (++calls === failOnCall) throw new Error('disk full (simulated)');
          return target.putObjects(...args);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return wrap(inner);
}

describe('importBundleStream / exportBundle', () => {
  const clock = new ManualClock('2025-06-01T00:00:00Z');
  let store: Store;
  let access: AccessService;
  let intel: IntelService;
  let coll: string;
  let orgA: string;
  let orgB: string;
  let orgC: string;
  const as = (org: string): Audience => ({ hop: 'local', orgId: org, groupIds: [] });

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    access = new AccessService(store, clock);
    intel = new IntelService(store, clock);
    orgA = (await access.createOrganisation(SYS, { name: 'Org A', shortName: 'A' })).id;
    orgB = (await access.createOrganisation(SYS, { name: 'Org B', shortName: 'B' })).id;
    orgC = (await access.createOrganisation(SYS, { name: 'Org C', shortName: 'C' })).id;
    coll = (await access.createCollection(SYS, { apiRoot: 'api1', title: 'c' })).id;
  });

  const importText = (text: string | Readable, opts: Parameters<typeof importBundleStream>[2] = {}) =>
    importBundleStream(intel, { actor: SYS, collectionId: coll, readable: typeof text === 'string' ? chunked(text) : text }, { asOrg: orgA, ...opts });

  it('streams a bundle in batches, reports progress, and a re-import is all duplicates', async () => {
    const objects = Array.from({ length: 2500 }, (_, i) => indicator(i + 1));
    const text = bundleText(objects);
    const progress: { objects: number; bytes: number }[] = [];
    const first = await importText(text, { batchSize: 1000, defaultTlp: 'green', onProgress: (p) => progress.push(p) });
    expect(first).toEqual({ total: 2500, added: 2500, duplicates: 0, rejected: 0, errors: [] });
    expect(progress.map((p) => p.objects)).toEqual([1000, 2000, 2500]);
    expect(progress.at(-1)?.bytes).toBe(Buffer.byteLength(text));
    expect(await store.countObjects(coll)).toBe(2500);
    const again = await importText(text, { batchSize: 700, defaultTlp: 'green' });
    expect(again).toEqual({ total: 2500, added: 0, duplicates: 2500, rejected: 0, errors: [] });
    expect(await store.countObjects(coll)).toBe(2500);
    const audit = (await store.listAudit({ limit: 100 })).filter((a) => a.action === 'intel.import');
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({ total: 2500, duplicates: 2500, asOrg: orgA, tlp: 'green' });
  });

  it('streams: the first batch is stored before the rest of the input has even been produced', async () => {
    const n = 3000;
    let produced = 0;
    const producedAtBatch: number[] = [];
    // A lazy source: objects are only generated when the parser asks for more input.
    async function* source() {
      yield '{"type":"bundle","id":"bundle--' + uuid(1) + '","objects":[';
      for (let i = 1; i <= n; i++) {
        produced = i;
        yield `${i > 1 ? ',' : ''}${JSON.stringify(indicator(i))}`;
      }
      yield ']}';
    }
    const r = await importText(Readable.from(source()), { batchSize: 500, onProgress: () => producedAtBatch.push(produced) });
    expect(r.added).toBe(n);
    expect(producedAtBatch).toHaveLength(n / 500);
    // Backpressure bounds the read-ahead: far from the whole bundle is held when batch 1 commits.
    expect(producedAtBatch[0]).toBeLessThan(n / 2);
  });

  it('reports rejects with their index and id and stores the rest; at most 100 errors are listed', async () => {
    const objects: unknown[] = [indicator(1), { type: 'indicator', id: 'indicator--bad' }, 42, indicator(2)];
    const r = await importText(bundleText(objects));
    expect(r).toMatchObject({ total: 4, added: 2, duplicates: 0, rejected: 2 });
    expect(r.errors.map((e) => [e.index, e.id])).toEqual([[1, 'indicator--bad'], [2, null]]);
    expect(r.errors[0]?.message.length).toBeGreaterThan(5);
    const many = Array.from({ length: 150 }, (_, i) => ({ type: 'indicator', id: `indicator--${uuid(5000 + i)}` }));
    const r2 = await importText(bundleText(many), { batchSize: 40 });
    expect(r2.rejected).toBe(150);
    expect(r2.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(r2.errors.at(-1)?.index).toBe(99);
  });

  it('refuses malformed JSON with a clear error and stores nothing, even after full batches', async () => {
    const text = bundleText(Array.from({ length: 1200 }, (_, i) => indicator(i + 1)));
    const truncated = text.slice(0, Math.floor(text.length * 0.9));
    const err = await importText(truncated, { batchSize: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('MALFORMED_JSON');
    expect((err as AppError).message).toMatch(/malformed JSON/);
    expect(await store.countObjects(coll)).toBe(0);
    const garbage = await importText(`${text.slice(0, 40_000)} }}} not json`, { batchSize: 50 }).catch((e: unknown) => e);
    expect((garbage as AppError).code).toBe('MALFORMED_JSON');
    expect(await store.countObjects(coll)).toBe(0);
    expect((await store.listAudit({ limit: 10 })).some((a) => a.action === 'intel.import')).toBe(false);
  });

  it('refuses documents that are not bundles and stores nothing', async () => {
    const cases: [string, RegExp][] = [
      [JSON.stringify({ type: 'report', objects: [indicator(1)] }), /"type" is "report"/],
      [JSON.stringify({ objects: [indicator(1)] }), /"type" is missing/],
      [JSON.stringify({ type: 'bundle', objects: { a: indicator(1) } }), /"objects" must be a list/],
      [JSON.stringify([indicator(1)]), /not a JSON object/],
      ['"bundle"', /not a JSON object/],
    ];
    for (const [text, why] of cases) {
      const err = await importText(text).catch((e: unknown) => e);
      expect((err as AppError).code, text).toBe('INVALID_STIX');
      expect((err as AppError).message).toMatch(why);
    }
    // The objects come before "type" here: they are submitted, then rolled back.
    const late = `{"objects":${JSON.stringify(Array.from({ length: 30 }, (_, i) => indicator(i + 1)))},"type":"x-not-bundle"}`;
    expect(((await importText(late, { batchSize: 10 }).catch((e: unknown) => e)) as AppError).code).toBe('INVALID_STIX');
    expect(await store.countObjects(coll)).toBe(0);
    // Hostile nesting is refused by the path filter's depth guard, not by running out of stack.
    const deep = `{"type":"bundle","objects":[{"x":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    const deepErr = await importText(deep).catch((e: unknown) => e);
    expect((deepErr as AppError).code).toBe('INVALID_STIX');
    expect((deepErr as AppError).message).toMatch(/nesting too deep/);
    // An empty bundle is fine.
    expect(await importText('{"type":"bundle","id":"bundle--' + uuid(1) + '"}')).toEqual({ total: 0, added: 0, duplicates: 0, rejected: 0, errors: [] });
  });

  it('leaves nothing when the transaction fails mid-stream (store error or broken input stream)', async () => {
    const text = bundleText(Array.from({ length: 900 }, (_, i) => indicator(i + 1)));
    const failing = new IntelService(failingStore(store, 3), clock);
    const err = await importBundleStream(failing, { actor: SYS, collectionId: coll, readable: chunked(text) }, { asOrg: orgA, batchSize: 200 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('disk full (simulated)');
    expect(await store.countObjects(coll)).toBe(0);

    async function* broken() {
      yield text.slice(0, text.length / 2);
      throw new Error('connection reset');
    }
    const err2 = await importText(Readable.from(broken()), { batchSize: 100 }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/connection reset/);
    expect(await store.countObjects(coll)).toBe(0);
  });

  it('answers NOT_FOUND for an unknown collection', async () => {
    const err = await importBundleStream(intel, { actor: SYS, collectionId: 'nope', readable: chunked(bundleText([])) }, { asOrg: orgA }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('NOT_FOUND');
  });

  describe('export', () => {
    beforeEach(async () => {
      const put = (objects: unknown[], opts: Parameters<IntelService['submit']>[3]) => intel.submit(SYS, coll, objects, opts);
      await put([indicator(1)], { asOrg: orgA, defaultTlp: 'clear' });
      await put([indicator(2)], { asOrg: orgA, defaultTlp: 'green' });
      await put([indicator(3)], { asOrg: orgA, defaultTlp: 'amber', recipients: [orgB] });
      await put([indicator(4)], { asOrg: orgA, defaultTlp: 'amber+strict', recipients: [orgB] });
      await put([indicator(5)], { asOrg: orgA, defaultTlp: 'red', recipients: [orgB] });
      await put([indicator(6)], { asOrg: orgA });
      await put([indicator(7), indicator(7, { modified: '2025-05-02T10:00:00.000Z', name: 'ind 7 v2' })], { asOrg: orgA, defaultTlp: 'green' });
    });

    const exported = async (audience: Audience, extra: { pageSize?: number; types?: string[] } = {}) => {
      const s = sink();
      const filters = extra.types ? { types: extra.types } : undefined;
      const r = await exportBundle(access, { actor: SYS, collectionIds: [coll], audience, ...(filters ? { filters } : {}), ...(extra.pageSize ? { pageSize: extra.pageSize } : {}) }, s.out);
      const doc = JSON.parse(s.text()) as { type: string; id: string; objects: { id: string; name: string }[] };
      expect(doc.type).toBe('bundle');
      expect(doc.id).toBe(r.id);
      expect(doc.objects).toHaveLength(r.count);
      return doc.objects.map((o) => o.name).sort();
    };

    it('applies the release policy for bulk: AMBER only to recipients, RED never, not even to its creator', async () => {
      expect(await exported(as(orgA), { pageSize: 2 })).toEqual(['ind 1', 'ind 2', 'ind 3', 'ind 4', 'ind 6', 'ind 7 v2']);
      expect(await exported(as(orgB), { pageSize: 1 })).toEqual(['ind 1', 'ind 2', 'ind 3', 'ind 4', 'ind 7 v2']);
      expect(await exported(as(orgC))).toEqual(['ind 1', 'ind 2', 'ind 7 v2']);
      expect(await exported({ hop: 'public' })).toEqual(['ind 1']);
      expect(await exported(as(orgC), { types: ['malware'] })).toEqual([]);
    });

    it('marks the export in the audit log with the count and the audience', async () => {
      await exported(as(orgB));
      const [row] = await store.listAudit({ limit: 1 });
      expect(row?.action).toBe('intel.export');
      expect(JSON.parse(row?.detail ?? '{}')).toMatchObject({ count: 5, audience: orgB });
    });

    it('ends with an error, not a hang, when the destination goes away mid-export', async () => {
      let writes = 0;
      const out = new Writable({
        highWaterMark: 8,
        write(_c, _e, cb) {
          if (++writes === 2) {
            cb();
            out.destroy();
            return;
          }
          setTimeout(cb, 5);
        },
      });
      const err = await exportBundle(access, { actor: SYS, collectionIds: [coll], audience: as(orgA), pageSize: 1 }, out).catch((e: unknown) => e);
      expect((err as AppError).code).toBe('UNAVAILABLE');
      expect((await store.listAudit({ limit: 100 })).some((a) => a.action === 'intel.export')).toBe(false);
    });

    it('emits each version once when several collections hold it', async () => {
      const other = (await access.createCollection(SYS, { apiRoot: 'api1', title: 'd' })).id;
      await intel.submit(SYS, other, [indicator(1)], { asOrg: orgA, defaultTlp: 'clear' });
      const s = sink();
      const r = await exportBundle(access, { actor: SYS, collectionIds: [coll, other], audience: as(orgC) }, s.out);
      expect(r.count).toBe(3);
      expect((JSON.parse(s.text()) as { objects: { id: string }[] }).objects.map((o) => o.id).sort())
        .toEqual([indicator(1).id, indicator(2).id, indicator(7).id]);
    });
  });

  it('imports ATT&CK for ICS with zero rejects and exports back the same objects', async () => {
    const original = (JSON.parse(readFileSync(ICS, 'utf8')) as { objects: { id: string; modified?: string }[] }).objects;
    const r = await importBundleStream(intel, { actor: SYS, collectionId: coll, readable: createReadStream(ICS) }, { asOrg: orgA, preserveProvenance: true });
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ total: original.length, added: original.length, rejected: 0 });
    const s = sink();
    const e = await exportBundle(access, { actor: SYS, collectionIds: [coll], audience: as(orgA) }, s.out);
    expect(e.count).toBe(original.length);
    const back = (JSON.parse(s.text()) as { objects: { id: string; modified?: string }[] }).objects;
    const key = (o: { id: string; modified?: string }) => `${o.id}@${o.modified ?? ''}`;
    expect(back.map(key).sort()).toEqual(original.map(key).sort());
    const byId = new Map(back.map((o) => [o.id, o as Record<string, unknown>]));
    // With preserveProvenance every object comes back exactly as published, creator-less ones included.
    for (const o of original) expect(byId.get(o.id), o.id).toEqual(o);
    // TLP marking definitions did not exist in the bundle: nothing got a TLP it did not carry.
    expect(s.text()).not.toContain(TLP2_MARKING_IDS.amber);
  }, 60_000);

  it('import --tlp of MITRE\'s objects records the TLP as a policy fact, never as a marking in them (docs/stix-versioning.md)', async () => {
    const original = (JSON.parse(readFileSync(ICS, 'utf8')) as { objects: Record<string, unknown>[] }).objects
      .filter((o) => typeof o.created_by_ref === 'string' && o.type !== 'marking-definition').slice(0, 40);
    expect(original.length).toBe(40);
    const r = await importBundleStream(intel, { actor: SYS, collectionId: coll, readable: chunked(bundleText(original)) },
      { asOrg: orgA, preserveProvenance: true, defaultTlp: 'amber', recipients: [orgB] });
    expect(r).toMatchObject({ added: 40, rejected: 0 });
    const rows = (await store.queryObjects({ collectionIds: [coll], audience: as(orgB), purpose: 'read', ids: original.map((o) => String(o.id)), limit: 100 })).rows;
    expect(rows).toHaveLength(40);
    const byId = new Map(original.map((o) => [String(o.id), o]));
    for (const row of rows) {
      expect(row.json).toBe(JSON.stringify(byId.get(row.id)));
      expect([row.tlp, row.recipients]).toEqual(['amber', [orgB]]);
    }
    // The policy fact is what releases: a third organisation reads none of it.
    expect((await store.queryObjects({ collectionIds: [coll], audience: as(orgC), purpose: 'read', ids: original.map((o) => String(o.id)), limit: 100 })).rows).toEqual([]);
  });
});
