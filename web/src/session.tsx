/**
 * The signed-in session: the token lives in sessionStorage (cleared with the tab, never shared
 * with other tabs), the organisation comes from GET /me.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { client, login as apiLogin, setUnauthenticatedHandler } from './api.js';
import type { Client } from './api.js';
import type { Org, User } from './types.js';

const STORAGE_KEY = 'shieldwall.session';

export interface Session {
  token: string; expiresAt: string; user: User; organisation: Org | null;
  /** The actions the server allows this user (GET /me); absent in a session stored by an older version: then nothing is hidden and the server decides. */
  permissions?: string[];
}

/** Whether the web app should offer an action: what the server's permission table allows (it enforces it anyway). */
export function mayDo(session: Session | null, action: string): boolean {
  return session?.permissions === undefined ? true : session.permissions.includes(action);
}

interface SessionContextValue {
  session: Session | null;
  api: Client | null;
  /** Set when the session ended without the user asking (expiry, revocation). */
  notice: string | null;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (typeof s.token !== 'string' || Date.parse(s.expiresAt) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

function store(s: Session | null): void {
  if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(load);
  const [notice, setNotice] = useState<string | null>(null);

  const update = useCallback((s: Session | null) => {
    store(s);
    setSession(s);
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      update(null);
      setNotice('Your session has ended. Please sign in again.');
    });
    return () => setUnauthenticatedHandler(undefined);
  }, [update]);

  const signIn = useCallback(async (username: string, password: string) => {
    const answer = await apiLogin(username, password);
    const me = await client(answer.token).me().catch(() => null);
    setNotice(null);
    update({ token: answer.token, expiresAt: answer.expiresAt, user: me?.user ?? answer.user, organisation: me?.organisation ?? null, ...(me ? { permissions: me.permissions } : {}) });
  }, [update]);

  const signOut = useCallback(async () => {
    const token = session?.token;
    update(null);
    setNotice(null);
    // Revoke server-side too; the local session is gone either way.
    if (token) await client(token).logout().catch(() => undefined);
  }, [session, update]);

  const value = useMemo<SessionContextValue>(() => ({
    session,
    api: session ? client(session.token) : null,
    notice,
    signIn,
    signOut,
  }), [session, notice, signIn, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The API client of a signed-in page; pages are only rendered with a session. */
export function useApi(): Client {
  const { api } = useSession();
  if (!api) throw new Error('useApi without a session');
  return api;
}
