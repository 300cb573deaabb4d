/**
 * The leak test extended to the respond domain: every TLP × recipient shape × organisation
 * for incidents (and their tasks, observables, timeline, STIX), assistance requests and
 * offers, decisions and assessments, through every read path of the REST API and the live
 * stream. Expected visibility comes from the one release policy (`mayRelease`): zero leaks,
 * and every permitted read succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayRelease } from '../src/access/index.js';
import { TLP_LEVELS, type Tlp } from '../src/core/index.js';
import type { BusEvent } from '../src/core/index.js';
import { respondWorld, inHours, type Org, type RespondWorld } from './respond-fixtures.js';

let w: RespondWorld;
const events: BusEvent[] = [];
beforeAll(async () => {
  w = await respondWorld();
  w.platform.bus.subscribe((e) => events.push(e));
});
afterAll(async () => w.close());

const READERS: Org[] = ['A', 'B', 'C', 'D'];
type Shape = 'none' | 'B' | 'B+C';
const SHAPES: Shape[] = ['none', 'B', 'B+C'];
const recipientsOf = (s: Shape, orgs: Record<Org, string>) => (s === 'none' ? [] : s === 'B' ? [orgs.B] : [orgs.B, orgs.C]);
const allowed = (tlp: Tlp | null, recipients: string[], reader: Org) =>
  mayRelease({ tlp, creatorOrg: w.orgs.A, recipients, originNode: null }, { hop: 'local', orgId: w.orgs[reader], groupIds: [] }, 'read');

describe('incidents', () => {
  const cases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape) => ({ tlp, shape })));
  it.each(cases)('TLP $tlp shared with $shape', async ({ tlp, shape }) => {
    const inc = (await w.call('A-resp', 'POST', '/incidents', { title: `leak ${tlp} ${shape}`, severity: 2, tlp })).json;
    const recipients = recipientsOf(shape, w.orgs);
    if (recipients.length) {
      const r = await w.call('A-resp', 'POST', `/incidents/${inc.id}/shares`, { shares: recipients.map((orgId) => ({ orgId, permission: 'read' })) });
      expect(r.status).toBe(200);
    }
    await w.call('A-resp', 'POST', `/incidents/${inc.id}/observables`, { type: 'ipv4-addr', value: `192.0.2.${cases.indexOf(cases.find((c) => c.tlp === tlp && c.shape === shape)!)}`, tlp });
    for (const reader of READERS) {
      const who = `${reader}-resp` as const;
      const ok = allowed(tlp, recipients, reader);
      const one = await w.call(who, 'GET', `/incidents/${inc.id}`);
      expect(one.status, `${reader} GET`).toBe(ok ? 200 : 404);
      const inList = (await w.call(who, 'GET', '/incidents')).json.items.some((i: { id: string }) => i.id === inc.id);
      expect(inList, `${reader} list`).toBe(ok);
      for (const sub of ['timeline', 'stix', 'similar']) {
        expect((await w.call(who, 'GET', `/incidents/${inc.id}/${sub}`)).status, `${reader} ${sub}`).toBe(ok ? 200 : 404);
      }
      if (ok) expect(one.json.tasks.length).toBeGreaterThan(0);
      // The live stream: a reader who may not see the incident received none of its events;
      // one who may received at least the events since it was shared (earlier ones were not yet theirs).
      const streamed = events.filter((e) => e.subject === inc.id).map((e) => mayRelease(e.facts, { hop: 'local', orgId: w.orgs[reader], groupIds: [] }, 'read'));
      expect(streamed.length).toBeGreaterThan(0);
      if (ok) expect(streamed.at(-1), `${reader} stream`).toBe(true);
      else expect(streamed.some(Boolean), `${reader} stream`).toBe(false);
    }
  });
});

describe('assistance requests and offers', () => {
  const cases = (['amber', 'amber+strict', 'red', 'green'] as const).map((tlp) => ({ tlp }));
  it.each(cases)('TLP $tlp routed to B and C', async ({ tlp }) => {
    const req = (await w.call('A-resp', 'POST', '/assistance', {
      title: `help ${tlp}`, services: ['malware-analysis'], urgency: 'priority', tlp, routedTo: [w.orgs.B, w.orgs.C], offerDeadline: inHours(w.clock, 5),
    })).json;
    expect(req.id).toBeTruthy();
    for (const reader of READERS) {
      const ok = allowed(tlp, [w.orgs.B, w.orgs.C], reader);
      expect((await w.call(`${reader}-resp`, 'GET', `/assistance/${req.id}`)).status, reader).toBe(ok ? 200 : 404);
      expect((await w.call(`${reader}-resp`, 'GET', '/assistance')).json.items.some((i: { id: string }) => i.id === req.id), reader).toBe(ok);
    }
    await w.call('B-resp', 'POST', `/assistance/${req.id}/offers`, { team: 'B team', services: ['malware-analysis'], capacity: '1', availableFrom: inHours(w.clock, 1), availableUntil: inHours(w.clock, 2) });
    // The offer is seen by the requester and the offering ally; C (also routed) does not see B's offer; D cannot offer.
    expect((await w.call('A-resp', 'GET', `/assistance/${req.id}`)).json.offers).toHaveLength(1);
    expect((await w.call('B-resp', 'GET', `/assistance/${req.id}`)).json.offers).toHaveLength(1);
    expect((await w.call('C-resp', 'GET', `/assistance/${req.id}`)).json.offers).toHaveLength(0);
    const d = await w.call('D-resp', 'POST', `/assistance/${req.id}/offers`, { team: 'D', services: ['malware-analysis'], capacity: '1', availableFrom: inHours(w.clock, 1), availableUntil: inHours(w.clock, 2) });
    expect([403, 404]).toContain(d.status);
  });
});

describe('decisions', () => {
  it('are seen by participants only, and only their representatives act', async () => {
    const d = (await w.call('A-rep', 'POST', '/decisions', {
      title: 'Leak test decision', text: 't', kind: 'other', procedure: 'consensus', participants: [w.orgs.B], deadline: inHours(w.clock, 2),
    })).json;
    for (const reader of READERS) {
      const ok = reader === 'A' || reader === 'B';
      expect((await w.call(`${reader}-rep`, 'GET', `/decisions/${d.id}`)).status, reader).toBe(ok ? 200 : 404);
      expect((await w.call(`${reader}-rep`, 'GET', '/decisions')).json.items.some((i: { id: string }) => i.id === d.id), reader).toBe(ok);
    }
    // A representative of a non-participating member cannot act; nothing changes.
    expect((await w.call('C-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'object', reason: 'x' })).status).toBe(404);
    expect((await w.call('B-analyst', 'POST', `/decisions/${d.id}/positions`, { position: 'object', reason: 'x' })).status).toBe(403);
    const after = (await w.call('A-rep', 'GET', `/decisions/${d.id}`)).json;
    expect(after).toMatchObject({ state: 'open', positions: [] });
  });
});

describe('assessments', () => {
  const cases = TLP_LEVELS.flatMap((tlp) => SHAPES.map((shape) => ({ tlp, shape })));
  it.each(cases)('TLP $tlp with recipients $shape', async ({ tlp, shape }) => {
    const recipients = recipientsOf(shape, w.orgs);
    const a = (await w.call('A-analyst', 'POST', '/assessments', { title: `leak ${tlp}`, tlp, recipients })).json;
    for (const reader of READERS) {
      const ok = allowed(tlp, recipients, reader);
      expect((await w.call(`${reader}-analyst`, 'GET', `/assessments/${a.id}`)).status, reader).toBe(ok ? 200 : 404);
      expect((await w.call(`${reader}-analyst`, 'GET', '/assessments')).json.items.some((i: { id: string }) => i.id === a.id), reader).toBe(ok);
    }
  });
});
