/**
 * The readiness dashboard: the reader's maturity by function over the years beside the
 * alliance medians, where it stands among the members this year, overdue remediation, RTO
 * compliance and (when the node has the exposure side) KEV exposure. Another member's detail
 * appears only when that member released its assessment to the reader.
 */
import { useState } from 'react';
import { useReadiness, type Aggregates, type History } from '../readinessApi.js';
import { useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { MaturityChart, type MaturitySeries } from '../components/MaturityChart.js';

const YEARS_BACK = 4;

export function ReadinessDashboard({ params }: { params: URLSearchParams }) {
  const r = useReadiness();
  const { session } = useSession();
  const [framework, setFramework] = useState(params.get('framework') ?? 'pledge-2016');
  const ownOrg = session?.organisation?.id;
  const year = new Date().getUTCFullYear();
  const state = useAsync(async (signal) => {
    const [frameworks, fw, history, findings, vitals, exposure, assessments] = await Promise.all([
      r.frameworks(signal), r.framework(framework, signal), r.history(framework, undefined, signal), r.findings(signal), r.vitalFunctions(signal),
      r.exposureSummary(signal), r.assessments(signal, framework),
    ]);
    const years = Array.from({ length: YEARS_BACK }, (_, i) => year - YEARS_BACK + 1 + i);
    const aggregates = await Promise.all(years.map((y) => r.aggregates(framework, y, signal)));
    return { frameworks: frameworks.items, fw, history: history.items, findings: findings.items, vitals: vitals.items, exposure, aggregates, assessments: assessments.items };
  }, [framework]);
  if (state.status === 'loading') return <Loading what="the readiness dashboard" />;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  const d = state.data;
  const own = ownSeries(d.history, d.fw.groups, d.fw.scale.max);
  const alliance = allianceSeries(d.aggregates, d.fw.groups, d.fw.scale.max);
  const latest = [...d.aggregates].reverse().find((a) => a.members > 0) ?? d.aggregates.at(-1)!;
  const mine = d.findings.filter((f) => f.orgId === ownOrg);
  const overdue = mine.filter((f) => f.overdue);
  const myVitals = d.vitals.filter((v) => v.orgId === ownOrg);
  const others = d.assessments.filter((a) => a.orgId !== ownOrg);
  return (
    <div className="readiness-dashboard">
      <div className="toolbar">
        <label htmlFor="rd-framework">Framework</label>
        <select id="rd-framework" value={framework} onChange={(e) => setFramework(e.target.value)}>
          {d.frameworks.map((f) => <option key={f.key} value={f.key}>{f.title} ({f.key})</option>)}
        </select>
      </div>
      <div className="grid-2">
        <div className="card" data-testid="own-maturity">
          <h2>Our maturity by function</h2>
          {own.years.length ? <MaturityChart series={own} label="Own organisation" /> : <p className="muted">No assessment yet.</p>}
        </div>
        <div className="card" data-testid="alliance-maturity">
          <h2>Alliance median by function</h2>
          <MaturityChart series={alliance} label="Alliance median (withheld with fewer than 3 members)" />
        </div>
      </div>
      <div className="card" data-testid="standing">
        <h2>Where we stand, {latest.year} ({latest.members} members submitted)</h2>
        <table className="data">
          <thead><tr><th scope="col">Function</th><th scope="col">Ours</th><th scope="col">Median</th><th scope="col">Quartiles</th><th scope="col">Standing</th></tr></thead>
          <tbody>
            {latest.functions.map((f) => (
              <tr key={f.group} data-testid={`standing-${f.group}`}>
                <th scope="row">{f.group} {f.title}</th><td data-testid="own-score">{f.own ?? '—'}</td><td>{f.median ?? '—'}</td>
                <td>{f.q1 !== null ? `${f.q1}–${f.q3}` : <span className="muted small">{f.withheld ?? '—'}</span>}</td>
                <td>{f.standing.band ?? f.standing.vsMedian ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="grid-3">
        <div className="card" data-testid="overdue-card"><h2>Overdue remediation</h2><p className="big" data-testid="overdue-count">{overdue.length}</p><p className="small muted">of {mine.filter((f) => f.status === 'open' || f.status === 'in-progress').length} open findings</p></div>
        <div className="card" data-testid="rto-card">
          <h2>RTO compliance</h2>
          <p className="big">{myVitals.filter((v) => v.rtoCompliant).length}/{myVitals.filter((v) => v.rtoCompliant !== null).length}</p>
          <p className="small muted">vital functions recovered within RTO (last measured); {myVitals.filter((v) => v.rtoCompliant === null).length} not yet measured</p>
        </div>
        <div className="card" data-testid="kev-card">
          <h2>KEV exposure</h2>
          {d.exposure ? (
            <>
              <p className="big" data-testid="kev-own">{d.exposure.own.kev}</p>
              <p className="small muted">open KEV exposures of ours ({d.exposure.own.open} open exposures, {d.exposure.own.overdue} past due)</p>
              <p className="small">Alliance: {d.exposure.alliance.members} members exposed to {d.exposure.alliance.kev.length} KEV entries</p>
              <ul className="small">{d.exposure.alliance.kev.slice(0, 5).map((k) => <li key={k.cve}>{k.cve} {k.name}: {k.members} members</li>)}</ul>
            </>
          ) : <p className="muted small">No exposure data on this node.</p>}
        </div>
      </div>
      <div className="card" data-testid="released-to-us">
        <h2>Assessments released to us</h2>
        {others.length === 0 ? <p className="muted">No other organisation released its assessment detail to us.</p> : (
          <ul>{others.map((a) => <li key={a.id}>{a.orgId} · {a.year} · {a.state}: {a.scores.map((s) => `${s.group} ${s.score ?? '—'}`).join(', ')}</li>)}</ul>
        )}
      </div>
    </div>
  );
}

function ownSeries(history: History[], groups: { id: string; title: string }[], max: number): MaturitySeries {
  return { years: history.map((h) => h.year), max, functions: groups.map((g) => ({ id: g.id, title: g.title, values: history.map((h) => h.scores.find((s) => s.group === g.id)?.score ?? null) })) };
}

function allianceSeries(aggs: Aggregates[], groups: { id: string; title: string }[], max: number): MaturitySeries {
  return { years: aggs.map((a) => a.year), max, functions: groups.map((g) => ({ id: g.id, title: g.title, values: aggs.map((a) => a.functions.find((f) => f.group === g.id)?.median ?? null) })) };
}
