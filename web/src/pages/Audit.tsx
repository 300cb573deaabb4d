/**
 * The audit log of the administrator's organisation (GET /api/v1/audit): newest first, filtered
 * by action (or its start: `token.`), user and days (UTC), a hundred at a time with "Older".
 */
import { useEffect, useState, type FormEvent } from 'react';
import { mayDo, useSession } from '../session.js';
import { href } from '../router.js';
import { useSystem, type AuditEntry, type AuditFilter } from '../systemApi.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';

/** A day picked in a date field as the first or last microsecond of that day, UTC. */
const dayStart = (d: string) => (d ? `${d}T00:00:00Z` : '');
const dayEnd = (d: string) => (d ? `${d}T23:59:59.999999Z` : '');

function detailText(d: unknown): string {
  if (d === null || d === undefined) return '';
  const s = typeof d === 'string' ? d : JSON.stringify(d);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export function Audit() {
  const { session } = useSession();
  const api = useSystem();
  const isAdmin = mayDo(session, 'admin.audit');
  const [form, setForm] = useState({ action: '', user: '', since: '', until: '' });
  const [state, setState] = useState<{ filter: AuditFilter; items: AuditEntry[]; next?: string; busy: boolean; error: Error | null }>({ filter: {}, items: [], busy: false, error: null });
  const load = async (filter: AuditFilter, cursor?: string, items: AuditEntry[] = []) => {
    setState({ filter, items, busy: true, error: null });
    try {
      const page = await api.audit(filter, cursor);
      setState({ filter, items: [...items, ...page.items], ...(page.next ? { next: page.next } : {}), busy: false, error: null });
    } catch (e) {
      setState({ filter, items, busy: false, error: e instanceof Error ? e : new Error(String(e)) });
    }
  };
  // The newest entries when the page opens.
  useEffect(() => {
    if (isAdmin) void load({});
  }, [api, isAdmin]);
  if (!isAdmin) return <><h1>Audit log</h1><p>The audit log is for administrators.</p></>;
  const search = (e: FormEvent) => {
    e.preventDefault();
    void load({ action: form.action.trim(), user: form.user.trim(), since: dayStart(form.since), until: dayEnd(form.until) });
  };
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted small">Every write of your organisation's users and tokens, newest first (times UTC). The node operator reads the whole node's log with <code>shieldwall audit</code>. <a href={href.system()}>Back to System</a></p>
      <form className="card" aria-label="Filter the audit log" onSubmit={search}>
        <label>Action <input value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })} placeholder="e.g. token.revoke, or token." data-testid="audit-action" /></label>{' '}
        <label>User <input value={form.user} onChange={(e) => setForm({ ...form, user: e.target.value })} placeholder="username" data-testid="audit-user" /></label>{' '}
        <label>From <input type="date" value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })} data-testid="audit-since" /></label>{' '}
        <label>To <input type="date" value={form.until} onChange={(e) => setForm({ ...form, until: e.target.value })} data-testid="audit-until" /></label>{' '}
        <button type="submit" disabled={state.busy} data-testid="audit-search">Search</button>
      </form>
      {state.error ? <ErrorBox error={state.error} /> : null}
      {state.busy && state.items.length === 0 ? <Loading what="the audit log" /> : null}
      <section className="card" aria-label="Audit entries">
        <table className="data">
          <thead><tr><th>Time (UTC)</th><th>User</th><th>Source</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead>
          <tbody>
            {state.items.map((a) => (
              <tr key={a.id} data-testid="audit-row">
                <td>{formatTime(a.at)}</td><td>{a.username ?? (a.userId ? <code>{a.userId}</code> : a.tokenId ? `token ${a.tokenId}` : a.action === 'auth.fail' ? 'not signed in' : 'system')}</td>
                <td>{a.source ?? '-'}</td><td data-testid="audit-row-action"><code>{a.action}</code></td>
                <td className="wrap small">{a.target ?? '-'}</td><td className="wrap small">{detailText(a.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!state.busy && state.items.length === 0 && !state.error ? <p data-testid="audit-empty">No entries{state.next ? ' in the part of the log read so far' : ''}.</p> : null}
        {state.next ? <button type="button" disabled={state.busy} data-testid="audit-older" onClick={() => void load(state.filter, state.next, state.items)}>Older</button> : null}
      </section>
    </>
  );
}
