/**
 * Requests for assistance, VCISC-style: a member asks for named FIRST CSIRT services with an
 * urgency, TLP and the incident attached; the request goes to chosen allies or to all; each
 * ally may offer (team, services, capacity, availability window); the requester accepts or
 * declines. Offers are voluntary: none is ever implied.
 *
 * Request: open → in-progress (an offer accepted) → closed; open|in-progress → withdrawn;
 * open → expired (offer deadline passed without an accepted offer; evaluated on the clock).
 * Offer: proposed → accepted | declined | withdrawn.
 */
import { AppError } from '../core/errors.js';
import type { Tlp } from '../core/policy.js';
import { bad, factsOf, illegal, RecordRepo, requirePermission, type AuthedActor, type Rec, type RespondDeps } from './repo.js';
import { INCIDENT } from './incidents.js';
import type { CsirtService, Urgency } from './model.js';

export const REQUEST = 'assistance-request';
export const OFFER = 'assistance-offer';

export type RequestState = 'open' | 'in-progress' | 'closed' | 'withdrawn' | 'expired';
export type OfferState = 'proposed' | 'accepted' | 'declined' | 'withdrawn';

export interface AssistanceRequest {
  title: string;
  description: string;
  services: CsirtService[];
  urgency: Urgency;
  incidentId: string | null;
  routedTo: 'all' | string[];
  offerDeadline: string;
  outcome: string | null;
}

export interface Offer {
  requestId: string;
  team: string;
  services: CsirtService[];
  capacity: string;
  availableFrom: string;
  availableUntil: string;
  note: string;
  reason: string | null;
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

export class AssistanceService {
  readonly repo: RecordRepo;
  constructor(readonly deps: RespondDeps) {
    this.repo = new RecordRepo(deps);
  }

  async request(actor: AuthedActor, r: { title: string; description?: string; services: CsirtService[]; urgency: Urgency; tlp?: Tlp; incidentId?: string | null; routedTo: 'all' | string[]; offerDeadline: string; exerciseId?: string | null }) {
    requirePermission(actor, 'assistance.write');
    if (r.services.length === 0) throw bad('name at least one service');
    if (Date.parse(r.offerDeadline) <= this.deps.clock.now()) throw bad('offerDeadline must be in the future');
    if (r.incidentId) {
      const inc = await this.deps.store.getRecord(r.incidentId);
      if (!inc || inc.kind !== INCIDENT || inc.creatorOrg !== actor.principal.orgId) throw bad('incidentId must be an incident your organisation owns');
      // Exercise and real worlds never reference each other (DESIGN §2.3).
      if (inc.exerciseId !== (r.exerciseId ?? null)) throw bad('incidentId must be an incident your organisation owns');
    }
    const orgs = await this.deps.store.listOrganisations();
    const members = orgs.filter((o) => o.node === null).map((o) => o.id);
    // 'all' is every member of this node; an ally on another node is named (its node receives
    // the request: docs/federation.md "Incidents and requests for assistance").
    const remote = new Set(orgs.filter((o) => o.node !== null).map((o) => o.id));
    const routed = r.routedTo === 'all' ? members.filter((m) => m !== actor.principal.orgId) : r.routedTo;
    for (const o of routed) if (!members.includes(o) && !remote.has(o)) throw bad(`no member organisation ${o}`);
    if (routed.length === 0) throw bad('route the request to at least one ally');
    const doc: AssistanceRequest = {
      title: r.title, description: r.description ?? '', services: [...new Set(r.services)], urgency: r.urgency, incidentId: r.incidentId ?? null,
      routedTo: r.routedTo === 'all' ? 'all' : routed, offerDeadline: new Date(r.offerDeadline).toISOString(), outcome: null,
    };
    const tlp = r.tlp ?? 'amber';
    return this.#view(actor, await this.repo.create(actor, { kind: REQUEST, doc, tlp, recipients: routed, state: 'open', exerciseId: r.exerciseId ?? null }));
  }

  /** The request, with its state settled on the clock (an open request past its deadline without offers accepted expires). */
  async get(actor: AuthedActor, id: string) {
    return this.#view(actor, await this.#settle(actor, await this.repo.load<AssistanceRequest>(actor, id, REQUEST)));
  }

  /** Requests the reader may see: real ones, or those of one exercise (its participants only). */
  async list(actor: AuthedActor, opts: { exerciseId?: string | null } = {}) {
    const recs = await this.repo.list<AssistanceRequest>(actor, REQUEST, { limit: 500, exerciseId: opts.exerciseId ?? null });
    return Promise.all(recs.map(async (r) => this.#view(actor, await this.#settle(actor, r))));
  }

  async #settle(actor: AuthedActor, rec: Rec<AssistanceRequest>): Promise<Rec<AssistanceRequest>> {
    if (rec.row.state !== 'open' || Date.parse(rec.doc.offerDeadline) > this.deps.clock.now()) return rec;
    return { ...rec, row: { ...rec.row, state: 'expired' } };
  }

  async #view(actor: AuthedActor, rec: Rec<AssistanceRequest>) {
    const offers = await this.repo.list<Offer>(actor, OFFER, { parentId: rec.row.id, limit: 1000, exerciseId: rec.row.exerciseId });
    return {
      id: rec.row.id, requesterOrg: rec.row.creatorOrg, state: rec.row.state as RequestState, tlp: rec.row.tlp, createdAt: iso(rec.row.createdUs),
      updatedAt: iso(rec.row.updatedUs), rev: rec.row.rev, ...rec.doc,
      offers: offers.map((o) => ({ id: o.row.id, orgId: o.row.creatorOrg, state: o.row.state as OfferState, createdAt: iso(o.row.createdUs), ...o.doc })),
    };
  }

