/**
 * Edges of the respond API an alliance operator hits: timestamps REST accepts (a leap second,
 * fractions of any length) reach the domain as instants it can compare and answer with, never a
 * 500; an alert-level effect belongs to an alert-level decision only; an attribution assessment
 * names an incident its author may read, of its own world (real or the same exercise).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionService, IncidentService, type AuthedActor } from '../src/respond/index.js';
import { respondWorld, inHours, type RespondWorld } from './respond-fixtures.js';
import type { Store } from '../src/store/index.js';

let w: RespondWorld;
beforeAll(async () => {
  w = await respondWorld();
});
afterAll(async () => w.close());

/** A leap second one day ahead (not 23:59:60, which the parser refuses), and the instant it names. */
function leapSecond(): { text: string; instant: string } {
  const d = new Date(w.clock.now() + 24 * 3600_000);
  d.setUTCHours(12, 0, 0, 0);
  const text = `${d.toISOString().slice(0, 11)}11:59:60Z`;
  return { text, instant: d.toISOString() };
}


/**
 * The store of a second API process on the same database, whose `method` runs `meanwhile` (a
 * write through the first process) once, right after its first read of an id that `when` picks:
 * two processes interleaved at that point, made certain.
 */
function afterFirstRead<K extends 'getRecord' | 'listRecordEvents'>(store: Store, method: K, when: (id: string) => boolean, meanwhile: () => Promise<unknown>): Store {
  let armed = true;
  return new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (key !== method) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      return async (id: string) => {
        const read = await (target[method] as (id: string) => Promise<unknown>).call(target, id);
        if (armed && when(id)) {
          armed = false;
          await meanwhile();
        }
        return read;
      };
    },
  });
}
describe('timestamps with a leap second', () => {
  it('a decision deadline and its re-issue: 201 with the instant it names, never a 500', async () => {
    const leap = leapSecond();
    const d = await w.call('A-rep', 'POST', '/decisions', {
      title: 'Leap', text: 'x', kind: 'collective-response', procedure: 'silence', participants: [w.orgs.B], deadline: leap.text,
    });
    expect(d.status, JSON.stringify(d.json)).toBe(201);
    expect(d.json.deadline).toBe(leap.instant);
    await w.call('B-rep', 'POST', `/decisions/${d.json.id}/positions`, { position: 'break-silence', reason: 'para 2' });
    const re = await w.call('A-rep', 'POST', `/decisions/${d.json.id}/reissue`, { text: 'amended', deadline: leap.text });
    expect(re.status, JSON.stringify(re.json)).toBe(200);
    expect(re.json).toMatchObject({ state: 'open', revision: 2, deadline: leap.instant });
  });

  it('an assistance request and an offer: 201, the window compared as instants', async () => {
    const leap = leapSecond();
    const r = await w.call('A-resp', 'POST', '/assistance', {
      title: 'Leap', services: ['malware-analysis'], urgency: 'routine', routedTo: [w.orgs.B], offerDeadline: leap.text,
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json.offerDeadline).toBe(leap.instant);
    const o = await w.call('B-resp', 'POST', `/assistance/${r.json.id}/offers`, {
      team: 'B lab', services: ['malware-analysis'], capacity: '1', availableFrom: inHours(w.clock, 1), availableUntil: leap.text,
    });
    expect(o.status, JSON.stringify(o.json)).toBe(201);
  });
});

describe('incident stage times', () => {
  it('compares occurredAt and detectedAt as instants, whatever their fraction digits', async () => {
    const base = inHours(w.clock, -2).slice(0, 19); // YYYY-MM-DDTHH:MM:SS
    // Occurred half a second before it was detected, written with and without a fraction.
    const ok = await w.call('A-resp', 'POST', '/incidents', { title: 'fractions', severity: 1, occurredAt: `${base}Z`, detectedAt: `${base}.5Z` });
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    const same = await w.call('A-resp', 'POST', '/incidents', { title: 'same instant', severity: 1, occurredAt: `${base}.3Z`, detectedAt: `${base}.30Z` });
    expect(same.status, JSON.stringify(same.json)).toBe(201);
    // Occurred after it was detected: still refused.
    const late = await w.call('A-resp', 'POST', '/incidents', { title: 'late', severity: 1, occurredAt: `${base}.5Z`, detectedAt: `${base}Z` });
    expect(late.status).toBe(400);
    expect(late.json.error.code).toBe('BAD_REQUEST');
  });
});

describe('alert-level effects', () => {
  it('only an alert-level decision carries one: a collective-response with an effect is a 400 and the alliance level does not move', async () => {
    const before = (await w.call('D-analyst', 'GET', '/alert-levels')).json.alliance;
    for (const kind of ['collective-response', 'other', 'article-4-consultation']) {
      const d = await w.call('A-rep', 'POST', '/decisions', {
        title: 'Block the wiper', text: 'x', kind, procedure: 'consensus', participants: [w.orgs.B],
        deadline: inHours(w.clock, 1), effect: { type: 'alert-level', scope: 'alliance', level: 5 },
      });
      expect(d.status, JSON.stringify(d.json)).toBe(400);
      expect(d.json.error.code).toBe('BAD_REQUEST');
    }
    expect((await w.call('D-analyst', 'GET', '/alert-levels')).json.alliance).toEqual(before);
    expect((await w.call('A-rep', 'GET', '/decisions')).json.items.filter((d: { title: string }) => d.title === 'Block the wiper')).toEqual([]);
  });
});

describe('attribution assessments', () => {
  it('name an incident the author may read: an unknown, unreadable or malformed incident is a 400', async () => {
    const own = (await w.call('A-resp', 'POST', '/incidents', { title: 'A incident', severity: 2 })).json.id as string;
    const dOnly = (await w.call('D-resp', 'POST', '/incidents', { title: 'D private incident', severity: 2 })).json.id as string;
    expect((await w.call('A-analyst', 'POST', '/assessments', { title: 'ok', incidentId: own })).status).toBe(201);
    for (const incidentId of [dOnly, 'incident--00000000-0000-4000-8000-000000000000', 'not-an-incident', own.replace('incident--', 'decision--')]) {
      const r = await w.call('A-analyst', 'POST', '/assessments', { title: 'dangling', incidentId });
      expect(r.status, `${incidentId}: ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'BAD_REQUEST' });
      // The refusal does not tell whether D's incident exists.
      expect(JSON.stringify(r.json)).not.toContain('D private incident');
    }
    // An ally the incident is shared with may assess it.
    await w.call('A-resp', 'POST', `/incidents/${own}/shares`, { shares: [{ orgId: w.orgs.B, permission: 'read' }] });
    expect((await w.call('B-analyst', 'POST', '/assessments', { title: 'ally', incidentId: own })).status).toBe(201);
  });
});

describe('playbook tasks', () => {
  it('a cancelled optional task no longer holds back the tasks after it: a DDoS handled without scrubbing can be closed', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'DDoS absorbed in-house', severity: 2, category: 'ddos' })).json;
    const task = (prefix: string) => i.tasks.find((t: { title: string }) => t.title.startsWith(prefix)).id as string;
    const status = (t: string, s: string) => w.call('A-resp', 'POST', `/incidents/${i.id}/tasks/${task(t)}/status`, { status: s });
    // Lessons learned (mandatory) comes after the upstream scrubbing (optional), which was not needed.
    expect((await status('Lessons', 'completed')).status).toBe(409);
    expect((await status('Confirm', 'completed')).status).toBe(200);
    expect((await status('Share', 'completed')).status).toBe(200);
    expect((await status('Engage upstream', 'cancelled')).status).toBe(200);
    const lessons = await status('Lessons', 'completed');
    expect(lessons.status, JSON.stringify(lessons.json)).toBe(200);
    const closed = await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'closed' });
    expect(closed.status, JSON.stringify(closed.json)).toBe(200);
    expect(closed.json).toMatchObject({ phase: 'closed', investigationStatus: 'closed' });
  });
});

describe('investigation status', () => {
  it('of a closed incident changes only by reopening it (phase): a PATCH to open or new is a 409 and changes nothing', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'Closed for good', severity: 1 })).json;
    for (const t of i.tasks.filter((x: { mandatory: boolean }) => x.mandatory)) {
      expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/tasks/${t.id}/status`, { status: 'completed' })).status).toBe(200);
    }
    expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'closed' })).json.investigationStatus).toBe('closed');
    for (const investigationStatus of ['open', 'new']) {
      const r = await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { investigationStatus });
      expect(r.status, JSON.stringify(r.json)).toBe(409);
      expect(r.json.error.code).toBe('CONFLICT');
    }
    const still = (await w.call('A-resp', 'GET', `/incidents/${i.id}`)).json;
    expect(still).toMatchObject({ phase: 'closed', investigationStatus: 'closed', rev: i.rev + 4 });
    // Reopening is the way back, and other fields of a closed incident may still be corrected.
    expect((await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 2 })).status).toBe(200);
    expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'detection-analysis' })).json).toMatchObject({ phase: 'detection-analysis', investigationStatus: 'open' });
  });
});

