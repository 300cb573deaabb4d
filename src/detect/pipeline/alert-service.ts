/**
 * What analysts do with alerts (list, read, acknowledge, mark false positive, assign, escalate
 * to an incident) and the common operational picture. Reads follow the release policy: an
 * alert reaches its organisation and the alliance bodies it was released to; the picture's
 * per-member counts are alliance-wide aggregates without any detail.
 */
import { AppError } from '../../core/errors.js';
import { authorize } from '../../access/index.js';
import type { AlertLevelService, AuthedActor, IncidentService, Rec, RecordRepo } from '../../respond/index.js';
import type { Store } from '../../store/index.js';
import type { Alert, AlertDoc, AlertSeverity, AlertSource, AlertStatus } from './alert-types.js';
import { ALERT, ALERT_SEVERITIES, ALERT_STATUSES, alertOwnerOnly } from './alert-types.js';
import type { DetectService } from './service.js';
import { alertObservables } from './alert-observables.js';
import type { AlertPatch, Cop, CopMember, CopTop } from '../../contract/alerts.js';

export interface AlertFilter {
  statuses?: AlertStatus[];
  severities?: AlertSeverity[];
  sources?: AlertSource[];
  orgId?: string;
  limit?: number;
}

export type { AlertPatch, Cop, CopMember } from '../../contract/alerts.js';

/** A sensor that sent no telemetry for this long counts as silent in the picture. */
const SILENT_MINUTES = 30;
/** Entries of each top list of the picture, and the most alerts read to build them. */
const TOP_N = 10;
const TOP_SCAN = 100_000;

/** Statuses an analyst may move an alert to, from each status. */
const MOVES: Readonly<Record<AlertStatus, readonly AlertStatus[]>> = {
  'new': ['acknowledged', 'false-positive', 'escalated'],
  'acknowledged': ['new', 'false-positive', 'escalated'],
  'false-positive': ['new', 'acknowledged'],
  'escalated': [],
};


function withoutIncident(data: Record<string, unknown>): Record<string, unknown> {
  const { incidentId: _, ...rest } = data;
  return rest;
}

function zeroCounts(): Record<AlertSeverity, number> {
  return { informational: 0, low: 0, medium: 0, high: 0, critical: 0 };
}

export class AlertService {
  constructor(private readonly d: { store: Store; repo: RecordRepo; detect: DetectService; incidents: IncidentService; levels: AlertLevelService }) {}

