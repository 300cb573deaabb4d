/**
 * ATT&CK technique heatmap: one cell per technique detected in the period, its colour stepped
 * by count (square-root scale), grouped by parent technique. Each cell links to the technique's
 * ATT&CK page; the count is in the text, not only in the colour.
 */
import { attackUrl, heatCells } from './alertView.js';

export function Heatmap({ heatmap }: { heatmap: readonly { technique: string; count: number }[] }) {
  const cells = heatCells(heatmap);
  if (cells.length === 0) return <p className="muted" data-testid="heatmap-empty">No ATT&amp;CK technique among the detections of this period.</p>;
  const groups = new Map<string, typeof cells>();
  for (const c of cells) groups.set(c.parent, [...(groups.get(c.parent) ?? []), c]);
  return (
    <div className="heatmap" data-testid="heatmap">
      <ul className="heat-groups" aria-label="ATT&CK techniques by number of alerts">
        {[...groups].map(([parent, items]) => (
          <li key={parent} className="heat-group">
            <ul className="heat-cells">
              {items.map((c) => {
                const url = attackUrl(c.technique);
                const text = <><span className="heat-id">{c.technique}</span> <span className="heat-count">{c.count}</span></>;
                return (
                  <li key={c.technique} className={`heat-cell heat-${c.step}`} data-testid="heat-cell" data-technique={c.technique} data-count={c.count}
                    title={`${c.technique}: ${c.count} alert${c.count === 1 ? '' : 's'}`}>
                    {url ? <a href={url} target="_blank" rel="noreferrer" aria-label={`${c.technique}: ${c.count} alerts (opens ATT&CK)`}>{text}</a> : text}
                  </li>
                );
              })}
            </ul>
          </li>
        ))}
      </ul>
      <p className="heat-legend small muted" aria-hidden="true">
        fewer <span className="heat-cell heat-1" /> <span className="heat-cell heat-2" /> <span className="heat-cell heat-3" />
        <span className="heat-cell heat-4" /> <span className="heat-cell heat-5" /> more
      </p>
    </div>
  );
}
