/**
 * The served OpenAPI document: the hand-written operations of openapi.ts, plus one operation
 * for every other REST route the app registered (RouteCatalog), built from what the route
 * declares — its path parameters and, when given, its Fastify `schema` (summary, description,
 * querystring, params, body, response). Such operations carry `x-generated: true`.
 */
import { ROUTE_ACTIONS } from '../route-permissions.js';
import type { RouteInfo } from './catalog.js';
import { errors, HTTP_METHODS, OPENAPI, type HttpMethod, type JsonSchema, type OpenApiDocument, type OpenApiOperation, type OpenApiParameter } from './openapi.js';

/** Fastify `/a/:id/b` → OpenAPI `/a/{id}/b`. */
export const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

function operationId(method: string, path: string): string {
  const words = `${method} ${path}`.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function propsOf(s: unknown): [string, JsonSchema][] {
  const props = s && typeof s === 'object' ? (s as { properties?: Record<string, JsonSchema> }).properties : undefined;
  return props ? Object.entries(props) : [];
}

function generated(route: RouteInfo, method: HttpMethod): OpenApiOperation {
  const path = openApiPath(route.url);
  const schema = route.schema ?? {};
  const declaredParams = new Map(propsOf(schema.params));
  const requiredQuery = new Set(((schema.querystring as { required?: string[] } | undefined)?.required) ?? []);
  const parameters: OpenApiParameter[] = [
    ...[...route.url.matchAll(/:(\w+)/g)].map((m): OpenApiParameter => ({
      name: m[1]!, in: 'path', required: true, description: `Path parameter ${m[1]}.`, schema: declaredParams.get(m[1]!) ?? { type: 'string' },
    })),
    ...propsOf(schema.querystring).map(([name, s]): OpenApiParameter => ({
      name, in: 'query', description: typeof s.description === 'string' ? s.description : '', schema: s, ...(requiredQuery.has(name) ? { required: true } : {}),
    })),
  ];
  const response200 = (schema.response as Record<string, JsonSchema> | undefined)?.['200'];
  const segment = route.url.replace(/^\/api\/v1\//, '').split('/')[0] ?? 'api';
  return {
    operationId: operationId(method, path),
    summary: typeof schema.summary === 'string' ? schema.summary : `${method.toUpperCase()} ${path}`,
    description: typeof schema.description === 'string' ? schema.description : 'Described by the route declaration only; see the module documentation for details.',
    tags: [segment],
    ...(parameters.length ? { parameters } : {}),
    ...(method === 'post' || method === 'put' || method === 'patch'
      ? { requestBody: { required: false, content: { 'application/json': { schema: (schema.body as JsonSchema | undefined) ?? { type: 'object' } } } } }
      : {}),
    'x-generated': true,
    responses: { 200: { description: 'Success.', content: { 'application/json': { schema: response200 ?? {} } } }, ...errors(400, 401, 403, 404) },
  };
}

/** The hand-written document, completed with every registered `/api/` route it does not describe. */
export function buildOpenApi(routes: readonly RouteInfo[] | undefined): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const [p, item] of Object.entries(OPENAPI.paths)) paths[p] = { ...item };
  const tags = new Set(OPENAPI.tags.map((t) => t.name));
  const extraTags: OpenApiDocument['tags'] = [];
  for (const r of routes ?? []) {
    const method = r.method.toLowerCase() as HttpMethod;
    if (!r.url.startsWith('/api/') || !HTTP_METHODS.includes(method)) continue;
    const path = openApiPath(r.url);
    const item = (paths[path] ??= {});
    if (item[method]) continue;
    const op = generated(r, method);
    item[method] = op;
    for (const t of op.tags) {
      if (!tags.has(t)) {
        tags.add(t);
        extraTags.push({ name: t, description: `Routes under /api/v1/${t}` });
      }
    }
  }
  // Every operation names the permission-table action it needs (from the table the server enforces).
  for (const [p, item] of Object.entries(paths)) {
    for (const [m, op] of Object.entries(item)) {
      const action = ROUTE_ACTIONS[`${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`];
      if (op && action) item[m as HttpMethod] = { ...op, 'x-permission': action };
    }
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return { ...OPENAPI, tags: [...OPENAPI.tags, ...extraTags], paths: sorted };
}
