/**
 * Maturity by function over the years, drawn with uPlot: one line per function (the own
 * organisation's scores, or the alliance medians). The numbers are also a table, since a
 * canvas has no text.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 220;
const COLOURS = ['#1f5fbf', '#b3261e', '#2e7d32', '#8e24aa', '#ef6c00', '#00838f', '#6d4c41', '#546e7a'];

export interface MaturitySeries { years: number[]; functions: { id: string; title: string; values: (number | null)[] }[]; max: number }

function options(width: number, s: MaturitySeries): uPlot.Options {
  return {
    width, height: HEIGHT,
    scales: { x: { time: false }, y: { auto: false, range: [0, s.max] } },
    series: [{ label: 'Year' }, ...s.functions.map((f, i) => ({ label: f.id, stroke: COLOURS[i % COLOURS.length]!, width: 2, spanGaps: true }))],
    axes: [{ values: (_u: uPlot, ticks: number[]) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) }, { label: 'maturity', size: 50 }],
  };
}

export function MaturityChart({ series, label }: { series: MaturitySeries; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const data = [series.years, ...series.functions.map((f) => f.values)] as uPlot.AlignedData;
  const key = `${series.functions.map((f) => f.id).join(',')}|${series.max}`;
  useEffect(() => {
    const el = box.current;
    if (!el || series.years.length === 0) return undefined;
    const u = new uPlot(options(Math.max(300, el.clientWidth), series), data, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [key, JSON.stringify(data)]);
  return (
    <figure className="maturity-chart" data-testid="maturity-chart" data-years={series.years.join(',')}>
      <div ref={box} role="img" aria-label={`${label}: maturity by function for ${series.years.join(', ') || 'no years'}`} />
      <figcaption className="small muted">{label}</figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <table className="data small">
          <thead><tr><th scope="col">Function</th>{series.years.map((y) => <th scope="col" key={y}>{y}</th>)}</tr></thead>
          <tbody>{series.functions.map((f) => <tr key={f.id}><th scope="row">{f.id} {f.title}</th>{f.values.map((v, i) => <td key={i}>{v ?? '—'}</td>)}</tr>)}</tbody>
        </table>
      </details>
    </figure>
  );
}