describe('alert level history', () => {
  it('keeps every change with its reason and decision, the first one included', async () => {
    expect((await w.call('C-rep', 'POST', '/alert-levels/own', { level: 3, reason: 'Wiper campaign against the grid' })).status).toBe(200);
    const own = (await w.call('C-rep', 'POST', '/alert-levels/own', { level: 2, reason: 'Campaign contained' })).json;
    expect(own.history.map((h: { from?: number; to?: number; reason?: string }) => [h.from, h.to, h.reason])).toEqual([
      [1, 3, 'Wiper campaign against the grid'], [3, 2, 'Campaign contained'],
    ]);
    // The alliance level: each change names the adopted decision that made it.
    const raise = async (level: number) => {
      const d = (await w.call('A-rep', 'POST', '/decisions', {
        title: `Alliance level ${level}`, text: 'x', kind: 'alert-level', procedure: 'consensus', participants: [w.orgs.B],
        deadline: inHours(w.clock, 1), effect: { type: 'alert-level', scope: 'alliance', level },
      })).json;
      for (const who of ['A-rep', 'B-rep'] as const) await w.call(who, 'POST', `/decisions/${d.id}/positions`, { position: 'concur' });
      return d.id as string;
    };
    const first = await raise(4);
    const second = await raise(3);
    const alliance = (await w.call('D-analyst', 'GET', '/alert-levels')).json.alliance;
    expect(alliance.history.map((h: { to?: number; decisionId?: string }) => [h.to, h.decisionId])).toEqual([[4, first], [3, second]]);
  });
});

