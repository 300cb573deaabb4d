/**
 * Building blocks shared by the respond screens: the reference data every screen needs
 * (vocabularies, organisations), the CISA severity badge, a live countdown, and a small
 * hook that runs one user action and keeps its error to show.
 */
import { useCallback, useEffect, useState } from 'react';
import { mayDo, useApi, useSession } from '../session.js';
import { useAsync } from '../useAsync.js';
import type { AsyncState } from '../useAsync.js';
import { useRespond } from '../respondApi.js';
import type { Severity, Vocabularies } from '../respondTypes.js';
import type { OrgSummary } from '../types.js';
import { ErrorBox } from './Status.js';

export interface RespondBase {
  vocab: Vocabularies;
  orgs: OrgSummary[];
  orgName: (id: string) => string;
  ownOrg: string;
  /** Whether the permission table (GET /me) lets the reader take an action; the server enforces it anyway. */
  may: (action: string) => boolean;
}

/** Vocabularies and organisations, loaded together once per page. */
export function useRespondBase(): AsyncState<RespondBase> {
  const api = useApi();
  const r = useRespond();
  const { session } = useSession();
  return useAsync(async (signal) => {
    const [vocab, orgs] = await Promise.all([r.vocabularies(signal), api.organisations(signal)]);
    const byId = new Map(orgs.items.map((o) => [o.id, o]));
    return {
      vocab, orgs: orgs.items, orgName: (id: string) => byId.get(id)?.shortName ?? (id === 'alliance' ? 'Alliance' : id),
      ownOrg: session?.user.orgId ?? '', may: (action: string) => mayDo(session, action),
    };
  }, [api, r, session]);
}

/** CISA severity in its own colour (dark text on the light colours). */
export function SeverityBadge({ level, severities }: { level: number; severities: readonly Severity[] }) {
  const s = severities.find((x) => x.level === level);
  const light = s ? ['white', 'yellow', 'orange', 'green'].includes(s.colour) : true;
  return (
    <span className="severity" data-testid="severity-badge" data-level={level}
      style={{ background: s?.hex ?? '#ccc', color: light ? '#111' : '#fff', borderColor: s?.colour === 'white' ? '#999' : (s?.hex ?? '#ccc') }}>
      {level} {s?.name ?? ''}
    </span>
  );
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const neg = seconds < 0;
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = d ? [`${d}d`, `${h}h`, `${m}m`] : h ? [`${h}h`, `${m}m`, `${s}s`] : m ? [`${m}m`, `${s}s`] : [`${s}s`];
  return (neg ? '-' : '') + parts.join(' ');
}

/** Seconds left to `deadline`, ticking every second; calls `onExpire` once when it reaches 0. */
export function useCountdown(deadline: string, onExpire?: () => void): number {
  const target = Date.parse(deadline);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, Math.ceil((target - now) / 1000));
  const expired = left === 0;
  useEffect(() => {
    if (!expired || !onExpire) return undefined;
    // The server settles the deadline on the next read; give its clock a moment, and ask
    // again while this countdown is still shown (the outcome has not come yet).
    const first = setTimeout(onExpire, 600);
    const again = setInterval(onExpire, 3000);
    return () => { clearTimeout(first); clearInterval(again); };
  }, [expired]);
  return left;
}

export function Countdown({ deadline, onExpire, label = 'Deadline' }: { deadline: string; onExpire?: () => void; label?: string }) {
  const left = useCountdown(deadline, onExpire);
  return (
    <span className={left === 0 ? 'countdown over' : 'countdown'} data-testid="countdown" data-seconds={left} title={deadline}>
      {label}: {left === 0 ? 'passed' : `${formatDuration(left)} left`}
    </span>
  );
}

/** Runs one action at a time; its error is kept until the next run. */
export function useAction(): { busy: boolean; error: Error | null; run: (fn: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

export function ActionError({ error }: { error: Error | null }) {
  return error ? <ErrorBox error={error} /> : null;
}

/**
 * `<input type="datetime-local">` value ↔ ISO timestamp, in UTC: every time the app shows is
 * UTC, so the times typed in are UTC too (their labels say so), whatever the browser's zone.
 */
export function toUtcInput(d: Date): string {
  return d.toISOString().slice(0, 19);
}
export function fromUtcInput(v: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) return undefined;
  const t = new Date(`${v.length === 16 ? `${v}:00` : v}Z`);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export function humanise(s: string): string {
  return s.replace(/-/g, ' ');
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state}`} data-testid="state" data-state={state}>{humanise(state)}</span>;
}
