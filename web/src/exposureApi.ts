/** Typed calls of the readiness exposure endpoints (inventory, exposures, advisories; docs/readiness-exposure.md). */
import { useMemo } from 'react';
import { request, requestBlob } from './api.js';
import { useSession } from './session.js';

export interface Asset { id: string; orgId: string; name: string; vitalFunction: string | null; criticality: string; owner: string | null; products: string[]; tlp: string | null; recipients: string[] }
export interface Exposure {
  id: string; orgId: string; assetId: string; assetName: string; criticality: string; cve: string; product: string; confidence: string; via: string;
  kev: boolean; ransomware: boolean; epss: number | null; cvss: number | null; priority: number; dueDate: string; cisaDueDate: string | null; advisories: string[]; status: string; rev: number;
}
export interface Refused { ref: string; reason: string }
export interface Trend { own: { day: string; open: number; kevOpen: number; kevEntries: number }[]; alliance: { day: string; members: number; membersExposed: number; kevEntries: number }[] }
export interface Summary { own: { open: number; kev: number; overdue: number; byStatus: Record<string, number> }; alliance: { members: number; kev: { cve: string; name: string; members: number }[] } }
export interface Advisory { id: string; orgId: string; tlp: string | null; trackingId: string; title: string; category: string; publisher: string; version: string; currentReleaseDate: string; cves: string[]; products: number }
export interface VexOutcome { exposure: string; cve: string; status: string; action: string }

export function exposureClient(token: string) {
  const get = <T,>(path: string, signal?: AbortSignal, query?: Record<string, string | undefined>) => request<T>(path, { token, signal, ...(query ? { query } : {}) });
  const post = <T,>(path: string, body: unknown) => request<T>(path, { token, method: 'POST', body: JSON.stringify(body) });
  return {
    assets: (signal?: AbortSignal) => get<{ items: Asset[] }>('/readiness/assets', signal),
    importInventory: (content: string) => post<{ created: number; updated: number; refused: Refused[]; exposures: number }>('/readiness/inventory/import', { content }),
    exposures: (signal: AbortSignal, f: { status?: string; kev?: string }) => get<{ items: Exposure[] }>('/readiness/exposures', signal, f),
    summary: (signal?: AbortSignal) => get<Summary>('/readiness/exposures/summary', signal),
    trend: (signal?: AbortSignal, days = 90) => get<Trend>('/readiness/exposures/trend', signal, { days: String(days) }),
    setStatus: (id: string, status: string, note: string) => post<Exposure>(`/readiness/exposures/${encodeURIComponent(id)}/status`, { status, note }),
    advisories: (signal?: AbortSignal) => get<{ items: Advisory[] }>('/readiness/advisories', signal),
    importAdvisory: (csaf: unknown) => post<{ advisory: Advisory; outcomes: VexOutcome[] }>('/readiness/advisories/import', { csaf }),
    csaf: (id: string) => requestBlob(`/readiness/advisories/${encodeURIComponent(id)}/csaf`, { token }),
  };
}

export function useExposureApi() {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useExposureApi without a session');
  return useMemo(() => exposureClient(token), [token]);
}
