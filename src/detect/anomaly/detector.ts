/**
 * The anomaly detector: event-rate baselines per (organisation, sensor), first-seen entities and
 * rare values per organisation. Pure: time is the caller's `timeMs` (reception time is the
 * intended clock, see docs/anomaly.md), no I/O; the same calls give the same findings.
 */
import type { NormalisedEvent } from '../normalise/index.js';
import { baseName, executableKey, Memo, publicIp, registeredDomain, tldOf } from './entities.js';
import { clock, fmtCount, fmtPercent, isoDay, shown, zoneLabel } from './format.js';
import type { KnownSet as KnownSetT } from './known.js';
import { KnownSet } from './known.js';
import { RareTable } from './rare.js';
import type { RareKey } from './rare.js';
import { closeUpTo, newStream } from './rate.js';
import type { StreamCtx } from './rate.js';
import { newOrg, orgsFromJSON, orgsToJSON } from './state.js';
import type { EntityKind, OrgState, RareField, Through } from './state.js';
import { DAY_MS, HOUR_MS, resolveOptions } from './types.js';
import type { AnomalyFinding, AnomalyOptions, ResolvedOptions } from './types.js';
import { AppError } from '../../core/errors.js';

/** Host-name fields whose registered domain is a first-seen domain, and how the title reads. */
const DOMAIN_FIELDS = [
  ['dns.question.name', 'DNS query for'],
  ['destination.domain', 'connection to'],
  ['tls.client.server_name', 'TLS connection to'],
  ['url.domain', 'web request to'],
] as const;

const NOUN: Record<EntityKind, [string, string]> = {
  ip: ['public destination address', 'public destination addresses'],
  domain: ['domain', 'domains'],
  process: ['executable', 'executables'],
  'parent-child': ['parent → child process pair', 'parent → child process pairs'],
};

const RARE_LABEL: Record<RareField, string> = {
  user_agent: 'user agent',
  'process.name': 'process name',
  'dns.tld': 'DNS top-level domain',
  'destination.port': 'destination port',
};

/** Ports from here up are the IANA dynamic range: ephemeral, rare by nature, never alerted. */
const DYNAMIC_PORTS = 49152;

/** How a first-seen title reads, and the raw field the value came from. */
interface How {
  readonly verb: string;
  /** The field and raw value, shown when they differ from the entity value (a domain's FQDN). */
  readonly field?: string;
  readonly raw?: string;
}

const VIA_IP: How = { verb: 'connection to' };
const VIA_EXE: How = { verb: 'execution of' };
const VIA_PAIR: How = { verb: '' };

interface Seen {
  readonly org: OrgState;
  readonly sensorId: string;
  readonly t: number;
  readonly out: AnomalyFinding[];
  /** Judged only (`judge`): compared with what was learned, nothing learned or spent. */
  readonly judge?: true;
}

export class AnomalyDetector {
  private readonly o: ResolvedOptions;
  private orgs = new Map<string, OrgState>();
  private readonly ips = new Memo(publicIp);
  private readonly domains = new Memo(registeredDomain);
  private readonly tlds = new Memo(tldOf);
  private readonly exes = new Memo(executableKey);

  constructor(opts?: AnomalyOptions) {
    this.o = resolveOptions(opts);
  }

