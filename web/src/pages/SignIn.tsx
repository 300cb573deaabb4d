import { useState } from 'react';
import type { FormEvent } from 'react';
import { useSession } from '../session.js';
import { ErrorBox } from '../components/Status.js';

export function SignIn() {
  const { signIn, notice } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username, password);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form className="card signin-form" onSubmit={submit} aria-labelledby="signin-title" data-testid="signin-form">
        <h1 id="signin-title">Shieldwall</h1>
        <p className="muted">Sign in to the alliance intelligence node.</p>
        {notice && <p className="notice" role="status">{notice}</p>}
        <label htmlFor="signin-username">Username</label>
        <input id="signin-username" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required autoFocus
          value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="signin-password">Password</label>
        <input id="signin-password" name="password" type="password" autoComplete="current-password" required
          value={password} onChange={(e) => setPassword(e.target.value)} />
        {error && <ErrorBox error={error} title="Sign-in failed" />}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
