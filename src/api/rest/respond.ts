/**
 * REST routes of the respond domain: incidents, assistance, decisions, attribution, alert
 * levels. Handlers parse the body into typed values, call the domain, and return its view.
 */
import type { Vocabularies } from '../../contract/index.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS } from '../../core/policy.js';
import { matchesFormat } from '../../stix/index.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body, IDENTITY_ID, RECORD_ID } from './body.js';
import { queryOf } from './parse.js';
import {
  ACH_RATINGS, CONFIDENCE_LEVELS, CREDIBILITY, CSIRT_SERVICES, DECISION_KINDS, DETERMINATIONS, ICD203_LIKELIHOOD, INVESTIGATION_STATUSES,
  OBSERVABLE_TYPES, PAP_LEVELS, PHASES, RELIABILITY, TASK_STATUSES, URGENCIES, SEVERITIES, PLAYBOOKS, ALERT_LEVELS,
  attributionToStix, incidentToStix, incidentHistoryOf, publish, type AchRating, type AuthedActor, type Credibility, type Likelihood, type Phase,
} from '../../respond/index.js';

const ATTACK_TECHNIQUE = /^T\d{4}(\.\d{3})?$/;
// A DNS name (RFC 1035 labels, letters of any script for an IDN, `_` as in SRV and DKIM names).
const DNS_NAME = /^(?=.{1,253}\.?$)[\p{L}\p{N}_]([\p{L}\p{N}_-]{0,61}[\p{L}\p{N}_])?(\.[\p{L}\p{N}_]([\p{L}\p{N}_-]{0,61}[\p{L}\p{N}_])?)*\.?$/u;
const HEX_DIGEST = { 'file-md5': 32, 'file-sha1': 40, 'file-sha256': 64 } as const;
// C0 controls and DEL: an observable value is one token, which a terminal or a log line shows as it is.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The value of an observable, read as its type says: an address, name, URL, e-mail address or
 * digest that is not one would be shared with the allies, compared by "similar incidents" and
 * exported as if it were (MISP refuses an `ip-dst` that is not an address likewise).
 */
function observableValue(type: (typeof OBSERVABLE_TYPES)[number], value: string): string {
  const refuse = (what: string): never => { throw new AppError('BAD_REQUEST', `value: not ${what}`, { details: { field: 'value' } }); };
  if (CONTROL.test(value)) refuse('a single-line value (control characters)');
  switch (type) {
    case 'ipv4-addr': return matchesFormat('ipv4', value) ? value : refuse('an IPv4 address or CIDR block');
    case 'ipv6-addr': return matchesFormat('ipv6', value) ? value : refuse('an IPv6 address or CIDR block');
    case 'domain-name': case 'hostname': return DNS_NAME.test(value) ? value : refuse(`a ${type === 'hostname' ? 'host' : 'domain'} name`);
    case 'url': return matchesFormat('uri', value) ? value : refuse('a URL (scheme:…)');
    case 'email-addr': return matchesFormat('email', value) ? value : refuse('an e-mail address');
    case 'file-md5': case 'file-sha1': case 'file-sha256':
      return value.length === HEX_DIGEST[type] && /^[0-9a-fA-F]+$/.test(value) ? value : refuse(`a ${HEX_DIGEST[type]}-digit hexadecimal digest`);
    case 'user-account': case 'process': case 'registry-key': case 'mutex': case 'other': return value;
  }
}
const EXERCISE_ID = /^exercise--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The exercise scope of a respond create (`exerciseId` in the body, docs/exercises.md): a
 * malformed id is a 400; the exercise gate (404 outsider, 403 observer, 409 not running) runs
 * in the respond repository when the record is written.
 */
function exerciseOfBody(b: Body): { exerciseId?: string } {
  const v = b.optStr('exerciseId', { max: 100 });
  if (v === undefined) return {};
  if (!EXERCISE_ID.test(v)) throw new AppError('BAD_REQUEST', 'exerciseId: malformed exercise id (exercise--<uuid>)', { details: { field: 'exerciseId' } });
  return { exerciseId: v };
}

/**
 * `?exercise=<id>` on a list: that exercise's records (its participants only), else the real world.
 * Any other parameter (`also`: the list's own) is refused, as everywhere (docs/rest-api.md): a typo
 * such as `?exercize=` or `?phases=` would otherwise answer the whole real-world list.
 */