  /**
   * The alert as `actor` reads it: the incident it was escalated to is its organisation's record,
   * named to that organisation only (an alliance body reading the alert may not read the incident).
   */
  #view(r: Rec<AlertDoc>, actor: AuthedActor): Alert {
    const a = this.d.detect.view(r.row, r.doc);
    return actor.principal.orgId === r.doc.orgId ? a : { ...a, incidentId: null };
  }

  async list(actor: AuthedActor, f: AlertFilter = {}): Promise<Alert[]> {
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const out: Alert[] = [];
    let before: { lastUs: number; id: string } | undefined;
    // The release policy filters in the query, which also orders by when the alert was last seen
    // (newest first); severity, source and organisation on the documents.
    for (let page = 0; page < 20 && out.length < limit; page++) {
      const rows = await this.d.store.listAlertRecords({
        audience: this.d.repo.deps.access.audienceOf(actor.principal), purpose: 'read', limit: 500,
        ...(f.statuses?.length ? { states: f.statuses } : {}), ...(before ? { before } : {}),
      });
      for (const row of rows) {
        const doc = JSON.parse(row.json) as AlertDoc;
        if (f.severities?.length && !f.severities.includes(doc.severity)) continue;
        if (f.sources?.length && !f.sources.includes(doc.source)) continue;
        if (f.orgId && doc.orgId !== f.orgId) continue;
        out.push(this.#view({ row, doc }, actor));
        if (out.length >= limit) break;
      }
      if (rows.length < 500) break;
      const last = rows[rows.length - 1]!;
      before = { lastUs: last.lastUs, id: last.id };
    }
    return out;
  }

  async get(actor: AuthedActor, id: string): Promise<Alert & { history: { at: string; kind: string; user: string | null; data: Record<string, unknown> }[] }> {
    const rec = await this.d.repo.load<AlertDoc>(actor, id, ALERT);
    const events = await this.d.repo.timeline(id);
    const users = new Map<string, string>();
    for (const e of events) if (e.userId && !users.has(e.userId)) users.set(e.userId, (await this.d.store.getUser(e.userId))?.username ?? e.userId);
    const own = actor.principal.orgId === rec.doc.orgId;
    return { ...this.#view(rec, actor), history: events.map((e) => ({ at: e.at, kind: e.kind, user: e.userId ? users.get(e.userId) ?? null : null, data: own ? e.data : withoutIncident(e.data) })) };
  }

  /** Loads an alert the actor's organisation owns, for a change. */
  async #own(actor: AuthedActor, id: string, o: { action: 'alerts.triage' | 'alerts.escalate'; rev?: number | undefined }): Promise<Rec<AlertDoc>> {
    const rev = o.rev;
    const rec = await this.d.repo.load<AlertDoc>(actor, id, ALERT);
    if (rec.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the organisation that raised the alert may change it');
    authorize(actor.principal, o.action);
    if (rev !== undefined && rev !== rec.row.rev) throw new AppError('CONFLICT', `alert ${id} is at revision ${rec.row.rev}, not ${rev}; reload and retry`);
    return rec;
  }

  async patch(actor: AuthedActor, id: string, p: AlertPatch): Promise<Alert> {
    if (p.status !== undefined && !ALERT_STATUSES.includes(p.status)) throw new AppError('BAD_REQUEST', `status must be one of ${ALERT_STATUSES.join(', ')}`);
    if (p.status === 'escalated') throw new AppError('BAD_REQUEST', 'escalate with POST /alerts/{id}/escalate (it opens or links an incident)');
    const rec = await this.#own(actor, id, { action: 'alerts.triage', rev: p.rev });
    const state = rec.row.state as AlertStatus;
    if (p.status !== undefined && p.status !== state && !MOVES[state].includes(p.status)) throw new AppError('CONFLICT', `an alert cannot go from ${state} to ${p.status}`);
    let assignee = rec.doc.assignee;
    if (p.assignee !== undefined) {
      if (p.assignee !== null) {
        const u = await this.d.store.getUserByUsername(p.assignee);
        if (!u || u.orgId !== rec.row.creatorOrg) throw new AppError('BAD_REQUEST', `assignee ${p.assignee} is not a user of the alert's organisation`);
      }
      assignee = p.assignee;
    }
    const data: Record<string, unknown> = {};
    if (p.status !== undefined && p.status !== state) data['status'] = { from: state, to: p.status };
    if (assignee !== rec.doc.assignee) data['assignee'] = assignee;
    if (p.note) data['note'] = p.note.slice(0, 2000);
    if (Object.keys(data).length === 0) return this.#view(rec, actor);
    const saved = await this.d.repo.save(actor, rec, { doc: { ...rec.doc, assignee }, state: p.status ?? state }, { kind: 'alert.updated', data });
    await this.#syncFacts(saved);
    return this.#view(saved, actor);
  }

  /** Opens an incident from the alert (or links it to an existing one) and marks it escalated. */
  async escalate(actor: AuthedActor, id: string, o: { incidentId?: string; title?: string }): Promise<{ alert: Alert; incidentId: string }> {
    const rec = await this.#own(actor, id, { action: 'alerts.escalate' });
    if (rec.row.state === 'escalated' && rec.doc.incidentId) return { alert: this.#view(rec, actor), incidentId: rec.doc.incidentId };
    const sev = ALERT_SEVERITIES.indexOf(rec.doc.severity);
    // What the alert matched may be intelligence released to few (a RED indicator another member
    // addressed to this one, a rule marked AMBER): the alert keeps it to its readers, but an
    // incident is shared at will. So the rule's or indicator's name, id, techniques and matched
    // value go into the incident only when the intelligence is CLEAR or GREEN; otherwise the
    // incident names the alert, whose readers see the rest (docs/pipeline.md "Escalation").
    const open = await this.#openIntel(actor, rec.doc);
    const existing = o.incidentId ? await this.d.incidents.get(actor, o.incidentId) : null;
    // An exercise alert joins only an incident of the same exercise, a real alert only a real incident (DESIGN §2.3).
    if (existing && existing.exerciseId !== rec.row.exerciseId) throw new AppError('BAD_REQUEST', 'incidentId: the incident belongs to another world (exercise or real operations) than the alert', { details: { field: 'incidentId' } });
    const incidentId = existing
      ? existing.id
      : (await this.d.incidents.create(actor, {
        title: o.title ?? (open ? rec.doc.title : `${rec.doc.source === 'sigma' ? 'Sigma' : 'Indicator'} alert on ${rec.doc.entity || rec.doc.sensorId}`), description: `Opened from alert ${id} (${rec.doc.source}, ${rec.doc.count} events, entity ${rec.doc.entity}).`,
        severity: Math.max(1, Math.min(4, sev)), tlp: 'amber', detectedAt: rec.doc.firstSeen, exerciseId: rec.row.exerciseId,
      })).id;
    await this.d.incidents.link(actor, incidentId, 'alerts', [id]);
    if (open && rec.doc.techniques.length > 0) await this.d.incidents.link(actor, incidentId, 'techniques', rec.doc.techniques);
    if (open && rec.doc.matched.kind === 'indicator') await this.d.incidents.link(actor, incidentId, 'indicators', [rec.doc.matched.id]);
    // The entity (and, for open intelligence, the matched value) become observables, so "similar
    // incidents" can find others sharing them.
    const present = (await this.d.incidents.get(actor, incidentId)).observables;
    for (const o of alertObservables(id, rec.doc).filter((x) => open || !x.ioc)) {
      if (!present.some((x) => x.type === o.type && x.value === o.value)) await this.d.incidents.addObservable(actor, incidentId, o);
    }
    const saved = await this.d.repo.save(actor, rec, { doc: { ...rec.doc, incidentId }, state: 'escalated' }, { kind: 'alert.escalated', data: {}, sealed: [{ facts: alertOwnerOnly(rec.doc.orgId), data: { incidentId } }] });
    await this.#syncFacts(saved);
    return { alert: this.#view(saved, actor), incidentId };
  }

  /** Whether what the alert matched is CLEAR or GREEN intelligence, or none. */
  async #openIntel(actor: AuthedActor, doc: AlertDoc): Promise<boolean> {
    const m = doc.matched;
    const open = (tlp: string | null) => tlp === 'clear' || tlp === 'green';
    // An anomaly matched no intelligence; an exposure matched the public KEV catalog on own assets.
    if (m.kind === 'anomaly' || m.kind === 'exposure') return true;
    if (m.kind === 'sigma') {
      // An unknown rule releases to no one (detect/rules.ts releaseIndex).
      const facts = this.d.detect.deps.sigma?.snapshot().releaseOf({ ...(m.id ? { id: m.id } : {}), title: m.title });
      return facts !== undefined && open(facts.tlp);
    }
    const { access } = this.d.repo.deps;
    const collectionIds = [...(await access.rights(actor.principal))].filter(([, r]) => r.canRead).map(([c]) => c);
    if (!collectionIds.length) return false;
    const page = await this.d.store.queryObjects({ collectionIds, audience: access.audienceOf(actor.principal), purpose: 'read', ids: [m.id], version: { kind: 'last' }, lean: true, limit: 100 });
    return page.rows.length > 0 && page.rows.every((r) => open(r.tlp));
  }

  async #syncFacts(r: Rec<AlertDoc>): Promise<void> {
    // The status alone: the worker (another process) may be adding hits to the same row now.
    await this.d.store.setAlertFactsStatus(r.row.id, r.row.state);
  }

  /** The common operational picture over the last `hours`. */
  async cop(actor: AuthedActor, hours: number): Promise<Cop> {
    const { store } = this.d;
    const nowMs = this.d.repo.deps.clock.now();
    const sinceUs = (nowMs - hours * 3_600_000) * 1000;
    const orgs = (await store.listOrganisations()).sort((a, b) => a.shortName.localeCompare(b.shortName));
    const facts = await store.listAlertFacts({ sinceUs, exerciseId: null, limit: 100_000 });
    const members = new Map<string, CopMember>(orgs.map((o) => [o.id, {
      orgId: o.id, name: o.name, shortName: o.shortName, country: o.country, kind: o.kind, alertLevel: null, alerts: zeroCounts(), openAlerts: 0, openIncidents: 0,
      trend: [], sensors: { seen: 0, silent: 0, lastSeen: null },
    }]));
    const techniques = new Map<string, number>();
    for (const f of facts) {
      const m = members.get(f.orgId);
      if (m) {
        m.alerts[f.severity as AlertSeverity]++;
        if (f.status === 'new' || f.status === 'acknowledged') m.openAlerts++;
      }
      if (f.status === 'false-positive') continue;
      for (const t of f.techniques) techniques.set(t, (techniques.get(t) ?? 0) + f.count);
    }
    // Incident counts and alert levels are shown for every member as numbers only.
    for (const c of await store.countRecordsByCreator({ kind: 'incident', exceptStates: ['closed'], exerciseId: null })) {
      const m = members.get(c.creatorOrg);
      if (m) m.openIncidents = c.n;
    }
    for (const m of members.values()) m.alertLevel = (await this.d.levels.get(m.orgId)).level;
    const rates = await store.listRates({ sinceUs, exerciseId: null });
    const bucketMinutes = hours <= 6 ? 5 : hours <= 48 ? 60 : 360;
    const width = bucketMinutes * 60_000;
    const buckets = new Map<number, { events: number; alerts: number }>();
    const start = Math.floor((nowMs - hours * 3_600_000) / width) * width;
    for (let t = start; t <= nowMs; t += width) buckets.set(t, { events: 0, alerts: 0 });
    for (const r of rates) {
      const b = buckets.get(Math.floor(r.bucketUs / 1000 / width) * width);
      if (b) b.events += r.events;
    }
    // Alerts over time come from the same facts as the tiles (one alert counted once, in the bucket
    // it was first seen, or the first bucket when it began earlier), so the chart and the tiles
    // add up to the same number; the rate table's per-hit counter would count repeats as well.
    const keys = [...buckets.keys()];
    for (const m of members.values()) m.trend = keys.map(() => 0);
    for (const f of facts) {
      const m = members.get(f.orgId);
      if (!m) continue;
      const t = Math.min(Math.max(start, Math.floor(f.firstUs / 1000 / width) * width), start + Math.floor((nowMs - start) / width) * width);
      const b = buckets.get(t);
      if (b) b.alerts++;
      const i = (t - start) / width;
      if (m.trend[i] !== undefined) m.trend[i]++;
    }
    // Sensor health as numbers per member (no sensor names cross organisations): seen in the window,
    // and silent when the latest bucket it sent in ended more than SILENT_MINUTES ago.
    const lastBySensor = new Map<string, { orgId: string; lastUs: number }>();
    for (const r of rates) {
      if (r.events <= 0) continue;
      const k = `${r.orgId}\u001f${r.sensorId}`;
      const cur = lastBySensor.get(k);
      if (!cur || r.bucketUs > cur.lastUs) lastBySensor.set(k, { orgId: r.orgId, lastUs: r.bucketUs });
    }
    for (const s of lastBySensor.values()) {
      const m = members.get(s.orgId);
      if (!m) continue;
      m.sensors.seen++;
      if (s.lastUs / 1000 < nowMs - SILENT_MINUTES * 60_000) m.sensors.silent++;
      const last = new Date(s.lastUs / 1000).toISOString();
      if (m.sensors.lastSeen === null || last > m.sensors.lastSeen) m.sensors.lastSeen = last;
    }
    return {
      silentMinutes: SILENT_MINUTES,
      generatedAt: new Date(nowMs).toISOString(), hours, members: [...members.values()],
      rates: { bucketMinutes, buckets: [...buckets.entries()].map(([t, b]) => ({ t: new Date(t).toISOString(), ...b })) },
      heatmap: [...techniques.entries()].map(([technique, count]) => ({ technique, count })).sort((a, b) => b.count - a.count || a.technique.localeCompare(b.technique)),
      top: await this.#top(actor, sinceUs),
      recent: await this.list(actor, { limit: 50 }),
    };
  }

  /**
   * What is firing across members, for this reader: techniques and indicators of the alerts it may
   * read (the release policy in the query, as GET /alerts), last seen in the period, not false
   * positives, and indicators of the STIX sightings it may read, last seen in the period; an
   * indicator is listed only when the reader may read it (the same check as GET /intel/:id), under
   * the readable object's name. At most TOP_SCAN alerts and TOP_SCAN sightings are read.
   */
  async #top(actor: AuthedActor, sinceUs: number): Promise<CopTop> {
    const { store } = this.d;
    const { access } = this.d.repo.deps;
    const audience = access.audienceOf(actor.principal);
    const techniques = new Map<string, { alerts: number; hits: number; members: Set<string> }>();
    const indicators = new Map<string, { alerts: number; hits: number; members: Set<string> }>();
    let alerts = 0;
    let before: { lastUs: number; id: string } | undefined;
    scan: for (let seen = 0; seen < TOP_SCAN;) {
      const rows = await store.listAlertRecords({ audience, purpose: 'read', exerciseId: null, limit: 500, ...(before ? { before } : {}) });
      for (const row of rows) {
        if (row.lastUs < sinceUs) break scan;
        seen++;
        if (row.exerciseId !== null || row.state === 'false-positive') continue;
        const doc = JSON.parse(row.json) as AlertDoc;
        alerts++;
        const add = (m: Map<string, { alerts: number; hits: number; members: Set<string> }>, k: string) => {
          const e = m.get(k) ?? { alerts: 0, hits: 0, members: new Set<string>() };
          e.alerts++;
          e.hits += doc.count;
          e.members.add(doc.orgId);
          m.set(k, e);
        };
        for (const t of new Set(doc.techniques)) add(techniques, t);
        if (doc.matched.kind === 'indicator') add(indicators, doc.matched.id);
      }
      if (rows.length < 500) break;
      const last = rows[rows.length - 1]!;
      before = { lastUs: last.lastUs, id: last.id };
    }
    // STIX sightings the reader may read, last seen in the period (a later version is added later,
    // so date_added bounds the scan): where indicators fired, as the reader may know it.
    const collectionIds = [...(await access.rights(actor.principal))].filter(([, r]) => r.canRead).map(([id]) => id);
    const sighted = new Map<string, { count: number; members: Set<string> }>();
    let sightings = 0;
    let addedAfter = sinceUs;
    for (let seen = 0; seen < TOP_SCAN && collectionIds.length;) {
      const page = await store.queryObjects({ collectionIds, audience, purpose: 'read', types: ['sighting'], version: { kind: 'last' }, addedAfter, limit: 1000 });
      for (const row of page.rows) {
        seen++;
        const o = JSON.parse(row.json) as { sighting_of_ref?: unknown; count?: unknown; last_seen?: unknown; modified?: unknown; where_sighted_refs?: unknown };
        if (typeof o.sighting_of_ref !== 'string' || !o.sighting_of_ref.startsWith('indicator--')) continue;
        const at = Date.parse(typeof o.last_seen === 'string' ? o.last_seen : String(o.modified));
        if (!(at * 1000 >= sinceUs)) continue;
        sightings++;
        const e = sighted.get(o.sighting_of_ref) ?? { count: 0, members: new Set<string>() };
        e.count += typeof o.count === 'number' && Number.isSafeInteger(o.count) && o.count >= 0 ? o.count : 1;
        if (Array.isArray(o.where_sighted_refs)) for (const w of o.where_sighted_refs) if (typeof w === 'string') e.members.add(w);
        sighted.set(o.sighting_of_ref, e);
      }
      const last = page.rows.at(-1);
      if (!page.more || !last) break;
      addedAfter = last.dateAdded;
    }
    const rank = <T extends { alerts: number; hits: number; sightings?: number }>(xs: [string, T][]) => xs.sort((a, b) => b[1].alerts - a[1].alerts
      || (b[1].sightings ?? 0) - (a[1].sightings ?? 0) || b[1].hits - a[1].hits || a[0].localeCompare(b[0]));
    // The indicators themselves, as this reader may read them: an unreadable one is left out,
    // not shown under its name nor as a count.
    const names = new Map<string, string | null>();
    const ids = [...new Set([...indicators.keys(), ...sighted.keys()])];
    if (ids.length) {
      for (let i = 0; i < ids.length && collectionIds.length; i += 500) {
        const page = await store.queryObjects({ collectionIds, audience, purpose: 'read', ids: ids.slice(i, i + 500), version: { kind: 'last' }, lean: true, limit: 5000 });
        for (const r of page.rows) if (!names.has(r.id) || r.name) names.set(r.id, r.name);
      }
    }
    const firing = ids.filter((id) => names.has(id)).map((id): [string, { alerts: number; hits: number; sightings: number; members: Set<string> }] => {
      const a = indicators.get(id);
      const g = sighted.get(id);
      return [id, { alerts: a?.alerts ?? 0, hits: a?.hits ?? 0, sightings: g?.count ?? 0, members: new Set([...(a?.members ?? []), ...(g?.members ?? [])]) }];
    });
    return {
      alerts, sightings,
      techniques: rank([...techniques]).slice(0, TOP_N).map(([technique, e]) => ({ technique, alerts: e.alerts, hits: e.hits, members: e.members.size })),
      indicators: rank(firing).slice(0, TOP_N)
        .map(([id, e]) => ({ id, name: names.get(id) ?? null, alerts: e.alerts, hits: e.hits, sightings: e.sightings, members: e.members.size })),
    };
  }
}

