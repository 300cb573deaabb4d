/**
 * MSEL from CSV (RFC 4180, read with csv-parse): the delimiter (`,` `;` or tab, as spreadsheet
 * programs write them per locale) is taken from the header line; a UTF-8 BOM is dropped.
 */
import { parse } from 'csv-parse/sync';
import { MselImportError, type DraftScenario } from './draft.js';
import { MAX_ROWS, tableToDraft, type TableOptions } from './table.js';

export const MAX_CSV_BYTES = 10_000_000;

function delimiterOf(text: string): string {
  const firstLine = text.slice(0, Math.min(text.length, 4096)).split(/\r?\n/, 1)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

export function mselFromCsv(text: string, opts: TableOptions = {}): DraftScenario {
  if (text.length > MAX_CSV_BYTES) throw new MselImportError('CSV', [{ row: 1, message: `the CSV is larger than ${MAX_CSV_BYTES} characters` }]);
  let rows: string[][];
  try {
    rows = parse(text, {
      bom: true, delimiter: delimiterOf(text.replace(/^\uFEFF/, '')), relax_column_count: true, skip_empty_lines: false, trim: true, to: MAX_ROWS + 2,
    }) as string[][];
  } catch (e) {
    const err = e as { lines?: number; message?: string };
    throw new MselImportError('CSV', [{ row: err.lines ?? 1, message: `not valid CSV: ${(err.message ?? 'parse error').slice(0, 200)}` }]);
  }
  return tableToDraft(rows, 'CSV', opts);
}
