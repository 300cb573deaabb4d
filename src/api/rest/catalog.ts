/**
 * Every route the app registers, recorded by a root `onRoute` hook, so that the OpenAPI
 * document covers REST routes added by any module — hand-described ones in detail, the rest
 * with what the route itself declares (method, path parameters, Fastify `schema` if given).
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface RouteInfo {
  method: string;
  /** Fastify URL with `:param` segments, prefix included. */
  url: string;
  schema?: Record<string, unknown>;
}

export class RouteCatalog {
  readonly routes: RouteInfo[] = [];
}

/** Keyed by the underlying HTTP server, which every encapsulated context of one app shares. */
const catalogs = new WeakMap<object, RouteCatalog>();

/** Call once on the root instance, before any route is registered. */
export function trackRoutes(app: FastifyInstance): RouteCatalog {
  const catalog = new RouteCatalog();
  catalogs.set(app.server, catalog);
  app.addHook('onRoute', (r: RouteOptions) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      catalog.routes.push({ method, url: r.url, ...(r.schema ? { schema: r.schema as Record<string, unknown> } : {}) });
    }
  });
  return catalog;
}

export function catalogOf(app: FastifyInstance): RouteCatalog | undefined {
  return catalogs.get(app.server);
}
