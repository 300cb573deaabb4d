/**
 * The operational picture's readiness entry: the own organisation's overdue audit findings
 * (GET /readiness/cop), linking to the findings tab. Shows nothing when there are none.
 */
import { useReadiness, type Finding } from '../readinessApi.js';
import { useAsync } from '../useAsync.js';
import { href } from '../router.js';

export function OverdueFindings() {
  const r = useReadiness();
  const state = useAsync((signal) => r.copFeed(signal), []);
  if (state.status !== 'done' || state.data.count === 0) return null;
  const items: Finding[] = state.data.items;
  return (
    <section aria-labelledby="overdue-title" className="card" data-testid="cop-overdue-findings">
      <h2 id="overdue-title">Overdue remediation ({state.data.count})</h2>
      <ul className="small">{items.slice(0, 5).map((f) => <li key={f.id}>{f.severity}: {f.title} — due {f.dueDate.slice(0, 10)}{f.owner ? `, ${f.owner}` : ''}</li>)}</ul>
      <p className="small"><a href={href.readiness('findings')}>All findings</a></p>
    </section>
  );
}
