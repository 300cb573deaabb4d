/**
 * REST API /api/v1 for the web shell (contract: docs/rest-api.md; OpenAPI 3.1 document at
 * /api/v1/openapi.json, rendered at /api/docs). Handlers parse at the edge, call the
 * domain, and leave errors to the one error boundary in api/errors.ts.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { CursorCodec } from '../../taxii/cursor.js';
import type { Platform } from '../platform.js';
import { authRoutes, requireAuth } from './auth.js';
import type { RestDeps } from './context.js';
import { directoryRoutes } from './directory.js';
import { intelRoutes } from './intel.js';
import { ioRoutes } from './io.js';
import { auditRoutes } from './audit.js';
import { systemRoutes } from './system.js';
import { federationRoutes } from './federation.js';
import { docsRoutes, openapiRoutes } from './docs-page.js';

export { docsRoutes };
export { trackRoutes, catalogOf } from './catalog.js';
export type { RouteCatalog, RouteInfo } from './catalog.js';
export { OPENAPI } from './openapi.js';
export { buildOpenApi } from './openapi-build.js';
export type { OpenApiDocument } from './openapi.js';

export async function restRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const deps: RestDeps = { platform, cursors: await CursorCodec.load(platform.store) };

  // Bundles may be posted with their own media type (STIX 2.1 §1.5); malformed JSON is a 400.
  app.addContentTypeParser(['application/stix+json', 'application/taxii+json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(new AppError('MALFORMED_JSON', `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });

  await authRoutes(app, platform);
  await openapiRoutes(app);
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireAuth(platform));
    await directoryRoutes(scope, deps);
    await intelRoutes(scope, deps);
    await ioRoutes(scope, deps);
    await auditRoutes(scope, deps);
    await systemRoutes(scope, deps);
    await federationRoutes(scope, deps);
  });
}
