/**
 * Scenario importers (docs/exercises-msel.md): MSEL sheets from CSV or XLSX, the OpenAEV
 * scenario export, and Shieldwall's own JSON. Pure functions: text or bytes in, a checked
 * {@link Scenario} out, or a {@link MselImportError} (400) listing every bad row.
 */
import { AppError } from '../../core/errors.js';
import type { Scenario, Team } from '../model.js';
import { parseScenario } from '../validate.js';
import { mselFromCsv } from './csv.js';
import { MselImportError } from './draft.js';
import { scenarioFromOpenAev } from './openaev.js';
import { draftToScenario } from './scenario.js';
import { mselFromXlsx } from './xlsx.js';

export { MselImportError, type RowIssue } from './draft.js';
export { mselFromCsv } from './csv.js';
export { mselFromXlsx } from './xlsx.js';
export { scenarioFromOpenAev } from './openaev.js';
export { draftToScenario } from './scenario.js';
export { parseAbsolute, parseRelative, formatRelative } from './time.js';

export const IMPORT_FORMATS = ['json', 'csv', 'xlsx', 'openaev'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportRequest {
  format: ImportFormat;
  /** Text (json, csv, openaev) or bytes (xlsx). */
  content: string | Uint8Array;
  /** Scenario name for sheets (which carry none). */
  name?: string;
  description?: string;
  /** Exercise start for absolute MSEL times (epoch ms); default the earliest time of the sheet. */
  start?: number;
  teams?: readonly Team[];
  resolveTeam?: (name: string) => readonly string[] | undefined;
}

const text = (c: string | Uint8Array): string => (typeof c === 'string' ? c : new TextDecoder('utf-8', { fatal: false }).decode(c));

function json(c: string | Uint8Array, format: string): unknown {
  try {
    return JSON.parse(text(c));
  } catch (e) {
    throw new AppError('MALFORMED_JSON', `the ${format} content is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

/** Any supported source → a checked scenario. */
export async function importScenario(req: ImportRequest): Promise<Scenario> {
  const teamOpts = { ...(req.teams ? { teams: req.teams } : {}), ...(req.resolveTeam ? { resolveTeam: req.resolveTeam } : {}) };
  const sheet = { ...(req.name ? { name: req.name } : {}), ...(req.description ? { description: req.description } : {}), ...(req.start !== undefined ? { start: req.start } : {}) };
  switch (req.format) {
    case 'json': {
      const parsed = parseScenario(json(req.content, 'JSON'));
      if (!parsed.ok) throw new MselImportError('JSON', parsed.errors.map((message) => ({ row: 0, message })));
      return parsed.scenario;
    }
    case 'openaev':
      return scenarioFromOpenAev(json(req.content, 'OpenAEV'), teamOpts);
    case 'csv':
      return draftToScenario(mselFromCsv(text(req.content), sheet), 'CSV', teamOpts);
    case 'xlsx': {
      if (typeof req.content === 'string') throw new AppError('BAD_REQUEST', 'an XLSX MSEL is sent as base64 bytes');
      return draftToScenario(await mselFromXlsx(req.content, sheet), 'XLSX', teamOpts);
    }
  }
}
