/**
 * KEV exposure over time (GET /readiness/exposures/trend), drawn with uPlot like RateChart: the
 * own organisation's open KEV exposures on the left axis, and alliance-wide how many members
 * were exposed to at least one KEV entry on the right axis (counts only). Days without a
 * snapshot are gaps, not zeros. The numbers are also a table for screen readers.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { utcDate, utcTimeSeries } from './chartTime.js';
import type { Trend } from '../exposureApi.js';
import { trendSeries } from './kevTrend.js';

const HEIGHT = 200;

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    tzDate: utcDate,
    scales: { x: { time: true }, own: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] }, members: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [
      utcTimeSeries('Day (UTC)', 'day'),
      { label: 'Own open KEV exposures', scale: 'own', stroke: '#b3261e', fill: 'rgba(179, 38, 30, 0.10)', width: 2, spanGaps: false },
      { label: 'Members exposed to KEV', scale: 'members', stroke: '#1f5fbf', width: 2, dash: [6, 4], spanGaps: false },
    ],
    axes: [{}, { scale: 'own', label: 'own KEV exposures', size: 60 }, { scale: 'members', label: 'members', side: 1, size: 50, grid: { show: false } }],
  };
}

export function KevTrendChart({ trend }: { trend: Trend }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = trendSeries(trend);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const u = new uPlot(options(Math.max(300, el.clientWidth)), data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, []);
  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [trend]);

  const days = data[0].length;
  return (
    <figure className="rate-chart" data-testid="kev-trend" data-days={days}>
      <div ref={box} role="img" aria-label={`Chart: open KEV exposures of your organisation and members exposed to KEV entries over ${days} days`} />
      <figcaption className="small muted">KEV exposure per day ({days} day{days === 1 ? '' : 's'} with a snapshot): yours, and how many members of the alliance were exposed.</figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <table className="data small" data-testid="kev-trend-table">
          <thead><tr><th scope="col">Day</th><th scope="col">Your open KEV exposures</th><th scope="col">Members exposed</th><th scope="col">KEV entries hitting a member</th></tr></thead>
          <tbody>
            {[...new Set([...trend.own.map((p) => p.day), ...trend.alliance.map((p) => p.day)])].sort().map((d) => {
              const o = trend.own.find((p) => p.day === d);
              const a = trend.alliance.find((p) => p.day === d);
              return <tr key={d}><td>{d}</td><td>{o?.kevOpen ?? '–'}</td><td>{a ? `${a.membersExposed} of ${a.members}` : '–'}</td><td>{a?.kevEntries ?? '–'}</td></tr>;
            })}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
