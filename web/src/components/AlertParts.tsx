/**
 * Building blocks of the alert screens: severity and status badges, the alert table (live feed
 * and list), and the filter checkboxes kept in the page's hash query.
 */
import { useState } from 'react';
import { href } from '../router.js';
import { formatTime } from './Status.js';
import { ALERT_SEVERITIES, ALERT_SOURCES, ALERT_STATUSES } from '../alertTypes.js';
import type { Alert, AlertFilter, AlertSeverity, AlertStatus } from '../alertTypes.js';

export function AlertSeverityBadge({ severity }: { severity: AlertSeverity }) {
  return <span className={`alert-sev alert-sev-${severity}`} data-testid="alert-severity" data-severity={severity}>{severity}</span>;
}

export function AlertStatusBadge({ status }: { status: AlertStatus }) {
  return <span className={`state alert-status-${status}`} data-testid="alert-status" data-status={status}>{status.replace('-', ' ')}</span>;
}

export function AlertTable({ alerts, caption, empty, testId = 'alert-table', orgLabel }: {
  alerts: readonly Alert[]; caption: string; empty: string; testId?: string;
  /** How to name the alert's organisation (default: the name the server gives). */
  orgLabel?: (a: Alert) => string;
}) {
  if (alerts.length === 0) return <p className="muted" data-testid={`${testId}-empty`}>{empty}</p>;
  return (
    <table className="data alerts" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr><th scope="col">Last seen</th><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col">Organisation</th>
          <th scope="col">Source</th><th scope="col">Entity</th><th scope="col">Count</th><th scope="col">Status</th></tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr key={a.id} data-testid="alert-row" data-id={a.id} data-status={a.status} data-severity={a.severity} data-source={a.source}>
            <td className="nowrap">{formatTime(a.lastSeen)}</td>
            <td><AlertSeverityBadge severity={a.severity} /></td>
            <th scope="row"><a href={href.alert(a.id)}>{a.title}</a>
              {a.techniques.length > 0 && <div className="small muted">{a.techniques.join(', ')}</div>}</th>
            <td>{orgLabel ? orgLabel(a) : a.orgName ?? a.orgId}</td>
            <td>{a.source}</td>
            <td className="entity"><code>{a.entity}</code></td>
            <td>{a.count}</td>
            <td><AlertStatusBadge status={a.status} />{a.assignee && <div className="small muted">{a.assignee}</div>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CheckGroup<T extends string>({ legend, name, values, chosen, onChange }: {
  legend: string; name: string; values: readonly T[]; chosen: readonly T[] | undefined; onChange: (next: T[]) => void;
}) {
  const set = new Set(chosen ?? []);
  return (
    <fieldset className="checks-fieldset">
      <legend>{legend}</legend>
      <div className="checks">
        {values.map((v) => (
          <label key={v} className="check">
            <input type="checkbox" name={name} value={v} checked={set.has(v)}
              onChange={(e) => onChange(values.filter((x) => (x === v ? e.target.checked : set.has(x))))} />
            {v.replace('-', ' ')}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * Severity, status and source checkboxes; none ticked in a group means "any". The filter lives
 * in the URL (the page navigates on a change, and the hash change comes back a moment later):
 * a box shows its new state at once instead of springing back until then.
 */
export function AlertFilters({ filter: given, onChange: change, label }: { filter: AlertFilter; onChange: (f: AlertFilter) => void; label: string }) {
  const givenKey = JSON.stringify(given);
  const [chosen, setChosen] = useState<{ givenKey: string; filter: AlertFilter } | null>(null);
  const filter = chosen !== null && chosen.givenKey === givenKey ? chosen.filter : given;
  const onChange = (f: AlertFilter) => {
    setChosen({ givenKey, filter: f });
    change(f);
  };
  return (
    <div className="alert-filters" role="group" aria-label={label} data-testid="alert-filters">
      <CheckGroup legend="Severity" name="severity" values={ALERT_SEVERITIES} chosen={filter.severity}
        onChange={(severity) => onChange({ ...filter, severity })} />
      <CheckGroup legend="Status" name="status" values={ALERT_STATUSES} chosen={filter.status}
        onChange={(status) => onChange({ ...filter, status })} />
      <CheckGroup legend="Source" name="source" values={ALERT_SOURCES} chosen={filter.source}
        onChange={(source) => onChange({ ...filter, source })} />
    </div>
  );
}