  /**
   * Feeds one event seen at `timeMs`; returns first-seen / rare findings (and rate findings of
   * buckets it closed). `at`: the event's position in its source; an event at or before the last
   * one folded into its organisation from the same source is already learned and changes nothing
   * (a batch read again after a failed transaction, a replay after a crash).
   */
  observe(e: NormalisedEvent, timeMs: number, at?: Through): AnomalyFinding[] {
    if (!Number.isFinite(timeMs)) throw new AppError('BAD_REQUEST', 'anomaly: timeMs must be a finite number');
    const orgId = e['organization.id'];
    const sensorId = e['observer.id'];
    const out: AnomalyFinding[] = [];
    if (typeof orgId !== 'string' || orgId === '' || typeof sensorId !== 'string' || sensorId === '') return out;
    let org = this.orgs.get(orgId);
    if (org === undefined) {
      org = newOrg(orgId);
      this.orgs.set(orgId, org);
    }
    if (at !== undefined) {
      if (org.through !== null && org.through.source === at.source && at.seq <= org.through.seq) return out;
      org.through = at;
    }
    this.count(org, sensorId, timeMs, out);
    const ctx: Seen = { org, sensorId, t: timeMs, out };
    this.firstSeen(e, ctx);
    this.rareValues(e, ctx);
    return out;
  }

  /**
   * Judges an event against what its organisation's baselines have learned, without learning
   * from it or spending any finding budget: first-seen and rare values (event rates are not
   * judged: the event is not part of the sensor's stream). For telemetry that must not shape
   * the baselines, e.g. an exercise's (docs/exercises.md "Isolation"). An organisation with no
   * baseline yet gives no finding.
   */
  judge(e: NormalisedEvent, timeMs: number): AnomalyFinding[] {
    if (!Number.isFinite(timeMs)) throw new AppError('BAD_REQUEST', 'anomaly: timeMs must be a finite number');
    const orgId = e['organization.id'];
    const sensorId = e['observer.id'];
    const out: AnomalyFinding[] = [];
    const org = typeof orgId === 'string' ? this.orgs.get(orgId) : undefined;
    if (org === undefined || typeof sensorId !== 'string' || sensorId === '') return out;
    const ctx: Seen = { org, sensorId, t: timeMs, out, judge: true };
    this.firstSeen(e, ctx);
    this.rareValues(e, ctx);
    return out;
  }

  /** Closes every rate bucket that ended at or before `timeMs` (call it regularly: silence is only noticed here). */
  tick(timeMs: number): AnomalyFinding[] {
    if (!Number.isFinite(timeMs)) throw new AppError('BAD_REQUEST', 'anomaly: timeMs must be a finite number');
    const out: AnomalyFinding[] = [];
    const target = Math.floor(timeMs / this.o.bucketMs);
    for (const org of this.orgs.values()) {
      const ctx: StreamCtx = { orgId: org.id, o: this.o, out };
      for (const s of org.streams.values()) closeUpTo(s, target, ctx);
    }
    return out;
  }

  toJSON(): unknown {
    return orgsToJSON(this.orgs, this.o);
  }

  /**
   * Replays one event already processed once (its findings were raised then): learned as
   * `observe` would, findings dropped, unless its organisation's state cannot say whether it
   * holds the event — state without a position in `at.source` (saved by an older version, or
   * from another source): then the event is skipped rather than learned twice.
   */
  relearn(e: NormalisedEvent, timeMs: number, at: Through): void {
    const orgId = e['organization.id'];
    const org = typeof orgId === 'string' ? this.orgs.get(orgId) : undefined;
    if (org !== undefined && (org.through === null || org.through.source !== at.source)) return;
    this.observe(e, timeMs, at);
  }

  /**
   * The lowest position in `source` folded into any organisation, where a replay of that source
   * starts (every organisation learned nothing after its own); 0 when nothing was learned at all.
   * Null when organisations are held but none has a position there (saved by an older version,
   * or learned from another source): there is no telling what they hold.
   */
  replayFrom(source: string): number | null {
    if (this.orgs.size === 0) return 0;
    let from: number | null = null;
    for (const org of this.orgs.values()) {
      if (org.through === null || org.through.source !== source) continue;
      from = from === null ? org.through.seq : Math.min(from, org.through.seq);
    }
    return from;
  }

