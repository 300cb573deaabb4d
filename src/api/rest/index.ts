/** REST API /api/v1 for the web shell (contract: docs/rest-api.md). */
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';
import { authRoutes } from './auth.js';

export async function restRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  await authRoutes(app, platform);
}
