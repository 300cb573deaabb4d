/**
 * Sightings back to producers. Indicator matches are counted per (indicator, sighting
 * organisation) and written as STIX 2.1 `sighting` objects (one id per pair, a new version at
 * most every `intervalMs`): count, first_seen, last_seen, where_sighted_refs and an
 * `observed-data` with the matched observable. They go into the indicator's collection at
 * TLP:AMBER, released to the indicator's producer and to the alliance bodies the indicator
 * itself is released to. Anonymous mode: created by the alliance CSIRT, no where_sighted_refs.
 */
import type { Actor } from '../../access/index.js';
import type { IntelService } from '../../intel/index.js';
import type { Store } from '../../store/index.js';
import { deterministicScoId, TLP2_MARKING_IDS, uuidv5 } from '../../stix/index.js';
import type { IndicatorInfo } from './feed.js';

export type SightingMode = 'named' | 'anonymous' | 'off';

/** Namespace of Shieldwall's own deterministic ids (sighting per indicator and organisation). */
const SIGHTING_NAMESPACE = '6f1f3c1e-5b7a-4c9e-9a55-0d8a8e3b7c21';

interface Tally {
  readonly indicator: IndicatorInfo;
  readonly orgId: string;
  count: number;
  firstMs: number;
  lastMs: number;
  /** Counted but not yet written. */
  unsent: number;
  writtenAtMs: number;
  observable: { type: string; props: Record<string, unknown> } | null;
  /** The stored sighting this tally continues (read before each write), so counts add up across restarts and workers. */
  prior: { createdMs: number; modifiedMs: number; count: number; firstMs: number; lastMs: number } | null | undefined;
}

/** The SCO for an exact or CIDR hit on a simple object path, if there is one. */
function observableOf(path: string | null, value: string | null): Tally['observable'] {
  if (path === null || value === null) return null;
  const m = /^([a-z0-9-]+):(.+)$/.exec(path);
  if (!m) return null;
  const [, type, prop] = m as unknown as [string, string, string];
  if (prop === 'value' && ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'mac-addr'].includes(type)) return { type, props: { value } };
  const hash = /^hashes\.'?([A-Za-z0-9-]+)'?$/.exec(prop);
  if (type === 'file' && hash) return { type, props: { hashes: { [hash[1]!]: value } } };
  return null;
}

export interface SightingDeps {
  readonly store: Store;
  readonly intel: IntelService;
  /** Alliance bodies the indicator is released to (they receive the sighting too). */
  readonly allianceFor: (indicator: IndicatorInfo) => readonly string[];
  /** The organisation that signs anonymous sightings (the alliance CSIRT); null disables them. */
  readonly anonymousSigner: () => string | null;
}

export class SightingBook {
  /** indicator id → sighting organisation → tally (nested: no joined key built per hit). */
  readonly #tallies = new Map<string, Map<string, Tally>>();
  /** Hits of the batch in flight, not counted before it commits. */
  readonly #staged: { indicator: IndicatorInfo; orgId: string; m: { atMs: number; path: string | null; value: string | null } }[] = [];
  readonly mode: SightingMode;
  readonly intervalMs: number;
  #written = 0;

  constructor(readonly deps: SightingDeps, opts: { mode: SightingMode; intervalMs: number }) {
    this.mode = opts.mode;
    this.intervalMs = opts.intervalMs;
  }

  get written(): number {
    return this.#written;
  }

  /**
   * Counts a hit of the batch being matched: held until the batch commits (`commitHits`), dropped
   * when its transaction fails (`dropHits`). A failed batch is read and matched again, and its
   * hits counted then would otherwise be counted twice.
   */
  hit(indicator: IndicatorInfo, orgId: string, m: { atMs: number; path: string | null; value: string | null }): void {
    if (this.mode === 'off') return;
    this.#staged.push({ indicator, orgId, m });
  }

  /** The batch committed: its hits count. */
  commitHits(): void {
    for (const h of this.#staged) this.#count(h.indicator, h.orgId, h.m);
    this.#staged.length = 0;
  }

  /** The batch's transaction failed: it is read again, and its hits counted then. */
  dropHits(): void {
    this.#staged.length = 0;
  }

  #count(indicator: IndicatorInfo, orgId: string, m: { atMs: number; path: string | null; value: string | null }): void {
    let byOrg = this.#tallies.get(indicator.id);
    if (byOrg === undefined) this.#tallies.set(indicator.id, (byOrg = new Map()));
    let t = byOrg.get(orgId);
    if (!t) {
      t = { indicator, orgId, count: 0, firstMs: m.atMs, lastMs: m.atMs, unsent: 0, writtenAtMs: 0, observable: null, prior: undefined };
      byOrg.set(orgId, t);
    }
    t.count++;
    t.unsent++;
    t.firstMs = Math.min(t.firstMs, m.atMs);
    t.lastMs = Math.max(t.lastMs, m.atMs);
    t.observable ??= observableOf(m.path, m.value);
  }

