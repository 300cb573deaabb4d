/**
 * What every importer produces before it becomes a scenario of model.ts: the MSEL read into
 * typed values, with the source row of each inject kept for error messages. Errors are
 * collected per row (every bad row is reported, not only the first) and thrown together as
 * one 400 whose details list `{row, column, message}`.
 */
import { AppError } from '../../core/errors.js';

export const INJECT_TYPES = ['technical', 'intel', 'communication', 'prompt'] as const;
export type DraftInjectType = (typeof INJECT_TYPES)[number];

export const EXPECTATION_TYPES = ['DETECTION', 'INCIDENT', 'SHARING', 'ASSISTANCE', 'DECISION', 'REPORT', 'MANUAL'] as const;
export type DraftExpectationType = (typeof EXPECTATION_TYPES)[number];

export interface DraftExpectation {
  type: DraftExpectationType;
  /** The name a condition refers to (OpenAEV: `Detection`, or a manual expectation's name). */
  name: string;
  score: number;
  expirySeconds: number;
  /** true = at least one player validates; false = all players (OpenAEV `expectation_group`). */
  anyPlayer: boolean;
}

export interface DraftCondition {
  /** Serial of the parent inject. */
  parent: string;
  /** `Execution` (parent executed) or the name of one of the parent's expectations. */
  key: string;
  /** true = met / executed, false = failed. */
  value: boolean;
}

export interface DraftInject {
  serial: string;
  /** Source row (1-based, the header being row 1), or the index in the source file. */
  row: number;
  /** Seconds after the exercise start (T+). */
  at: number;
  type: DraftInjectType;
  /** Team names, or 'all'. */
  teams: string[] | 'all';
  title: string;
  content: string;
  technique?: string;
  /** communication: email | message | phone | media; prompt: the action asked for. */
  channel?: string;
  from?: string;
  action?: string;
  host?: string;
  /** intel: indicator values (IPv4, domain, URL, SHA-256) published as STIX indicators. */
  indicators: string[];
  /** Objective titles or ids the row's expectations count towards. */
  objectives: string[];
  /** Free fields of the source (channel, sender, …) kept for the inject's content. */
  extra: Record<string, string>;
  expectations: DraftExpectation[];
  dependsOn?: { mode: 'and' | 'or'; conditions: DraftCondition[] };
  enabled: boolean;
}

export interface DraftScenario {
  name: string;
  description: string;
  category?: string;
  severity?: string;
  teams: { name: string; description: string }[];
  objectives: { title: string; description: string; priority: number }[];
  injects: DraftInject[];
  lessons: { category: string; questions: string[] }[];
  variables: Record<string, string>;
}

export interface RowIssue {
  row: number;
  column?: string;
  message: string;
}

/** Thrown when the source has bad rows; a 400 listing every one of them. */
export class MselImportError extends AppError {
  readonly issues: readonly RowIssue[];
  constructor(format: string, issues: RowIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `row ${i.row}${i.column ? ` (${i.column})` : ''}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
    super('BAD_REQUEST', `the ${format} MSEL has ${issues.length} bad row${issues.length === 1 ? '' : 's'}: ${shown}${more}`, {
      details: { errors: issues.slice(0, 200) },
    });
    this.name = 'MselImportError';
    this.issues = issues;
  }
}

/** Default expiry (s) per expectation type: technical 6 h, human 24 h (OpenAEV defaults). */
export function defaultExpiry(type: DraftExpectationType): number {
  return type === 'REPORT' || type === 'MANUAL' || type === 'DECISION' ? 86_400 : 21_600;
}

/** Default expected score: manual 50, others 100 (OpenAEV). */
export function defaultScore(type: DraftExpectationType): number {
  return type === 'MANUAL' ? 50 : 100;
}

/** `DETECTION` → `Detection`, the OpenAEV condition key of a typed expectation. */
export function expectationKey(type: DraftExpectationType): string {
  return type.charAt(0) + type.slice(1).toLowerCase();
}
