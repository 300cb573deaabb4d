/**
 * REST routes of the readiness domain under /api/v1/readiness (docs/readiness.md): frameworks,
 * self-assessments, alliance aggregates, hygiene audits and findings, vital functions and
 * recoveries, yearly reports (JSON and PDF). Handlers parse, call the domain, return its view.
 * Each route declares an OpenAPI schema for the document only (readiness-schemas.ts): the
 * domain validates, so a bad level is a 422 with the domain's words, not a schema error.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema, RouteShorthandOptions } from 'fastify';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS } from '../../core/policy.js';
import type { AuthedActor } from '../../respond/index.js';
import { CHECK_RESULTS, FINDING_STATUSES, SEVERITIES, memberPdf, alliancePdf, type AnswerInput, type Evidence, type Framework } from '../../readiness/index.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body, IDENTITY_ID, RECORD_ID } from './body.js';
import { S } from './readiness-schemas.js';

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z)?$/;
const KEY = /^[a-z0-9][a-z0-9.-]{0,63}$/;

/** Route options that put a schema in the OpenAPI document without Fastify validating or serializing by it. */
function doc(summary: string, s: { body?: object; response?: object; querystring?: object; description?: string } = {}): RouteShorthandOptions {
  return {
    schema: { summary, tags: ['readiness'], ...(s.description ? { description: s.description } : {}), ...(s.querystring ? { querystring: s.querystring } : {}), ...(s.body ? { body: s.body } : {}), ...(s.response ? { response: { 200: s.response } } : {}) } as FastifySchema,
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  };
}

