/**
 * Inventory files: CSV (csv-parse; fields separated by `,`, `;` or tab, told by the header row;
 * a header row naming name, vital_function, criticality, owner, products — CPEs separated by
 * `;`, quoted in a `;`-separated file — or cpe / vendor / product / version columns) or
 * JSON (an array of assets, or `{assets: [...]}`). Parsing only: validation is `assetOf`.
 */
import { parse as parseCsv } from 'csv-parse/sync';

export const MAX_INVENTORY_CHARS = 50 * 1024 * 1024;

/**
 * The field delimiter, from the header row: `,`, or `;` / tab when the header holds more of those
 * (spreadsheets in many European locales save "CSV" with `;`; header names hold none of them).
 */
function delimiterOf(text: string): string {
  const nl = text.indexOf('\n');
  const header = nl < 0 ? text : text.slice(0, nl);
  const count = (c: string) => header.split(c).length - 1;
  const [best] = [',', ';', '\t'].map((c) => [c, count(c)] as const).sort((a, b) => b[1] - a[1]);
  return best![1] > 0 ? best![0] : ',';
}

export function parseInventoryCsv(text: string): Record<string, string>[] {
  if (text.length > MAX_INVENTORY_CHARS) throw new Error('inventory CSV larger than 50 MiB');
  return parseCsv(text, {
    delimiter: delimiterOf(text),
    columns: (h: string[]) => h.map((c) => c.trim().replace(/[\s-]+/g, '_').toLowerCase().replace(/^vital_?function$/, 'vitalFunction')),
    skip_empty_lines: true, trim: true, bom: true, relax_column_count: true,
  }) as Record<string, string>[];
}

export function parseInventoryJson(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { assets?: unknown }).assets)) return (doc as { assets: unknown[] }).assets;
  throw new Error('an inventory is a JSON array of assets or {"assets": [...]}');
}

/** Either format, by content: JSON when it starts with `[` or `{`. */
export function parseInventory(text: string): unknown[] {
  const t = text.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) return parseInventoryJson(JSON.parse(t));
  return parseInventoryCsv(text);
}
