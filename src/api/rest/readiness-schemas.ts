/**
 * JSON schemas (2020-12) of the readiness routes, for the OpenAPI document. They describe the
 * answers of src/readiness; the domain and api/rest/readiness.ts do the validating.
 */
const str = { type: 'string' };
const nstr = { type: ['string', 'null'] };
const num = { type: 'number' };
const nnum = { type: ['number', 'null'] };
const int = { type: 'integer' };
const tlp = { type: ['string', 'null'], enum: ['clear', 'green', 'amber', 'amber+strict', 'red', null] };
const identity = { type: 'string', pattern: '^identity--[0-9a-f-]{36}$' };
const obj = (properties: Record<string, object>, required = Object.keys(properties)) => ({ type: 'object', properties, required });
const list = (items: object) => obj({ items: { type: 'array', items } });

const scale = obj({ min: int, max: int, labels: { type: 'array', items: str } }, ['min', 'max']);
const frameworkSummary = obj({ key: str, title: str, version: str, source: { enum: ['nist-cprt', 'cis-v8', 'shieldwall'] }, scale, functions: int, categories: int, items: int });
const score = obj({ group: str, title: str, score: nnum, answered: int, items: int });
const evidence = obj({ kind: { enum: ['text', 'link', 'attachment'] }, text: str, url: str, attachmentId: str, name: str }, ['kind']);
const answer = obj({ level: nnum, evidence: { type: 'array', items: evidence }, owner: nstr, targetDate: nstr, targetLevel: nnum });
const assessment = obj({
  id: str, orgId: identity, frameworkKey: str, year: int, state: { enum: ['draft', 'submitted'] }, tlp, recipients: { type: 'array', items: str },
  isOwner: { type: 'boolean' }, basedOn: nstr, submittedAt: nstr, answers: { type: 'object', additionalProperties: answer }, scores: { type: 'array', items: score },
});
const distribution = {
  n: int, median: nnum, q1: nnum, q3: nnum, withheld: str, group: str, title: str, own: nnum,
  standing: obj({ vsMedian: { enum: ['above', 'at', 'below', null] }, band: { enum: ['bottom', 'lower-middle', 'upper-middle', 'top', null] } }),
};
const aggregates = obj({ frameworkKey: str, year: int, members: int, functions: { type: 'array', items: obj(distribution, ['n', 'median', 'q1', 'q3', 'group', 'title', 'own', 'standing']) } });
const finding = obj({
  id: str, orgId: identity, auditId: nstr, title: str, description: nstr, severity: { enum: ['low', 'medium', 'high', 'critical'] }, owner: nstr, dueDate: str, itemId: nstr,
  resolvedAt: nstr, status: { enum: ['open', 'in-progress', 'resolved', 'accepted'] }, overdue: { type: 'boolean' }, tlp,
}, ['id', 'orgId', 'title', 'severity', 'dueDate', 'status', 'overdue']);
const releaseProps = { tlp: { enum: ['clear', 'green', 'amber', 'amber+strict', 'red'] }, recipients: { type: 'array', items: identity } };
const q = (props: Record<string, string>) => ({ type: 'object', properties: Object.fromEntries(Object.entries(props).map(([k, d]) => [k, { type: 'string', description: d }])) });

export const S = {
  frameworkSummary,
  frameworkList: list(frameworkSummary),
  framework: obj({ key: str, title: str, version: str, source: str, scale, groups: { type: 'array' }, categories: { type: 'array' }, items: { type: 'array' } }),
  frameworkImport: obj({ content: { type: 'string', description: 'The framework file: NIST CPRT JSON, CIS Controls v8 style JSON, or Shieldwall JSON/YAML.' }, key: str }, ['content']),
  assessment,
  assessmentList: list(assessment),
  assessmentQuery: q({ framework: 'Framework key.', year: 'Four-digit year.', org: 'Organisation identity id.' }),
  assessmentCreate: obj({ frameworkKey: str, year: int, ...releaseProps }, ['frameworkKey', 'year']),
  answers: obj({ answers: { type: 'array', items: obj({ itemId: str, level: nnum, targetLevel: nnum, owner: nstr, targetDate: nstr, evidence: { type: 'array', items: evidence } }, ['itemId']) } }),
  release: obj(releaseProps),
  attachment: obj({ name: str, mediaType: str, contentBase64: str }, ['name', 'contentBase64']),
  attachmentStored: obj({ id: str, name: str, sha256: str, size: int }),
  historyQuery: q({ framework: 'Framework key (default pledge-2016).', org: 'Organisation identity id (default: own).' }),
  history: list(obj({ year: int, state: str, scores: { type: 'array', items: score } })),
  aggregateQuery: q({ framework: 'Framework key (default pledge-2016).', year: 'Four-digit year (default: last year).' }),
  reportQuery: q({ framework: 'Framework key (default pledge-2016).', year: 'Four-digit year (default: this year).', org: 'Organisation identity id (default: own).' }),
  aggregates,
  auditCreate: obj({ title: str, scheduledFor: str, frameworkKey: str, groups: { type: 'array', items: str }, checklist: { type: 'array', items: str }, ...releaseProps }, ['title']),
  check: obj({ checkId: str, result: { enum: ['pending', 'pass', 'fail', 'n/a'] }, note: str }, ['checkId', 'result']),
  findingQuery: q({ overdue: 'true: only open findings past their due date.' }),
  findingCreate: obj({ title: str, severity: { enum: ['low', 'medium', 'high', 'critical'] }, dueDate: str, description: str, owner: str, auditId: str, itemId: str, ...releaseProps }, ['title', 'severity', 'dueDate']),
  findingPatch: obj({ status: { enum: ['open', 'in-progress', 'resolved', 'accepted'] }, owner: str, dueDate: str, severity: { enum: ['low', 'medium', 'high', 'critical'] }, note: str }, []),
  cop: obj({ orgId: identity, count: int, items: { type: 'array', items: finding } }),
  vitalCreate: obj({ name: str, description: str, rtoMinutes: int, rpoMinutes: int, dependsOn: { type: 'array', items: str }, continuityPlan: obj({ summary: str, url: str, lastTested: str }, ['summary']), ...releaseProps }, ['name', 'rtoMinutes', 'rpoMinutes']),
  recovery: obj({ incidentId: str, exerciseRef: str, containedAt: str, restoredAt: str }, []),
  list: obj({ items: { type: 'array', items: { type: 'object' } } }),
  object: { type: 'object' },
  num,
};