export async function readinessRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { assessments, audits, recovery, reports } = platform.readiness;
  const actor = (req: FastifyRequest): AuthedActor => ({ principal: principalOf(req), source: req.ip });
  const id = (req: FastifyRequest, key = 'id'): string => {
    const v = (req.params as Record<string, string>)[key] ?? '';
    if (!RECORD_ID.test(v)) throw new AppError('NOT_FOUND', `no such record ${v.slice(0, 80)}`);
    return v;
  };
  const q = (req: FastifyRequest): Record<string, unknown> => (req.query ?? {}) as Record<string, unknown>;
  const year = (v: unknown, def: number): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (typeof v !== 'string' || !/^\d{4}$/.test(v) || n < 1990 || n > 2200) throw new AppError('INVALID_FILTER', 'year must be a four-digit year', { details: { parameter: 'year' } });
    return n;
  };
  const thisYear = () => new Date(platform.clock.now()).getUTCFullYear();
  const fwKey = (v: unknown): string => {
    if (v === undefined) return 'pledge-2016';
    if (typeof v !== 'string' || !KEY.test(v)) throw new AppError('INVALID_FILTER', 'framework: a framework key', { details: { parameter: 'framework' } });
    return v;
  };
  const orgParam = (v: unknown, req: FastifyRequest): string => {
    if (v === undefined) return principalOf(req).orgId;
    // An unknown or malformed organisation reads as any organisation the reader may not see: 404.
    if (typeof v !== 'string' || !IDENTITY_ID.test(v)) throw new AppError('NOT_FOUND', 'no such organisation');
    return v;
  };
  const release = (b: Body) => ({
    ...(b.has('tlp') ? { tlp: b.oneOf('tlp', TLP_LEVELS) } : {}), ...(b.has('recipients') ? { recipients: b.strings('recipients', { max: 100, re: IDENTITY_ID }) } : {}),
  });
  const dateField = (b: Body, k: string): string | undefined => {
    const v = b.optStr(k, { max: 40 });
    if (v !== undefined && (!DATE.test(v) || Number.isNaN(Date.parse(v)))) throw new AppError('BAD_REQUEST', `${k}: a date (YYYY-MM-DD) or RFC 3339 UTC timestamp`, { details: { field: k } });
    return v;
  };

  // ---- frameworks ----
  app.get('/readiness/frameworks', doc('Frameworks (shipped and imported)', { response: S.frameworkList }), async () => ({ items: (await assessments.frameworks()).map(summary) }));
  app.get('/readiness/frameworks/:key', doc('One framework with its functions, categories and items', { response: S.framework }), async (req) => {
    const key = (req.params as { key: string }).key;
    if (!KEY.test(key)) throw new AppError('NOT_FOUND', 'no such framework');
    return assessments.framework(key);
  });
  app.post('/readiness/frameworks', doc('Import a framework file', { body: S.frameworkImport, response: S.frameworkSummary }), async (req, reply) => {
    const b = Body.of(req.body);
    const key = b.optStr('key', { max: 64 });
    const f = await assessments.importFramework(actor(req), b.str('content', { max: 20_000_000 }), key ? { key } : {});
    return reply.code(201).send(summary(f));
  });

  // ---- assessments ----
  app.get('/readiness/assessments', doc('Assessments the reader may see', { querystring: S.assessmentQuery, response: S.assessmentList }), async (req) => {
    const qs = q(req);
    return { items: await assessments.list(actor(req), { ...(qs.framework !== undefined ? { frameworkKey: fwKey(qs.framework) } : {}), ...(qs.year !== undefined ? { year: year(qs.year, 0) } : {}), ...(qs.org !== undefined ? { orgId: orgParam(qs.org, req) } : {}) }) };
  });
  app.post('/readiness/assessments', doc('Start the own organisation\'s assessment of a year (from the last submitted one)', { body: S.assessmentCreate, response: S.assessment }), async (req, reply) => {
    const b = Body.of(req.body);
    const view = await assessments.create(actor(req), { frameworkKey: b.str('frameworkKey', { max: 64 }), year: b.int('year', 1990, 2200), ...release(b) });
    return reply.code(201).send(view);
  });
  app.get('/readiness/assessments/:id', doc('One assessment', { response: S.assessment }), async (req) => assessments.get(actor(req), id(req)));
  app.post('/readiness/assessments/:id/answers', doc('Answer items (draft only; 409 once submitted)', { body: S.answers, response: S.assessment }), async (req) => {
    const raw = (req.body as { answers?: unknown } | null)?.answers;
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 5000) throw new AppError('BAD_REQUEST', 'answers: required list of 1-5000 objects', { details: { field: 'answers' } });
    return assessments.answer(actor(req), id(req), raw.map((x, i) => answerOf(x, i)));
  });
  app.post('/readiness/assessments/:id/submit', doc('Submit: the assessment becomes immutable', { response: S.assessment }), async (req) => assessments.submit(actor(req), id(req)));
  app.post('/readiness/assessments/:id/release', doc('Choose who receives the detail (TLP and recipients)', { body: S.release, response: S.assessment }), async (req) => {
    const b = Body.of(req.body);
    return assessments.release(actor(req), id(req), { tlp: b.oneOf('tlp', TLP_LEVELS), recipients: b.strings('recipients', { max: 100, re: IDENTITY_ID }) });
  });
  app.post('/readiness/assessments/:id/attachments', doc('Attach evidence (base64)', { body: S.attachment, response: S.attachmentStored }), async (req, reply) => {
    const b = Body.of(req.body);
    const data = b.str('contentBase64', { max: 7_000_000 });
    if (!/^[A-Za-z0-9+/=\s]+$/.test(data)) throw new AppError('BAD_REQUEST', 'contentBase64: base64 expected', { details: { field: 'contentBase64' } });
    return reply.code(201).send(await assessments.addAttachment(actor(req), id(req), { name: b.str('name', { max: 255 }), mediaType: b.optStr('mediaType', { max: 100 }) ?? 'application/octet-stream', content: Buffer.from(data, 'base64') }));
  });
  app.get('/readiness/assessments/:id/attachments/:att', doc('Download an evidence attachment'), async (req, reply) => {
    const a = await assessments.attachment(actor(req), id(req), id(req, 'att'));
    return reply.header('content-type', 'application/octet-stream').header('content-disposition', `attachment; filename="${a.name.replace(/[^\w.-]/g, '_')}"`)
      .header('x-content-sha256', a.sha256).send(a.content);
  });
  app.get('/readiness/history', doc('Maturity by function over the years of one organisation (what the reader may see)', { querystring: S.historyQuery, response: S.history }), async (req) => {
    const qs = q(req);
    return { items: await assessments.history(actor(req), fwKey(qs.framework), orgParam(qs.org, req)) };
  });
  app.get('/readiness/aggregates', doc('Alliance aggregates of a year: median and quartiles per function, and where the reader stands', { querystring: S.aggregateQuery, response: S.aggregates }), async (req) => {
    const qs = q(req);
    return assessments.aggregates(actor(req), fwKey(qs.framework), year(qs.year, thisYear() - 1));
  });

  // ---- hygiene audits and findings ----
  app.get('/readiness/audits', doc('Audit plans the reader may see', { response: S.list }), async (req) => ({ items: await audits.listPlans(actor(req)) }));
  app.post('/readiness/audits', doc('Plan an audit with a checklist (framework items and/or custom)', { body: S.auditCreate, response: S.object }), async (req, reply) => {
    const b = Body.of(req.body);
    const scheduledFor = dateField(b, 'scheduledFor');
    const frameworkKey = b.optStr('frameworkKey', { max: 64 });
    const groups = b.optStrings('groups', { max: 50, itemMax: 64 });
    const checklist = b.optStrings('checklist', { max: 500, itemMax: 2000 });
    return reply.code(201).send(await audits.createPlan(actor(req), {
      title: b.str('title', { max: 300 }), ...(scheduledFor ? { scheduledFor } : {}), ...(frameworkKey ? { frameworkKey } : {}), ...(groups ? { groups } : {}), ...(checklist ? { checklist } : {}), ...release(b),
    }));
  });
  app.get('/readiness/audits/:id', doc('One audit plan', { response: S.object }), async (req) => audits.getPlan(actor(req), id(req)));
  app.post('/readiness/audits/:id/checks', doc('Record a checklist result', { body: S.check, response: S.object }), async (req) => {
    const b = Body.of(req.body);
    const note = b.optStr('note', { max: 5000 });
    return audits.check(actor(req), id(req), { checkId: b.str('checkId', { max: 64 }), result: b.oneOf('result', CHECK_RESULTS), ...(note ? { note } : {}) });
  });
  app.get('/readiness/findings', doc('Findings the reader may see', { querystring: S.findingQuery, response: S.list }), async (req) => {
    const qs = q(req);
    if (qs.overdue !== undefined && qs.overdue !== 'true' && qs.overdue !== 'false') throw new AppError('INVALID_FILTER', 'overdue: true or false', { details: { parameter: 'overdue' } });
    return { items: await audits.listFindings(actor(req), { overdue: qs.overdue === 'true' }) };
  });
  app.post('/readiness/findings', doc('Record a finding', { body: S.findingCreate, response: S.object }), async (req, reply) => {
    const b = Body.of(req.body);
    const dueDate = dateField(b, 'dueDate');
    if (!dueDate) throw new AppError('BAD_REQUEST', 'dueDate: required', { details: { field: 'dueDate' } });
    const auditId = b.optStr('auditId', { max: 100 });
    if (auditId !== undefined && !RECORD_ID.test(auditId)) throw new AppError('NOT_FOUND', 'no such audit');
    const [description, owner, itemId] = [b.optStr('description', { max: 10_000 }), b.optStr('owner', { max: 200 }), b.optStr('itemId', { max: 64 })];
    return reply.code(201).send(await audits.createFinding(actor(req), {
      title: b.str('title', { max: 300 }), severity: b.oneOf('severity', SEVERITIES), dueDate,
      ...(description ? { description } : {}), ...(owner ? { owner } : {}), ...(itemId ? { itemId } : {}), ...(auditId ? { auditId } : {}), ...release(b),
    }));
  });
  app.get('/readiness/findings/:id', doc('One finding with its remediation history', { response: S.object }), async (req) => audits.getFinding(actor(req), id(req)));
  app.patch('/readiness/findings/:id', doc('Track remediation: status, owner, due date, severity, note', { body: S.findingPatch, response: S.object }), async (req) => {
    const b = Body.of(req.body);
    const dueDate = dateField(b, 'dueDate');
    const [status, severity, owner, note] = [b.optOneOf('status', FINDING_STATUSES), b.optOneOf('severity', SEVERITIES), b.optStr('owner', { max: 200 }), b.optStr('note', { max: 5000 })];
    return audits.updateFinding(actor(req), id(req), { ...(status ? { status } : {}), ...(severity ? { severity } : {}), ...(owner ? { owner } : {}), ...(note ? { note } : {}), ...(dueDate ? { dueDate } : {}) });
  });
  app.get('/readiness/cop', doc('Operational picture feed: the reader\'s organisation\'s overdue findings', { response: S.cop }), async (req) => audits.overdueFeed(actor(req)));

  // ---- recovery ----
  app.get('/readiness/vital-functions', doc('Vital functions the reader may see', { response: S.list }), async (req) => ({ items: await recovery.list(actor(req)) }));
  app.post('/readiness/vital-functions', doc('Declare a vital function with RTO/RPO', { body: S.vitalCreate, response: S.object }), async (req, reply) => {
    const b = Body.of(req.body);
    const description = b.optStr('description', { max: 5000 });
    const dependsOn = b.optStrings('dependsOn', { max: 200, itemMax: 300 });
    const plan = b.optObject('continuityPlan');
    return reply.code(201).send(await recovery.create(actor(req), {
      name: b.str('name', { max: 300 }), rtoMinutes: b.int('rtoMinutes', 0, 525_600), rpoMinutes: b.int('rpoMinutes', 0, 525_600),
      ...(description ? { description } : {}), ...(dependsOn ? { dependsOn } : {}), ...release(b),
      ...(plan ? { continuityPlan: { summary: plan.str('summary', { max: 10_000 }), url: plan.optStr('url', { max: 2000 }) ?? null, lastTested: dateField(plan, 'lastTested') ?? null } } : {}),
    }));
  });
  app.get('/readiness/vital-functions/:id', doc('One vital function', { response: S.object }), async (req) => recovery.get(actor(req), id(req)));
  app.patch('/readiness/vital-functions/:id', doc('Change a vital function', { body: S.vitalCreate, response: S.object }), async (req) => {
    const b = Body.of(req.body);
    const [name, description, dependsOn] = [b.optStr('name', { max: 300 }), b.optStr('description', { max: 5000 }), b.optStrings('dependsOn', { max: 200, itemMax: 300 })];
    return recovery.update(actor(req), id(req), {
      ...(name ? { name } : {}), ...(description !== undefined ? { description } : {}), ...(dependsOn ? { dependsOn } : {}),
      ...(b.has('rtoMinutes') ? { rtoMinutes: b.int('rtoMinutes', 0, 525_600) } : {}), ...(b.has('rpoMinutes') ? { rpoMinutes: b.int('rpoMinutes', 0, 525_600) } : {}),
    });
  });
  app.post('/readiness/vital-functions/:id/recoveries', doc('Record a recovery from an incident (read from its timeline) or an exercise', { body: S.recovery, response: S.object }), async (req) => {
    const b = Body.of(req.body);
    const incidentId = b.optStr('incidentId', { max: 100 });
    if (incidentId !== undefined && !RECORD_ID.test(incidentId)) throw new AppError('NOT_FOUND', 'no such incident');
    const [exerciseRef, containedAt, restoredAt] = [b.optStr('exerciseRef', { max: 300 }), b.optTimestamp('containedAt'), b.optTimestamp('restoredAt')];
    return recovery.recordRecovery(actor(req), id(req), { ...(incidentId ? { incidentId } : {}), ...(exerciseRef ? { exerciseRef } : {}), ...(containedAt ? { containedAt } : {}), ...(restoredAt ? { restoredAt } : {}) });
  });

  // ---- reports ----
  const member = (req: FastifyRequest) => {
    const qs = q(req);
    return reports.member(actor(req), orgParam(qs.org, req), year(qs.year, thisYear()), fwKey(qs.framework));
  };
  const alliance = (req: FastifyRequest) => {
    const qs = q(req);
    return reports.alliance(actor(req), year(qs.year, thisYear() - 1), fwKey(qs.framework));
  };
  app.get('/readiness/reports/member', doc('Yearly readiness report of a member (JSON)', { querystring: S.reportQuery, response: S.object }), async (req) => member(req));
  app.get('/readiness/reports/member.pdf', doc('Yearly readiness report of a member (PDF)', { querystring: S.reportQuery }), async (req, reply) => {
    const r = await member(req);
    return reply.header('content-type', 'application/pdf').header('content-disposition', `attachment; filename="readiness-${r.year}.pdf"`).send(await memberPdf(r, new Date(platform.clock.now())));
  });
  app.get('/readiness/reports/alliance', doc('Alliance summary for the annual review (aggregates only)', { querystring: S.aggregateQuery, response: S.object }), async (req) => alliance(req));
  app.get('/readiness/reports/alliance.pdf', doc('Alliance summary for the annual review (PDF)', { querystring: S.aggregateQuery }), async (req, reply) => {
    const s = await alliance(req);
    return reply.header('content-type', 'application/pdf').header('content-disposition', `attachment; filename="alliance-readiness-${s.year}.pdf"`).send(await alliancePdf(s, new Date(platform.clock.now())));
  });
}

