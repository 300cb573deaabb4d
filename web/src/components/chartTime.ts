/**
 * Time on the uPlot charts in UTC, like every other time the app shows (formatTime): uPlot
 * draws its time axis and the cursor's legend in the browser's own zone unless told, so a
 * reader in another zone saw the chart's hours (or, west of Greenwich, its days) disagree with
 * the "as of … UTC" and the tables beside it.
 */
import uPlot from 'uplot';
import { formatTime } from './Status.js';

/** `tzDate` of the chart options: axis ticks in UTC. */
export const utcDate = (ts: number): Date => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

/** The x series: its legend value (the cursor's x, seconds) in UTC, to the minute or the day. */
export function utcTimeSeries(label: string, unit: 'minute' | 'day' = 'minute'): uPlot.Series {
  return {
    label,
    value: (_u, v) => {
      if (v === null || v === undefined) return '–';
      const iso = new Date(v * 1e3).toISOString();
      return unit === 'day' ? iso.slice(0, 10) : formatTime(iso).replace(/:00 UTC$/, ' UTC');
    },
  };
}
