/**
 * Live updates: one EventSource on `/api/v1/stream` per signed-in tab. EventSource cannot send
 * headers, and a URL ends up in proxy and access logs, so the session token never goes in it:
 * each connection first fetches a single-use 30-second ticket (`POST /stream/ticket`) and
 * connects with that; after an error the tab reconnects with a fresh ticket (the browser's
 * own retry would reuse a spent one). Pages subscribe by event-type prefix and reload
 * themselves; a short toast tells the user what changed. The server keeps no backlog for a
 * dropped connection, so when it comes back every page that loads data (useLiveData) reloads.
 *
 * The server names each event (`event: incident.phase`), and EventSource only delivers named
 * events to listeners registered for that exact name, so the provider registers the names
 * the respond domain publishes (src/respond/*: `<kind>.<action>`).
 *
 * While the tab is in an exercise (exercise/api.ts useCurrentExercise) the connection is made
 * with `?exercise=<id>`: the server then sends that exercise's events only, and only to its
 * participants (404 to anyone else); real operations' events come back when the user leaves it.
 * Exercise pages reload on these events and keep a slow poll as a fallback.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { API_BASE, request } from './api.js';
import { useSession } from './session.js';
import { useCurrentExercise } from './exercise/api.js';

export interface LiveEvent { type: string; subject: string; at: string; data: Record<string, unknown> }
type Listener = (e: LiveEvent) => void;

export const LIVE_EVENT_TYPES = [
  'incident.created', 'incident.updated', 'incident.phase', 'incident.shared', 'incident.unshared', 'incident.transferred',
  'incident.task.added', 'incident.task.status', 'incident.observable.added', 'incident.linked', 'incident.comment', 'incident.timeline',
  'incident.attachment.added',
  'assistance-request.created', 'assistance-offer.created', 'assistance.offered', 'assistance.in-progress', 'assistance.closed', 'assistance.withdrawn',
  'assistance.offer.accepted', 'assistance.offer.declined', 'assistance.offer.withdrawn',
  'decision.created', 'decision.position', 'decision.adopted', 'decision.blocked', 'decision.no-consensus', 'decision.withdrawn', 'decision.reissued',
  'assessment.created', 'assessment.hypothesis', 'assessment.evidence', 'assessment.rated', 'assessment.judged',
  'alert-level.created', 'alert-level.changed',
  // Detection alerts (src/detect, the COP and alert pages).
  'alert.created', 'alert.updated', 'alert.escalated',
  // Exercises (src/exercise/service.ts: the run, injects, expectations, reports, exercise intel).
  'exercise.run.updated', 'exercise.inject.fired', 'exercise.inject.blocked', 'exercise.inject.failed', 'exercise.expectation.updated',
  'exercise.sitrep.submitted', 'exercise.intel.created',
] as const;

interface LiveContextValue {
  subscribe: (fn: Listener) => () => void;
  /** Called when the stream is back after a drop: what was published meanwhile never arrives, so pages reload. */
  onReconnect: (fn: () => void) => () => void;
  connected: boolean;
}

const LiveContext = createContext<LiveContextValue | null>(null);

