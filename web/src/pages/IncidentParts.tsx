/**
 * Sections of the incident page that contributors work in: tasks (dependencies gate
 * progress, mandatory ones block closure), observables, the timeline and attachments.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { saveBlob, useRespond } from '../respondApi.js';
import { formatTime } from '../components/Status.js';
import { TlpBadge } from '../components/TlpBadge.js';
import { ActionError, fromUtcInput, humanise, toUtcInput, useAction } from '../components/Respond.js';
import type { RespondBase } from '../components/Respond.js';
import { TLPS } from '../types.js';
import { mayDo, useSession } from '../session.js';
import type { Incident, Task, TimelineEntry } from '../respondTypes.js';

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
type Done = () => void;

/** Whether the reader may write to this incident with `action` (contribute share and the permission table). */
function useMayWrite(inc: Incident, action: 'incident.contribute' | 'incident.comment'): boolean {
  const { session } = useSession();
  // On a copy of another node's incident, only comments are possible (sent to that node).
  return (action === 'incident.comment' ? inc.canComment : inc.canContribute) && mayDo(session, action);
}

/** Tasks this task waits for: dependencies neither completed nor cancelled. */
export function waitingFor(task: Task, all: Task[]): Task[] {
  return task.dependsOn.map((d) => all.find((t) => t.id === d)).filter((t): t is Task => !!t && t.status !== 'completed' && t.status !== 'cancelled');
}

