/**
 * The action (access/permissions.ts) of every HTTP route, and the one hook that enforces it.
 * `guardRoutes` runs on every route as Fastify registers it: a route under /api/ or a TAXII
 * API root with no declared action makes the app fail to start, so no route is left open by
 * omission. The check itself runs as the route's last onRequest hook, after the scope's
 * authentication, before the body is read: a credential that may not take the action gets 403
 * (401 without a credential) whatever the body or the object id.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions, onRequestHookHandler } from 'fastify';
import { AppError } from '../core/errors.js';
import { authorize, type Action } from '../access/index.js';

/** No credential needed. */
export const PUBLIC = 'public';
export type RouteAction = Action | typeof PUBLIC;

const V1 = '/api/v1';

/** `METHOD path` → action; TAXII paths are written under the placeholder root `{root}`. */
export const ROUTE_ACTIONS: Readonly<Record<string, RouteAction>> = {
  // TAXII 2.1 (§4–§5)
  'GET /taxii2/': 'taxii.read',
  'GET /{root}/': 'taxii.read',
  'GET /{root}/status/:sid/': 'taxii.read',
  'GET /{root}/collections/': 'taxii.read',
  'GET /{root}/collections/:cid/': 'taxii.read',
  'GET /{root}/collections/:cid/manifest/': 'taxii.read',
  'GET /{root}/collections/:cid/objects/': 'taxii.read',
  'POST /{root}/collections/:cid/objects/': 'taxii.write',
  'GET /{root}/collections/:cid/objects/:oid/': 'taxii.read',
  'DELETE /{root}/collections/:cid/objects/:oid/': 'taxii.delete',
  'GET /{root}/collections/:cid/objects/:oid/versions/': 'taxii.read',
  // session and documentation
  [`POST ${V1}/auth/login`]: PUBLIC,
  [`POST ${V1}/auth/logout`]: 'session.read',
  [`GET ${V1}/me`]: 'session.read',
  [`POST ${V1}/me/password`]: 'session.read',
  [`GET ${V1}/openapi.json`]: PUBLIC,
  'GET /api/docs': PUBLIC,
  // directory, intel, correlation
  [`GET ${V1}/organisations`]: 'directory.read',
  [`GET ${V1}/sharing-groups`]: 'directory.read',
  [`GET ${V1}/collections`]: 'directory.read',
  [`GET ${V1}/intel`]: 'intel.read',
  [`GET ${V1}/intel/:id`]: 'intel.read',
  [`GET ${V1}/intel/:id/sightings`]: 'intel.read',
  [`GET ${V1}/intel/export`]: 'intel.read',
  [`POST ${V1}/intel/import`]: 'intel.write',
  [`GET ${V1}/objects/:id/correlations`]: 'intel.read',
  [`GET ${V1}/correlation/frequent`]: 'intel.read',
  [`GET ${V1}/correlation/exclusions`]: 'intel.read',
  [`POST ${V1}/correlation/exclusions`]: 'admin.settings',
  [`DELETE ${V1}/correlation/exclusions/:id`]: 'admin.settings',
  [`POST ${V1}/correlation/reindex`]: 'admin.settings',
  [`GET ${V1}/warninglists`]: 'intel.read',
  [`GET ${V1}/warninglists/match`]: 'intel.read',
  [`POST ${V1}/warninglists`]: 'admin.settings',
  [`PATCH ${V1}/warninglists/:id`]: 'admin.settings',
  [`DELETE ${V1}/warninglists/:id`]: 'admin.settings',
  [`GET ${V1}/audit`]: 'admin.audit',
  // detection
  [`POST ${V1}/ingest`]: 'ingest.write',
  [`GET ${V1}/alerts`]: 'alerts.read',
  [`GET ${V1}/alerts/:id`]: 'alerts.read',
  [`PATCH ${V1}/alerts/:id`]: 'alerts.triage',
  [`POST ${V1}/alerts/:id/escalate`]: 'alerts.escalate',
  [`GET ${V1}/cop`]: 'alerts.read',
  [`GET ${V1}/detect/status`]: 'alerts.read',
  [`GET ${V1}/sigma/rules`]: 'sigma.read',
  [`GET ${V1}/sigma/rules/:id`]: 'sigma.read',
  [`GET ${V1}/sigma/status`]: 'sigma.read',
  [`POST ${V1}/sigma/rules`]: 'sigma.write',
  [`DELETE ${V1}/sigma/rules/:id`]: 'sigma.write',
  [`GET ${V1}/stream`]: 'stream.read',
  [`POST ${V1}/stream/ticket`]: 'stream.read',
  // the node's processes (admin)
  [`GET ${V1}/system`]: 'admin.system',
  [`GET ${V1}/system/dead-letters`]: 'admin.system',
  [`GET ${V1}/system/dead-letters/:seq`]: 'admin.system',
  [`POST ${V1}/system/dead-letters/:seq/retry`]: 'admin.system',
  [`POST ${V1}/system/dead-letters/:seq/discard`]: 'admin.system',
  // incidents
  [`GET ${V1}/respond/vocabularies`]: 'incident.read',
  [`GET ${V1}/incidents`]: 'incident.read',
  [`GET ${V1}/incidents/metrics`]: 'incident.read',
  [`GET ${V1}/incidents/:id`]: 'incident.read',
  [`GET ${V1}/incidents/:id/timeline`]: 'incident.read',
  [`GET ${V1}/incidents/:id/similar`]: 'incident.read',
  [`GET ${V1}/incidents/:id/stix`]: 'incident.read',
  [`GET ${V1}/incidents/:id/attachments/:att`]: 'incident.read',
  [`POST ${V1}/incidents`]: 'incident.write',
  [`PATCH ${V1}/incidents/:id`]: 'incident.write',
  [`POST ${V1}/incidents/:id/phase`]: 'incident.write',
  [`POST ${V1}/incidents/:id/shares`]: 'incident.write',
  [`DELETE ${V1}/incidents/:id/shares/:org`]: 'incident.write',
  [`POST ${V1}/incidents/:id/transfer`]: 'incident.write',
  [`POST ${V1}/incidents/:id/publish`]: 'incident.write',
  [`POST ${V1}/incidents/:id/tasks`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/tasks/:task/status`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/observables`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/links`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/timeline`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/attachments`]: 'incident.contribute',
  [`POST ${V1}/incidents/:id/comments`]: 'incident.comment',
  // assistance, decisions, attribution, alert levels
  [`GET ${V1}/assistance`]: 'assistance.read',
  [`GET ${V1}/assistance/:id`]: 'assistance.read',
  [`POST ${V1}/assistance`]: 'assistance.write',
  [`POST ${V1}/assistance/:id/offers`]: 'assistance.write',
  [`POST ${V1}/assistance/:id/close`]: 'assistance.write',
  [`POST ${V1}/offers/:id/accept`]: 'assistance.write',
  [`POST ${V1}/offers/:id/decline`]: 'assistance.write',
  [`POST ${V1}/offers/:id/withdraw`]: 'assistance.write',
  [`GET ${V1}/decisions`]: 'decision.read',
  [`GET ${V1}/decisions/:id`]: 'decision.read',
  [`POST ${V1}/decisions`]: 'decision.write',
  [`POST ${V1}/decisions/:id/positions`]: 'decision.write',
  [`POST ${V1}/decisions/:id/reissue`]: 'decision.write',
  [`POST ${V1}/decisions/:id/withdraw`]: 'decision.write',
  [`GET ${V1}/assessments`]: 'assessment.read',
  [`GET ${V1}/assessments/:id`]: 'assessment.read',
  [`GET ${V1}/assessments/:id/history`]: 'assessment.read',
  [`GET ${V1}/assessments/:id/stix`]: 'assessment.read',
  [`POST ${V1}/assessments`]: 'assessment.write',
  [`POST ${V1}/assessments/:id/hypotheses`]: 'assessment.write',
  [`POST ${V1}/assessments/:id/evidence`]: 'assessment.write',
  [`POST ${V1}/assessments/:id/ratings`]: 'assessment.write',
  [`POST ${V1}/assessments/:id/judgement`]: 'assessment.write',
  [`GET ${V1}/alert-levels`]: 'alert-level.read',
  [`POST ${V1}/alert-levels/own`]: 'alert-level.write',
  // federation (docs/federation.md)
  [`POST ${V1}/federation/envelopes`]: 'federation.sync',
  [`GET ${V1}/federation/retractions`]: 'federation.sync',
  [`POST ${V1}/federation/retractions`]: 'federation.sync',
  [`POST ${V1}/federation/records`]: 'federation.sync',
  [`POST ${V1}/federation/records/actions`]: 'federation.sync',
  [`POST ${V1}/federation/peers/:name/push-records`]: 'federation.admin',
  [`GET ${V1}/federation/node`]: 'federation.read',
  [`POST ${V1}/federation/node/rotate-key`]: 'federation.admin',
  [`POST ${V1}/federation/node/rotate-secret`]: 'federation.admin',
  [`GET ${V1}/federation/peers`]: 'federation.read',
  [`GET ${V1}/federation/peers/:name`]: 'federation.read',
  [`POST ${V1}/federation/peers`]: 'federation.admin',
  [`PATCH ${V1}/federation/peers/:name`]: 'federation.admin',
  [`DELETE ${V1}/federation/peers/:name`]: 'federation.admin',
  [`GET ${V1}/federation/subscriptions`]: 'federation.read',
  [`POST ${V1}/federation/subscriptions`]: 'federation.admin',
  [`GET ${V1}/federation/subscriptions/:id`]: 'federation.read',
  [`DELETE ${V1}/federation/subscriptions/:id`]: 'federation.admin',
  [`POST ${V1}/federation/subscriptions/:id/run`]: 'federation.admin',
  [`POST ${V1}/federation/subscriptions/:id/reset`]: 'federation.admin',
  [`GET ${V1}/federation/subscriptions/:id/rejects`]: 'federation.admin',
  [`POST ${V1}/federation/subscriptions/:id/retry`]: 'federation.admin',
  [`DELETE ${V1}/federation/subscriptions/:id/rejects`]: 'federation.admin',
  [`GET ${V1}/taxii-feeds`]: 'federation.read',
  [`POST ${V1}/taxii-feeds`]: 'federation.admin',
  [`GET ${V1}/taxii-feeds/:name/failures`]: 'federation.admin',
  [`POST ${V1}/taxii-feeds/:name/pull`]: 'federation.admin',
  [`POST ${V1}/taxii-feeds/:name/reset`]: 'federation.admin',
  [`DELETE ${V1}/taxii-feeds/:name`]: 'federation.admin',
  // exercises (docs/exercises.md); the service checks the per-exercise role (control, grant, team)
  [`GET ${V1}/exercises/scenarios`]: 'exercise.plan',
  [`POST ${V1}/exercises/scenarios`]: 'exercise.plan',
  [`GET ${V1}/exercises/scenarios/:sid`]: 'exercise.plan',
  [`PUT ${V1}/exercises/scenarios/:sid`]: 'exercise.plan',
  [`DELETE ${V1}/exercises/scenarios/:sid`]: 'exercise.plan',
  [`GET ${V1}/exercises/scenarios/:sid/export`]: 'exercise.plan',
  [`GET ${V1}/exercises`]: 'exercise.read',
  [`POST ${V1}/exercises`]: 'exercise.plan',
  [`GET ${V1}/exercises/:id`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/control`]: 'exercise.control',
  [`PUT ${V1}/exercises/:id/grants`]: 'exercise.plan',
  [`POST ${V1}/exercises/:id/archive`]: 'exercise.control',
  [`DELETE ${V1}/exercises/:id`]: 'exercise.control',
  [`GET ${V1}/exercises/:id/injects`]: 'exercise.read',
  [`GET ${V1}/exercises/:id/inbox`]: 'exercise.read',
  [`GET ${V1}/exercises/:id/intel`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/intel`]: 'exercise.play',
  [`GET ${V1}/exercises/:id/alerts`]: 'exercise.read',
  [`GET ${V1}/exercises/:id/expectations`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/expectations/grade`]: 'exercise.control',
  [`GET ${V1}/exercises/:id/sitreps`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/sitreps`]: 'exercise.play',
  [`GET ${V1}/exercises/:id/scoreboard`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/lessons`]: 'exercise.read',
  [`POST ${V1}/exercises/:id/evaluations`]: 'exercise.control',
  [`GET ${V1}/exercises/:id/report`]: 'exercise.read',
  [`POST ${V1}/exercises/scenarios/import`]: 'exercise.plan',
  [`GET ${V1}/exercises/:id/report.pdf`]: 'exercise.read',
  // MISP REST subset for PyMISP (docs/misp.md)
  'GET /api/misp/servers/getVersion': 'session.read',
  'GET /api/misp/users/view/me': 'session.read',
  'POST /api/misp/events/add': 'intel.write',
  'POST /api/misp/events': 'intel.write',
  'POST /api/misp/events/edit/:id': 'intel.write',
  'POST /api/misp/events/add/:option': 'intel.write',
  'POST /api/misp/events/edit/:id/:option': 'intel.write',
  'GET /api/misp/events/view/:id': 'intel.read',
  'POST /api/misp/events/view/:id': 'intel.read',
  'GET /api/misp/events/:id': 'intel.read',
  'POST /api/misp/events/publish/:id': 'intel.write',
  'POST /api/misp/events/delete/:id': 'intel.write',
  'DELETE /api/misp/events/:id': 'intel.write',
  'POST /api/misp/attributes/restSearch': 'intel.read',
  'POST /api/misp/events/restSearch': 'intel.read',
  'POST /api/misp/sightings/add': 'intel.write',
  'POST /api/misp/sightings/add/:id': 'intel.write',
  // readiness (docs/readiness.md)
  [`GET ${V1}/readiness/frameworks`]: 'readiness.read',
  [`GET ${V1}/readiness/frameworks/:key`]: 'readiness.read',
  [`POST ${V1}/readiness/frameworks`]: 'readiness.admin',
  [`GET ${V1}/readiness/assessments`]: 'readiness.read',
  [`POST ${V1}/readiness/assessments`]: 'readiness.write',
  [`GET ${V1}/readiness/assessments/:id`]: 'readiness.read',
  [`POST ${V1}/readiness/assessments/:id/answers`]: 'readiness.write',
  [`POST ${V1}/readiness/assessments/:id/submit`]: 'readiness.write',
  [`POST ${V1}/readiness/assessments/:id/release`]: 'readiness.write',
  [`POST ${V1}/readiness/assessments/:id/attachments`]: 'readiness.write',
  [`GET ${V1}/readiness/assessments/:id/attachments/:att`]: 'readiness.read',
  [`GET ${V1}/readiness/history`]: 'readiness.read',
  [`GET ${V1}/readiness/aggregates`]: 'readiness.read',
  [`GET ${V1}/readiness/audits`]: 'readiness.read',
  [`POST ${V1}/readiness/audits`]: 'readiness.write',
  [`GET ${V1}/readiness/audits/:id`]: 'readiness.read',
  [`POST ${V1}/readiness/audits/:id/checks`]: 'readiness.write',
  [`GET ${V1}/readiness/findings`]: 'readiness.read',
  [`POST ${V1}/readiness/findings`]: 'readiness.write',
  [`GET ${V1}/readiness/findings/:id`]: 'readiness.read',
  [`PATCH ${V1}/readiness/findings/:id`]: 'readiness.write',
  [`GET ${V1}/readiness/cop`]: 'readiness.read',
  [`GET ${V1}/readiness/vital-functions`]: 'readiness.read',
  [`POST ${V1}/readiness/vital-functions`]: 'readiness.write',
  [`GET ${V1}/readiness/vital-functions/:id`]: 'readiness.read',
  [`PATCH ${V1}/readiness/vital-functions/:id`]: 'readiness.write',
  [`POST ${V1}/readiness/vital-functions/:id/recoveries`]: 'readiness.write',
  [`GET ${V1}/readiness/reports/member`]: 'readiness.read',
  [`GET ${V1}/readiness/reports/member.pdf`]: 'readiness.read',
  [`GET ${V1}/readiness/reports/alliance`]: 'readiness.read',
  [`GET ${V1}/readiness/reports/alliance.pdf`]: 'readiness.read',
  // readiness: inventory, vulnerability intelligence, exposures, advisories (docs/readiness-exposure.md)
  [`GET ${V1}/readiness/assets`]: 'exposure.read',
  [`POST ${V1}/readiness/assets`]: 'inventory.write',
  [`POST ${V1}/readiness/inventory/import`]: 'inventory.write',
  [`GET ${V1}/readiness/assets/:id`]: 'exposure.read',
  [`PATCH ${V1}/readiness/assets/:id`]: 'inventory.write',
  [`DELETE ${V1}/readiness/assets/:id`]: 'inventory.write',
  [`GET ${V1}/readiness/vulnerabilities`]: 'exposure.read',
  [`GET ${V1}/readiness/vulnerabilities/:cve`]: 'exposure.read',
  [`POST ${V1}/readiness/vulnerabilities/import`]: 'vuln-intel.write',
  [`POST ${V1}/readiness/kev/import`]: 'vuln-intel.write',
  [`POST ${V1}/readiness/epss/import`]: 'vuln-intel.write',
  [`GET ${V1}/readiness/feeds`]: 'vuln-intel.write',
  [`GET ${V1}/readiness/feeds/:name`]: 'vuln-intel.write',
  [`PUT ${V1}/readiness/feeds/:name`]: 'vuln-intel.write',
  [`POST ${V1}/readiness/feeds/:name/run`]: 'vuln-intel.write',
  [`GET ${V1}/readiness/epss/:cve`]: 'exposure.read',
  [`GET ${V1}/readiness/exposures`]: 'exposure.read',
  [`GET ${V1}/readiness/exposures/trend`]: 'exposure.read',
  [`GET ${V1}/readiness/exposures/summary`]: 'exposure.read',
  [`GET ${V1}/readiness/exposures/:id`]: 'exposure.read',
  [`POST ${V1}/readiness/exposures/:id/status`]: 'exposure.write',
  [`GET ${V1}/readiness/advisories`]: 'exposure.read',
  [`POST ${V1}/readiness/advisories/import`]: 'advisory.write',
  [`POST ${V1}/readiness/advisories/default-tlp`]: 'advisory.write',
  [`GET ${V1}/readiness/advisories/:id`]: 'exposure.read',
  [`GET ${V1}/readiness/advisories/:id/csaf`]: 'exposure.read',
  [`POST ${V1}/readiness/advisories/:id/publish`]: 'advisory.write',
};

