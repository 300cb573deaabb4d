/**
 * MSEL from an XLSX workbook (read with exceljs): the first worksheet, or the one named
 * `MSEL`, header in row 1. Date cells arrive as instants (exceljs reads them as UTC); formula
 * cells give their cached result; rich text gives its plain text.
 */
import type ExcelJS from 'exceljs';
import { MselImportError, type DraftScenario } from './draft.js';
import { MAX_ROWS, tableToDraft, type Cell, type TableOptions } from './table.js';

export const MAX_XLSX_BYTES = 10_000_000;

function cellValue(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return cellValue(v.result as ExcelJS.CellValue);
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('error' in v) return undefined;
  }
  return undefined;
}

export async function mselFromXlsx(data: Uint8Array, opts: TableOptions = {}): Promise<DraftScenario> {
  if (data.byteLength > MAX_XLSX_BYTES) throw new MselImportError('XLSX', [{ row: 1, message: `the workbook is larger than ${MAX_XLSX_BYTES} bytes` }]);
  // exceljs is loaded when an XLSX is read (it is large; every CLI start would pay for it).
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(data.buffer, data.byteOffset, data.byteLength) as unknown as ExcelJS.Buffer);
  } catch (e) {
    throw new MselImportError('XLSX', [{ row: 1, message: `not a readable XLSX workbook: ${((e as Error).message ?? '').slice(0, 200)}` }]);
  }
  const sheet = wb.worksheets.find((w) => w.name.trim().toLowerCase() === 'msel') ?? wb.worksheets[0];
  if (!sheet) throw new MselImportError('XLSX', [{ row: 1, message: 'the workbook has no worksheet' }]);
  if (sheet.rowCount > MAX_ROWS + 1) throw new MselImportError('XLSX', [{ row: MAX_ROWS + 2, message: `at most ${MAX_ROWS} injects per MSEL` }]);
  const rows: Cell[][] = [];
  for (let r = 1; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells: Cell[] = [];
    for (let c = 1; c <= Math.min(row.cellCount, 100); c++) cells.push(cellValue(row.getCell(c).value));
    rows.push(cells);
  }
  // Trailing empty rows are skipped by tableToDraft; keep sheet numbering intact for messages.
  return tableToDraft(rows, 'XLSX', { ...opts, name: opts.name ?? sheetTitle(wb) });
}

function sheetTitle(wb: ExcelJS.Workbook): string | undefined {
  return wb.title || undefined;
}
