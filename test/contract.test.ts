/**
 * One source of truth for the API types (issue 11, item 15). The alert, picture and respond
 * endpoints are typed by src/contract, which the server's handlers and the web app import (the web
 * app's alertTypes.ts and respondTypes.ts re-export it, they hold no copy). What the respond
 * services return must be assignable to the contract type and carry exactly its property names,
 * recursively, so a field added, removed, renamed or retyped on the server breaks the typecheck
 * until the contract (and with it the web app) follows. These are type assertions: `npm run
 * typecheck` (tsconfig.json includes src, test and web/src) fails when the two sides diverge.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as contract from '../src/contract/index.js';
import type { Alert as ServerAlert } from '../src/detect/pipeline/alert-types.js';
import type { AlertService } from '../src/detect/pipeline/alert-service.js';
import type { IncidentView, Respond, TimelineEntry } from '../src/respond/index.js';
import type { Tlp } from '../src/core/policy.js';
import * as webAlerts from '../web/src/alertTypes.js';
import type * as Web from '../web/src/respondTypes.js';

/** Whether every value of A is a B (plain assignability, as at a `const b: B = a`). */
type Fits<A, B> = [A] extends [B] ? true : false;
/** The property names of a type, recursively through objects, arrays and nullable members (value types become 'leaf'). */
type Shape<T> = T extends readonly (infer E)[] ? Shape<E>[] : T extends object ? { [K in keyof T]-?: Shape<NonNullable<T[K]>> } : 'leaf';
type Returned<F extends (...a: never[]) => unknown> = Awaited<ReturnType<F>>;

describe('the wire contract', () => {
  it('the web app uses the contract\'s constant lists themselves, not copies', () => {
    expect(webAlerts.ALERT_STATUSES).toBe(contract.ALERT_STATUSES);
    expect(webAlerts.ALERT_SOURCES).toBe(contract.ALERT_SOURCES);
    expect([...webAlerts.ALERT_SEVERITIES].reverse()).toEqual([...contract.ALERT_SEVERITIES]);
  });

  it('the served alert and picture are exactly the contract types', () => {
    expectTypeOf<ServerAlert>().toEqualTypeOf<contract.AlertWire>();
    expectTypeOf<Awaited<ReturnType<AlertService['cop']>>>().toEqualTypeOf<contract.Cop>();
    expectTypeOf<Awaited<ReturnType<AlertService['get']>>>().toEqualTypeOf<contract.AlertDetailWire>();
    expectTypeOf<webAlerts.Alert>().toEqualTypeOf<contract.AlertWire>();
    expectTypeOf<webAlerts.Cop>().toEqualTypeOf<contract.Cop>();
  });

  it('what the respond services return is the contract: assignable, with exactly its property names', () => {
    expectTypeOf<Fits<IncidentView, Web.Incident>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<IncidentView>>().toEqualTypeOf<Shape<contract.Incident>>();
    expectTypeOf<Fits<TimelineEntry, Web.TimelineEntry>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<TimelineEntry>>().toEqualTypeOf<Shape<contract.TimelineEntry>>();
    expectTypeOf<Fits<Returned<Respond['assistance']['get']>, Web.AssistanceRequest>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<Returned<Respond['assistance']['get']>>>().toEqualTypeOf<Shape<contract.AssistanceRequest>>();
    expectTypeOf<Fits<Returned<Respond['decisions']['get']>, Web.Decision>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<Returned<Respond['decisions']['get']>>>().toEqualTypeOf<Shape<contract.Decision>>();
    expectTypeOf<Fits<Returned<Respond['attribution']['get']>, Web.Assessment>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<Returned<Respond['attribution']['get']>>>().toEqualTypeOf<Shape<contract.Assessment>>();
    expectTypeOf<Returned<Respond['levels']['board']>>().toEqualTypeOf<contract.AlertBoard>();
    expectTypeOf<Fits<Returned<Respond['incidents']['similar']>, Web.SimilarIncident[]>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<Returned<Respond['incidents']['similar']>>>().toEqualTypeOf<Shape<contract.SimilarIncident[]>>();
    expectTypeOf<Fits<Returned<Respond['incidents']['metrics']>, Web.OrgMetrics[]>>().toEqualTypeOf<true>();
    expectTypeOf<Shape<Returned<Respond['incidents']['metrics']>>>().toEqualTypeOf<Shape<contract.OrgMetrics[]>>();
    expectTypeOf<contract.WireTlp>().toEqualTypeOf<Tlp>();
  });

  it('the web app\'s wire-type modules re-export the contract and declare no copy of their own', () => {
    for (const file of ['web/src/respondTypes.ts', 'web/src/alertTypes.ts']) {
      const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
      expect(text, file).toMatch(/from '\.\.\/\.\.\/src\/contract\//);
      // A type of the web app's own (a query it builds, not an answer it reads) says so on the line above.
      const lines = text.split('\n');
      const own = lines.flatMap((l, i) => (/^export (interface|type \w+ = \{)/.test(l) && !/client-only/.test(lines[i - 1] ?? '') ? [l] : []));
      expect(own, file).toEqual([]);
    }
  });
});
