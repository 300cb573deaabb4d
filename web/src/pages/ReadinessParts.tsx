/**
 * Readiness tabs of the assessment side: the own self-assessment (answer, submit, start the
 * next year's from the last), audit findings with remediation status, vital functions with
 * RTO compliance, and the yearly reports as PDF.
 */
import { useState } from 'react';
import { useReadiness, type Assessment } from '../readinessApi.js';
import { saveBlob } from '../respondApi.js';
import { useAsync } from '../useAsync.js';
import { mayDo, useSession } from '../session.js';
import { ErrorBox, Loading } from '../components/Status.js';

export function AssessmentTab() {
  const r = useReadiness();
  const { session } = useSession();
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const year = new Date().getUTCFullYear();
  const state = useAsync(async (signal) => {
    const [list, fw] = await Promise.all([r.assessments(signal, 'pledge-2016'), r.framework('pledge-2016', signal)]);
    return { own: list.items.filter((a) => a.orgId === session?.organisation?.id), fw };
  }, [reload]);
  if (state.status === 'loading') return <Loading what="assessments" />;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  const { own, fw } = state.data;
  const current = own.find((a) => a.year === year);
  const run = (f: () => Promise<unknown>) => { setError(null); f().then(() => setReload((n) => n + 1), (e: unknown) => setError(e as Error)); };
  return (
    <div data-testid="assessment-tab">
      {error && <ErrorBox error={error} />}
      <p>Past assessments: {own.filter((a) => a.year !== year).map((a) => `${a.year} (${a.state})`).join(', ') || 'none'}.</p>
      {!current ? (
        mayDo(session, 'readiness.write')
          ? <button type="button" onClick={() => run(() => r.startAssessment(fw.key, year))}>Start the {year} assessment</button>
          : <p className="muted">No {year} assessment yet.</p>
      ) : (
        <AssessmentForm a={current} fw={fw} readOnly={!mayDo(session, 'readiness.write')} onDone={() => setReload((n) => n + 1)} onError={setError} />
      )}
    </div>
  );
}

function AssessmentForm({ a, fw, readOnly, onDone, onError }: { a: Assessment; fw: Awaited<ReturnType<ReturnType<typeof useReadiness>['framework']>>; readOnly: boolean; onDone: () => void; onError: (e: Error) => void }) {
  const r = useReadiness();
  const levels = Array.from({ length: fw.scale.max - fw.scale.min + 1 }, (_, i) => fw.scale.min + i);
  const frozen = a.state === 'submitted' || readOnly;
  const set = (itemId: string, level: number | null) => r.answer(a.id, [{ itemId, level }]).then(onDone, onError);
  return (
    <div className="card" data-testid="assessment-form" data-state={a.state}>
      <h2>{fw.title}, {a.year} — {a.state}{a.basedOn ? ' (started from last year)' : ''}</h2>
      <table className="data">
        <thead><tr><th scope="col">Item</th><th scope="col">Outcome</th><th scope="col">Level</th></tr></thead>
        <tbody>
          {fw.items.map((i) => (
            <tr key={i.id}>
              <th scope="row">{i.id}</th><td>{i.text}</td>
              <td>
                <select aria-label={`Level of ${i.id}`} disabled={frozen} value={a.answers[i.id]?.level ?? ''} onChange={(e) => void set(i.id, e.target.value === '' ? null : Number(e.target.value))}>
                  <option value="">—</option>
                  {levels.map((l) => <option key={l} value={l}>{l}{fw.scale.labels ? ` ${fw.scale.labels[l - fw.scale.min]}` : ''}</option>)}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!frozen && <button type="button" onClick={() => { r.submit(a.id).then(onDone, onError); }}>Submit (the assessment becomes immutable)</button>}
    </div>
  );
}

export function FindingsTab() {
  const r = useReadiness();
  const { session } = useSession();
  const [reload, setReload] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const state = useAsync((signal) => r.findings(signal), [reload]);
  if (state.status === 'loading') return <Loading what="findings" />;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  const mayChange = mayDo(session, 'readiness.write');
  // A refused change is said, and the list read again (the select shows the stored status).
  const change = (id: string, status: string) => {
    setError(null);
    r.updateFinding(id, status).then(() => setReload((n) => n + 1), (e: unknown) => { setError(e as Error); setReload((n) => n + 1); });
  };
  return (
    <>
    {error && <ErrorBox error={error} title="The status was not changed" />}
    <table className="data" data-testid="findings-table">
      <thead><tr><th scope="col">Finding</th><th scope="col">Severity</th><th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Status</th></tr></thead>
      <tbody>
        {state.data.items.map((f) => (
          <tr key={f.id} className={f.overdue ? 'overdue' : undefined}>
            <td>{f.title}</td><td>{f.severity}</td><td>{f.owner ?? '—'}</td><td>{f.dueDate.slice(0, 10)}{f.overdue ? ' (overdue)' : ''}</td>
            <td>
              <select aria-label={`Status of ${f.title}`} value={f.status} disabled={!mayChange || f.orgId !== session?.user.orgId} onChange={(e) => change(f.id, e.target.value)}>
                {['open', 'in-progress', 'resolved', 'accepted'].map((s) => <option key={s}>{s}</option>)}
              </select>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </>
  );
}

export function RecoveryTab() {
  const r = useReadiness();
  const state = useAsync((signal) => r.vitalFunctions(signal), []);
  if (state.status === 'loading') return <Loading what="vital functions" />;
  if (state.status === 'error') return <ErrorBox error={state.error} />;
  return (
    <table className="data" data-testid="vital-table">
      <thead><tr><th scope="col">Vital function</th><th scope="col">RTO</th><th scope="col">RPO</th><th scope="col">Depends on</th><th scope="col">Last recovery</th><th scope="col">RTO met</th></tr></thead>
      <tbody>
        {state.data.items.map((v) => (
          <tr key={v.id}>
            <td>{v.name}</td><td>{v.rtoMinutes} min</td><td>{v.rpoMinutes} min</td><td>{v.dependsOn.join(', ') || '—'}</td>
            <td>{v.recoveries.at(-1) ? `${v.recoveries.at(-1)!.minutes} min (${v.recoveries.at(-1)!.source})` : '—'}</td>
            <td>{v.rtoCompliant === null ? 'not measured' : v.rtoCompliant ? 'yes' : 'no'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ReportsTab() {
  const r = useReadiness();
  const [error, setError] = useState<Error | null>(null);
  const year = new Date().getUTCFullYear();
  const dl = (p: Promise<Blob>, name: string) => p.then((b) => saveBlob(b, name), (e: unknown) => setError(e as Error));
  return (
    <div className="card" data-testid="reports-tab">
      {error && <ErrorBox error={error} />}
      <h2>Yearly reports</h2>
      <p><button type="button" onClick={() => void dl(r.memberReportPdf(year - 1, 'pledge-2016'), `readiness-${year - 1}.pdf`)}>Our {year - 1} report (PDF)</button></p>
      <p><button type="button" onClick={() => void dl(r.memberReportPdf(year, 'pledge-2016'), `readiness-${year}.pdf`)}>Our {year} report so far (PDF)</button></p>
      <p><button type="button" onClick={() => void dl(r.alliancePdf(year - 1, 'pledge-2016'), `alliance-readiness-${year - 1}.pdf`)}>Alliance summary {year - 1} for the annual review (PDF)</button></p>
    </div>
  );
}