function exerciseOfQuery(req: FastifyRequest, also: readonly string[] = []): { exerciseId?: string } {
  const v = queryOf(req.query, ['exercise', ...also]).exercise;
  if (v === undefined) return {};
  if (typeof v !== 'string' || !EXERCISE_ID.test(v)) throw new AppError('INVALID_FILTER', 'exercise: malformed exercise id (exercise--<uuid>)');
  return { exerciseId: v };
}
const WEIGHTS = ['low', 'medium', 'high'] as const;

export async function respondRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { incidents, assistance, decisions, attribution, levels } = platform.respond;
  const actor = (req: FastifyRequest): AuthedActor => ({ principal: principalOf(req), source: req.ip });
  const id = (req: FastifyRequest, key = 'id'): string => {
    const v = (req.params as Record<string, string>)[key] ?? '';
    if (!RECORD_ID.test(v) && !/^[0-9a-f-]{36}$/.test(v)) throw new AppError('NOT_FOUND', `no such record ${v.slice(0, 80)}`);
    return v;
  };
  const body = (req: FastifyRequest) => Body.of(req.body);

  app.get('/respond/vocabularies', async (): Promise<Vocabularies> => ({
    severities: SEVERITIES, phases: PHASES, determinations: DETERMINATIONS, investigationStatuses: INVESTIGATION_STATUSES, pap: PAP_LEVELS,
    taskStatuses: TASK_STATUSES, observableTypes: OBSERVABLE_TYPES, services: CSIRT_SERVICES, urgencies: URGENCIES, categories: Object.keys(PLAYBOOKS),
    decisionKinds: DECISION_KINDS, likelihood: ICD203_LIKELIHOOD, confidence: CONFIDENCE_LEVELS, reliability: RELIABILITY, credibility: CREDIBILITY,
    achRatings: Object.keys(ACH_RATINGS), alertLevels: ALERT_LEVELS,
  }));

  // ---- incidents ----
  app.get('/incidents', async (req) => {
    const scope = exerciseOfQuery(req, ['phase']);
    const q = req.query as Record<string, unknown>;
    if (q.phase !== undefined && typeof q.phase !== 'string') throw new AppError('INVALID_FILTER', 'phase: give it once, as a comma list');
    const phases = typeof q.phase === 'string' ? q.phase.split(',') : undefined;
    if (phases?.some((p) => !(PHASES as readonly string[]).includes(p))) throw new AppError('INVALID_FILTER', `phase must be among ${PHASES.join(', ')}`);
    return { items: await incidents.list(actor(req), { ...(phases ? { phases: phases as Phase[] } : {}), ...scope }) };
  });
  app.get('/incidents/metrics', async (req) => {
    queryOf(req.query, []);
    return { items: await incidents.metrics(actor(req)) };
  });
  app.post('/incidents', async (req, reply) => {
    const b = body(req);
    const view = await incidents.create(actor(req), {
      title: b.str('title', { max: 300 }), severity: b.int('severity', 0, 5),
      ...opt('description', b.optStr('description')), ...opt('category', b.optOneOf('category', Object.keys(PLAYBOOKS))),
      ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)), ...opt('pap', b.optOneOf('pap', PAP_LEVELS)),
      ...opt('occurredAt', b.optTimestamp('occurredAt')), ...opt('detectedAt', b.optTimestamp('detectedAt')),
      ...opt('determination', b.optOneOf('determination', DETERMINATIONS)), ...exerciseOfBody(b),
    });
    return reply.code(201).send(view);
  });
  app.get('/incidents/:id', async (req) => incidents.get(actor(req), id(req)));
  app.patch('/incidents/:id', async (req) => {
    const b = body(req);
    return incidents.update(actor(req), id(req), {
      ...opt('title', b.optStr('title', { max: 300 })), ...opt('description', b.optStr('description')),
      ...(b.has('severity') ? { severity: b.int('severity', 0, 5) } : {}), ...opt('determination', b.optOneOf('determination', DETERMINATIONS)),
      ...opt('investigationStatus', b.optOneOf('investigationStatus', INVESTIGATION_STATUSES)), ...opt('pap', b.optOneOf('pap', PAP_LEVELS)),
      ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)), ...opt('assignees', b.optStrings('assignees', { max: 50, itemMax: 100 })), ...opt('contained', b.bool('contained')),
      ...(b.has('rev') ? { rev: b.int('rev', 1, Number.MAX_SAFE_INTEGER) } : {}),
    });
  });
  app.post('/incidents/:id/phase', async (req) => {
    const b = body(req);
    return incidents.transition(actor(req), id(req), b.oneOf('to', PHASES), {
      ...(b.has('rev') ? { rev: b.int('rev', 1, Number.MAX_SAFE_INTEGER) } : {}), ...opt('summary', b.optStr('summary', { max: 20_000 })),
    });
  });
  app.post('/incidents/:id/shares', async (req) => incidents.share(actor(req), id(req), body(req).objects('shares', 50).map((s) => ({
    orgId: s.str('orgId', { max: 60 }).match(IDENTITY_ID)?.[0] ?? badField('orgId'), permission: s.oneOf('permission', ['read', 'contribute'] as const),
  }))));
  app.delete('/incidents/:id/shares/:org', async (req) => incidents.unshare(actor(req), id(req), (req.params as { org: string }).org));
  app.post('/incidents/:id/transfer', async (req) => incidents.transfer(actor(req), id(req), body(req).str('orgId', { max: 60 }).match(IDENTITY_ID)?.[0] ?? badField('orgId')));
  app.post('/incidents/:id/tasks', async (req) => {
    const b = body(req);
    return incidents.addTask(actor(req), id(req), {
      title: b.str('title', { max: 300 }), ...opt('description', b.optStr('description')), ...opt('mandatory', b.bool('mandatory')),
      ...opt('dependsOn', b.optStrings('dependsOn', { max: 50 })), ...opt('assignee', b.optStr('assignee', { max: 100 })),
    });
  });
  app.post('/incidents/:id/tasks/:task/status', async (req) => incidents.setTaskStatus(actor(req), id(req), id(req, 'task'), body(req).oneOf('status', TASK_STATUSES)));
  app.post('/incidents/:id/observables', async (req) => {
    const b = body(req);
    const type = b.oneOf('type', OBSERVABLE_TYPES);
    return incidents.addObservable(actor(req), id(req), {
      type, value: observableValue(type, b.str('value', { max: 2048 })), ...opt('ioc', b.bool('ioc')), ...opt('sighted', b.bool('sighted')),
      ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)), ...opt('pap', b.optOneOf('pap', PAP_LEVELS)), ...opt('description', b.optStr('description')),
      ...opt('recipients', b.optStrings('recipients', { max: 50, re: IDENTITY_ID })),
    });
  });
  app.post('/incidents/:id/links', async (req) => {
    const b = body(req);
    const kind = b.oneOf('kind', ['alerts', 'sightings', 'indicators', 'techniques'] as const);
    const refs = b.strings('refs', { max: 200, re: kind === 'techniques' ? ATTACK_TECHNIQUE : /^[a-z0-9-]+--[0-9a-f-]{36}$/ });
    return incidents.link(actor(req), id(req), kind, refs);
  });
  app.get('/incidents/:id/timeline', async (req) => ({ items: await incidents.timeline(actor(req), id(req)) }));
  app.post('/incidents/:id/comments', async (req, reply) => {
    await incidents.comment(actor(req), id(req), body(req).str('text', { max: 20_000 }));
    return reply.code(201).send({ ok: true });
  });
  app.post('/incidents/:id/timeline', async (req, reply) => {
    const b = body(req);
    await incidents.addTimelineEntry(actor(req), id(req), { at: b.timestamp('at'), text: b.str('text', { max: 5000 }) });
    return reply.code(201).send({ ok: true });
  });
  app.post('/incidents/:id/attachments', async (req) => {
    const b = body(req);
    const data = b.str('contentBase64', { max: 15_000_000 });
    if (!/^[A-Za-z0-9+/=\s]+$/.test(data)) throw badField('contentBase64');
    return incidents.addAttachment(actor(req), id(req), { name: b.str('name', { max: 255 }), mediaType: b.optStr('mediaType', { max: 100 }) ?? 'application/octet-stream', content: Buffer.from(data, 'base64') });
  });
  app.get('/incidents/:id/attachments/:att', async (req, reply) => {
    const a = await incidents.attachment(actor(req), id(req), id(req, 'att'));
    return reply.header('content-type', 'application/octet-stream').header('content-disposition', `attachment; filename="${a.name.replace(/[^\w.-]/g, '_')}"`)
      .header('x-content-sha256', a.sha256).send(a.content);
  });
  app.get('/incidents/:id/similar', async (req) => ({ items: await incidents.similar(actor(req), id(req)) }));
  app.get('/incidents/:id/stix', async (req) => {
    const a = actor(req);
    const view = await incidents.get(a, id(req));
    return { type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: incidentToStix(view, await incidentHistoryOf(incidents, a, view.id)) };
  });
  app.post('/incidents/:id/publish', async (req) => {
    const a = actor(req);
    const view = await incidents.get(a, id(req));
    if (!view.isOwner) throw new AppError('FORBIDDEN', 'only the owning organisation publishes its incident');
    if (view.exerciseId) throw new AppError('CONFLICT', 'an exercise incident is never published into a real collection (share intel in the exercise instead)');
    const coll = await collectionWritable(platform, a, body(req).str('collection', { max: 128 }));
    const objects = incidentToStix(view, await incidentHistoryOf(incidents, a, view.id));
    const results = await publish(platform.intel, a, { collectionId: coll, objects, tlp: view.tlp, recipients: view.shares.map((s) => s.orgId) });
    return { results };
  });

  // ---- assistance ----
  app.get('/assistance', async (req) => ({ items: await assistance.list(actor(req), exerciseOfQuery(req)) }));
  app.post('/assistance', async (req, reply) => {
    const b = body(req);
    // 'all' as a request reads back (routedTo: 'all'), or absent; else the allies named.
    const routed = b.has('routedTo') && (req.body as { routedTo?: unknown }).routedTo !== 'all' && b.optStrings('routedTo', { max: 100, re: IDENTITY_ID });
    const view = await assistance.request(actor(req), {
      title: b.str('title', { max: 300 }), ...opt('description', b.optStr('description')),
      services: b.strings('services', { max: CSIRT_SERVICES.length }).map((s) => (CSIRT_SERVICES as readonly string[]).includes(s) ? s as (typeof CSIRT_SERVICES)[number] : badField('services')),
      urgency: b.oneOf('urgency', URGENCIES), ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)), ...opt('incidentId', b.optStr('incidentId', { max: 60 })),
      routedTo: routed || 'all', offerDeadline: b.timestamp('offerDeadline'), ...exerciseOfBody(b),
    });
    return reply.code(201).send(view);
  });
  app.get('/assistance/:id', async (req) => assistance.get(actor(req), id(req)));
  app.post('/assistance/:id/offers', async (req, reply) => {
    const b = body(req);
    const view = await assistance.offer(actor(req), id(req), {
      team: b.str('team', { max: 200 }), capacity: b.str('capacity', { max: 500 }), availableFrom: b.timestamp('availableFrom'), availableUntil: b.timestamp('availableUntil'),
      services: b.strings('services', { max: CSIRT_SERVICES.length }).map((s) => (CSIRT_SERVICES as readonly string[]).includes(s) ? s as (typeof CSIRT_SERVICES)[number] : badField('services')),
      ...opt('note', b.optStr('note')),
    });
    return reply.code(201).send(view);
  });
  app.post('/offers/:id/accept', async (req) => assistance.decideOffer(actor(req), id(req), 'accept', req.body ? Body.of(req.body).optStr('reason') : undefined));
  app.post('/offers/:id/decline', async (req) => assistance.decideOffer(actor(req), id(req), 'decline', req.body ? Body.of(req.body).optStr('reason') : undefined));
  app.post('/offers/:id/withdraw', async (req) => assistance.withdrawOffer(actor(req), id(req)));
  app.post('/assistance/:id/close', async (req) => {
    const b = body(req);
    return assistance.close(actor(req), id(req), b.oneOf('how', ['closed', 'withdrawn'] as const), b.str('outcome', { max: 5000 }));
  });

  // ---- decisions ----
  app.get('/decisions', async (req) => ({ items: await decisions.list(actor(req), exerciseOfQuery(req)) }));
  app.post('/decisions', async (req, reply) => {
    const b = body(req);
    const effect = b.optObject('effect');
    const view = await decisions.propose(actor(req), {
      title: b.str('title', { max: 300 }), text: b.str('text', { max: 50_000 }), kind: b.oneOf('kind', DECISION_KINDS),
      procedure: b.oneOf('procedure', ['consensus', 'silence'] as const), participants: b.strings('participants', { max: 100, re: IDENTITY_ID }),
      deadline: b.timestamp('deadline'), ...opt('assessmentId', b.optStr('assessmentId', { max: 60 })), ...exerciseOfBody(b),
      ...(effect ? { effect: { type: effect.oneOf('type', ['alert-level'] as const), scope: effect.str('scope', { max: 60 }), level: effect.int('level', 1, ALERT_LEVELS.length) } } : {}),
    });
    return reply.code(201).send(view);
  });
  app.get('/decisions/:id', async (req) => decisions.get(actor(req), id(req)));
  app.post('/decisions/:id/positions', async (req) => {
    const b = body(req);
    return decisions.position(actor(req), id(req), b.oneOf('position', ['concur', 'object', 'break-silence'] as const), b.optStr('reason', { max: 10_000 }));
  });
  app.post('/decisions/:id/reissue', async (req) => {
    const b = body(req);
    return decisions.reissue(actor(req), id(req), b.str('text', { max: 50_000 }), b.timestamp('deadline'));
  });
  app.post('/decisions/:id/withdraw', async (req) => decisions.withdraw(actor(req), id(req)));

  // ---- attribution ----
  app.get('/assessments', async (req) => ({ items: await attribution.list(actor(req), exerciseOfQuery(req)) }));
  app.post('/assessments', async (req, reply) => {
    const b = body(req);
    return reply.code(201).send(await attribution.create(actor(req), {
      title: b.str('title', { max: 300 }), ...opt('incidentId', b.optStr('incidentId', { max: 60 })), ...opt('tlp', b.optOneOf('tlp', TLP_LEVELS)),
      ...opt('recipients', b.optStrings('recipients', { max: 100, re: IDENTITY_ID })), ...exerciseOfBody(b),
    }));
  });
  app.get('/assessments/:id', async (req) => attribution.get(actor(req), id(req)));
  app.post('/assessments/:id/hypotheses', async (req) => {
    const b = body(req);
    return attribution.addHypothesis(actor(req), id(req), { label: b.str('label', { max: 300 }), ...opt('stixRef', b.optStr('stixRef', { max: 100 })) });
  });
  app.post('/assessments/:id/evidence', async (req) => {
    const b = body(req);
    return attribution.addEvidence(actor(req), id(req), {
      description: b.str('description', { max: 5000 }), ...opt('stixRef', b.optStr('stixRef', { max: 100 })), reliability: b.oneOf('reliability', RELIABILITY),
      credibility: b.int('credibility', 1, 6) as Credibility, relevance: b.oneOf('relevance', WEIGHTS),
    });
  });
  app.post('/assessments/:id/ratings', async (req) => attribution.rate(actor(req), id(req), body(req).objects('ratings', 1000).map((r) => ({
    evidenceId: r.str('evidenceId', { max: 60 }), hypothesisId: r.str('hypothesisId', { max: 60 }), rating: r.oneOf('rating', Object.keys(ACH_RATINGS) as AchRating[]),
  }))));
  app.post('/assessments/:id/judgement', async (req) => {
    const b = body(req);
    return attribution.judge(actor(req), id(req), {
      hypothesisId: b.str('hypothesisId', { max: 60 }), likelihood: b.oneOf('likelihood', ICD203_LIKELIHOOD.map((l) => l.term) as Likelihood[]),
      confidence: b.oneOf('confidence', CONFIDENCE_LEVELS), rationale: b.str('rationale', { max: 20_000 }),
    });
  });
  app.get('/assessments/:id/history', async (req) => ({ items: await attribution.history(actor(req), id(req)) }));
  app.get('/assessments/:id/stix', async (req) => ({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: await attributionToStix(attribution, actor(req), id(req)) }));

  // ---- alert levels ----
  app.get('/alert-levels', async (req) => levels.board(actor(req), exerciseOfQuery(req).exerciseId ?? null));
  app.post('/alert-levels/own', async (req) => {
    const b = body(req);
    return levels.setOwn(actor(req), b.int('level', 1, ALERT_LEVELS.length), b.str('reason', { max: 2000 }), exerciseOfBody(b).exerciseId ?? null);
  });
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

function badField(field: string): never {
  throw new AppError('BAD_REQUEST', `${field}: invalid value`, { details: { field } });
}

async function collectionWritable(platform: Platform, a: AuthedActor, idOrAlias: string): Promise<string> {
  const c = (await platform.store.getCollection(idOrAlias)) ?? (await platform.store.listCollections()).find((x) => x.alias === idOrAlias);
  const r = c ? (await platform.access.rights(a.principal)).get(c.id) : undefined;
  if (!c || !r || (!r.canRead && !r.canWrite)) throw new AppError('NOT_FOUND', `no collection ${idOrAlias}`);
  if (!r.canWrite) throw new AppError('FORBIDDEN', 'no write access to this collection');
  return c.id;
}