  async offer(actor: AuthedActor, requestId: string, o: { team: string; services: CsirtService[]; capacity: string; availableFrom: string; availableUntil: string; note?: string }) {
    requirePermission(actor, 'assistance.write');
    const req = await this.#settle(actor, await this.repo.load<AssistanceRequest>(actor, requestId, REQUEST));
    if (req.row.creatorOrg === actor.principal.orgId) throw illegal('an organisation cannot offer assistance to itself');
    if (!req.row.recipients.includes(actor.principal.orgId)) throw new AppError('FORBIDDEN', 'this request was not routed to your organisation');
    if (req.row.state !== 'open' && req.row.state !== 'in-progress') throw illegal(`the request is ${req.row.state}`);
    const unknown = o.services.filter((s) => !req.doc.services.includes(s));
    if (o.services.length === 0 || unknown.length) throw bad(`offer services among the requested ones: ${req.doc.services.join(', ')}`);
    if (Date.parse(o.availableUntil) <= Date.parse(o.availableFrom)) throw bad('availableUntil must be after availableFrom');
    // A request another node pushed here is a copy (docs/federation.md): the offer is made on its
    // node of origin, which checks it again and answers with the request's fresh copy.
    if (req.row.originNode !== null) {
      if (!this.deps.remote) throw illegal(`this request lives on node ${req.row.originNode}: make the offer there`);
      await this.deps.remote.act(actor, req.row, { type: 'assistance.offer', offer: { ...o } });
      return this.get(actor, requestId);
    }
    const doc: Offer = { requestId, team: o.team, services: o.services, capacity: o.capacity, availableFrom: o.availableFrom, availableUntil: o.availableUntil, note: o.note ?? '', reason: null };
    // Offers are seen by the requester and the offering ally only.
    const created = await this.repo.create(actor, { kind: OFFER, doc, tlp: 'amber', recipients: [req.row.creatorOrg], state: 'proposed', parentId: requestId, exerciseId: req.row.exerciseId });
    // The announcement on the request carries the offer's content: it goes where the offer goes.
    await this.repo.append(actor, req, { kind: 'assistance.offered', data: { team: o.team, services: o.services }, requires: [factsOf(created.row)] });
    return this.get(actor, requestId);
  }

  async decideOffer(actor: AuthedActor, offerId: string, decision: 'accept' | 'decline', reason?: string) {
    requirePermission(actor, 'assistance.write');
    const offer = await this.repo.load<Offer>(actor, offerId, OFFER);
    const req = await this.#settle(actor, await this.repo.load<AssistanceRequest>(actor, offer.doc.requestId, REQUEST));
    if (req.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the requesting organisation decides on offers');
    if (offer.row.state !== 'proposed') throw illegal(`the offer is ${offer.row.state}`);
    if (req.row.state !== 'open' && req.row.state !== 'in-progress') throw illegal(`the request is ${req.row.state}`);
    const state: OfferState = decision === 'accept' ? 'accepted' : 'declined';
    await this.repo.save(actor, offer, { doc: { ...offer.doc, reason: reason ?? null }, state }, { kind: `assistance.offer.${state}`, data: { requestId: req.row.id, reason: reason ?? null } });
    if (state === 'accepted' && req.row.state === 'open') {
      const fresh = await this.repo.load<AssistanceRequest>(actor, req.row.id, REQUEST);
      await this.repo.save(actor, fresh, { doc: fresh.doc, state: 'in-progress' }, {
        kind: 'assistance.in-progress', data: {}, sealed: [{ facts: factsOf(offer.row), data: { offerId } }],
      });
    }
    return this.get(actor, req.row.id);
  }

  async withdrawOffer(actor: AuthedActor, offerId: string) {
    const offer = await this.repo.load<Offer>(actor, offerId, OFFER);
    if (offer.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the offering organisation may withdraw its offer');
    if (offer.row.state !== 'proposed' && offer.row.state !== 'accepted') throw illegal(`the offer is ${offer.row.state}`);
    if (offer.row.originNode !== null) {
      // The copy of an offer made on another node's request: withdrawn there.
      const req = await this.repo.load<AssistanceRequest>(actor, offer.doc.requestId, REQUEST);
      if (!this.deps.remote) throw illegal(`this offer lives on node ${offer.row.originNode}: withdraw it there`);
      await this.deps.remote.act(actor, req.row, { type: 'assistance.offer.withdraw', offerId });
      return this.get(actor, offer.doc.requestId);
    }
    await this.repo.save(actor, offer, { doc: offer.doc, state: 'withdrawn' }, { kind: 'assistance.offer.withdrawn', data: { requestId: offer.doc.requestId } });
    return this.get(actor, offer.doc.requestId);
  }

  async close(actor: AuthedActor, requestId: string, how: 'closed' | 'withdrawn', outcome: string) {
    const req = await this.#settle(actor, await this.repo.load<AssistanceRequest>(actor, requestId, REQUEST));
    if (req.row.creatorOrg !== actor.principal.orgId) throw new AppError('FORBIDDEN', 'only the requesting organisation may close its request');
    requirePermission(actor, 'assistance.write');
    const allowed = how === 'closed' ? ['in-progress'] : ['open', 'in-progress'];
    if (!allowed.includes(req.row.state)) throw illegal(`a request that is ${req.row.state} cannot be ${how}`);
    const fresh = await this.repo.load<AssistanceRequest>(actor, requestId, REQUEST);
    await this.repo.save(actor, fresh, { doc: { ...fresh.doc, outcome }, state: how }, { kind: `assistance.${how}`, data: { outcome } });
    return this.get(actor, requestId);
  }
}
