/**
 * The leak test extended to the respond domain: every TLP × recipient shape × organisation
 * for incidents (and their tasks, observables, timeline, STIX), assistance requests and
 * offers, decisions and assessments, through every read path of the REST API and the live
 * stream. Expected visibility comes from the one release policy (`mayRelease`): zero leaks,
 * and every permitted read succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFor, mayRelease } from '../src/access/index.js';
import { TLP_LEVELS, type Tlp } from '../src/core/index.js';
import type { BusEvent } from '../src/core/index.js';
import { respondWorld, inHours, type Org, type RespondWorld, type Who } from './respond-fixtures.js';

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

describe('attribution statements', () => {
  it('name their assessment only to participants who may read it', async () => {
    const propose = async (assessmentId: string) => (await w.call('A-rep', 'POST', '/decisions', {
      title: 'Attribution', text: 't', kind: 'attribution-statement', procedure: 'consensus', participants: [w.orgs.B, w.orgs.C], deadline: inHours(w.clock, 2), assessmentId,
    })).json as { id: string };
    const forB = (await w.call('A-analyst', 'POST', '/assessments', { title: 'for B', tlp: 'amber', recipients: [w.orgs.B] })).json as { id: string };
    const d = await propose(forB.id);
    const seen = async (who: Who) => ((await w.call(who, 'GET', `/decisions/${d.id}`)).json as { assessmentId: string | null }).assessmentId;
    const listed = async (who: Who) => ((await w.call(who, 'GET', '/decisions')).json.items as { id: string; assessmentId: string | null }[]).find((i) => i.id === d.id)?.assessmentId;
    for (const [who, want] of [['A-rep', forB.id], ['B-rep', forB.id], ['C-rep', null]] as const) {
      expect(await seen(who), who).toBe(want);
      expect(await listed(who), who).toBe(want);
    }
    expect((await w.call('C-analyst', 'GET', `/assessments/${forB.id}`)).status).toBe(404);
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

describe('ownership transfer', () => {
  // Policy (docs/respond.md): a transfer moves the incident, not other organisations' RED
  // sub-records. B's RED observable without recipients stays B's (and the owner's at the time
  // it was added); the new owner C does not gain it, on any path.
  it('does not hand a contributor\'s RED observable to the new owner', async () => {
    const inc = (await w.call('A-resp', 'POST', '/incidents', { title: 'transfer leak', severity: 2, tlp: 'amber' })).json;
    await w.call('A-resp', 'POST', `/incidents/${inc.id}/shares`, { shares: [{ orgId: w.orgs.B, permission: 'contribute' }, { orgId: w.orgs.C, permission: 'contribute' }] });
    const added = await w.call('B-resp', 'POST', `/incidents/${inc.id}/observables`, { type: 'ipv4-addr', value: '198.51.100.77', tlp: 'red' });
    expect(added.status).toBe(200);
    const seen = async (who: Who) => JSON.stringify((await w.call(who, 'GET', `/incidents/${inc.id}`)).json) + JSON.stringify((await w.call(who, 'GET', `/incidents/${inc.id}/timeline`)).json);
    expect(await seen('A-resp')).toContain('198.51.100.77');
    expect(await seen('C-resp')).not.toContain('198.51.100.77');
    expect((await w.call('A-resp', 'POST', `/incidents/${inc.id}/transfer`, { orgId: w.orgs.C })).status).toBe(200);
    for (const who of ['C-resp', 'D-resp'] as const) expect(await seen(who), who).not.toContain('198.51.100.77');
    expect(await seen('B-resp')).toContain('198.51.100.77');
    expect(await seen('A-resp'), 'the former owner keeps what was released to it').toContain('198.51.100.77');
    // C, now owner, transfers on to D: still neither C nor D.
    expect((await w.call('C-resp', 'POST', `/incidents/${inc.id}/transfer`, { orgId: w.orgs.D })).status).toBe(200);
    for (const who of ['C-resp', 'D-resp'] as const) expect(await seen(who), who).not.toContain('198.51.100.77');
    const obsEvent = events.find((e) => e.subject === inc.id && e.type === 'incident.observable.added')!;
    expect(eventFor(obsEvent, audienceOf('C'))).toBeNull();
    expect(eventFor(obsEvent, audienceOf('D'))).toBeNull();
    expect(eventFor(obsEvent, audienceOf('B'))).not.toBeNull();
  });
});

describe('live stream events carry only what the reader reads through REST', () => {
  it('assistance: offers reach requester and offerer only; the accepted offer id stays theirs', async () => {
    const req = (await w.call('A-resp', 'POST', '/assistance', {
      title: 'stream help', services: ['malware-analysis'], urgency: 'priority', tlp: 'amber', routedTo: [w.orgs.B, w.orgs.C], offerDeadline: inHours(w.clock, 5),
    })).json;
    const offered = (await w.call('B-resp', 'POST', `/assistance/${req.id}/offers`, { team: 'Blue Cell Bravo', services: ['malware-analysis'], capacity: '1', availableFrom: inHours(w.clock, 1), availableUntil: inHours(w.clock, 2) })).json;
    const offerId = offered.offers[0].id as string;
    expect((await w.call('A-resp', 'POST', `/offers/${offerId}/accept`, {})).status).toBe(200);
    const mine = events.filter((e) => e.subject === req.id || e.subject === offerId);
    const leaked = (org: Org) => mine.map((e) => JSON.stringify(eventFor(e, audienceOf(org)) ?? {})).join('');
    expect(leaked('C')).not.toContain('Blue Cell Bravo');
    expect(leaked('C')).not.toContain(offerId);
    expect(leaked('A')).toContain('Blue Cell Bravo');
    expect(leaked('A')).toContain(offerId);
    expect(mine.some((e) => e.type === 'assistance.in-progress' && eventFor(e, audienceOf('C')) !== null), 'C still learns the request is in progress').toBe(true);
  });

  it('for every event so far and every organisation: delivered ⇒ the subject and every string in the event are in that organisation\'s REST read', async () => {
    const restRead = new Map<string, string>();
    const read = async (org: Org, subject: string): Promise<string | null> => {
      const key = `${org} ${subject}`;
      if (restRead.has(key)) return restRead.get(key)!;
      const row = await w.platform.store.getRecord(subject);
      let text: string | null = null;
      const get = async (who: Who, url: string) => {
        const r = await w.call(who, 'GET', url);
        return r.status === 200 ? JSON.stringify(r.json) : null;
      };
      if (row?.kind === 'incident') {
        const one = await get(`${org}-resp`, `/incidents/${subject}`);
        text = one === null ? null : one + ((await get(`${org}-resp`, `/incidents/${subject}/timeline`)) ?? '');
      } else if (row?.kind === 'assistance-request') text = await get(`${org}-resp`, `/assistance/${subject}`);
      else if (row?.kind === 'assistance-offer') text = await get(`${org}-resp`, `/assistance/${row.parentId}`);
      else if (row?.kind === 'decision') text = await get(`${org}-rep`, `/decisions/${subject}`);
      else if (row?.kind === 'assessment') text = await get(`${org}-analyst`, `/assessments/${subject}`);
      else text = 'unchecked';
      restRead.set(key, text ?? '');
      return text;
    };
    const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
    const leaks: string[] = [];
    let checked = 0;
    for (const e of events) {
      for (const org of READERS) {
        const data = eventFor(e, audienceOf(org));
        if (data === null) continue;
        const rest = await read(org, e.subject);
        if (rest === 'unchecked') continue;
        checked++;
        if (!rest) {
          leaks.push(`${org} got ${e.type} on ${e.subject} it cannot read`);
          continue;
        }
        if (!rest.includes(e.subject)) leaks.push(`${org} got ${e.type}: subject ${e.subject} not in its REST read`);
        // The state an event announces may since have moved on ('from' values); every other string must be readable now.
        for (const s of strings(data)) if (s.length > 2 && !rest.includes(JSON.stringify(s).slice(1, -1)) && !HISTORY.has(s)) leaks.push(`${org} got ${e.type}: "${s}" not in its REST read`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(leaks).toEqual([]);
  });
});

const audienceOf = (org: Org) => ({ hop: 'local' as const, orgId: w.orgs[org], groupIds: [] });
/** States an event announces that a later REST read shows moved on (phases, task and request states). */
const HISTORY = new Set(['open', 'proposed', 'detection-analysis', 'draft', 'new', 'suspected']);