export function Tasks({ inc, onDone }: { inc: Incident; onDone: Done }) {
  const mayContribute = useMayWrite(inc, 'incident.contribute');
  const r = useRespond();
  const action = useAction();
  const [title, setTitle] = useState('');
  const [mandatory, setMandatory] = useState(false);
  const [deps, setDeps] = useState<string[]>([]);
  const set = (t: Task, status: string) => void action.run(async () => { await r.taskStatus(inc.id, t.id, status); onDone(); });
  const add = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await r.addTask(inc.id, { title, mandatory, dependsOn: deps });
      setTitle(''); setMandatory(false); setDeps([]);
      onDone();
    });
  };
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <ActionError error={action.error} />
      <table className="data" data-testid="task-table">
        <thead><tr><th scope="col">Task</th><th scope="col">Depends on</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {inc.tasks.map((t) => {
            const waiting = waitingFor(t, inc.tasks);
            const open = t.status === 'open' || t.status === 'in-progress';
            return (
              <tr key={t.id} data-testid="task-row" data-status={t.status} data-waiting={waiting.length > 0}>
                <th scope="row">{t.title}{t.mandatory && <span className="pill mandatory" title="Must be completed before closure">mandatory</span>}</th>
                <td className="small">{t.dependsOn.map((d) => inc.tasks.find((x) => x.id === d)?.title ?? d).join('; ') || '–'}</td>
                <td>{open && waiting.length > 0
                  ? <span className="state state-waiting" title={`Waiting for: ${waiting.map((w) => w.title).join('; ')}`}>waiting</span>
                  : <span className={`state state-${t.status}`}>{humanise(t.status)}</span>}</td>
                <td className="actions-cell">
                  {mayContribute && open && waiting.length === 0 && <>
                    {t.status === 'open' && <button type="button" className="small-button" disabled={action.busy} onClick={() => set(t, 'in-progress')}>Start</button>}
                    <button type="button" className="small-button" disabled={action.busy} onClick={() => set(t, 'completed')}>Complete</button>
                  </>}
                  {mayContribute && open && !t.mandatory &&
                    <button type="button" className="small-button secondary" disabled={action.busy} onClick={() => set(t, 'cancelled')}>Cancel</button>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {mayContribute && (
        <form className="inline-form" onSubmit={add} aria-label="Add task">
          <div><label htmlFor="task-title">New task</label>
            <input id="task-title" required value={title} onChange={(e) => setTitle(e.target.value)} /></div>
          <div><label htmlFor="task-deps">Depends on</label>
            <select id="task-deps" multiple value={deps} onChange={(e) => setDeps(Array.from(e.target.selectedOptions, (o) => o.value))}>
              {inc.tasks.map((t) => <option key={t.id} value={t.id}>{t.title}</option>)}
            </select></div>
          <label className="check"><input type="checkbox" checked={mandatory} onChange={(e) => setMandatory(e.target.checked)} /> Mandatory</label>
          <button type="submit" disabled={action.busy}>Add task</button>
        </form>
      )}
    </section>
  );
}

export function Observables({ inc, base, onDone }: { inc: Incident; base: RespondBase; onDone: Done }) {
  const mayContribute = useMayWrite(inc, 'incident.contribute');
  const r = useRespond();
  const action = useAction();
  const [type, setType] = useState('ipv4-addr');
  const [value, setValue] = useState('');
  const [tlp, setTlp] = useState('amber');
  const [pap, setPap] = useState('amber');
  const [ioc, setIoc] = useState(false);
  const [sighted, setSighted] = useState(false);
  const add = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await r.addObservable(inc.id, { type, value, tlp, pap, ioc, sighted });
      setValue('');
      onDone();
    });
  };
  return (
    <section aria-labelledby="obs-title">
      <h2 id="obs-title">Observables</h2>
      {inc.observables.length === 0 ? <p className="muted">No observable yet.</p> : (
        <table className="data" data-testid="observable-table">
          <thead><tr><th scope="col">Type</th><th scope="col">Value</th><th scope="col">TLP</th><th scope="col">PAP</th><th scope="col">IOC</th><th scope="col">Sighted</th><th scope="col">Added by</th></tr></thead>
          <tbody>
            {inc.observables.map((o) => (
              <tr key={o.id} data-testid="observable-row">
                <td>{o.type}</td><th scope="row"><code>{o.value}</code></th><td><TlpBadge tlp={o.tlp} /></td>
                <td><span className="pap">PAP:{o.pap.toUpperCase()}</span></td>
                <td>{o.ioc ? <span className="flag yes">IOC</span> : '–'}</td><td>{o.sighted ? <span className="flag yes">sighted</span> : '–'}</td>
                <td>{base.orgName(o.orgId)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mayContribute && (
        <form className="inline-form" onSubmit={add} aria-label="Add observable">
          <div><label htmlFor="obs-type">Type</label>
            <select id="obs-type" value={type} onChange={(e) => setType(e.target.value)}>
              {base.vocab.observableTypes.map((t) => <option key={t} value={t}>{t}</option>)}
            </select></div>
          <div><label htmlFor="obs-value">Value</label><input id="obs-value" required value={value} onChange={(e) => setValue(e.target.value)} /></div>
          <div><label htmlFor="obs-tlp">Observable TLP</label>
            <select id="obs-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>
              {TLPS.filter((t) => t !== 'red' && t !== 'amber+strict').map((t) => <option key={t} value={t}>TLP:{t.toUpperCase()}</option>)}
            </select></div>
          <div><label htmlFor="obs-pap">Observable PAP</label>
            <select id="obs-pap" value={pap} onChange={(e) => setPap(e.target.value)}>
              {base.vocab.pap.map((t) => <option key={t} value={t}>PAP:{t.toUpperCase()}</option>)}
            </select></div>
          <label className="check"><input type="checkbox" checked={ioc} onChange={(e) => setIoc(e.target.checked)} /> IOC</label>
          <label className="check"><input type="checkbox" checked={sighted} onChange={(e) => setSighted(e.target.checked)} /> Sighted</label>
          <button type="submit" disabled={action.busy}>Add observable</button>
        </form>
      )}
      <ActionError error={action.error} />
    </section>
  );
}

const LINK_NOUNS: Record<string, [string, string]> = {
  alerts: ['alert', 'alerts'], sightings: ['sighting', 'sightings'], indicators: ['indicator', 'indicators'], techniques: ['ATT&CK technique', 'ATT&CK techniques'],
};

/** "Linked 2 alerts: alert--…, alert--…" rather than the event's JSON. */
function linkedText(d: Record<string, unknown>): string {
  const kind = typeof d.kind === 'string' ? d.kind : '';
  const refs = Array.isArray(d.refs) ? d.refs.filter((r): r is string => typeof r === 'string') : [];
  const [one, many] = LINK_NOUNS[kind] ?? [humanise(kind), humanise(kind)];
  return `Linked ${refs.length === 1 ? one : `${refs.length} ${many}`}${refs.length ? `: ${refs.join(', ')}` : ''}`;
}

/** A value of an event in words: strings as they are, lists joined, objects as "key value" pairs. */
function valueText(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('from' in o && 'to' in o) return `${valueText(o.from)} → ${valueText(o.to)}`;
    return Object.entries(o).map(([k, x]) => `${humanise(k)} ${valueText(x)}`).join(', ');
  }
  return '';
}

/** One line of the timeline in words. */
export function describeEntry(e: TimelineEntry, orgName: (id: string) => string): string {
  const d = e.data;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  switch (e.kind) {
    case 'incident.created': return 'Incident declared';
    case 'incident.comment': return s('text');
    case 'incident.timeline': return `${formatTime(s('at'))}: ${s('text')}`;
    case 'incident.phase': return `Phase ${humanise(s('from'))} → ${humanise(s('to'))}`;
    case 'incident.task.status': return `Task "${s('title')}" ${s('from')} → ${s('to')}`;
    case 'incident.task.added': return `Task added: ${s('title')}`;
    case 'incident.observable.added': return `Observable added (${s('type')})`;
    case 'incident.attachment.added': return `Attachment ${s('name')} (${String(d.size ?? '')} bytes)`;
    case 'incident.transferred': return `Ownership transferred ${orgName(s('from'))} → ${orgName(s('to'))}`;
    case 'incident.shared': return `Shared with ${Array.isArray(d.shares) ? (d.shares as { orgId: string; permission: string }[]).map((x) => `${orgName(x.orgId)} (${x.permission})`).join(', ') : ''}`;
    case 'incident.unshared': return `Share removed: ${orgName(s('orgId'))}`;
    case 'incident.linked': return linkedText(d);
    case 'incident.updated': return `Updated: ${Object.entries(d).map(([k, v]) => `${humanise(k)} ${valueText(v)}`).join(', ')}`;
    default: return `${humanise(e.kind.replace(/^incident\./, ''))}${Object.keys(d).length ? `: ${Object.entries(d).map(([k, v]) => `${humanise(k)} ${valueText(v)}`).join(', ')}` : ''}`;
  }
}

export function Timeline({ inc, base, entries, onDone }: { inc: Incident; base: RespondBase; entries: TimelineEntry[]; onDone: Done }) {
  const mayContribute = useMayWrite(inc, 'incident.contribute');
  const mayComment = useMayWrite(inc, 'incident.comment');
  const r = useRespond();
  const action = useAction();
  const [text, setText] = useState('');
  const [manual, setManual] = useState(false);
  const [at, setAt] = useState(() => toUtcInput(new Date()));
  const add = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const when = fromUtcInput(at);
      if (manual && when) await r.timelineEntry(inc.id, when, text);
      else await r.comment(inc.id, text);
      setText('');
      onDone();
    });
  };
  return (
    <section aria-labelledby="tl-title">
      <h2 id="tl-title">Timeline</h2>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e) => (
          <li key={e.seq} data-testid="timeline-entry" data-kind={e.kind} className={e.kind === 'incident.comment' || e.kind === 'incident.timeline' ? 'human' : 'auto'}>
            <span className="muted small">{formatTime(e.at)} · {e.orgId ? base.orgName(e.orgId) : 'system'}</span>
            {e.kind === 'incident.comment' && <span className="pill">comment</span>}
            {e.kind === 'incident.timeline' && <span className="pill">manual entry</span>}
            <div className="prose">{describeEntry(e, base.orgName)}</div>
          </li>
        ))}
      </ol>
      {(mayComment || mayContribute) && (
        <form onSubmit={add} aria-label="Add to timeline">
          {inc.originNode && <p className="muted small" data-testid="remote-note">This incident lives on node {inc.originNode}: your comment is sent there and comes back with its timeline.</p>}
          <label htmlFor="tl-text">{manual ? 'Timeline entry' : 'Comment'}</label>
          <textarea id="tl-text" rows={2} required value={text} onChange={(e) => setText(e.target.value)} />
          {mayContribute && <label className="check"><input type="checkbox" checked={manual} onChange={(e) => setManual(e.target.checked)} /> Manual timeline entry at a given time</label>}
          {manual && <><label htmlFor="tl-at">At (UTC)</label><input id="tl-at" type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} /></>}
          <ActionError error={action.error} />
          <button type="submit" disabled={action.busy}>{manual ? 'Add entry' : 'Add comment'}</button>
        </form>
      )}
    </section>
  );
}

