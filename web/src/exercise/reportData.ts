/** Chart data of the after-action report, kept apart from the page so it is tested without a browser. */
import type uPlot from 'uplot';
import type { AfterActionReport } from '../../../src/exercise/model.js';

/** Cumulative score per team on one time axis (uPlot wants aligned x values). */
export function scoreSeriesData(r: AfterActionReport): uPlot.AlignedData {
  const xs = [...new Set(r.scoreSeries.flatMap((s) => s.points.map((p) => Date.parse(p.at) / 1000)))].sort((a, b) => a - b);
  const series = r.teams.map((t) => {
    const pts = (r.scoreSeries.find((s) => s.teamId === t.teamId)?.points ?? []).map((p) => [Date.parse(p.at) / 1000, p.score] as const);
    let last = 0;
    return xs.map((x) => {
      for (const [px, v] of pts) if (px <= x) last = v;
      return last;
    });
  });
  return [xs, ...series];
}

