/**
 * Panels of the operational picture beside the tiles: what is firing across members (top
 * indicators and techniques, counted by the server from the alerts and sightings this reader may
 * read, naming only indicators it may read), federation health (peers, last sync, lag, errors: for those the
 * permission table lets read federation status) and sensor health (the tiles' sensor figures
 * summed, members with silent sensors named).
 */
import { href } from '../router.js';
import { formatTime } from './Status.js';
import type { PeerView, SubscriptionStatus, useFederation } from '../federationApi.js';
import type { CopMember, CopTop } from '../alertTypes.js';

export function TopFiring({ top }: { top: CopTop }) {
  return (
    <section aria-labelledby="top-title" className="cop-top" data-testid="top-firing" data-alerts={top.alerts}>
      <h2 id="top-title">Firing across members</h2>
      <p className="small muted">From the {top.alerts} alerts and {top.sightings} sightings of the period your organisation may read (false positives left out).</p>
      <div className="cop-grid even">
        <table className="compact" data-testid="top-indicators">
          <caption>Top indicators</caption>
          <thead><tr><th scope="col">Indicator</th><th scope="col" className="num">Alerts</th><th scope="col" className="num">Sighted</th><th scope="col" className="num">Members</th></tr></thead>
          <tbody>
            {top.indicators.length === 0 && <tr><td colSpan={4} className="muted">No indicator you may read fired in the period.</td></tr>}
            {top.indicators.map((i) => (
              <tr key={i.id} data-testid="top-indicator" data-id={i.id} data-alerts={i.alerts} data-sightings={i.sightings} data-members={i.members}>
                <td className="ellipsis"><a href={href.detail(i.id)} title={i.name ?? i.id}>{i.name ?? i.id}</a></td>
                <td className="num">{i.alerts}</td><td className="num">{i.sightings}</td><td className="num">{i.members}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="compact" data-testid="top-techniques">
          <caption>Top ATT&amp;CK techniques</caption>
          <thead><tr><th scope="col">Technique</th><th scope="col" className="num">Alerts</th><th scope="col" className="num">Members</th></tr></thead>
          <tbody>
            {top.techniques.length === 0 && <tr><td colSpan={3} className="muted">No technique among the alerts you may read.</td></tr>}
            {top.techniques.map((t) => (
              <tr key={t.technique} data-testid="top-technique" data-technique={t.technique} data-alerts={t.alerts} data-members={t.members}>
                <td><a href={`https://attack.mitre.org/techniques/${t.technique.replace('.', '/')}/`} rel="noreferrer noopener" target="_blank"><code>{t.technique}</code></a></td>
                <td className="num">{t.alerts}</td><td className="num">{t.members}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Lag in seconds, human-sized. */
function lagText(s: number | null): string {
  if (s === null) return '–';
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** Per peer: its subscriptions, the latest successful sync, the largest lag, failures and the latest error. */
export function peerHealth(peers: readonly PeerView[], subs: readonly SubscriptionStatus[]) {
  return peers.map((p) => {
    const mine = subs.filter((s) => s.subscription.peer === p.name);
    const lastSync = mine.map((s) => s.lastSuccess).filter((x): x is string => x !== null).sort().at(-1) ?? null;
    const lags = mine.map((s) => s.lagS).filter((x): x is number => x !== null);
    const errors = mine.reduce((n, s) => n + s.state.failures, 0);
    // Only current errors: one a later run got past is history (the Federation page keeps it).
    const lastError = mine.filter((s) => s.lastError !== null && s.failing !== false).sort((a, b) => (b.lastErrorAt ?? '').localeCompare(a.lastErrorAt ?? ''))[0] ?? null;
    return { name: p.name, subscriptions: mine.length, lastSync, lagS: lags.length ? Math.max(...lags) : null, errors, lastError: lastError?.lastError ?? null };
  });
}

/** What the picture loads of federation status: the lists, or why they could not be read. */
export type FederationState = { peers: PeerView[]; subs: SubscriptionStatus[] } | { error: string };

/** Loads federation status with the picture (one render, no layout shift when it arrives). */
export function loadFederation(fed: ReturnType<typeof useFederation>, signal: AbortSignal): Promise<FederationState> {
  return Promise.all([fed.peers(signal), fed.subscriptions(signal)])
    .then(([p, s]) => ({ peers: p.items, subs: s.items }), (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
}

export function FederationHealth({ state }: { state: FederationState }) {
  return (
    <section aria-labelledby="fed-title" className="cop-health" data-testid="federation-health"
      data-peers={'peers' in state ? state.peers.length : ''} data-subscriptions={'subs' in state ? state.subs.length : ''}>
      <h2 id="fed-title">Federation health</h2>
      {state === null ? <p className="muted small">Loading…</p>
        : 'error' in state ? <p className="error small" role="alert">Federation status unavailable: {state.error}</p>
        : state.peers.length === 0 ? <p className="muted small" data-testid="fed-none">No peer node: this node does not federate (<a href={href.federation()}>federation</a>).</p>
        : (
          <table className="compact">
            <thead><tr><th scope="col">Peer</th><th scope="col" className="num">Subs</th><th scope="col">Last sync</th><th scope="col" className="num">Lag</th><th scope="col" className="num">Errors</th></tr></thead>
            <tbody>
              {peerHealth(state.peers, state.subs).map((p) => (
                <tr key={p.name} data-testid="fed-peer" data-peer={p.name} data-subscriptions={p.subscriptions} data-errors={p.errors} className={p.lastError ? 'row-warn' : ''}>
                  <td><a href={href.federation()}>{p.name}</a></td>
                  <td className="num">{p.subscriptions}</td>
                  <td>{p.lastSync ? formatTime(p.lastSync) : <span className="muted">never</span>}</td>
                  <td className="num">{lagText(p.lagS)}</td>
                  <td className="num" title={p.lastError ?? undefined}>{p.errors}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

export function SensorHealth({ members, silentMinutes }: { members: readonly CopMember[]; silentMinutes: number }) {
  const seen = members.reduce((n, m) => n + m.sensors.seen, 0);
  const silent = members.reduce((n, m) => n + m.sensors.silent, 0);
  const quiet = members.filter((m) => m.sensors.silent > 0 || m.sensors.seen === 0);
  return (
    <section aria-labelledby="sensor-title" className="cop-health" data-testid="sensor-health" data-seen={seen} data-silent={silent}>
      <h2 id="sensor-title">Sensor health</h2>
      <p className="small"><strong>{seen}</strong> sensors reporting in the period · <strong className={silent ? 'sensor-silent' : ''}>{silent}</strong> silent for over {silentMinutes} min</p>
      {quiet.length > 0 && (
        <ul className="plain small">
          {quiet.map((m) => (
            <li key={m.orgId} data-testid="sensor-quiet" data-org-id={m.orgId}>{m.shortName || m.name}: {m.sensors.seen === 0 ? <span className="muted">no sensor reporting</span> : <span className="sensor-silent">{m.sensors.silent} of {m.sensors.seen} silent</span>}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
