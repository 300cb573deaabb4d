/**
 * docs/rest-api.md lists, per route group, the permission (action) each route needs. Every route
 * the page lists must exist in ROUTE_ACTIONS with exactly that action, and every REST route of the
 * core modules must be listed (routes added by other modules are documented on their own pages).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACTIONS } from '../src/api/route-permissions.js';

const DOC = readFileSync(new URL('../docs/rest-api.md', import.meta.url), 'utf8');
const block = /<!-- route-actions:begin -->\n([\s\S]*?)\n<!-- route-actions:end -->/.exec(DOC)?.[1] ?? '';

/** `METHOD path` (REST paths written without /api/v1) → action, from the table's rows. */
function documented(): Map<string, string> {
  const m = new Map<string, string>();
  for (const row of block.split('\n').slice(2)) {
    const action = /^\| `([^`]+)` \|/.exec(row)?.[1];
    if (!action) continue;
    const routes = row.split(' | ').at(-1) ?? '';
    for (const r of routes.matchAll(/`([A-Z]+) ([^`]+)`/g)) {
      const [, method, path] = r;
      const full = path!.startsWith('/taxii2/') || path!.startsWith('/{root}') || path === '/api/docs' ? path! : `/api/v1${path!}`;
      m.set(`${method} ${full}`, action);
    }
  }
  return m;
}

describe('docs/rest-api.md route permissions', () => {
  it('has a table', () => {
    expect(documented().size).toBeGreaterThan(90);
  });

  it('names, for every listed route, the action the code enforces', () => {
    const wrong = [...documented()].filter(([k, a]) => ROUTE_ACTIONS[k] !== a).map(([k, a]) => `${k}: doc ${a}, code ${ROUTE_ACTIONS[k] ?? 'no such route'}`);
    expect(wrong).toEqual([]);
  });

  it('lists every route of the core route groups', () => {
    const core = /^(GET|POST|PATCH|DELETE) (\/taxii2\/|\/\{root\}\/|\/api\/docs|\/api\/v1\/(auth|me|openapi|organisations|sharing-groups|collections|intel|objects|correlation|warninglists|audit|ingest|alerts|cop|detect|sigma|stream|system|respond|incidents|assistance|offers|decisions|assessments|alert-levels)\b)/;
    const listed = documented();
    expect(Object.keys(ROUTE_ACTIONS).filter((k) => core.test(k) && !listed.has(k))).toEqual([]);
  });
});
