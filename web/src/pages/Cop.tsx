/**
 * Common operational picture: one tile per member (alert level, alerts by severity, open alerts
 * and incidents: alliance-wide counts that every member sees), the live alert feed (only the
 * alerts the release policy lets this organisation see, as the server filters them), events and
 * alerts over time, the ATT&CK techniques of the detections, what is firing across members (top
 * indicators and techniques, per reader), federation health (for readers of federation status)
 * and sensor health.
 *
 * The feed takes the alerts of `alert.created` / `alert.updated` from the live stream at once; the counts
 * come from GET /cop, reloaded shortly after a burst of alert events and every 30 s (alerts of
 * other organisations change the counts without reaching this browser).
 */
import { useEffect, useRef, useState } from 'react';
import { useAlerts } from '../alertsApi.js';
import { useRespond } from '../respondApi.js';
import { mayDo, useSession } from '../session.js';
import { useLiveConnected, useLiveData, useLiveEvents } from '../live.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { AlertFilters, AlertTable } from '../components/AlertParts.js';
import { RateChart } from '../components/RateChart.js';
import { Heatmap } from '../components/Heatmap.js';
import { FEED_MAX, filterFromParams, filterToParams, matchesFilter, mergeAlert, mergeAlerts, totalAlerts } from '../components/alertView.js';
import { ALERT_SEVERITIES } from '../alertTypes.js';
import type { Alert, AlertFilter, AlertSeverity, CopMember } from '../alertTypes.js';
import type { AssistanceRequest, Decision, Incident } from '../respondTypes.js';
import { OverdueFindings } from '../components/OverdueFindings.js';
import { FederationHealth, loadFederation, SensorHealth, TopFiring, type FederationState } from '../components/CopPanels.js';
import { useFederation } from '../federationApi.js';

const HOURS = [1, 6, 24, 72, 168] as const;
const SEVERITY_ABBR: Record<AlertSeverity, string> = { critical: 'crit', high: 'high', medium: 'med', low: 'low', informational: 'info' };
const REFRESH_MS = 30_000;
const BURST_MS = 1500;

/** A live event's data is an Alert when it carries the fields the feed shows. */
function asAlert(x: unknown): Alert | null {
  const a = x as Partial<Alert> | null;
  return a && typeof a.id === 'string' && typeof a.lastSeen === 'string' && typeof a.severity === 'string' && typeof a.rev === 'number' ? a as Alert : null;
}

/** One member's alerts per bucket as a small line (the small multiples of the picture), scaled to `max` so members compare. */
function Trend({ values, max, label }: { values: readonly number[]; max: number; label: string }) {
  const w = 120;
  const h = 28;
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const y = (v: number) => h - 2 - (max > 0 ? (v / max) * (h - 4) : 0);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg className="trend" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label} data-testid="tile-trend"
      data-total={values.reduce((a, b) => a + b, 0)}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth={1.5} />
    </svg>
  );
}

