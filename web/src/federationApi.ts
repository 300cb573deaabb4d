/** Typed calls of /api/v1/federation (docs/federation.md): readers see status, admins manage. */
import { useMemo } from 'react';
import { request } from './api.js';
import { useSession } from './session.js';

export interface PeerView {
  name: string; url: string | null; apiRoot: string; identity: string;
  orgs: { id: string; shortName: string; name: string; relayed?: boolean }[]; hasToken: boolean; hasCa: boolean; publicKey: string; createdAt: string;
  /** Keys the peer signed with before its rotations, still verifying what they signed. */
  retiredKeys?: string[];
  /** Push of the incidents and assistance requests shared with organisations of this peer. */
  records?: { lastRunUs: number | null; lastSuccessUs: number | null; lastError: string | null; out: number; refused: number; lastRefusal: string | null; relayWaiting?: number };
}

export interface NewPeer {
  name: string; url?: string | null; publicKey: string; token?: string | null; ca?: string | null;
  orgs?: { id: string; shortName: string; name?: string; relayed?: boolean }[];
}

/** A change of a registered peer (PATCH): only the fields given change. */
export interface PeerChange {
  url?: string | null; apiRoot?: string; publicKey?: string; token?: string | null; ca?: string | null;
  orgs?: { id: string; shortName: string; name?: string; relayed?: boolean }[]; removeOrgs?: string[]; dropRetiredKeys?: boolean;
}

export interface NewSubscription {
  peer: string; direction: 'pull' | 'push'; remoteCollection: string; localCollection: string; intervalS?: number; sightingsOnly?: boolean; types?: string[]; since?: string;
}

export interface SubscriptionStatus {
  subscription: { id: string; peer: string; direction: 'pull' | 'push'; remoteCollection: string; localCollection: string; intervalS: number; sightingsOnly: boolean; types?: string[]; since?: string; enabled: boolean };
  state: { objectsIn: number; objectsOut: number; rejected: number; looped: number; failures: number; retracted?: number };
  rejects: number; lagS: number | null; lastSuccess: string | null; lastError: string | null; lastErrorAt: string | null; failing?: boolean; nextRun: string;
}

export interface RejectView { id: string | null; version: string | null; reason: string; at: string }

/** GET /taxii-feeds: a collection of a third-party TAXII 2.1 server pulled on a schedule (docs/federation.md "TAXII feeds"). */
export interface TaxiiFeedView {
  name: string; url: string; apiRoot: string; remoteCollection: string; localCollection: string; orgId: string; tlp: string | null;
  auth: 'none' | 'bearer' | 'basic'; hasCa: boolean; intervalS: number; createdUs: number;
  state: { lastRunUs: number | null; lastSuccessUs: number | null; lastError: string | null; more: boolean; added: number; duplicates: number; rejected: number };
}

export interface NewTaxiiFeed {
  name: string; url: string; apiRoot?: string; remoteCollection: string; localCollection: string; org: string; tlp?: string | null; intervalS?: number;
  auth?: { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };
}

export function federationClient(token: string) {
  const sub = (id: string) => `/federation/subscriptions/${encodeURIComponent(id)}`;
  return {
    node: (signal?: AbortSignal) => request<{ node: string; publicKey: string; url: string | null }>('/federation/node', { token, signal }),
    rotateKey: () => request<{ node: string; previousPublicKey: string; publicKey: string }>('/federation/node/rotate-key', { token, method: 'POST', body: JSON.stringify({ confirm: true }) }),
    rotateSecret: () => request<{ node: string; peers: number; feeds: number }>('/federation/node/rotate-secret', { token, method: 'POST', body: JSON.stringify({ confirm: true }) }),
    peers: (signal?: AbortSignal) => request<{ items: PeerView[] }>('/federation/peers', { token, signal }),
    subscriptions: (signal?: AbortSignal) => request<{ items: SubscriptionStatus[] }>('/federation/subscriptions', { token, signal }),
    rejects: (id: string) => request<{ items: RejectView[] }>(`${sub(id)}/rejects`, { token }),
    run: (id: string) => request<unknown>(`${sub(id)}/run`, { token, method: 'POST', body: '{}' }),
    reset: (id: string) => request<unknown>(`${sub(id)}/reset`, { token, method: 'POST', body: '{}' }),
    retry: (id: string) => request<unknown>(`${sub(id)}/retry`, { token, method: 'POST', body: '{}' }),
    clearRejects: (id: string) => request<{ cleared: number }>(`${sub(id)}/rejects`, { token, method: 'DELETE' }),
    addPeer: (p: NewPeer) => request<PeerView>('/federation/peers', { token, method: 'POST', body: JSON.stringify(p) }),
    updatePeer: (name: string, c: PeerChange) => request<PeerView>(`/federation/peers/${encodeURIComponent(name)}`, { token, method: 'PATCH', body: JSON.stringify(c) }),
    removePeer: (name: string) => request<unknown>(`/federation/peers/${encodeURIComponent(name)}`, { token, method: 'DELETE' }),
    pushRecords: (name: string) => request<unknown>(`/federation/peers/${encodeURIComponent(name)}/push-records`, { token, method: 'POST', body: '{}' }),
    addSubscription: (s: NewSubscription) => request<SubscriptionStatus>('/federation/subscriptions', { token, method: 'POST', body: JSON.stringify(s) }),
    removeSubscription: (id: string) => request<unknown>(sub(id), { token, method: 'DELETE' }),
    taxiiFeeds: (signal?: AbortSignal) => request<{ items: TaxiiFeedView[] }>('/taxii-feeds', { token, signal }),
    addTaxiiFeed: (f: NewTaxiiFeed) => request<TaxiiFeedView>('/taxii-feeds', { token, method: 'POST', body: JSON.stringify(f) }),
    pullTaxiiFeed: (name: string) => request<{ added: number; received: number; rejected: number }>(`/taxii-feeds/${encodeURIComponent(name)}/pull`, { token, method: 'POST', body: '{}' }),
    resetTaxiiFeed: (name: string) => request<unknown>(`/taxii-feeds/${encodeURIComponent(name)}/reset`, { token, method: 'POST', body: '{}' }),
    removeTaxiiFeed: (name: string) => request<unknown>(`/taxii-feeds/${encodeURIComponent(name)}`, { token, method: 'DELETE' }),
    taxiiFeedFailures: (name: string) => request<{ items: { id: string | null; reason: string; at: string }[] }>(`/taxii-feeds/${encodeURIComponent(name)}/failures`, { token }),
    collections: (signal?: AbortSignal) => request<{ items: { id: string; title: string; alias: string | null; canWrite: boolean }[] }>('/collections', { token, signal }),
  };
}

export function useFederation(): ReturnType<typeof federationClient> {
  const { session } = useSession();
  const token = session?.token;
  if (!token) throw new Error('useFederation without a session');
  return useMemo(() => federationClient(token), [token]);
}
