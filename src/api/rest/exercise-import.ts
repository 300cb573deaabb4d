/**
 * REST routes of scenario import (docs/exercises-msel.md) and of the after-action report as
 * PDF. Import: `{format: json|csv|xlsx|openaev, content | contentBase64, name?, description?,
 * start?, teams?}` → the importer (src/exercise/msel) → the exercise service's createScenario,
 * so an imported scenario is stored, audited and checked exactly as a JSON one. Team names
 * of a sheet resolve to the teams sent, else to an organisation of the directory (name, short
 * name or identity id). A bad row is a 400 whose details list `{row, column, message}`.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { ExerciseActor, Team } from '../../exercise/index.js';
import { IMPORT_FORMATS, importScenario } from '../../exercise/msel/index.js';
import { reportPdf } from '../../exercise/pdf/report-pdf.js';
import { afterActionReport } from '../../exercise/report.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body } from './body.js';

const EX_ID = /^exercise--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_CONTENT = 14_000_000;

const IMPORT_SCHEMA = {
  summary: 'Import a scenario from an MSEL sheet, an OpenAEV export or JSON',
  description: 'MSEL CSV (content) or XLSX (contentBase64), OpenAEV scenario export or Shieldwall JSON (content). 400 lists every bad row in error.details.errors [{row, column, message}] (docs/exercises-msel.md).',
  tags: ['exercises'],
  body: {
    type: 'object',
    required: ['format'],
    properties: {
      format: { type: 'string', enum: [...IMPORT_FORMATS] },
      content: { type: 'string', description: 'The file as text (csv, json, openaev).' },
      contentBase64: { type: 'string', description: 'The file bytes as base64 (xlsx; any format may use it).' },
      name: { type: 'string', maxLength: 200, description: 'Scenario name (sheets carry none).' },
      description: { type: 'string', description: 'Storyline of the scenario.' },
      start: { type: 'string', description: 'Exercise start (RFC 3339) that absolute MSEL times are counted from; default the earliest time of the sheet.' },
      teams: { type: 'array', description: 'Teams {id, name, orgs[]} the sheet names by id or name.', items: { type: 'object' } },
    },
  },
} as FastifySchema;

export async function exerciseImportRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const actor = (req: FastifyRequest): ExerciseActor => ({ principal: principalOf(req), source: req.ip });

  app.post('/exercises/scenarios/import', { schema: IMPORT_SCHEMA, attachValidation: true }, async (req, reply) => {
    const b = Body.of(req.body);
    const format = b.oneOf('format', IMPORT_FORMATS);
    let content: string | Uint8Array;
    if (b.has('contentBase64')) {
      const data = b.str('contentBase64', { max: MAX_CONTENT });
      if (!/^[A-Za-z0-9+/=\s]+$/.test(data)) throw new AppError('BAD_REQUEST', 'contentBase64: not base64', { details: { field: 'contentBase64' } });
      content = new Uint8Array(Buffer.from(data, 'base64'));
    } else {
      content = b.str('content', { max: MAX_CONTENT });
    }
    const startText = b.optTimestamp('start');
    const teams: Team[] | undefined = b.has('teams')
      ? b.objects('teams', 100).map((t) => ({ id: t.str('id', { max: 100 }), name: t.str('name', { max: 200 }), orgs: t.strings('orgs', { max: 50, itemMax: 100 }) }))
      : undefined;
    const orgs = await platform.store.listOrganisations();
    const resolveTeam = (name: string): string[] | undefined => {
      const n = name.trim().toLowerCase();
      const o = orgs.find((x) => x.id === n || x.name.toLowerCase() === n || x.shortName.toLowerCase() === n);
      return o ? [o.id] : undefined;
    };
    const scenario = await importScenario({
      format, content, resolveTeam,
      ...(b.optStr('name', { max: 200 }) ? { name: b.optStr('name', { max: 200 })! } : {}),
      ...(b.optStr('description', { max: 20_000 }) ? { description: b.optStr('description', { max: 20_000 })! } : {}),
      ...(startText ? { start: Date.parse(startText) } : {}),
      ...(teams ? { teams } : {}),
    });
    return reply.code(201).send(await platform.exercise.createScenario(actor(req), scenario));
  });

  app.get('/exercises/:id/report.pdf', {
    schema: ({
      summary: 'After-action report as PDF', tags: ['exercises'],
      description: 'The after-action report JSON drawn with pdfkit: scores and bar charts per team, objectives, injects with time to detect and respond, expectations, timeline, lessons, evaluations.',
      params: { type: 'object', properties: { id: { type: 'string', description: 'exercise--<uuid>' } } },
      querystring: { type: 'object', properties: { compress: { type: 'string', enum: ['true', 'false'], description: 'false: uncompressed content streams (text readable).' } } },
    }) as FastifySchema,
  }, async (req, reply) => {
    const id = (req.params as { id?: string }).id ?? '';
    if (!EX_ID.test(id)) throw new AppError('NOT_FOUND', `no such exercise ${id.slice(0, 80)}`);
    const report = afterActionReport(await platform.exercise.reportInput(actor(req), id));
    // Uncompressed streams on request, so tests (and curious users) can read the text.
    const compress = (req.query as { compress?: string }).compress !== 'false';
    const pdf = await reportPdf(report, { compress });
    return reply.header('content-type', 'application/pdf').header('content-disposition', `attachment; filename="after-action-report-${id.slice(-12)}.pdf"`).send(pdf);
  });
}
