/**
 * The node's processes for administrators (GET /api/v1/system): the API process, the detection
 * workers (pid, state, heartbeat, restarts), queue depth and lag, events/s, store health, the
 * indexes that follow the store (with a rebuild of the correlation index), and the dead letters
 * of the administrator's organisation with retry / discard.
 */
import { useEffect, useState } from 'react';
import { mayDo, useSession } from '../session.js';
import { href } from '../router.js';
import { formatDuration } from '../components/Respond.js';
import { useAsync } from '../useAsync.js';
import { useSystem, type DeadLetter, type StreamView, type SystemStatus } from '../systemApi.js';
import { ErrorBox, Loading, formatTime } from '../components/Status.js';
import { ActionError, useAction } from '../components/Respond.js';

const mb = (b: number | null) => (b === null ? '-' : `${Math.round(b / 1_048_576)} MB`);

function streamText(st: StreamView): string {
  const unowned = st.unowned.length > 0 ? `; no worker owns partition${st.unowned.length > 1 ? 's' : ''} ${st.unowned.join(', ')}` : '';
  return `telemetry stream: ${st.waitingMessages} ingest chunks waiting in ${st.partitions} partitions, lag ${formatDuration(st.lagMs / 1000)}${unowned}`;
}

/** A backup older than this is marked on the page. */
const BACKUP_OLD_MS = 7 * 86_400_000;

const ROLE_NAMES = { api: 'API', 'worker-supervisor': 'worker supervisor' } as const;

function Overview({ s }: { s: SystemStatus }) {
  const q = s.detection.queue;
  const st = s.detection.stream;
  return (
    <section className="card" aria-label="Node">
      <h2>Node {s.node}</h2>
      <dl className="summary">
        <dt>Store</dt><dd data-testid="store-health">{s.store.dialect}, {s.store.ok ? `ok (${s.store.latencyMs} ms)` : `failing: ${s.store.error ?? ''}`}</dd>
        {s.nats ? <><dt>NATS</dt><dd data-testid="nats-health">{s.nats.url}, {s.nats.ok ? `ok (${s.nats.latencyMs} ms)` : `failing: ${s.nats.error ?? ''} (ingestion answers 503)`}</dd></> : null}
        <dt>Detection</dt><dd>{s.detection.mode === 'worker' ? 'supervised worker process' : s.detection.mode === 'external' ? 'external workers' : 'in the API process'}</dd>
        <dt>Queue</dt><dd data-testid="queue-depth">{q ? `${q.depth} of ${q.capacity} events waiting, lag ${formatDuration(q.lagMs / 1000)}` : st ? streamText(st) : 'unknown'}</dd>
        <dt>Throughput</dt><dd>{s.detection.eventsPerSecond} events/s · {s.detection.processed} processed · {s.detection.alertsWritten} alert writes</dd>
        <dt>Loaded</dt><dd>{s.detection.indicators} indicators · {s.detection.sigmaRules} Sigma rules</dd>
        <dt>Last backup</dt><dd data-testid="last-backup">{s.backup ? <>{formatTime(s.backup.at)} ({formatDuration(Math.max(0, Date.parse(s.generatedAt) - Date.parse(s.backup.at)) / 1000)} ago, {s.backup.counts.objectVersions} object versions){Date.parse(s.generatedAt) - Date.parse(s.backup.at) > BACKUP_OLD_MS ? <> <span className="pill warn">over a week old</span></> : null}</> : <>never <span className="pill warn">run shieldwall backup DIR on the node</span></>}</dd>
        <dt>Dead letters</dt><dd data-testid="dead-letter-count">{s.deadLetters.organisation} of your organisation ({s.deadLetters.total} on the node)</dd>
      </dl>
    </section>
  );
}

