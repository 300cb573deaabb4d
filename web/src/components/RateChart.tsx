/**
 * Events and alerts per time bucket, drawn with uPlot (canvas): events as a filled line on the
 * left axis, alerts as bars on the right axis (a handful of alerts beside thousands of events
 * would vanish on one shared scale). The numbers are also offered as a table for screen readers
 * and keyboard users, since a canvas has no text.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { utcDate, utcTimeSeries } from './chartTime.js';
import type { RateBucket } from '../alertTypes.js';
import { rateSeries } from './alertView.js';
import { formatTime } from './Status.js';

const HEIGHT = 220;

function options(width: number): uPlot.Options {
  const bars = uPlot.paths.bars?.({ size: [0.6, 24] });
  return {
    width,
    height: HEIGHT,
    tzDate: utcDate,
    scales: { x: { time: true }, events: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] }, alerts: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [
      utcTimeSeries('Time (UTC)'),
      { label: 'Events', scale: 'events', stroke: '#1f5fbf', fill: 'rgba(31, 95, 191, 0.12)', width: 2, points: { show: false } },
      { label: 'Alerts', scale: 'alerts', stroke: '#b3261e', fill: 'rgba(179, 38, 30, 0.55)', width: 1, points: { show: false }, ...(bars ? { paths: bars } : {}) },
    ],
    axes: [
      {},
      { scale: 'events', label: 'events', size: 60 },
      { scale: 'alerts', label: 'alerts', side: 1, size: 50, grid: { show: false } },
    ],
  };
}

export function RateChart({ buckets, bucketMinutes }: { buckets: readonly RateBucket[]; bucketMinutes: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = rateSeries(buckets);

  // One chart per mounted component; new data goes in with setData, a new width with setSize.
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const u = new uPlot(options(Math.max(300, el.clientWidth)), data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, []);
  useEffect(() => { plot.current?.setData(data); }, [buckets]);

  const events = data[1].reduce((n, x) => n + x, 0);
  const alerts = data[2].reduce((n, x) => n + x, 0);
  return (
    <figure className="rate-chart" data-testid="rate-chart" data-events={events} data-alerts={alerts}>
      <div ref={box} role="img" aria-label={`Chart: ${events} events and ${alerts} alerts in ${buckets.length} buckets of ${bucketMinutes} minutes`} />
      <figcaption className="small muted">{events} events and {alerts} alerts, per {bucketMinutes} minutes.</figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <table className="data small" data-testid="rate-table">
          <thead><tr><th scope="col">Bucket start</th><th scope="col">Events</th><th scope="col">Alerts</th></tr></thead>
          <tbody>
            {buckets.filter((b) => b.events > 0 || b.alerts > 0).map((b) => (
              <tr key={b.t}><td>{formatTime(b.t)}</td><td>{b.events}</td><td>{b.alerts}</td></tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