/** What a toast says about an event. */
export function describeEvent(e: LiveEvent): string {
  const [kind = '', ...rest] = e.type.split('.');
  const what = kind === 'assistance-request' || kind === 'assistance-offer' || kind === 'assistance' ? 'Assistance' : kind.replace('-', ' ');
  const noun = what.charAt(0).toUpperCase() + what.slice(1);
  return `${noun}: ${rest.join(' ') || 'changed'}`;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const token = session?.token;
  const exerciseId = useCurrentExercise()?.id ?? null;
  const listeners = useRef(new Set<Listener>());
  const reconnected = useRef(new Set<() => void>());
  const [connected, setConnected] = useState(false);
  const [toasts, setToasts] = useState<{ id: number; text: string }[]>([]);
  const nextId = useRef(1);

  useEffect(() => {
    if (!token) return undefined;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    // The server keeps no backlog for a dropped stream: once it is back, pages read their data again.
    let opened = false;
    const reconnect = () => {
      setConnected(false);
      es?.close();
      es = null;
      if (!stopped) retry = setTimeout(() => void connect(), 3000);
    };
    const connect = async () => {
      let ticket: string;
      try {
        ticket = (await request<{ ticket: string }>('/stream/ticket', { method: 'POST', token })).ticket;
      } catch {
        return reconnect();
      }
      if (stopped) return;
      es = new EventSource(`${API_BASE}/stream?ticket=${encodeURIComponent(ticket)}${exerciseId ? `&exercise=${encodeURIComponent(exerciseId)}` : ''}`);
      es.onopen = () => {
        setConnected(true);
        if (opened) for (const fn of [...reconnected.current]) fn();
        opened = true;
      };
      es.onerror = reconnect;
      for (const t of LIVE_EVENT_TYPES) es.addEventListener(t, onEvent);
      es.onmessage = onEvent;
    };
    const onEvent = (m: MessageEvent<string>) => {
      let e: LiveEvent;
      try {
        e = JSON.parse(m.data) as LiveEvent;
      } catch {
        return;
      }
      for (const fn of [...listeners.current]) fn(e);
      const id = nextId.current++;
      setToasts((t) => [...t.slice(-3), { id, text: describeEvent(e) }]);
      setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 6000);
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      es?.close();
      setConnected(false);
    };
  }, [token, exerciseId]);

  const subscribe = useCallback((fn: Listener) => {
    listeners.current.add(fn);
    return () => { listeners.current.delete(fn); };
  }, []);
  const onReconnect = useCallback((fn: () => void) => {
    reconnected.current.add(fn);
    return () => { reconnected.current.delete(fn); };
  }, []);

  return (
    <LiveContext.Provider value={{ subscribe, onReconnect, connected }}>
      {children}
      <div className="toasts" aria-live="polite" data-testid="toasts">
        {toasts.map((t) => <div key={t.id} className="toast" data-testid="toast">{t.text}</div>)}
      </div>
    </LiveContext.Provider>
  );
}

export function useLiveConnected(): boolean {
  return useContext(LiveContext)?.connected ?? false;
}

/** Calls `fn` for every live event whose type starts with one of `prefixes`. */
export function useLiveEvents(prefixes: readonly string[], fn: Listener): void {
  const ctx = useContext(LiveContext);
  const latest = useRef(fn);
  latest.current = fn;
  const key = prefixes.join(',');
  useEffect(() => {
    if (!ctx) return undefined;
    const list = key.split(',');
    return ctx.subscribe((e) => { if (list.some((p) => e.type.startsWith(p))) latest.current(e); });
  }, [ctx, key]);
}

export type LoadState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: Error }
  | { status: 'done'; data: T };

/**
 * Loads a page's data and reloads it on `reload()` or on a live event of the given prefixes.
 * A reload keeps the data shown until the new answer comes, so open forms keep their input.
 * With `subject`, only events about that record count.
 */
export function useLiveData<T>(
  load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], prefixes: readonly string[], subject?: string,
): [LoadState<T>, () => void] {
  const [state, setState] = useState<LoadState<T>>({ status: 'loading' });
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  // A detail page reloads for events about its own record only.
  useLiveEvents(prefixes, (e) => { if (subject === undefined || e.subject === subject) reload(); });
  // And after a dropped stream came back: the events of the gap are gone.
  const ctx = useContext(LiveContext);
  useEffect(() => ctx?.onReconnect(reload), [ctx, reload]);
  useEffect(() => { setState({ status: 'loading' }); }, deps);
  useEffect(() => {
    const ctrl = new AbortController();
    load(ctrl.signal).then(
      (data) => { if (!ctrl.signal.aborted) setState({ status: 'done', data }); },
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        setState({ status: 'error', error: e instanceof Error ? e : new Error(String(e)) });
      },
    );
    return () => ctrl.abort();
    // The caller lists the inputs of `load`, as with useEffect.
  }, [...deps, version]);
  return [state, reload];
}