/** The table key of a registered route: TAXII API root prefixes become `{root}`. */
export function routeKey(method: string, url: string, roots: readonly string[]): string {
  const root = roots.find((r) => url === `/${r}/` || url.startsWith(`/${r}/`));
  return `${method} ${root ? `/{root}${url.slice(root.length + 1)}` : url}`;
}

/** The declared action of a route; undefined for a route outside /api/ and TAXII (static web files are public). */
export function actionOf(method: string, url: string, roots: readonly string[]): RouteAction | undefined {
  const key = routeKey(method, url, roots);
  const a = ROUTE_ACTIONS[key];
  if (a) return a;
  const guarded = url.startsWith('/api/') || url === '/taxii2/' || key.startsWith(`${method} /{root}`);
  if (guarded) throw new Error(`route ${method} ${url} has no declared permission; add it to ROUTE_ACTIONS in src/api/route-permissions.ts`);
  return undefined;
}

function check(action: Action): onRequestHookHandler {
  return async (req: FastifyRequest) => {
    // Authentication ran in the scope's (or the route's own) earlier onRequest hook.
    if (!req.principal) throw new AppError('UNAUTHENTICATED', 'authentication required');
    authorize(req.principal, action);
  };
}

/** Call once on the root instance, before any route is registered. */
export function guardRoutes(app: FastifyInstance, roots: readonly string[]): void {
  app.addHook('onRoute', (r: RouteOptions) => {
    // A HEAD route runs its GET handler (Fastify exposeHeadRoutes), so it takes the GET's action.
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'OPTIONS').map((m) => (m === 'HEAD' ? 'GET' : m));
    const actions = new Set(methods.map((m) => actionOf(m, r.url, roots)));
    if (actions.size > 1) throw new Error(`route ${r.url} declares different actions per method; register the methods separately`);
    const [action] = actions;
    if (action === undefined || action === PUBLIC) return;
    const own = r.onRequest === undefined ? [] : Array.isArray(r.onRequest) ? r.onRequest : [r.onRequest];
    r.onRequest = [...own, check(action)];
  });
}