  /** Writes the tallies that are due (or all with `force`); returns the objects stored. */
  async flush(actor: Actor, opts: { nowMs: number; force?: boolean }): Promise<number> {
    let stored = 0;
    for (const t of [...this.#tallies.values()].flatMap((byOrg) => [...byOrg.values()])) {
      if (t.unsent === 0 || (!opts.force && opts.nowMs - t.writtenAtMs < this.intervalMs)) continue;
      const signer = this.mode === 'anonymous' ? this.deps.anonymousSigner() : t.orgId;
      if (signer === null) continue;
      // Read again at every write, not once: on a scale-out node another worker may have written
      // a version since (the organisation's partition moved to it and back), and a version built
      // on a stale count would count less than the one before, or reuse its (id, modified).
      t.prior = await this.#prior(t, signer);
      const objects = this.#objects(t, { signer, nowMs: opts.nowMs });
      const recipients = [...new Set([t.indicator.creatorOrg, ...this.deps.allianceFor(t.indicator)].filter((x): x is string => x !== null))];
      const results = await this.deps.intel.submit(actor, t.indicator.collectionId, objects, { asOrg: signer, defaultTlp: 'amber', recipients });
      stored += results.filter((r) => r.status === 'added').length;
      const sighting = objects[objects.length - 1]!;
      if (results[results.length - 1]?.status === 'added') {
        t.prior = {
          createdMs: Date.parse(sighting['created'] as string), modifiedMs: Date.parse(sighting['modified'] as string), count: sighting['count'] as number,
          firstMs: Date.parse(sighting['first_seen'] as string), lastMs: Date.parse(sighting['last_seen'] as string),
        };
        t.count = 0;
      }
      t.unsent = 0;
      t.writtenAtMs = opts.nowMs;
    }
    this.#written += stored;
    return stored;
  }

  #sightingId(t: Tally): string {
    return `sighting--${uuidv5(SIGHTING_NAMESPACE, `${this.mode}|${t.indicator.id}|${t.orgId}`)}`;
  }

  /** The latest stored version of this tally's sighting, as its signer sees it. */
  async #prior(t: Tally, signer: string): Promise<Tally['prior']> {
    const page = await this.deps.store.queryObjects({
      collectionIds: [t.indicator.collectionId], ids: [this.#sightingId(t)], audience: { hop: 'local', orgId: signer, groupIds: [] }, purpose: 'read', limit: 1,
    });
    const row = page.rows[0];
    if (!row) return null;
    const o = JSON.parse(row.json) as Record<string, unknown>;
    const ms = (k: string) => Date.parse(String(o[k]));
    return { createdMs: ms('created'), modifiedMs: ms('modified'), count: Number(o['count'] ?? 0), firstMs: ms('first_seen'), lastMs: ms('last_seen') };
  }

  #objects(t: Tally, o: { signer: string; nowMs: number }): Record<string, unknown>[] {
    const p = t.prior ?? null;
    const firstMs = Math.min(t.firstMs, p?.firstMs ?? Infinity);
    const lastMs = Math.max(t.lastMs, p?.lastMs ?? -Infinity, firstMs);
    // created never changes across versions; modified always moves forward (STIX 2.1 §3.6).
    const createdMs = p?.createdMs ?? Math.min(firstMs, o.nowMs);
    const now = new Date(Math.max(o.nowMs, (p?.modifiedMs ?? 0) + 1, createdMs)).toISOString();
    const created = new Date(createdMs).toISOString();
    const first = new Date(firstMs).toISOString();
    const last = new Date(lastMs).toISOString();
    const count = Math.min((p?.count ?? 0) + t.count, 999_999_999);
    const seed = `${this.mode}|${t.indicator.id}|${t.orgId}`;
    const marking = [TLP2_MARKING_IDS.amber];
    const out: Record<string, unknown>[] = [];
    const sighting: Record<string, unknown> = {
      // The signer creates these objects: created_by_ref names it (the node never edits it in).
      type: 'sighting', spec_version: '2.1', id: this.#sightingId(t), created, modified: now, created_by_ref: o.signer,
      sighting_of_ref: t.indicator.id, first_seen: first, last_seen: last, count,
      object_marking_refs: marking,
    };
    if (this.mode === 'named') sighting['where_sighted_refs'] = [t.orgId];
    if (t.observable) {
      const sco = { type: t.observable.type, spec_version: '2.1', id: deterministicScoId(t.observable.type, t.observable.props), ...t.observable.props };
      const od = {
        type: 'observed-data', spec_version: '2.1', id: `observed-data--${uuidv5(SIGHTING_NAMESPACE, `od|${seed}`)}`, created, modified: now, created_by_ref: o.signer,
        first_observed: first, last_observed: last, number_observed: Math.max(1, count), object_refs: [sco.id], object_marking_refs: marking,
      };
      out.push(sco, od);
      sighting['observed_data_refs'] = [od.id];
    }
    out.push(sighting);
    return out;
  }
}
