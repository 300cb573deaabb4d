/**
 * GET /api/v1/system (admin): the state of this node. Here its `indexes`: the correlation index
 * and the indicator feed follow the store in the background (built after the node listens, fed
 * after commits rather than inside them), so an admin can see how far each one is behind.
 * While an index catches up, reads that depend on it may be incomplete, never more permissive:
 * correlation links are found inside the release-policy query, and detection waits for the feed.
 */
import type { FastifyInstance } from 'fastify';
import { formatMicros } from '../../core/time.js';
import type { Platform } from '../platform.js';
import { principalOf, requireAuth } from './auth.js';
import { requireRole } from './context.js';
import { queryOf } from './parse.js';

const INDEX_SCHEMA = {
  type: 'object',
  required: ['name', 'cursor', 'behind', 'lagMs', 'ready', 'error'],
  properties: {
    name: { type: 'string', description: 'correlation (observable values across objects) or indicators (the detection feed)' },
    cursor: { type: ['string', 'null'], description: 'date_added of the last object version the index has read (null: none yet)' },
    behind: { type: 'integer', description: 'object versions stored after the cursor that the index still has to read' },
    lagMs: { type: 'integer', description: 'age of the oldest version not read yet (0 when none)' },
    ready: { type: 'boolean', description: 'true when the index has read everything the store held when asked' },
    error: { type: ['string', 'null'], description: 'the failure of the last run, if it failed (it is retried)' },
  },
} as const;

export async function systemRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  app.addHook('onRequest', requireAuth(platform));
  app.get('/system', {
    schema: {
      summary: 'State of this node (admin)',
      description: 'indexes: how far each index that follows the store (correlation, the indicator feed of detection) is behind it.',
      response: { 200: { type: 'object', required: ['indexes'], properties: { indexes: { type: 'array', items: INDEX_SCHEMA } } } },
    },
  }, async (req) => {
    requireRole(principalOf(req), ['admin']);
    queryOf(req.query, []);
    const indexes = await platform.indexes();
    return {
      indexes: indexes.map((i) => ({
        name: i.name, cursor: i.cursorUs > 0 ? formatMicros(i.cursorUs) : null, behind: i.behind, lagMs: Math.round(i.lagMs), ready: i.ready, error: i.error,
      })),
    };
  });
}
