/**
 * A small hash router: the location after `#` is `/path?query`. Hash routes need no server
 * support, survive reloads and keep the bundle free of a routing library.
 */
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'overview' }
  | { name: 'explorer'; params: URLSearchParams }
  | { name: 'detail'; id: string }
  | { name: 'import' }
  | { name: 'incidents' }
  | { name: 'incident'; id: string }
  | { name: 'assistance' }
  | { name: 'decisions' }
  | { name: 'decision'; id: string }
  | { name: 'attribution' }
  | { name: 'assessment'; id: string }
  | { name: 'alert-levels' }
  | { name: 'cop'; params: URLSearchParams }
  | { name: 'alerts'; params: URLSearchParams }
  | { name: 'alert'; id: string }
  | { name: 'system' }
  | { name: 'audit' }
  | { name: 'account' }
  | { name: 'federation' }
  | { name: 'exercises' }
  | { name: 'exercise'; id: string }
  | { name: 'exercise-report'; id: string }
  | { name: 'readiness'; params: URLSearchParams }
  | { name: 'inventory' }
  | { name: 'exposures' }
  | { name: 'advisories' }
  | { name: 'not-found'; path: string };

/** List pages of the respond domain and the detail route under each (`/<list>/<id>`). */
const RESPOND_PAGES = [
  { path: '/incidents', list: 'incidents', detail: 'incident' },
  { path: '/decisions', list: 'decisions', detail: 'decision' },
  { path: '/attribution', list: 'attribution', detail: 'assessment' },
] as const;

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

const currentHash = () => window.location.hash;

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  // The first screen after sign-in is the operational picture; the alliance page has its own path.
  if (path === '/' || path === '') return { name: 'cop', params };
  if (path === '/alliance') return { name: 'overview' };
  if (path === '/intel') return { name: 'explorer', params };
  if (path.startsWith('/intel/')) return { name: 'detail', id: decodeURIComponent(path.slice('/intel/'.length)) };
  if (path === '/import') return { name: 'import' };
  if (path === '/assistance') return { name: 'assistance' };
  if (path === '/alert-levels') return { name: 'alert-levels' };
  if (path === '/system') return { name: 'system' };
  if (path === '/system/audit') return { name: 'audit' };
  if (path === '/account') return { name: 'account' };
  if (path === '/readiness/inventory') return { name: 'inventory' };
  if (path === '/readiness/exposures') return { name: 'exposures' };
  if (path === '/readiness/advisories') return { name: 'advisories' };
  if (path === '/federation') return { name: 'federation' };
  if (path === '/readiness') return { name: 'readiness', params };
  if (path === '/cop') return { name: 'cop', params };
  if (path === '/alerts') return { name: 'alerts', params };
  if (path.startsWith('/alerts/')) return { name: 'alert', id: decodeURIComponent(path.slice('/alerts/'.length)) };
  if (path === '/exercises') return { name: 'exercises' };
  if (path.startsWith('/exercises/')) {
    const rest = path.slice('/exercises/'.length);
    if (rest.endsWith('/report')) return { name: 'exercise-report', id: decodeURIComponent(rest.slice(0, -'/report'.length)) };
    return { name: 'exercise', id: decodeURIComponent(rest) };
  }
  for (const p of RESPOND_PAGES) {
    if (path === p.path) return { name: p.list };
    if (path.startsWith(`${p.path}/`)) return { name: p.detail, id: decodeURIComponent(path.slice(p.path.length + 1)) };
  }
  return { name: 'not-found', path };
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, currentHash, () => '');
  return parseRoute(hash);
}

export const href = {
  overview: () => '#/alliance',
  explorer: (params?: URLSearchParams) => {
    const s = params?.toString();
    return s ? `#/intel?${s}` : '#/intel';
  },
  detail: (id: string) => `#/intel/${encodeURIComponent(id)}`,
  import: () => '#/import',
  incidents: () => '#/incidents',
  incident: (id: string) => `#/incidents/${encodeURIComponent(id)}`,
  assistance: () => '#/assistance',
  decisions: () => '#/decisions',
  decision: (id: string) => `#/decisions/${encodeURIComponent(id)}`,
  attribution: () => '#/attribution',
  assessment: (id: string) => `#/attribution/${encodeURIComponent(id)}`,
  alertLevels: () => '#/alert-levels',
  cop: (params?: URLSearchParams) => {
    const s = params?.toString();
    return s ? `#/cop?${s}` : '#/cop';
  },
  alerts: (params?: URLSearchParams) => {
    const s = params?.toString();
    return s ? `#/alerts?${s}` : '#/alerts';
  },
  alert: (id: string) => `#/alerts/${encodeURIComponent(id)}`,
  system: () => '#/system',
  audit: () => '#/system/audit',
  account: () => '#/account',
  federation: () => '#/federation',
  exercises: () => '#/exercises',
  exercise: (id: string) => `#/exercises/${encodeURIComponent(id)}`,
  exerciseReport: (id: string) => `#/exercises/${encodeURIComponent(id)}/report`,
  readiness: (tab?: string) => (tab ? `#/readiness?tab=${encodeURIComponent(tab)}` : '#/readiness'),
  inventory: () => '#/readiness/inventory',
  exposures: () => '#/readiness/exposures',
  advisories: () => '#/readiness/advisories',
};

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}