function Processes({ s }: { s: SystemStatus }) {
  return (
    <section className="card" aria-label="Processes">
      <h2>Processes</h2>
      <table className="data">
        <thead><tr><th>Role</th><th>Host</th><th>PID</th><th>State</th><th>Last heartbeat</th><th>Restarts</th><th>Batch</th><th>Memory</th><th>Last exit</th></tr></thead>
        <tbody>
          {s.processes.map((p) => (
            <tr key={`${p.role}-${p.host ?? ''}-${p.pid}`} data-testid="process-row">
              <td>{ROLE_NAMES[p.role]}{p.self ? ' (this one)' : ''}{p.leader === true ? ' · leader' : p.leader === false ? ' · standby' : ''}</td><td>{p.host ?? '-'}</td><td>{p.pid}</td>
              <td>up {Math.round(p.uptimeS / 60)} min{p.supervisor ? ` · ${p.supervisor.processes} workers · ${p.supervisor.deadLetters} quarantined` : ''}</td>
              <td>{p.lastSeenAt ? formatTime(p.lastSeenAt) : '-'}</td><td>{p.supervisor ? p.supervisor.restarts : '-'}</td><td>-</td><td>{mb(p.rssBytes)}</td><td>-</td>
            </tr>
          ))}
          {s.workers.map((w, i) => (
            <tr key={`w-${i}`} data-testid="worker-row">
              <td>detection worker</td><td>{w.host ?? '-'}</td><td>{w.pid ?? '-'}</td><td data-testid="worker-state">{w.state}{w.stale ? <> <span className="pill warn" data-testid="worker-stale" title="silent for over 10 s: the figures of this row are out of date">stale</span></> : null}</td>
              <td data-testid="worker-heartbeat">{formatTime(w.lastHeartbeatAt)}{w.heartbeatAgeMs != null ? ` (${formatDuration(w.heartbeatAgeMs / 1000)} ago)` : ''}</td>
              <td data-testid="worker-restarts">{w.restarts ?? '-'}</td>
              <td data-testid="worker-batch">{w.partitions ? `partitions ${w.partitions.join(', ') || 'none'} · ${w.waitingMessages ?? 0} chunks waiting` : w.batch ? `${w.batch.from}–${w.batch.to} (${w.batch.runningMs} ms)` : w.warmUp?.state === 'replaying' ? `warming up: ${w.warmUp.replayed} events replayed` : 'idle'}</td><td>{mb(w.rssBytes)}</td>
              <td className="small">{w.lastExit ? `${formatTime(w.lastExit.at)}: ${w.lastExit.reason}` : '-'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.deadLetters.flaggedRules.length > 0 && (
        <p data-testid="flagged-rules">Flagged rules (an event hung a worker while they ran): {s.deadLetters.flaggedRules.map((f) => `${f.ref} (${f.count})`).join(', ')}</p>
      )}
    </section>
  );
}

const INDEX_NAMES: Record<string, string> = { correlation: 'Correlation of observable values', indicators: 'Indicator feed of detection' };

/** The indexes that follow the store: how far behind, and a full rebuild of the correlation index. */
function Indexes({ s, onChange }: { s: SystemStatus; onChange: () => void }) {
  const { session } = useSession();
  const api = useSystem();
  const action = useAction();
  const [done, setDone] = useState<string | null>(null);
  const mayRebuild = mayDo(session, 'admin.settings');
  return (
    <section className="card" aria-label="Indexes">
      <h2>Indexes</h2>
      <ActionError error={action.error} />
      <table className="data">
        <thead><tr><th>Index</th><th>State</th><th>Read up to</th><th>Behind</th><th>Lag</th><th /></tr></thead>
        <tbody>
          {(s.indexes ?? []).map((i) => (
            <tr key={i.name} data-testid="index-row">
              <td>{INDEX_NAMES[i.name] ?? i.name}</td>
              <td data-testid={`index-state-${i.name}`}>{i.error ? `failing: ${i.error}` : i.ready ? 'caught up' : 'catching up'}</td>
              <td>{i.cursor ? formatTime(i.cursor) : 'nothing yet'}</td><td>{i.behind} object versions</td><td>{formatDuration(i.lagMs / 1000)}</td>
              <td>
                {i.name === 'correlation' && mayRebuild && (
                  <button type="button" disabled={action.busy} title="Empty the index and read every stored object again (brings back values an exclusion kept out)"
                    onClick={() => void action.run(async () => {
                      if (!window.confirm('Rebuild the correlation index from every stored object? Links are missing until it has caught up.')) return;
                      const r = await api.reindexCorrelation();
                      setDone(`Rebuilding: ${r.cleared.rows} rows and ${r.cleared.frequent} frequent marks cleared.`);
                      onChange();
                    })}>Rebuild</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {done && <p role="status" data-testid="reindex-status">{done}</p>}
    </section>
  );
}

function DeadLetters({ items, onChange }: { items: DeadLetter[]; onChange: () => void }) {
  const api = useSystem();
  const action = useAction();
  if (items.length === 0) return <section className="card" aria-label="Dead letters"><h2>Dead letters</h2><p className="muted">None: no event of your organisation hung a detection worker.</p></section>;
  return (
    <section className="card" aria-label="Dead letters">
      <h2>Dead letters</h2>
      <ActionError error={action.error} />
      <table className="data">
        <thead><tr><th>Seq</th><th>Sensor</th><th>Quarantined</th><th>Reason</th><th>Rule</th><th>Event</th><th /></tr></thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.seq} data-testid="dead-letter">
              <td>{d.seq}</td><td>{d.sensorId}</td><td>{formatTime(d.quarantinedAt)}</td><td className="small">{d.reason} (attempts: {d.attempts})</td>
              <td><code>{d.ruleRef ?? 'unknown'}</code></td>
              <td><details><summary>{d.format ?? 'event'}</summary><pre className="small">{d.event.slice(0, 4000)}</pre></details></td>
              <td>
                <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.retry(d.seq); onChange(); })}>Retry</button>{' '}
                <button type="button" disabled={action.busy} onClick={() => void action.run(async () => { await api.discard(d.seq); onChange(); })}>Discard</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function System() {
  const { session } = useSession();
  const api = useSystem();
  const [tick, setTick] = useState(0);
  const isAdmin = mayDo(session, 'admin.system');
  // Refreshed every 5 s: heartbeats and the queue move on their own.
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5_000);
    return () => clearInterval(t);
  }, []);
  const state = useAsync(async (signal) => (isAdmin ? { status: await api.status(signal), dead: (await api.deadLetters(signal)).items } : null), [api, tick, isAdmin]);
  // What the last refresh gave stays on screen while the next one loads: the cards (and what
  // their reader opened or was told in them) are not replaced by a loading state every 5 s.
  const [shown, setShown] = useState<{ status: SystemStatus; dead: DeadLetter[] } | null>(null);
  useEffect(() => {
    if (state.status === 'done') setShown(state.data);
  }, [state]);
  if (!isAdmin) return <><h1>System</h1><p>The system view is for administrators.</p></>;
  const refresh = () => setTick((n) => n + 1);
  return (
    <>
      <h1>System</h1>
      {mayDo(session, 'admin.audit') ? <p><a href={href.audit()} data-testid="audit-link">Audit log of your organisation</a></p> : null}
      {state.status === 'loading' && shown === null && <Loading what="the node's processes" />}
      {state.status === 'error' && <ErrorBox error={state.error} />}
      {shown && (
        <>
          <Overview s={shown.status} />
          <Processes s={shown.status} />
          <Indexes s={shown.status} onChange={refresh} />
          <DeadLetters items={shown.dead} onChange={refresh} />
        </>
      )}
    </>
  );
}