  /**
   * `saved` (what the workers of the node saved, toJSON's form) with this detector's
   * organisations written over it, each kept from whichever side saw it last: workers that hold
   * different organisations (scale-out partitions) each save theirs without erasing the others'.
   */
  mergedJSON(saved: unknown): unknown {
    const all = this.#parse(saved);
    for (const [id, org] of this.orgs) {
      const had = all.get(id);
      if (had === undefined || newer(org, had, this.o) >= 0) all.set(id, org);
    }
    return orgsToJSON(all, this.o);
  }

  /**
   * Takes over the saved baselines of the organisations `mine` selects (partitions a worker has
   * just taken from another), where they are more recent than what this detector holds.
   * Returns how many organisations it took.
   */
  adopt(saved: unknown, mine: (orgId: string) => boolean): number {
    let n = 0;
    for (const [id, org] of this.#parse(saved)) {
      if (!mine(id)) continue;
      const cur = this.orgs.get(id);
      if (cur !== undefined && newer(cur, org, this.o) >= 0) continue;
      this.orgs.set(id, org);
      n++;
    }
    return n;
  }

  #parse(saved: unknown): Map<string, OrgState> {
    if (saved === null || saved === undefined) return new Map();
    try {
      return orgsFromJSON(saved, this.o);
    } catch {
      return new Map(); // unreadable: relearned
    }
  }

  static fromJSON(x: unknown, opts?: AnomalyOptions): AnomalyDetector {
    const d = new AnomalyDetector(opts);
    d.orgs = orgsFromJSON(x, d.o);
    return d;
  }

  /** Sizes, for status pages and the memory bound tests. */
  stats(): { orgs: number; sensors: number; knownValues: number; knownEvicted: number; rareValues: number } {
    let sensors = 0;
    let knownValues = 0;
    let knownEvicted = 0;
    let rareValues = 0;
    for (const org of this.orgs.values()) {
      sensors += org.streams.size;
      for (const k of org.known.values()) {
        knownValues += k.size;
        knownEvicted += k.evicted;
      }
      for (const r of org.rare.values()) rareValues += r.values.size;
    }
    return { orgs: this.orgs.size, sensors, knownValues, knownEvicted, rareValues };
  }

  // ---- rates ----

  private count(org: OrgState, sensorId: string, t: number, out: AnomalyFinding[]): void {
    const b = Math.floor(t / this.o.bucketMs);
    let s = org.streams.get(sensorId);
    if (s === undefined) {
      s = newStream(sensorId, b, this.o);
      org.streams.set(sensorId, s);
    } else if (b > s.bucket) {
      closeUpTo(s, b, { orgId: org.id, o: this.o, out });
    }
    // A late event (earlier bucket) counts in the open one: rates are about arrival.
    s.count++;
  }

  // ---- first seen ----

  private firstSeen(e: NormalisedEvent, c: Seen): void {
    const dip = e['destination.ip'];
    if (typeof dip === 'string') {
      const ip = this.ips.get(dip);
      if (ip !== null) this.seen('ip', ip, c, VIA_IP);
    }
    let d1: string | null = null;
    for (let i = 0; i < DOMAIN_FIELDS.length; i++) {
      const [field, verb] = DOMAIN_FIELDS[i] ?? DOMAIN_FIELDS[0];
      const v = e[field];
      if (typeof v !== 'string' || v === '') continue;
      const rd = this.domains.get(v);
      if (rd === null || rd === d1) continue;
      d1 = rd;
      this.seen('domain', rd, c, { verb, field, raw: v });
    }
    const exe = e['process.executable'];
    if (typeof exe === 'string' && exe !== '') {
      const key = this.exes.get(exe) ?? exe;
      this.seen('process', key, c, VIA_EXE);
      const parent = e['process.parent.executable'];
      if (typeof parent === 'string' && parent !== '') this.seen('parent-child', `${this.exes.get(parent) ?? parent} → ${key}`, c, VIA_PAIR);
    }
  }

  private seen(kind: EntityKind, value: string, c: Seen, how: How): void {
    let set = c.org.known.get(kind);
    if (c.judge) {
      if (set === undefined || set.current.has(value) || set.previous.has(value) || c.t < set.since + this.o.learningMs) return;
      c.out.push(this.firstSeenFinding({ kind, value, c, set, how }));
      return;
    }
    if (set === undefined) {
      set = new KnownSet(c.t);
      c.org.known.set(kind, set);
    }
    const isNew = set.touch(value, this.o.maxValuesPerKind);
    if (!isNew || c.t < set.since + this.o.learningMs) return;
    const budget = set.budget(c.t, this.o.firstSeenPerHour);
    if (budget === 'none') return;
    c.out.push(this.firstSeenFinding({ kind, value, c, set, how }));
    if (budget === 'last') c.out.push(this.burstFinding(kind, c, set));
  }

  private firstSeenFinding(a: { kind: EntityKind; value: string; c: Seen; set: KnownSetT; how: How }): AnomalyFinding {
    const { kind, value, c, set } = a;
    const o = this.o;
    const [noun] = NOUN[kind];
    const org = o.orgLabel(c.org.id);
    const where = `${org} sensor ${c.sensorId}`;
    let title: string;
    switch (kind) {
      case 'ip':
        title = `First connection to ${value} from ${where}`;
        break;
      case 'domain':
        title = `First ${a.how.verb} domain ${shown(value)} from ${where}`;
        break;
      case 'process':
        title = `First execution of ${shown(baseName(value))} at ${org} (sensor ${c.sensorId})`;
        break;
      case 'parent-child': {
        const [parent = '', child = ''] = value.split(' → ');
        title = `First time ${shown(baseName(parent))} started ${shown(baseName(child))} at ${org} (sensor ${c.sensorId})`;
        break;
      }
    }
    const learnedDays = Math.floor((c.t - set.since) / DAY_MS);
    // Learned, the value is already counted in the set and its observations; judged, it is not.
    const self = c.judge ? 0 : 1;
    const forgotten =
      set.evicted > 0
        ? `; memory keeps at least the ${fmtCount(Math.floor(o.maxValuesPerKind / 2))} most recently seen, ${fmtCount(set.evicted)} older ones were forgotten, so this may be a return`
        : '';
    return {
      method: 'first-seen',
      orgId: c.org.id,
      sensorId: c.sensorId,
      entity: `${kind}:${value}`,
      title,
      severity: kind === 'parent-child' ? 'medium' : 'low',
      expected:
        `no ${noun} outside the ${fmtCount(set.size - self)} known at ${org} ` +
        `(learning since ${isoDay(set.since)}, ${learnedDays} days, ${fmtCount(set.observations - self)} observations${forgotten})`,
      seen: `${noun} ${shown(value, 200)}${a.how.field !== undefined && a.how.raw !== undefined && a.how.raw !== value ? ` (from ${a.how.field} ${shown(a.how.raw, 200)})` : ''} at ${clock(c.t, o.offsetMs)} ${zoneLabel(o.offsetMs)}`,
      // How much history says "never before": log10 of the observations without it.
      score: Math.round(Math.log10(set.observations) * 100) / 100,
      atMs: c.t,
    };
  }

  private burstFinding(kind: EntityKind, c: Seen, set: KnownSetT): AnomalyFinding {
    const [, plural] = NOUN[kind];
    const o = this.o;
    const until = `${clock(set.hourStart + HOUR_MS, o.offsetMs)} ${zoneLabel(o.offsetMs)}`;
    return {
      method: 'first-seen',
      orgId: c.org.id,
      sensorId: c.sensorId,
      entity: `${kind}:*`,
      title: `Burst of new ${plural} at ${o.orgLabel(c.org.id)}: further ones are learned without findings until ${until}`,
      severity: 'medium',
      expected: `at most ${o.firstSeenPerHour} new ${plural} per hour`,
      seen: `${o.firstSeenPerHour} new ${plural} since ${clock(set.hourStart, o.offsetMs)} ${zoneLabel(o.offsetMs)}`,
      score: o.firstSeenPerHour,
      atMs: c.t,
    };
  }

  // ---- rare values ----

  private rareValues(e: NormalisedEvent, c: Seen): void {
    const ua = e['user_agent.original'];
    if (typeof ua === 'string' && ua !== '') this.rare('user_agent', ua, c);
    const pn = e['process.name'];
    if (typeof pn === 'string' && pn !== '') this.rare('process.name', pn.toLowerCase(), c);
    const q = e['dns.question.name'];
    if (typeof q === 'string' && q !== '') {
      const tld = this.tlds.get(q);
      if (tld !== null) this.rare('dns.tld', tld, c);
    }
    const port = e['destination.port'];
    if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < DYNAMIC_PORTS) this.rare('destination.port', port, c);
  }

  private rare(field: RareField, key: RareKey, c: Seen): void {
    const o = this.o;
    let t = c.org.rare.get(field);
    let share: number;
    let n: number;
    if (c.judge) {
      if (t === undefined) return;
      const entry = t.values.get(key);
      share = entry === undefined || t.total === 0 ? 0 : entry.c / t.total;
      n = t.effectiveTotal(c.t, o.rareHalfLifeMs);
      if (n < o.rareMinObservations || share >= o.rareShare) return;
    } else {
      if (t === undefined) {
        t = new RareTable(c.t);
        c.org.rare.set(field, t);
      }
      const entry = t.add(key, c.t, { halfLifeMs: o.rareHalfLifeMs, capacity: o.rareCapacity });
      share = t.lastShare;
      n = t.lastN;
      if (n < o.rareMinObservations || share >= o.rareShare) return;
      if (c.t - entry.alertAt < o.rareCooldownMs) return;
      if (!t.budget(c.t, o.rarePerHour)) return;
      entry.alertAt = c.t;
    }
    const label = RARE_LABEL[field];
    const shownValue = field === 'dns.tld' ? `.${String(key)}` : field === 'user_agent' ? `"${shown(String(key), 100)}"` : shown(String(key));
    const halfLifeDays = Math.round((o.rareHalfLifeMs / DAY_MS) * 10) / 10;
    c.out.push({
      method: 'rare',
      orgId: c.org.id,
      sensorId: c.sensorId,
      entity: `${field}:${String(key)}`,
      title: `Rare ${label} ${shownValue} at ${o.orgLabel(c.org.id)} (sensor ${c.sensorId})`,
      severity: 'low',
      expected: `${label}s that make up at least ${fmtPercent(o.rareShare)} of ${fmtCount(n)} recent observations (counts halve every ${halfLifeDays} days)`,
      seen:
        share === 0
          ? `${shownValue} not among the values seen recently`
          : `${shownValue} in ${fmtPercent(share)} of recent observations (decayed count ${fmtCount(share * n)})`,
      score: Math.round(-Math.log10(Math.max(share, 1 / n)) * 100) / 100,
      atMs: c.t,
    });
  }
}

/**
 * Which of two states of one organisation has seen more (> 0: a; < 0: b; 0: as much): by their
 * positions in the same source when both have one, else by the latest time either learned from.
 */
function newer(a: OrgState, b: OrgState, o: ResolvedOptions): number {
  if (a.through !== null && b.through !== null && a.through.source === b.through.source) return a.through.seq - b.through.seq;
  return recency(a, o) - recency(b, o);
}

/** When an organisation's state last moved (ms): its latest rate bucket or first-seen hour. */
function recency(org: OrgState, o: ResolvedOptions): number {
  let t = 0;
  for (const s of org.streams.values()) t = Math.max(t, s.bucket * o.bucketMs);
  for (const k of org.known.values()) t = Math.max(t, k.hourStart);
  return t;
}
