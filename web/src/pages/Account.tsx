/**
 * The signed-in user's account: who they are and a form to change their own password
 * (POST /api/v1/me/password). A wrong current password is refused without ending this session;
 * the user's other sessions are signed out.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useApi, useSession } from '../session.js';
import { ErrorBox } from '../components/Status.js';

export function Account() {
  const { session } = useSession();
  const api = useApi();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (next !== again) {
      setError(new Error('The new password and its repetition differ.'));
      return;
    }
    setBusy(true);
    try {
      const r = await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(r.sessionsRevoked > 0
        ? `Password changed. ${r.sessionsRevoked} other session${r.sessionsRevoked === 1 ? '' : 's'} signed out.`
        : 'Password changed.');
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h1>Account</h1>
      <p>
        {session?.user.displayName || session?.user.username} ({session?.user.username})
        {session?.organisation && <> · {session.organisation.name}</>}
        {' · roles: '}{session?.user.roles.join(', ') || 'none'}
      </p>
      <form className="card account-form" onSubmit={submit} aria-labelledby="password-title" data-testid="password-form">
        <h2 id="password-title">Change password</h2>
        <label htmlFor="pw-current">Current password</label>
        <input id="pw-current" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <label htmlFor="pw-new">New password (at least 12 characters)</label>
        <input id="pw-new" type="password" autoComplete="new-password" required minLength={12} maxLength={1024} value={next} onChange={(e) => setNext(e.target.value)} />
        <label htmlFor="pw-again">New password again</label>
        <input id="pw-again" type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
        {error && <ErrorBox error={error} title="Password not changed" />}
        {done && <p className="notice" role="status">{done}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Changing…' : 'Change password'}</button>
      </form>
    </>
  );
}
