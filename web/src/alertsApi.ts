/**
 * Typed calls of the alert endpoints and the common operational picture, through the same
 * {@link request} as the rest of the dashboard.
 */
import { useMemo } from 'react';
import { request } from './api.js';
import { useSession } from './session.js';
import type { Alert, AlertDetail, AlertFilter, AlertPatch, Cop } from './alertTypes.js';

/** Comma-separated list for a multi-valued filter; an empty list means "no filter". */
function list(xs: readonly string[] | undefined): string | undefined {
  return xs && xs.length > 0 ? xs.join(',') : undefined;
}

export function alertsClient(token: string) {
  const one = (id: string) => `/alerts/${encodeURIComponent(id)}`;
  return {
    cop: (hours: number, signal?: AbortSignal) => request<Cop>('/cop', { token, signal, query: { hours } }),
    alerts: (f: AlertFilter, signal?: AbortSignal) => request<{ alerts: Alert[] }>('/alerts', {
      token, signal, query: { status: list(f.status), severity: list(f.severity), source: list(f.source), limit: f.limit },
    }),
    alert: (id: string, signal?: AbortSignal) => request<AlertDetail>(one(id), { token, signal }),
    patch: (id: string, body: AlertPatch) => request<Alert>(one(id), { token, method: 'PATCH', body: JSON.stringify(body) }),
    escalate: (id: string, body: { incidentId?: string; title?: string } = {}) =>
      request<{ alert: Alert; incidentId: string }>(`${one(id)}/escalate`, { token, method: 'POST', body: JSON.stringify(body) }),
  };
}
export type AlertsClient = ReturnType<typeof alertsClient>;

export function useAlerts(): AlertsClient {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useAlerts without a session');
  return useMemo(() => alertsClient(token), [token]);
}
