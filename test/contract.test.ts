/**
 * One source of truth for the API types (issue 11, item 15). The alert and picture endpoints are
 * typed by src/contract, which the server's handlers and the web app import; for the respond
 * endpoints, whose web types are still written out in web/src/respondTypes.ts, what the server
 * returns must be assignable to what the web app reads. These are type assertions: `npm run
 * typecheck` (tsconfig.json includes src, test and web/src) fails when the two sides diverge.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as contract from '../src/contract/index.js';
import type { Alert as ServerAlert } from '../src/detect/pipeline/alert-types.js';
import type { AlertService } from '../src/detect/pipeline/alert-service.js';
import type { IncidentView, Respond, TimelineEntry } from '../src/respond/index.js';
import * as webAlerts from '../web/src/alertTypes.js';
import type * as Web from '../web/src/respondTypes.js';

/** Whether every value of A is a B (plain assignability, as at a `const b: B = a`). */
type Fits<A, B> = [A] extends [B] ? true : false;

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

  it('what the respond services return satisfies the web app\'s types', () => {
    expectTypeOf<Fits<IncidentView, Web.Incident>>().toEqualTypeOf<true>();
    expectTypeOf<Fits<TimelineEntry, Web.TimelineEntry>>().toEqualTypeOf<true>();
    expectTypeOf<Fits<Awaited<ReturnType<Respond['assistance']['get']>>, Web.AssistanceRequest>>().toEqualTypeOf<true>();
    expectTypeOf<Fits<Awaited<ReturnType<Respond['decisions']['get']>>, Web.Decision>>().toEqualTypeOf<true>();
    expectTypeOf<Fits<Awaited<ReturnType<Respond['attribution']['get']>>, Web.Assessment>>().toEqualTypeOf<true>();
  });
});