function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function Attachments({ inc, onDone }: { inc: Incident; onDone: Done }) {
  const mayContribute = useMayWrite(inc, 'incident.contribute');
  const r = useRespond();
  const action = useAction();
  const [file, setFile] = useState<File | null>(null);
  const [tooBig, setTooBig] = useState(false);
  const upload = (e: FormEvent) => {
    e.preventDefault();
    if (!file || file.size > MAX_ATTACHMENT_BYTES) return;
    void action.run(async () => {
      const contentBase64 = toBase64(await file.arrayBuffer());
      await r.attach(inc.id, { name: file.name, mediaType: file.type || 'application/octet-stream', contentBase64 });
      setFile(null);
      (e.target as HTMLFormElement).reset();
      onDone();
    });
  };
  return (
    <section aria-labelledby="att-title">
      <h2 id="att-title">Attachments</h2>
      {inc.attachments.length === 0 ? <p className="muted">No attachment.</p> : (
        <table className="data" data-testid="attachment-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">SHA-256</th><th scope="col">Added</th><th scope="col"></th></tr></thead>
          <tbody>
            {inc.attachments.map((a) => (
              <tr key={a.id} data-testid="attachment-row">
                <th scope="row">{a.name}</th><td>{a.size} B</td><td><code className="hash" data-testid="attachment-sha256">{a.sha256}</code></td>
                <td>{formatTime(a.addedAt)}</td>
                <td><button type="button" className="small-button secondary" onClick={() => void action.run(async () => saveBlob(await r.attachment(inc.id, a.id), a.name))}>Download</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mayContribute && (
        <form className="inline-form" onSubmit={upload} aria-label="Upload attachment">
          <div><label htmlFor="att-file">File (at most 10 MB)</label>
            <input id="att-file" type="file" onChange={(e) => {
              const f = e.target.files?.[0] ?? null;
              setFile(f);
              setTooBig(!!f && f.size > MAX_ATTACHMENT_BYTES);
            }} /></div>
          <button type="submit" disabled={action.busy || !file || tooBig}>Upload</button>
        </form>
      )}
      {tooBig && <p className="error" role="alert">The file is larger than 10 MB.</p>}
      <ActionError error={action.error} />
    </section>
  );
}
