/**
 * REST routes of the Sigma rules service (docs/sigma.md "Rules service"). A rule is posted as
 * raw YAML (`application/yaml`, `text/yaml`; TLP and recipients in the query) or as JSON
 * `{yaml, tlp?, recipients?}`; a rule that does not compile is a 422 with the reason.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { TLP_LEVELS, type Tlp } from '../../core/policy.js';
import type { AuthedActor } from '../../detect/rules.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body, IDENTITY_ID } from './body.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

export async function sigmaRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const { sigma } = platform;
  const actor = (req: FastifyRequest): AuthedActor => ({ principal: principalOf(req), source: req.ip });
  const id = (req: FastifyRequest): string => {
    const v = (req.params as { id?: string }).id ?? '';
    if (v.length === 0 || v.length > 1000) throw new AppError('NOT_FOUND', 'no such Sigma rule');
    return v;
  };

  // A child scope, so the YAML parser applies to these routes only.
  await app.register(async (scope) => {
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, { yamlText: body as string }));

    scope.post('/sigma/rules', async (req, reply) => {
      const raw = req.body as { yamlText?: string } | undefined;
      const input = raw && typeof raw === 'object' && typeof raw.yamlText === 'string' ? fromQuery(req, raw.yamlText) : fromJson(req.body);
      return reply.code(201).send(await sigma.add(actor(req), input));
    });
    scope.get('/sigma/rules', async (req) => ({ items: await sigma.list(actor(req)) }));
    scope.get('/sigma/rules/:id', async (req) => sigma.get(actor(req), id(req)));
    scope.delete('/sigma/rules/:id', async (req, reply) => {
      await sigma.remove(actor(req), id(req));
      return reply.code(204).send();
    });
    scope.get('/sigma/status', async (req) => sigma.status(actor(req)));
  });
}

type AddInput = { yaml: string; tlp?: Tlp; recipients?: string[] };

function fromJson(raw: unknown): AddInput {
  const b = Body.of(raw);
  const yaml = (raw as { yaml?: unknown }).yaml;
  if (typeof yaml !== 'string' || yaml.trim() === '') throw new AppError('BAD_REQUEST', 'yaml: required string (the Sigma rule text)', { details: { field: 'yaml' } });
  const tlp = b.optOneOf('tlp', TLP_LEVELS);
  const recipients = b.optStrings('recipients', { max: 100, re: IDENTITY_ID });
  return { yaml, ...(tlp ? { tlp } : {}), ...(recipients ? { recipients } : {}) };
}

/** With a YAML body, the marking comes from the query: `?tlp=amber&recipients=identity--…,identity--…`. */
function fromQuery(req: FastifyRequest, yaml: string): AddInput {
  const q = req.query as Record<string, unknown>;
  const tlp = q.tlp;
  if (tlp !== undefined && (typeof tlp !== 'string' || !(TLP_LEVELS as readonly string[]).includes(tlp))) {
    throw new AppError('BAD_REQUEST', `tlp: one of ${TLP_LEVELS.join(', ')}`, { details: { field: 'tlp' } });
  }
  const rq = q.recipients;
  const recipients = typeof rq === 'string' ? rq.split(',').map((s) => s.trim()).filter(Boolean) : rq === undefined ? undefined : null;
  if (recipients === null || (recipients && (recipients.length > 100 || recipients.some((r) => !IDENTITY_ID.test(r))))) {
    throw new AppError('BAD_REQUEST', 'recipients: comma-separated identity ids (at most 100)', { details: { field: 'recipients' } });
  }
  return { yaml, ...(tlp ? { tlp: tlp as Tlp } : {}), ...(recipients ? { recipients } : {}) };
}
