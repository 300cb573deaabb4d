/**
 * KEV exposure over time: one snapshot per organisation and day (the last one taken that day
 * wins) of its open exposures, open KEV exposures and the KEV entries they concern. The leader
 * takes snapshots on its ticker (every {@link SNAPSHOT_EVERY_MS}, api/app.ts); a day without a
 * snapshot has no point (the node was down), it is not read as zero.
 *
 * Release: a snapshot is a record of its organisation at AMBER (the organisation itself); the
 * trend read returns the reader's own series and, for everyone, the alliance series — per day,
 * how many members had a snapshot, how many of them were exposed to at least one KEV entry and
 * how many distinct KEV entries hit at least one member: counts only, never which member.
 */
import type { Clock } from '../../core/clock.js';
import type { Store, RecordRow } from '../../store/index.js';
import type { AuthedActor } from '../../respond/index.js';
import { AppError } from '../../core/errors.js';
import { EXPOSURE, type ExposureDoc } from './model.js';
import { scanOwned, scanRecords, stableId } from './records.js';
import type { ExposureService } from './service.js';

export const TREND = 'readiness-exposure-trend';
export const SNAPSHOT_EVERY_MS = 10 * 60_000;
const MAX_DAYS = 730;

interface TrendDoc {
  orgId: string;
  day: string;
  open: number;
  kevOpen: number;
  /** The KEV entries with an open exposure of this organisation (counted into the alliance series, never returned to others). */
  kevCves: string[];
  at: string;
}

export interface OwnPoint {
  day: string;
  open: number;
  kevOpen: number;
  kevEntries: number;
}

export interface AlliancePoint {
  day: string;
  /** Members with a snapshot that day. */
  members: number;
  /** Of them, exposed to at least one KEV entry. */
  membersExposed: number;
  /** Distinct KEV entries with at least one exposed member. */
  kevEntries: number;
}

export class ExposureTrend {
  #last = 0;
  #running: Promise<number> | null = null;

  constructor(private readonly exposures: ExposureService, private readonly deps: { store: Store; clock: Clock }) {}

  /** Takes today's snapshot of every organisation (replacing an earlier one of the same day). Returns how many organisations. */
  async snapshot(): Promise<number> {
    const now = this.deps.clock.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const kev = await this.exposures.currentKev();
    const per = new Map<string, { open: number; kevOpen: number; kevCves: Set<string> }>();
    for (const o of await this.deps.store.listOrganisations()) per.set(o.id, { open: 0, kevOpen: 0, kevCves: new Set() });
    for (const r of await scanOwned(this.deps.store, EXPOSURE)) {
      if (r.state !== 'open') continue;
      const p = per.get(r.creatorOrg);
      if (!p) continue;
      p.open++;
      const cve = (JSON.parse(r.json) as ExposureDoc).cve;
      if (kev.has(cve)) {
        p.kevOpen++;
        p.kevCves.add(cve);
      }
    }
    const nowUs = now * 1000;
    await this.deps.store.transaction(async (tx) => {
      let i = 0;
      for (const [orgId, p] of per) {
        const id = stableId(TREND, orgId, day);
        const doc: TrendDoc = { orgId, day, open: p.open, kevOpen: p.kevOpen, kevCves: [...p.kevCves].sort(), at: new Date(now).toISOString() };
        const prev = await tx.getRecord(id);
        const at = nowUs + i++;
        const row: RecordRow = prev
          ? { ...prev, json: JSON.stringify(doc), updatedUs: Math.max(at, prev.updatedUs + 1), rev: prev.rev + 1 }
          : { id, kind: TREND, parentId: null, creatorOrg: orgId, tlp: 'amber', recipients: [], originNode: null, exerciseId: null, state: day, createdUs: at, updatedUs: at, rev: 1, json: JSON.stringify(doc) };
        if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', 'a trend snapshot was taken meanwhile');
      }
    });
    this.#last = now;
    return per.size;
  }

  /** The leader's ticker: a snapshot when the last one is older than {@link SNAPSHOT_EVERY_MS} (or the day changed). */
  async tick(): Promise<boolean> {
    const now = this.deps.clock.now();
    const sameDay = new Date(now).toISOString().slice(0, 10) === new Date(this.#last).toISOString().slice(0, 10);
    if (this.#running || (sameDay && now - this.#last < SNAPSHOT_EVERY_MS)) return false;
    this.#running = this.snapshot();
    try {
      await this.#running;
      return true;
    } finally {
      this.#running = null;
    }
  }

  /** The reader's own series and the alliance series over the last `days` days (oldest first). */
  async trend(actor: AuthedActor, days: number): Promise<{ own: OwnPoint[]; alliance: AlliancePoint[] }> {
    if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new AppError('INVALID_FILTER', `days must be an integer in 1..${MAX_DAYS}`);
    const from = new Date(this.deps.clock.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const org = actor.principal.orgId;
    const own = (await scanRecords(this.deps.store, TREND, { hop: 'local', orgId: org, groupIds: [] }))
      .filter((r) => r.creatorOrg === org && r.state >= from)
      .map((r) => JSON.parse(r.json) as TrendDoc)
      .map((d) => ({ day: d.day, open: d.open, kevOpen: d.kevOpen, kevEntries: d.kevCves.length }))
      .sort((a, b) => a.day.localeCompare(b.day));
    // The alliance series: an internal read of every organisation's snapshots, returned as counts only.
    const byDay = new Map<string, { members: number; exposed: number; cves: Set<string> }>();
    for (const r of await scanOwned(this.deps.store, TREND)) {
      if (r.state < from) continue;
      const d = JSON.parse(r.json) as TrendDoc;
      let x = byDay.get(d.day);
      if (!x) byDay.set(d.day, (x = { members: 0, exposed: 0, cves: new Set() }));
      x.members++;
      if (d.kevOpen > 0) x.exposed++;
      for (const c of d.kevCves) x.cves.add(c);
    }
    const alliance = [...byDay].map(([day, x]) => ({ day, members: x.members, membersExposed: x.exposed, kevEntries: x.cves.size })).sort((a, b) => a.day.localeCompare(b.day));
    return { own, alliance };
  }
}
