/**
 * Technical attribution: assessments, and one assessment's Analysis of Competing Hypotheses
 * matrix (Heuer 1999, ch. 8): hypotheses as columns, evidence rows with their Admiralty grade
 * and relevance, a rating per cell. The weighted inconsistency and rank of each hypothesis
 * come from the server (the one computation); the judgement pairs an ICD 203 likelihood term
 * with a separate confidence level.
 */
import { ExerciseScope } from '../exercise/Banner.js';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useRespond } from '../respondApi.js';
import { useLiveData } from '../live.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { ActionError, StateBadge, useAction, useRespondBase } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import { TLPS } from '../types.js';
import type { Assessment } from '../respondTypes.js';

type Done = () => void;

export function Attribution() {
  const r = useRespond();
  const base = useRespondBase();
  const action = useAction();
  const [title, setTitle] = useState('');
  const [tlp, setTlp] = useState('amber');
  const [state] = useLiveData((signal) => r.assessments(signal), [r], ['assessment']);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="assessments" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the assessments" />;
  const b = base.data;
  const mayCreate = b.may('assessment.write');
  const create = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => { const a = await r.createAssessment({ title, tlp }); navigate(href.assessment(a.id)); });
  };
  return (
    <section aria-labelledby="attr-title">
      <h1 id="attr-title">Attribution assessments</h1>
      <ExerciseScope what="assessments" />
      {state.data.items.length === 0 ? <p className="muted">No assessment is visible to your organisation.</p> : (
        <table className="data" data-testid="assessment-table">
          <thead><tr><th scope="col">Assessment</th><th scope="col">Owner</th><th scope="col">TLP</th><th scope="col">State</th><th scope="col">Leading hypothesis</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {state.data.items.map((a) => (
              <tr key={a.id} data-testid="assessment-row" data-id={a.id}>
                <th scope="row"><a href={href.assessment(a.id)}>{a.title}</a></th><td>{b.orgName(a.ownerOrg)}</td><td><TlpBadge tlp={a.tlp} /></td>
                <td><StateBadge state={a.state} /></td><td>{a.scores.find((s) => s.rank === 1)?.label ?? '–'}</td><td>{formatTime(a.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mayCreate && (
        <form className="inline-form card" onSubmit={create} aria-label="New assessment">
          <div><label htmlFor="as-title">New assessment</label><input id="as-title" required value={title} onChange={(e) => setTitle(e.target.value)} /></div>
          <div><label htmlFor="as-tlp">TLP</label>
            <select id="as-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>{TLPS.map((t) => <option key={t} value={t}>TLP:{t.toUpperCase()}</option>)}</select></div>
          <button type="submit" disabled={action.busy}>Create</button>
          <ActionError error={action.error} />
        </form>
      )}
    </section>
  );
}

/** The ACH matrix with local edits; "Save ratings" posts only the changed cells. */
function Matrix({ a, base, editable, onDone }: { a: Assessment; base: RespondBase; editable: boolean; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const key = (e: string, h: string) => `${e}|${h}`;
  const value = (e: string, h: string) => edits[key(e, h)] ?? a.ratings[e]?.[h] ?? '';
  const changed = Object.entries(edits).filter(([k, v]) => {
    const [e = '', h = ''] = k.split('|');
    return v !== '' && v !== (a.ratings[e]?.[h] ?? '');
  });
  const save = () => void action.run(async () => {
    await r.rate(a.id, changed.map(([k, rating]) => {
      const [evidenceId = '', hypothesisId = ''] = k.split('|');
      return { evidenceId, hypothesisId, rating };
    }));
    setEdits({});
    onDone();
  });
  const scoreOf = (h: string) => a.scores.find((s) => s.hypothesisId === h);
  if (a.hypotheses.length === 0 || a.evidence.length === 0) return <p className="muted">Add hypotheses and evidence to build the matrix.</p>;
  return (
    <>
      <div className="scroll">
        <table className="data ach" data-testid="ach-matrix">
          <thead>
            <tr><th scope="col">Evidence</th><th scope="col">Grade</th><th scope="col">Relevance</th>
              {a.hypotheses.map((h) => <th key={h.id} scope="col" data-testid="hypothesis-col">{h.label}</th>)}</tr>
          </thead>
          <tbody>
            {a.evidence.map((e) => (
              <tr key={e.id} data-testid="evidence-row" data-id={e.id}>
                <th scope="row">{e.description}</th>
                <td><span className="grade" data-testid="grade" title="Admiralty code: source reliability and information credibility">{e.reliability}{e.credibility}</span></td>
                <td>{e.relevance}</td>
                {a.hypotheses.map((h) => (
                  <td key={h.id} className={`rating rating-${value(e.id, h.id) || 'none'}`}>
                    {editable ? (
                      <select aria-label={`Rating of "${e.description}" for ${h.label}`} data-testid="rating" value={value(e.id, h.id)}
                        onChange={(ev) => setEdits({ ...edits, [key(e.id, h.id)]: ev.target.value })}>
                        <option value="">–</option>
                        {base.vocab.achRatings.map((x) => <option key={x} value={x}>{x}</option>)}
                      </select>
                    ) : (value(e.id, h.id) || '–')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr><th scope="row" colSpan={3}>Weighted inconsistency</th>
              {a.hypotheses.map((h) => <td key={h.id} data-testid="score" data-hypothesis={h.label}>{scoreOf(h.id)?.inconsistency.toFixed(3) ?? '–'}</td>)}</tr>
            <tr><th scope="row" colSpan={3}>Rank</th>
              {a.hypotheses.map((h) => <td key={h.id} data-testid="rank" data-hypothesis={h.label}>{scoreOf(h.id)?.rank ?? '–'}</td>)}</tr>
          </tfoot>
        </table>
      </div>
      <p className="muted small">Ratings: CC very consistent, C consistent, N neutral, NA not applicable, I inconsistent (−1), II very inconsistent (−2).
        Only inconsistency counts, weighted by credibility and relevance; the least inconsistent hypothesis ranks first.</p>
      {editable && <button type="button" disabled={action.busy || changed.length === 0} onClick={save}>Save ratings{changed.length ? ` (${changed.length})` : ''}</button>}
      <ActionError error={action.error} />
    </>
  );
}

function AddRows({ a, base, onDone }: { a: Assessment; base: RespondBase; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [label, setLabel] = useState('');
  const [desc, setDesc] = useState('');
  const [rel, setRel] = useState('B');
  const [cred, setCred] = useState(2);
  const [relevance, setRelevance] = useState('medium');
  return (
    <div className="stack">
      <h2>Add to the matrix</h2>
      <form className="inline-form" aria-label="Add hypothesis" onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => { await r.addHypothesis(a.id, label); setLabel(''); onDone(); });
      }}>
        <div><label htmlFor="hyp-label">Hypothesis</label><input id="hyp-label" required value={label} onChange={(e) => setLabel(e.target.value)} /></div>
        <button type="submit" disabled={action.busy}>Add hypothesis</button>
      </form>
      <form className="inline-form" aria-label="Add evidence" onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => { await r.addEvidence(a.id, { description: desc, reliability: rel, credibility: cred, relevance }); setDesc(''); onDone(); });
      }}>
        <div><label htmlFor="ev-desc">Evidence</label><input id="ev-desc" required value={desc} onChange={(e) => setDesc(e.target.value)} /></div>
        <div><label htmlFor="ev-rel">Source reliability</label>
          <select id="ev-rel" value={rel} onChange={(e) => setRel(e.target.value)}>{base.vocab.reliability.map((x) => <option key={x} value={x}>{x}</option>)}</select></div>
        <div><label htmlFor="ev-cred">Credibility</label>
          <select id="ev-cred" value={cred} onChange={(e) => setCred(Number(e.target.value))}>{base.vocab.credibility.map((x) => <option key={x} value={x}>{x}</option>)}</select></div>
        <div><label htmlFor="ev-relevance">Relevance</label>
          <select id="ev-relevance" value={relevance} onChange={(e) => setRelevance(e.target.value)}>{['low', 'medium', 'high'].map((x) => <option key={x} value={x}>{x}</option>)}</select></div>
        <button type="submit" disabled={action.busy}>Add evidence</button>
      </form>
      <ActionError error={action.error} />
    </div>
  );
}

function Judgement({ a, base, editable, onDone }: { a: Assessment; base: RespondBase; editable: boolean; onDone: Done }) {
  const r = useRespond();
  const action = useAction();
  const [hyp, setHyp] = useState(a.judgement?.hypothesisId ?? a.scores.find((s) => s.rank === 1)?.hypothesisId ?? '');
  const [likelihood, setLikelihood] = useState(a.judgement?.likelihood ?? 'likely');
  const [confidence, setConfidence] = useState(a.judgement?.confidence ?? 'moderate');
  const [rationale, setRationale] = useState(a.judgement?.rationale ?? '');
  const j = a.judgement;
  return (
    <section aria-labelledby="judge-title">
      <h2 id="judge-title">Judgement</h2>
      {j ? (
        <p className="card" data-testid="judgement">
          We assess that <strong>{a.hypotheses.find((h) => h.id === j.hypothesisId)?.label}</strong> is <strong>{j.likelihood}</strong>
          {a.likelihoodRange && <span className="muted"> ({a.likelihoodRange[0]}–{a.likelihoodRange[1]}%)</span>} responsible,
          with <strong>{j.confidence} confidence</strong>. <span className="prose">{j.rationale}</span>
        </p>
      ) : <p className="muted">No judgement yet.</p>}
      <EarlierJudgements a={a} />
      {editable && a.hypotheses.length > 0 && (
        <form className="form-grid" aria-label="Judgement" onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => { await r.judge(a.id, { hypothesisId: hyp, likelihood, confidence, rationale }); onDone(); });
        }}>
          <div><label htmlFor="j-hyp">Hypothesis</label>
            <select id="j-hyp" required value={hyp} onChange={(e) => setHyp(e.target.value)}>
              <option value="">Choose…</option>{a.hypotheses.map((h) => <option key={h.id} value={h.id}>{h.label}</option>)}</select></div>
          <div><label htmlFor="j-lik">Likelihood (ICD 203)</label>
            <select id="j-lik" value={likelihood} onChange={(e) => setLikelihood(e.target.value)}>
              {base.vocab.likelihood.map((l) => <option key={l.term} value={l.term}>{l.term} ({l.range[0]}–{l.range[1]}%)</option>)}</select></div>
          <div><label htmlFor="j-conf">Confidence</label>
            <select id="j-conf" value={confidence} onChange={(e) => setConfidence(e.target.value)}>
              {base.vocab.confidence.map((c) => <option key={c} value={c}>{c}</option>)}</select></div>
          <div className="wide"><label htmlFor="j-rat">Rationale</label><textarea id="j-rat" rows={3} required value={rationale} onChange={(e) => setRationale(e.target.value)} /></div>
          <div className="wide"><ActionError error={action.error} /><button type="submit" disabled={action.busy}>Record judgement</button></div>
        </form>
      )}
    </section>
  );
}

/** The judgements a later one revised, newest first (GET /assessments/:id/history). */
function EarlierJudgements({ a }: { a: Assessment }) {
  const r = useRespond();
  const [state] = useLiveData((signal) => r.assessmentHistory(a.id, signal), [r, a.id], ['assessment'], a.id);
  if (state.status !== 'done') return null;
  const judged = state.data.items.filter((e) => e.kind === 'assessment.judged').slice(0, -1).reverse();
  if (!judged.length) return null;
  const label = (id: unknown) => a.hypotheses.find((h) => h.id === id)?.label ?? '?';
  return (
    <details data-testid="earlier-judgements">
      <summary>Earlier judgements ({judged.length})</summary>
      <ul>{judged.map((e) => <li key={e.seq}>{formatTime(e.at)}: {label(e.data.hypothesisId)} {String(e.data.likelihood)}, {String(e.data.confidence)} confidence.
        <span className="prose"> {String(e.data.rationale)}</span></li>)}</ul>
    </details>
  );
}

export function AssessmentDetail({ id }: { id: string }) {
  const r = useRespond();
  const base = useRespondBase();
  const [state, reload] = useLiveData((signal) => r.assessment(id, signal), [r, id], ['assessment'], id);
  if (base.status === 'loading' || state.status === 'loading') return <Loading what="the assessment" />;
  if (base.status === 'error') return <ErrorBox error={base.error} title="Could not load the vocabularies" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the assessment" />;
  const b = base.data;
  const a = state.data;
  const editable = a.ownerOrg === b.ownOrg && b.may('assessment.write');
  const ranked = [...a.scores].sort((x, y) => x.rank - y.rank);
  return (
    <section data-testid="assessment-detail" data-id={a.id}>
      <p><a href={href.attribution()}>← Assessments</a></p>
      <h1>{a.title} <TlpBadge tlp={a.tlp} /> <StateBadge state={a.state} /></h1>
      <p className="muted">Owner: {b.orgName(a.ownerOrg)}. Technical assessment; a political attribution statement is a separate decision.</p>
      <h2>ACH matrix</h2>
      <Matrix key={a.updatedAt} a={a} base={b} editable={editable} onDone={reload} />
      {ranked.length > 0 && (
        <>
          <h2>Ranking</h2>
          <ol className="ranking" data-testid="ranking">
            {ranked.map((s) => <li key={s.hypothesisId} data-testid="ranking-item" data-rank={s.rank} data-label={s.label}>
              {s.label} <span className="muted">(rank {s.rank}, inconsistency {s.inconsistency.toFixed(3)})</span></li>)}
          </ol>
        </>
      )}
      {editable && <AddRows a={a} base={b} onDone={reload} />}
      <Judgement key={`j-${a.updatedAt}`} a={a} base={b} editable={editable} onDone={reload} />
    </section>
  );
}