describe('list query parameters', () => {
  it('an unknown or repeated one is a 400 INVALID_FILTER, never a wider list', async () => {
    const ex = 'exercise--00000000-0000-4000-8000-000000000000';
    for (const path of ['/incidents?phases=closed', '/incidents?phase=closed&phase=detection-analysis', `/incidents?exercize=${ex}`, `/incidents/metrics?exercise=${ex}`,
      '/assistance?state=open', `/decisions?exercize=${ex}`, '/assessments?limit=5', '/alert-levels?scope=alliance']) {
      const r = await w.call('A-resp', 'GET', path);
      expect(r.status, `${path}: ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.json.error.code).toBe('INVALID_FILTER');
    }
    for (const path of ['/incidents?phase=closed', '/incidents/metrics', '/assistance', '/decisions', '/assessments', '/alert-levels']) {
      expect((await w.call('A-resp', 'GET', path)).status, path).toBe(200);
    }
  });
});

describe('positions written by two processes at once', () => {
  /**
   * The decision service of a second API process on the same store, which lets `meanwhile` (a
   * write through the first process) happen right after its read of the positions: the
   * interleaving of two processes answering at the same moment, made certain.
   */
  async function otherProcess(meanwhile: () => Promise<unknown>) {
    const deps = w.platform.respond.decisions.deps;
    const store = afterFirstRead(deps.store, 'listRecordEvents', () => true, meanwhile);
    return new DecisionService({ ...deps, store }, w.platform.respond.levels);
  }
  const as = async (username: string): Promise<AuthedActor> => ({ principal: await w.platform.access.principalOfUser(username), source: 'test' });

  it('one member\'s two answers to one text: the second is a 409 and the first stands alone', async () => {
    const d = (await w.call('A-rep', 'POST', '/decisions', {
      title: 'Expel the attaché', text: 'x', kind: 'collective-response', procedure: 'consensus', participants: [w.orgs.B, w.orgs.C], deadline: inHours(w.clock, 1),
    })).json;
    let first: { status: number; json: { state?: string } } | undefined;
    const other = await otherProcess(async () => (first = await w.call('B-rep', 'POST', `/decisions/${d.id}/positions`, { position: 'object', reason: 'no legal basis' })));
    await expect(other.position(await as('b-rep'), d.id, 'concur')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(first?.status).toBe(200);
    const after = (await w.call('A-rep', 'GET', `/decisions/${d.id}`)).json;
    expect(after.state).toBe('blocked');
    expect(after.positions.map((p: { orgId: string; position: string }) => [p.orgId, p.position])).toEqual([[w.orgs.B, 'object']]);
  });

  it('no position is recorded after the outcome another process wrote meanwhile', async () => {
    const d = (await w.call('A-rep', 'POST', '/decisions', {
      title: 'Joint attribution wording', text: 'x', kind: 'collective-response', procedure: 'silence', participants: [w.orgs.B, w.orgs.C], deadline: inHours(w.clock, 1),
    })).json;
    // C breaks silence while the proposer withdraws the text on the other process.
    const other = await otherProcess(async () => w.call('A-rep', 'POST', `/decisions/${d.id}/withdraw`));
    await expect(other.position(await as('c-rep'), d.id, 'break-silence', 'para 3')).rejects.toMatchObject({ code: 'CONFLICT' });
    const after = (await w.call('A-rep', 'GET', `/decisions/${d.id}`)).json;
    expect(after.state).toBe('withdrawn');
    expect(after.positions).toEqual([]);
  });
});

describe('two officers editing one incident', () => {
  it('a change made on a revision another officer changed since is a 409 that changes nothing (PATCH and phase, with rev)', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'Wiper at the water utility', severity: 3 })).json;
    // Officer 1 raises the severity from the revision both read.
    const one = await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 4, rev: i.rev });
    expect(one.status, JSON.stringify(one.json)).toBe(200);
    // Officer 2, still on that revision, lowers it: refused, officer 1's change stands.
    const two = await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 2, rev: i.rev });
    expect(two.status, JSON.stringify(two.json)).toBe(409);
    expect(two.json.error).toMatchObject({ code: 'CONFLICT' });
    expect(two.json.error.message).toContain(`revision ${one.json.rev}`);
    const phase = await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'containment-eradication-recovery', rev: i.rev });
    expect(phase.status, JSON.stringify(phase.json)).toBe(409);
    const now = (await w.call('A-resp', 'GET', `/incidents/${i.id}`)).json;
    expect(now).toMatchObject({ severity: 4, phase: 'detection-analysis', rev: one.json.rev });
    // On the current revision, both go through; without rev, the latest one is changed.
    expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'containment-eradication-recovery', rev: now.rev })).status).toBe(200);
    expect((await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 5 })).json.severity).toBe(5);
    for (const rev of [0, 'x', 1.5]) expect((await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 1, rev })).status).toBe(400);
  });
});

describe('observables', () => {
  it('a value that is not of its type is a 400 naming the field, and nothing is added; well-formed ones of every shape are taken', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'Observable shapes', severity: 2 })).json;
    const add = (type: string, value: string) => w.call('A-resp', 'POST', `/incidents/${i.id}/observables`, { type, value });
    for (const [type, value] of [
      ['ipv4-addr', 'not an ip'], ['ipv4-addr', '203.0.113.300'], ['ipv6-addr', '2001:db8::zz'], ['domain-name', 'evil .example'],
      ['domain-name', 'evil\u0007.example'], ['hostname', 'ws-01;rm -rf'], ['url', 'no scheme at all'], ['email-addr', 'someone at example.org'],
      ['file-md5', 'abc'], ['file-sha1', 'z'.repeat(40)], ['file-sha256', 'a'.repeat(63)], ['mutex', 'Global\\wiper\u001b[2J'],
    ] as const) {
      const r = await add(type, value);
      expect(r.status, `${type} ${JSON.stringify(value)}: ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'BAD_REQUEST', details: { field: 'value' } });
    }
    expect((await w.call('A-resp', 'GET', `/incidents/${i.id}`)).json.observables).toEqual([]);
    for (const [type, value] of [
      ['ipv4-addr', '203.0.113.7'], ['ipv4-addr', '198.51.100.0/24'], ['ipv6-addr', '2001:db8::1'], ['domain-name', 'c2.wiper.example'],
      ['domain-name', 'bücher.example'], ['domain-name', '_dmarc.example.org'], ['hostname', 'WS-01'], ['url', 'hxxp://evil[.]example/x?y=1'],
      ['email-addr', 'ops@cert.example'], ['file-md5', 'd41d8cd98f00b204e9800998ecf8427e'], ['file-sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
      ['file-sha256', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'], ['mutex', 'Global\\wiper-1'], ['other', 'anything at all'],
    ] as const) {
      const r = await add(type, value);
      expect(r.status, `${type} ${value}: ${JSON.stringify(r.json)}`).toBe(200);
    }
  });
});

describe('an attribution assessment revised', () => {
  it('keeps every judgement in its history, readable by its readers only; named recipients are member organisations', async () => {
    const a = (await w.call('A-analyst', 'POST', '/assessments', { title: 'Who wiped the grid', tlp: 'amber', recipients: [w.orgs.B] })).json;
    const h = (await w.call('A-analyst', 'POST', `/assessments/${a.id}/hypotheses`, { label: 'APT-X' })).json.hypotheses[0].id as string;
    const judge = (likelihood: string, confidence: string, rationale: string) =>
      w.call('A-analyst', 'POST', `/assessments/${a.id}/judgement`, { hypothesisId: h, likelihood, confidence, rationale });
    expect((await judge('roughly even chance', 'low', 'one code overlap')).status).toBe(200);
    w.clock.advance(3 * 24 * 3600_000);
    const revised = (await judge('very likely', 'moderate', 'infrastructure reuse confirmed by B')).json;
    expect(revised.judgement).toMatchObject({ likelihood: 'very likely', confidence: 'moderate' });
    const history = await w.call('B-analyst', 'GET', `/assessments/${a.id}/history`);
    expect(history.status, JSON.stringify(history.json)).toBe(200);
    const judged = history.json.items.filter((e: { kind: string }) => e.kind === 'assessment.judged');
    expect(judged.map((e: { data: { likelihood: string; confidence: string; rationale: string } }) => [e.data.likelihood, e.data.confidence, e.data.rationale])).toEqual([
      ['roughly even chance', 'low', 'one code overlap'], ['very likely', 'moderate', 'infrastructure reuse confirmed by B'],
    ]);
    expect(new Date(judged[1].at).getTime() - new Date(judged[0].at).getTime()).toBe(3 * 24 * 3600_000);
    expect(judged.every((e: { orgId: string }) => e.orgId === w.orgs.A)).toBe(true);
    // Not released to C: the same 404 as the assessment itself.
    const c = await w.call('C-analyst', 'GET', `/assessments/${a.id}/history`);
    expect(c.status).toBe(404);
    expect(JSON.stringify(c.json)).not.toContain('APT-X');
    // A recipient that is no organisation is a 400, and nothing is written.
    const before = (await w.call('A-analyst', 'GET', '/assessments')).json.items.length;
    const ghost = await w.call('A-analyst', 'POST', '/assessments', { title: 'ghost', recipients: ['identity--00000000-0000-4000-8000-000000000000'] });
    expect(ghost.status, JSON.stringify(ghost.json)).toBe(400);
    expect(ghost.json.error.code).toBe('BAD_REQUEST');
    expect((await w.call('A-analyst', 'GET', '/assessments')).json.items.length).toBe(before);
  });
});

describe('requests for assistance', () => {
  it('routedTo "all", as a request reads back, routes it to every ally (as leaving it out does); anything else not a list is a 400', async () => {
    const base = { title: 'Scrubbing capacity', services: ['mitigation-and-recovery'], urgency: 'priority', offerDeadline: inHours(w.clock, 4) };
    const all = await w.call('A-resp', 'POST', '/assistance', { ...base, routedTo: 'all' });
    expect(all.status, JSON.stringify(all.json)).toBe(201);
    expect(all.json.routedTo).toBe('all');
    for (const who of ['B-resp', 'C-resp', 'D-resp'] as const) expect((await w.call(who, 'GET', `/assistance/${all.json.id}`)).status).toBe(200);
    // Re-sent as read: the same routing.
    const again = await w.call('A-resp', 'POST', '/assistance', { ...base, routedTo: all.json.routedTo });
    expect(again.status).toBe(201);
    for (const routedTo of ['ALL', 'everyone', 5, { all: true }]) {
      const r = await w.call('A-resp', 'POST', '/assistance', { ...base, routedTo });
      expect(r.status, `${JSON.stringify(routedTo)}: ${JSON.stringify(r.json)}`).toBe(400);
      expect(r.json.error.details).toMatchObject({ field: 'routedTo' });
    }
  });
});

describe('closing an incident', () => {
  it('takes a closing summary with the move to closed, shown to the incident\'s readers and on its timeline; reopening clears it, the timeline keeps it', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'Phishing wave on the ministry', severity: 2 })).json;
    await w.call('A-resp', 'POST', `/incidents/${i.id}/shares`, { shares: [{ orgId: w.orgs.B, permission: 'read' }] });
    for (const t of i.tasks.filter((x: { mandatory: boolean }) => x.mandatory)) await w.call('A-resp', 'POST', `/incidents/${i.id}/tasks/${t.id}/status`, { status: 'completed' });
    expect(i.closure).toBeNull();
    // A summary belongs to the move to closed only.
    const early = await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'containment-eradication-recovery', summary: 'done' });
    expect(early.status).toBe(400);
    expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'closed', summary: 'x'.repeat(20_001) })).status).toBe(400);
    const summary = 'True positive: 41 mailboxes reached, 3 credentials reset, sender domain blocked alliance-wide; no data left the ministry.';
    const closed = await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'closed', summary });
    expect(closed.status, JSON.stringify(closed.json)).toBe(200);
    expect(closed.json.closure).toMatchObject({ summary, at: closed.json.stages.closedAt, orgId: w.orgs.A });
    expect((await w.call('B-resp', 'GET', `/incidents/${i.id}`)).json.closure.summary).toBe(summary);
    const tl = (await w.call('B-resp', 'GET', `/incidents/${i.id}/timeline`)).json.items;
    expect(tl.find((e: { kind: string; data: { to?: string } }) => e.kind === 'incident.phase' && e.data.to === 'closed').data.summary).toBe(summary);
    // Reopened: the summary no longer stands; closed again without one, none.
    const reopened = await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'detection-analysis' });
    expect(reopened.json.closure).toBeNull();
    expect((await w.call('A-resp', 'POST', `/incidents/${i.id}/phase`, { to: 'closed' })).json.closure).toBeNull();
    expect((await w.call('A-resp', 'GET', `/incidents/${i.id}/timeline`)).json.items.filter((e: { data: { summary?: string } }) => e.data.summary === summary)).toHaveLength(1);
  });
});