function summary(f: Framework) {
  return { key: f.key, title: f.title, version: f.version, source: f.source, scale: f.scale, functions: f.groups.length, categories: f.categories.length, items: f.items.length };
}

function answerOf(x: unknown, i: number): AnswerInput {
  const b = Body.of(x, `answers[${i}]`);
  const r = x as Record<string, unknown>;
  const level = (k: 'level' | 'targetLevel'): { level?: number | null } | { targetLevel?: number | null } => {
    const v = r[k];
    if (v === undefined) return {};
    // Levels are checked against the framework's scale by the domain (422); a non-number is 422 too.
    if (v !== null && typeof v !== 'number') throw new AppError('UNPROCESSABLE', `answers[${i}].${k}: a maturity level number or null`, { details: { field: `answers[${i}].${k}` } });
    return { [k]: v };
  };
  const evidence = Array.isArray(r.evidence) ? (r.evidence.length > 50 ? badEvidence(i) : r.evidence.map((e, j) => evidenceOf(e, i, j))) : r.evidence === undefined ? undefined : badEvidence(i);
  const targetDate = b.optStr('targetDate', { max: 40 });
  if (targetDate !== undefined && !DATE.test(targetDate)) throw new AppError('BAD_REQUEST', `answers[${i}].targetDate: a date YYYY-MM-DD`, { details: { field: `answers[${i}].targetDate` } });
  const owner = b.optStr('owner', { max: 200 });
  return { itemId: b.str('itemId', { max: 64 }), ...level('level'), ...level('targetLevel'), ...(evidence ? { evidence } : {}), ...(owner !== undefined ? { owner } : {}), ...(targetDate !== undefined ? { targetDate } : {}) };
}

function badEvidence(i: number): never {
  throw new AppError('BAD_REQUEST', `answers[${i}].evidence: a list of at most 50 items`, { details: { field: `answers[${i}].evidence` } });
}

function evidenceOf(x: unknown, i: number, j: number): Evidence {
  const b = Body.of(x, `answers[${i}].evidence[${j}]`);
  const kind = b.oneOf('kind', ['text', 'link', 'attachment'] as const);
  if (kind === 'text') return { kind, text: b.str('text', { max: 10_000 }) };
  if (kind === 'link') {
    const url = b.str('url', { max: 2000 });
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new AppError('BAD_REQUEST', `answers[${i}].evidence[${j}].url: an http(s) URL`);
    const text = b.optStr('text', { max: 2000 });
    return { kind, url, ...(text ? { text } : {}) };
  }
  const attachmentId = b.str('attachmentId', { max: 100 });
  return { kind, attachmentId, ...(b.optStr('name', { max: 255 }) ? { name: b.optStr('name', { max: 255 })! } : {}) };
}
