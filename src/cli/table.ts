/** Plain-text tables for list commands, or JSON with --json (for scripts). */
import type { Io } from './context.js';

export function printRows<T extends object>(io: Io, json: boolean | undefined, rows: readonly T[], cols: readonly (keyof T & string)[]): void {
  if (json) {
    io.out(JSON.stringify(rows, null, 2));
    return;
  }
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  io.out(line(cols.map((c) => c.toUpperCase())));
  for (const r of rows) io.out(line(cols.map((c) => cell(r[c]))));
}
