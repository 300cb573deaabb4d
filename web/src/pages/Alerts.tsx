/**
 * Alerts visible to the organisation (the server applies the release policy), filtered by
 * severity, status and source; the filter lives in the hash query so a view can be linked.
 * The list reloads on live alert events.
 */
import { useAlerts } from '../alertsApi.js';
import { useLiveData } from '../live.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Loading } from '../components/Status.js';
import { AlertFilters, AlertTable } from '../components/AlertParts.js';
import { filterFromParams, filterToParams } from '../components/alertView.js';
import type { AlertFilter } from '../alertTypes.js';

const LIMITS = [50, 100, 200, 500] as const;

export function Alerts({ params }: { params: URLSearchParams }) {
  const a = useAlerts();
  const filter = filterFromParams(params);
  const limit = LIMITS.find((l) => String(l) === params.get('limit')) ?? 100;
  const key = filterToParams(filter).toString();
  const [state] = useLiveData((signal) => a.alerts({ ...filter, limit }, signal), [a, key, limit], ['alert.']);

  const go = (f: AlertFilter, l: number) => {
    const p = filterToParams(f);
    if (l !== 100) p.set('limit', String(l));
    navigate(href.alerts(p));
  };
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <AlertFilters filter={filter} onChange={(f) => go(f, limit)} label="Filter alerts" />
      <div className="inline-form">
        <div><label htmlFor="alerts-limit">Show at most</label>
          <select id="alerts-limit" value={limit} onChange={(e) => go(filter, Number(e.target.value))}>
            {LIMITS.map((l) => <option key={l} value={l}>{l}</option>)}
          </select></div>
      </div>
      {state.status === 'loading' && <Loading what="alerts" />}
      {state.status === 'error' && <ErrorBox error={state.error} title="Could not load the alerts" />}
      {state.status === 'done' && (
        <AlertTable alerts={state.data.alerts} caption={`${state.data.alerts.length} alert${state.data.alerts.length === 1 ? '' : 's'}, newest first`}
          empty="No alert visible to your organisation matches these filters." />
      )}
    </section>
  );
}
