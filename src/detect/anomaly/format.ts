/**
 * Text for findings: fixed formats (no locale, no Intl) so the same input gives the same words on
 * every host.
 */

/** 1930 → "1,930"; non-integers keep one decimal below 10 ("2.5"), else are rounded. */
export function fmtCount(n: number): string {
  const r = Math.abs(n) < 10 && !Number.isInteger(n) ? Math.round(n * 10) / 10 : Math.round(n);
  const neg = r < 0;
  const [int = '0', frac] = String(Math.abs(r)).split('.');
  let out = '';
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) out += ',';
    out += int[i];
  }
  return (neg ? '-' : '') + out + (frac !== undefined ? `.${frac}` : '');
}

export function fmtPercent(share: number): string {
  const p = share * 100;
  if (p === 0) return '0%';
  if (p < 0.01) return '<0.01%';
  return `${p < 1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

/** Minutes → "45 min", "3 h 5 min", "2 d 4 h". */
export function fmtDuration(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "UTC" or "UTC+01:00". */
export function zoneLabel(offsetMs: number): string {
  if (offsetMs === 0) return 'UTC';
  const m = Math.abs(offsetMs) / 60_000;
  return `UTC${offsetMs < 0 ? '-' : '+'}${pad2(Math.floor(m / 60))}:${pad2(m % 60)}`;
}

/** Wall-clock "HH:MM" of `ms` shifted by `offsetMs`. */
export function clock(ms: number, offsetMs: number): string {
  const local = ms + offsetMs;
  const minOfDay = (((Math.floor(local / 60_000)) % 1440) + 1440) % 1440;
  return `${pad2(Math.floor(minOfDay / 60))}:${pad2(minOfDay % 60)}`;
}

/** "2026-11-19" (UTC date: learning start dates are for orientation only). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Strings shown in titles are cut and stripped of control characters (they come from telemetry). */
export function shown(s: string, max = 120): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