describe('an attachment added while another officer changes the incident', () => {
  it('is written once, on the incident as the other officer left it: the attempt that lost leaves no content behind (the content and the revision naming it are written together)', async () => {
    const i = (await w.call('A-resp', 'POST', '/incidents', { title: 'Memory image of the SCADA gateway', severity: 3 })).json;
    const deps = w.platform.respond.incidents.deps;
    let patched = false;
    // The other officer's change lands right after this process read the incident.
    const store = afterFirstRead(deps.store, 'getRecord', (id) => id === i.id, async () => {
      expect((await w.call('A-resp', 'PATCH', `/incidents/${i.id}`, { severity: 4 })).status).toBe(200);
      patched = true;
    });
    const other = new IncidentService({ ...deps, store });
    const actor: AuthedActor = { principal: await w.platform.access.principalOfUser('a-resp'), source: 'test' };
    // The first attempt loses to the PATCH (its transaction rolls back with the content); the
    // addition does not depend on the severity, so it is made again on the fresh revision.
    await other.addAttachment(actor, i.id, { name: 'gw.mem', mediaType: 'application/octet-stream', content: Buffer.from('MEMORY IMAGE') });
    expect(patched).toBe(true);
    expect(await deps.store.listRecords({ kind: 'attachment', parentId: i.id, audience: { hop: 'local', orgId: w.orgs.A, groupIds: [] }, purpose: 'read', limit: 10 })).toHaveLength(1);
    const now = (await w.call('A-resp', 'GET', `/incidents/${i.id}`)).json;
    expect(now).toMatchObject({ severity: 4, attachments: [{ name: 'gw.mem' }] });
  });
});