/** Open incidents, assistance requests and decisions awaiting a position, soonest deadline first. */
function NeedingAction({ incidents, requests, decisions, ownOrg }: { incidents: Incident[]; requests: AssistanceRequest[]; decisions: Decision[]; ownOrg: string | undefined }) {
  const openIncidents = incidents.filter((i) => i.phase !== 'closed').sort((a, b) => b.severity - a.severity || b.updatedAt.localeCompare(a.updatedAt));
  const openRequests = requests.filter((q) => q.state === 'open' || q.state === 'in-progress').sort((a, b) => a.offerDeadline.localeCompare(b.offerDeadline));
  const openDecisions = decisions.filter((d) => d.state === 'open').sort((a, b) => a.deadline.localeCompare(b.deadline));
  return (
    <section aria-labelledby="action-title" className="cop-action" data-testid="needing-action">
      <h2 id="action-title">Needing action</h2>
      <div className="cop-grid">
        <div>
          <h3>Open incidents <span className="muted" data-testid="action-incidents">{openIncidents.length}</span></h3>
          <ul className="plain small">
            {openIncidents.slice(0, 8).map((i) => (
              <li key={i.id}><a href={href.incident(i.id)}>{i.title}</a> <span className="muted">sev {i.severity} · {i.phase.replace(/-/g, ' ')}{i.isOwner ? '' : ' · shared'}</span></li>
            ))}
          </ul>
        </div>
        <div>
          <h3>Assistance requests <span className="muted" data-testid="action-requests">{openRequests.length}</span></h3>
          <ul className="plain small">
            {openRequests.slice(0, 8).map((q) => (
              <li key={q.id}><a href={href.assistance()}>{q.title}</a> <span className="muted">{q.urgency} · offers until {formatTime(q.offerDeadline)}{q.requesterOrg === ownOrg ? ' · yours' : ''}</span></li>
            ))}
          </ul>
        </div>
        <div>
          <h3>Decisions with deadlines <span className="muted" data-testid="action-decisions">{openDecisions.length}</span></h3>
          <ul className="plain small">
            {openDecisions.slice(0, 8).map((d) => (
              <li key={d.id} data-testid="action-decision" data-can-act={d.canAct}><a href={href.decision(d.id)}>{d.title}</a>{' '}
                <span className="muted">{d.procedure} · deadline {formatTime(d.deadline)}</span>{d.canAct && <span className="pill">your position is due</span>}</li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

function MemberTile({ m, levelName, own, trendMax }: { m: CopMember; levelName: (n: number) => string | null; own: boolean; trendMax: number }) {
  const total = totalAlerts(m.alerts);
  const level = m.alertLevel;
  return (
    <li className={`card member-tile${level ? ` tile-level-${level}` : ''}`} data-testid="member-tile" data-org-id={m.orgId}
      data-alert-level={level ?? ''} data-open-alerts={m.openAlerts} data-open-incidents={m.openIncidents} aria-labelledby={`tile-${m.orgId}`}>
      <h3 id={`tile-${m.orgId}`}>{m.shortName || m.name}{own && <span className="pill">you</span>}</h3>
      <p className="small muted">{m.name}{m.country ? ` · ${m.country}` : ''}{m.kind === 'alliance-body' ? ' · alliance body' : ''}</p>
      <p>{level === null
        ? <span className="muted small">no alert level set</span>
        : <span className={`alert-level alert-level-${level}`} data-testid="tile-alert-level">Level {level}{levelName(level) ? ` ${levelName(level) ?? ''}` : ''}</span>}</p>
      <dl className="tile-counts">
        {ALERT_SEVERITIES.map((s) => (
          <div key={s} className={`tile-sev alert-sev-${s}${(m.alerts[s] ?? 0) === 0 ? ' zero' : ''}`} data-testid="tile-count" data-severity={s}>
            <dt><abbr title={s}>{SEVERITY_ABBR[s]}</abbr></dt><dd>{m.alerts[s] ?? 0}</dd>
          </div>
        ))}
      </dl>
      <dl className="summary small">
        <dt>Alerts</dt><dd data-testid="tile-total">{total}</dd>
        <dt>Open alerts</dt><dd data-testid="tile-open-alerts">{m.openAlerts}</dd>
        <dt>Open incidents</dt><dd data-testid="tile-open-incidents">{m.openIncidents}</dd>
        <dt>Sensors</dt><dd data-testid="tile-sensors" data-seen={m.sensors.seen} data-silent={m.sensors.silent}>
          {m.sensors.seen === 0 ? <span className="muted">none reporting</span>
            : <>{m.sensors.seen} reporting{m.sensors.silent > 0 && <span className="sensor-silent"> · {m.sensors.silent} silent</span>}</>}
          {m.sensors.lastSeen && <div className="muted small">last {formatTime(m.sensors.lastSeen)}</div>}
        </dd>
      </dl>
      <Trend values={m.trend} max={trendMax} label={`${m.shortName || m.name}: ${total} alerts over time`} />
    </li>
  );
}

export function Cop({ params }: { params: URLSearchParams }) {
  const alerts = useAlerts();
  const r = useRespond();
  const connected = useLiveConnected();
  const { session } = useSession();
  const ownOrg = session?.user.orgId;
  const seesFederation = mayDo(session, 'federation.read');
  const fed = useFederation();
  const filter = filterFromParams(params);
  const hours = HOURS.find((h) => String(h) === params.get('hours')) ?? 24;

  // Alert levels change the tiles; alert events are handled below (the feed at once, the counts after a burst).
  const [state, reload] = useLiveData(async (signal) => {
    // What needs action comes from the same release-filtered lists as their own pages; a role
    // without the read permission simply gets an empty list here.
    const [cop, vocab, incidents, requests, decisions, federation] = await Promise.all([
      alerts.cop(hours, signal), r.vocabularies(signal).catch(() => null),
      r.incidents(signal).then((x) => x.items).catch(() => [] as Incident[]),
      r.assistance(signal).then((x) => x.items).catch(() => [] as AssistanceRequest[]),
      r.decisions(signal).then((x) => x.items).catch(() => [] as Decision[]),
      // Federation status with the rest (for those the permission table lets read it), so the
      // panel arrives in the same render as the picture and nothing shifts under the pointer.
      seesFederation ? loadFederation(fed, signal) : Promise.resolve<FederationState | null>(null),
    ]);
    return { cop, levels: vocab?.alertLevels ?? [], incidents, requests, decisions, federation };
  }, [alerts, r, hours, fed, seesFederation], ['alert-level.', 'incident.', 'assistance.', 'decision.']);

  const [feed, setFeed] = useState<Alert[]>([]);
  const [fresh, setFresh] = useState(0);
  useEffect(() => {
    if (state.status === 'done') setFeed((f) => mergeAlerts(f, state.data.cop.recent));
  }, [state]);

  const burst = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (burst.current) clearTimeout(burst.current); }, []);
  useLiveEvents(['alert.'], (e) => {
    // Detection sends the whole alert; an analyst's change (status, assignee, escalation) only
    // what changed, so then the picture is reloaded instead.
    const a = asAlert(e.data);
    if (a) {
      setFeed((f) => mergeAlert(f, a));
      if (e.type === 'alert.created') setFresh((n) => n + 1);
    }
    if (!burst.current) burst.current = setTimeout(() => { burst.current = null; reload(); }, a ? BURST_MS : 200);
  });
  useEffect(() => {
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);

  const go = (f: AlertFilter, h: number) => {
    const p = filterToParams(f);
    if (h !== 24) p.set('hours', String(h));
    navigate(href.cop(p));
  };

  if (state.status === 'loading') return <Loading what="the operational picture" />;
  if (state.status === 'error') return <ErrorBox error={state.error} title="Could not load the operational picture" />;
  const { cop, levels } = state.data;
  const levelName = (n: number) => levels.find((l) => l.level === n)?.name ?? null;
  const shown = feed.filter((a) => matchesFilter(a, filter));
  const shortNames = new Map(cop.members.map((m) => [m.orgId, m.shortName || m.name]));
  const orgLabel = (a: Alert) => shortNames.get(a.orgId) ?? a.orgName ?? a.orgId;
  const trendMax = Math.max(0, ...cop.members.flatMap((m) => m.trend));
  const members = [...cop.members].sort((a, b) => (a.kind === b.kind ? a.shortName.localeCompare(b.shortName) : a.kind === 'member' ? -1 : 1));
  return (
    <section aria-labelledby="cop-title" className="cop">
      <h1 id="cop-title">Common operational picture</h1>
      <div className="inline-form cop-controls">
        <div><label htmlFor="cop-hours">Period</label>
          <select id="cop-hours" value={hours} onChange={(e) => go(filter, Number(e.target.value))}>
            {HOURS.map((h) => <option key={h} value={h}>last {h < 48 ? `${h} h` : `${h / 24} days`}</option>)}
          </select></div>
        <p className="small muted" data-testid="cop-generated">Counts as of {formatTime(cop.generatedAt)} ·{' '}
          <span data-testid="live-state" data-connected={connected}>{connected ? 'live' : 'reconnecting…'}</span></p>
      </div>

      <h2 id="members-title">Members</h2>
      {levels.length > 0 && (
        <p className="small level-legend" data-testid="level-legend" aria-label="Alert levels">
          <span className="muted">Alert levels:</span>{' '}
          {levels.map((l) => <span key={l.level} className={`alert-level alert-level-${l.level}`} data-level={l.level}>{l.level} {l.name}</span>)}
          {' '}<span className="muted">· tile counts: alerts last seen in the period, by severity</span>
        </p>
      )}
      <ul className="member-tiles" aria-labelledby="members-title" data-testid="member-tiles">
        {members.map((m) => <MemberTile key={m.orgId} m={m} levelName={levelName} own={m.orgId === ownOrg} trendMax={trendMax} />)}
      </ul>

      <div className="cop-grid">
        <TopFiring top={cop.top} />
        <div className="cop-health-col">
          {state.data.federation && <FederationHealth state={state.data.federation} />}
          <SensorHealth members={cop.members} silentMinutes={cop.silentMinutes} />
        </div>
      </div>

      <NeedingAction incidents={state.data.incidents} requests={state.data.requests} decisions={state.data.decisions} ownOrg={ownOrg} />

      <OverdueFindings />
      <section aria-labelledby="feed-title" className="cop-feed">
        <h2 id="feed-title">Live alert feed</h2>
        <AlertFilters filter={filter} onChange={(f) => go(f, hours)} label="Filter the feed" />
        <p className="small muted" role="status" aria-live="polite" data-testid="feed-status">
          {shown.length} of the latest {Math.min(feed.length, FEED_MAX)} alerts shown{fresh > 0 ? ` · ${fresh} new since this page opened` : ''}.
        </p>
        <AlertTable alerts={shown} caption="Newest first" empty="No alert visible to your organisation matches." testId="feed" orgLabel={orgLabel} />
        <p><a href={href.alerts(filterToParams(filter))}>All alerts with these filters</a></p>
      </section>
      <div className="cop-grid">
        <section aria-labelledby="rates-title">
          <h2 id="rates-title">Events and alerts over time</h2>
          <RateChart buckets={cop.rates.buckets} bucketMinutes={cop.rates.bucketMinutes} />
        </section>
        <section aria-labelledby="heatmap-title">
          <h2 id="heatmap-title">ATT&amp;CK techniques detected</h2>
          <Heatmap heatmap={cop.heatmap} />
        </section>
      </div>
    </section>
  );
}
