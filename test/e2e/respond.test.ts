/**
 * End-to-end tests of the respond screens against a real server with the demo alliance
 * (Aldermark, Brenova, Corvania: responders and national representatives of each), driven in
 * the system Chromium: an incident declared and shared with two allies, assistance requested,
 * offered and accepted, a silence procedure adopted at its deadline, a consensus blocked by an
 * objection, and an ACH matrix edited in the page whose ranking matches a hand computation.
 */
import { readFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BROWSER_TESTS, CHROMIUM, CHROMIUM_ARGS, rest, startServer } from './harness.js';
import type { RunningServer } from './harness.js';
import { demoActor, openSignedIn, type DemoActor } from './session.js';

type Actor = DemoActor;
interface Incident { id: string; title: string; shares: { orgId: string; permission: string }[]; ownerOrg: string }
interface Offer { id: string; orgId: string; state: string; team: string }
interface AssistanceRequest { id: string; title: string; state: string; offers: Offer[]; routedTo: string[] | 'all'; services: string[]; incidentId: string | null }
interface Decision { id: string; state: string; title: string; positions: { orgId: string; position: string; reason: string | null }[] }
interface Assessment { id: string; hypotheses: { id: string; label: string }[]; evidence: { id: string; description: string }[]; scores: { label: string; inconsistency: number; rank: number }[] }

const tag = `e2e-${randomUUID().slice(0, 8)}`;
// Generous: `npm test` runs this file beside every other suite, on a busy machine.
const poll = { timeout: 20_000, interval: 100 };

let server: RunningServer;
let browser: Browser;
const who: Record<'aResp' | 'bResp' | 'cResp' | 'aRep' | 'bRep' | 'cRep', Actor> = {} as never;

const actor = (username: string): Promise<Actor> => demoActor(server, username);
const signedIn = (a: Actor, hash?: string): Promise<{ ctx: BrowserContext; page: Page }> => openSignedIn({ browser, server }, a, hash);

const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

describe.runIf(BROWSER_TESTS)('respond screens (e2e, Chromium)', () => {
  let incident: Incident;
  let request: AssistanceRequest;

  beforeAll(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const [aResp, bResp, cResp, aRep, bRep, cRep] = await Promise.all(
      ['ald.responder', 'brn.responder', 'crv.responder', 'ald.rep', 'brn.rep', 'crv.rep'].map(actor));
    Object.assign(who, { aResp, bResp, cResp, aRep, bRep, cRep });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a member declares an incident in the page and shares it with two allies', async () => {
    const { ctx, page } = await signedIn(who.aResp, '#/incidents');
    await page.getByRole('link', { name: 'Incidents' }).waitFor();
    await page.getByRole('button', { name: 'Declare incident…' }).click();
    const form = page.getByTestId('declare-form');
    await form.getByLabel('Title').fill(`${tag} ransomware at the grid operator`);
    await form.getByLabel('Description').fill('Encrypted SCADA historians');
    await form.getByLabel('Category (playbook)').selectOption('ransomware');
    await form.getByLabel('Severity').selectOption('4');
    await form.getByLabel('TLP', { exact: true }).selectOption('amber');
    await form.getByRole('button', { name: 'Declare incident', exact: true }).click();

    // The page moves to the new incident: severity badge in the CISA colour, playbook tasks, allowed phase moves.
    await page.getByTestId('incident-detail').waitFor();
    const id = await page.getByTestId('incident-detail').getAttribute('data-id');
    expect(id).toMatch(/^incident--/);
    const badge = page.getByTestId('incident-header').getByTestId('severity-badge');
    expect(await badge.getAttribute('data-level')).toBe('4');
    expect(await badge.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(228, 0, 43)'); // CISA red #E4002B
    expect(await page.getByTestId('task-row').count()).toBe(7);
    // Dependent tasks wait for the ones before them; the first one can start.
    expect(await page.locator('[data-testid="task-row"][data-waiting="true"]').count()).toBe(6);
    const moves = await page.getByTestId('phase-move').allTextContents();
    expect(moves).toEqual(['Move to containment eradication recovery', 'Move to post incident activity', 'Move to closed']);

    // Closing with mandatory tasks open is refused by the server, and the page says why.
    await page.getByRole('button', { name: 'Move to closed' }).click();
    await expect.poll(() => page.getByTestId('incident-header').getByTestId('error-message').textContent(), poll).toContain('mandatory tasks are not completed');

    for (const [org, permission] of [[who.bResp, 'contribute'], [who.cResp, 'read']] as const) {
      await page.getByLabel('Organisation', { exact: true }).selectOption(org.orgId);
      await page.getByLabel('Permission').selectOption(permission);
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      await page.locator(`[data-testid="share"][data-org-id="${org.orgId}"]`).waitFor();
    }
    expect(await page.getByTestId('share').evaluateAll((els) => els.map((e) => e.getAttribute('data-permission')).sort())).toEqual(['contribute', 'read']);

    // A comment goes on the timeline beside the automatic entries.
    await page.getByLabel('Comment', { exact: true }).fill(`${tag} first responders on site`);
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.locator('[data-testid="timeline-entry"][data-kind="incident.comment"]').waitFor();
    expect(await page.locator('[data-testid="timeline-entry"][data-kind="incident.shared"]').count()).toBe(2);

    incident = await rest<Incident>(server.baseUrl, `/incidents/${id}`, { token: who.aResp.token });
    expect(incident.shares.map((s) => `${s.orgId}/${s.permission}`).sort()).toEqual([`${who.bResp.orgId}/contribute`, `${who.cResp.orgId}/read`].sort());
    // Both allies see it now; the list shows it to them with the owner.
    for (const ally of [who.bResp, who.cResp]) {
      const list = await rest<{ items: Incident[] }>(server.baseUrl, '/incidents', { token: ally.token });
      expect(list.items.map((i) => i.id)).toContain(id);
    }
    await ctx.close();

    const ally = await signedIn(who.cResp, '#/incidents');
    const row = ally.page.locator(`[data-testid="incident-row"][data-id="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(who.aResp.short);
    expect(await row.getByTestId('tlp-badge').getAttribute('data-tlp')).toBe('amber');
    await ally.ctx.close();
  });

  it('requests assistance in the page; allies offer (one through the page) and the requester accepts one in the page', async () => {
    const { ctx, page } = await signedIn(who.aResp, '#/assistance');
    await page.getByRole('button', { name: 'Request assistance…' }).click();
    const form = page.getByTestId('request-form');
    await form.getByLabel('Title').fill(`${tag} forensics for the grid incident`);
    await form.getByRole('checkbox', { name: 'malware analysis' }).check();
    await form.getByRole('checkbox', { name: 'artifact and forensic evidence analysis' }).check();
    await form.getByLabel('Urgency').selectOption('immediate');
    await form.getByLabel('Incident', { exact: true }).selectOption(incident.id);
    // The routing radios sit at the start of their labels, not stretched to mid-page.
    for (const name of ['Route to all allies', 'Route to chosen allies']) {
      const radio = await form.getByLabel(name).boundingBox();
      const label = await form.locator('label.check', { hasText: name }).boundingBox();
      expect(radio!.width).toBeLessThan(30);
      expect(radio!.x - label!.x).toBeLessThanOrEqual(8);
    }
    // Deadline inputs are UTC, and say so.
    expect(await form.getByLabel('Offer deadline (UTC)').count()).toBe(1);
    await form.getByLabel('Route to chosen allies').check();
    await form.getByRole('checkbox', { name: who.bResp.short }).check();
    await form.getByRole('checkbox', { name: who.cResp.short }).check();
    await form.getByRole('button', { name: 'Send request' }).click();
    const card = page.getByTestId('request-card').filter({ hasText: `${tag} forensics` });
    await card.waitFor();
    expect(await card.getAttribute('data-state')).toBe('open');
    expect(await card.getByRole('link', { name: incident.title }).getAttribute('href')).toBe(`#/incidents/${encodeURIComponent(incident.id)}`);
    expect(await card.getByTestId('countdown').textContent()).toMatch(/Offer deadline: 23h 59m|Offer deadline: 1d/);

    const requests = await rest<{ items: AssistanceRequest[] }>(server.baseUrl, '/assistance', { token: who.aResp.token });
    const found = requests.items.find((r) => r.title === `${tag} forensics for the grid incident`);
    expect(found).toBeDefined();
    request = found!;
    expect(request.routedTo).toEqual(expect.arrayContaining([who.bResp.orgId, who.cResp.orgId]));
    expect(request.incidentId).toBe(incident.id);
    expect(request.services.sort()).toEqual(['artifact-and-forensic-evidence-analysis', 'malware-analysis']);

    // Brenova offers through the API...
    await rest(server.baseUrl, `/assistance/${request.id}/offers`, {
      token: who.bResp.token, method: 'POST',
      body: { team: 'BRN malware lab', services: ['malware-analysis'], capacity: '2 analysts', availableFrom: isoIn(3600_000), availableUntil: isoIn(72 * 3600_000) },
    });
    // ...Corvania through its page.
    const ally = await signedIn(who.cResp, '#/assistance');
    const allyCard = ally.page.locator(`[data-testid="request-card"][data-id="${request.id}"]`);
    await allyCard.getByRole('button', { name: 'Offer help…' }).click();
    await allyCard.getByLabel('Team').fill('CRV forensic team');
    await allyCard.getByLabel('Capacity').fill('3 forensic analysts, on site');
    await allyCard.getByRole('checkbox', { name: 'artifact and forensic evidence analysis' }).check();
    await allyCard.getByRole('button', { name: 'Send offer' }).click();
    await allyCard.locator('[data-testid="offer-row"][data-team="CRV forensic team"][data-state="proposed"]').waitFor();
    // An ally sees its own offer only, never the other ally's.
    expect(await allyCard.getByTestId('offer-row').count()).toBe(1);
    await ally.ctx.close();

    // The requester's board refreshes live with both offers, and it accepts Corvania's.
    await expect.poll(() => card.getByTestId('offer-row').count(), poll).toBe(2);
    const crvOffer = card.locator('[data-testid="offer-row"][data-team="CRV forensic team"]');
    await crvOffer.getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => crvOffer.getAttribute('data-state'), poll).toBe('accepted');
    await expect.poll(() => card.getAttribute('data-state'), poll).toBe('in-progress');
    expect(await card.locator('[data-testid="offer-row"][data-team="BRN malware lab"]').getAttribute('data-state')).toBe('proposed');

    const after = await rest<AssistanceRequest>(server.baseUrl, `/assistance/${request.id}`, { token: who.aResp.token });
    expect(after.state).toBe('in-progress');
    expect(after.offers.map((o) => `${o.team}:${o.state}`).sort()).toEqual(['BRN malware lab:proposed', 'CRV forensic team:accepted']);

    // Once helped, the requester closes the request with its outcome.
    await card.getByLabel('Outcome').fill('Strain identified, backups verified');
    await card.getByRole('button', { name: 'Close request' }).click();
    await expect.poll(() => card.getAttribute('data-state'), poll).toBe('closed');
    expect(await card.textContent()).toContain('Strain identified, backups verified');
    expect(await card.getByRole('button', { name: 'Accept' }).count()).toBe(0);
    await ctx.close();
  });

  it('shows the countdown of a silence procedure, then "adopted" once the deadline has passed', async () => {
    // Signed in first, so that the short deadline is not spent signing in.
    const { ctx, page } = await signedIn(who.bRep, '#/decisions');
    await page.getByRole('heading', { name: 'Decisions', exact: true }).waitFor();
    const d = await rest<Decision>(server.baseUrl, '/decisions', {
      token: who.aRep.token, method: 'POST',
      body: { title: `${tag} raise the alliance alert level`, text: 'The alliance moves to ELEVATED.', kind: 'alert-level', procedure: 'silence',
        participants: [who.bRep.orgId, who.cRep.orgId], deadline: isoIn(12_000), effect: { type: 'alert-level', scope: 'alliance', level: 3 } },
    });
    // The list shows the new decision live, with its countdown.
    const row = page.locator(`[data-testid="decision-row"][data-id="${d.id}"]`);
    await row.getByTestId('countdown').waitFor({ timeout: 10_000 });
    await row.getByRole('link').click();
    const countdown = page.getByTestId('decision-detail').getByTestId('countdown');
    await countdown.waitFor();
    const first = Number(await countdown.getAttribute('data-seconds'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(12);
    expect(await countdown.textContent()).toMatch(/^Deadline: \d+s left$/);
    // It ticks every second.
    await expect.poll(async () => Number(await countdown.getAttribute('data-seconds')), poll).toBeLessThan(first);
    expect(await page.getByTestId('decision-actions').getByRole('button', { name: 'Break silence' }).count()).toBe(1);
    expect(await page.getByTestId('outcome').count()).toBe(0);

    const outcome = page.getByTestId('outcome');
    await outcome.waitFor({ timeout: 25_000 });
    expect(await outcome.getAttribute('data-outcome')).toBe('adopted');
    expect(await outcome.textContent()).toContain('Adopted');
    expect(await page.getByTestId('countdown').count()).toBe(0);
    expect(await page.getByTestId('decision-actions').count()).toBe(0);
    expect((await rest<Decision>(server.baseUrl, `/decisions/${d.id}`, { token: who.cRep.token })).state).toBe('adopted');

    // The adopted effect shows on the alert level board.
    await page.goto(`${server.baseUrl}/#/alert-levels`);
    await expect.poll(() => page.getByTestId('alliance-level').getByTestId('alert-level').getAttribute('data-level'), poll).toBe('3');
    await ctx.close();
  }, 60_000);

  it('a consensus proposed in the page is "blocked" when a representative objects in the page', async () => {
    const title = `${tag} joint demarche`;
    const proposer = await signedIn(who.aRep, '#/decisions');
    await proposer.page.getByRole('button', { name: 'Propose decision…' }).click();
    const form = proposer.page.getByTestId('propose-form');
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Kind').selectOption('collective-response');
    await form.getByLabel('Procedure').selectOption('consensus');
    await form.getByRole('checkbox', { name: who.bRep.short }).check();
    await form.getByRole('checkbox', { name: who.cRep.short }).check();
    await form.getByLabel('Text', { exact: true }).fill('The alliance issues a joint demarche.');
    await form.getByRole('button', { name: 'Propose' }).click();
    await proposer.page.getByTestId('decision-detail').waitFor();
    const id = await proposer.page.getByTestId('decision-detail').getAttribute('data-id');
    expect(await proposer.page.getByTestId('procedure').textContent()).toBe('consensus');
    expect(await proposer.page.getByTestId('participant').count()).toBe(3);
    // The proposer concurs in its page.
    await proposer.page.getByRole('button', { name: 'Concur' }).click();
    await expect.poll(() => proposer.page.locator(`[data-testid="participant"][data-org-id="${who.aRep.orgId}"]`).getAttribute('data-position'), poll).toBe('concur');

    const objector = await signedIn(who.bRep, `#/decisions/${id}`);
    await objector.page.getByTestId('countdown').waitFor();
    // Objecting without a reason is refused in the form (the field is required).
    await objector.page.getByRole('button', { name: 'Object' }).click();
    expect(await objector.page.getByTestId('outcome').count()).toBe(0);
    await objector.page.getByLabel('Reason for the objection (required)').fill('Our parliament has not been consulted.');
    await objector.page.getByRole('button', { name: 'Object' }).click();
    const outcome = objector.page.getByTestId('outcome');
    await outcome.waitFor({ timeout: 20_000 });
    expect(await outcome.getAttribute('data-outcome')).toBe('blocked');
    expect(await outcome.textContent()).toContain('Blocked');
    expect(await objector.page.locator(`[data-testid="participant"][data-org-id="${who.bRep.orgId}"]`).textContent()).toContain('Our parliament has not been consulted.');

    // The proposer's open page turns to "blocked" through the live stream, with a toast.
    await expect.poll(() => proposer.page.getByTestId('outcome').getAttribute('data-outcome'), poll).toBe('blocked');
    expect(await proposer.page.getByTestId('toast').allTextContents()).toContain('Decision: blocked');
    const d = await rest<Decision>(server.baseUrl, `/decisions/${id}`, { token: who.cRep.token });
    expect(d.state).toBe('blocked');
    expect(d.positions.map((p) => `${p.orgId}:${p.position}`).sort()).toEqual([`${who.aRep.orgId}:concur`, `${who.bRep.orgId}:object`].sort());

    // The proposer re-issues an amended text: revision 2 is open again, the first one kept below.
    await proposer.page.getByLabel('Amended text').fill('The alliance issues a joint demarche after national consultations.');
    await proposer.page.getByRole('button', { name: 'Re-issue' }).click();
    await expect.poll(() => proposer.page.getByTestId('decision-detail').getAttribute('data-state'), poll).toBe('open');
    expect(await proposer.page.getByTestId('decision-text').textContent()).toBe('The alliance issues a joint demarche after national consultations.');
    expect(await proposer.page.getByTestId('outcome').count()).toBe(0);
    const revisions = await proposer.page.getByTestId('revisions').textContent();
    expect(revisions).toContain('The alliance issues a joint demarche.');
    expect(revisions).toContain('Our parliament has not been consulted.');
    // The objector may take a position again on the new text (its page follows live).
    await expect.poll(() => objector.page.getByRole('button', { name: 'Concur' }).count(), poll).toBe(1);
    await objector.ctx.close();
    await proposer.ctx.close();
  });

  it('ranks the hypotheses of an ACH matrix edited in the page as computed by hand', async () => {
    const t = who.aResp.token;
    let a = await rest<Assessment>(server.baseUrl, '/assessments', { token: t, method: 'POST', body: { title: `${tag} who hit the grid`, tlp: 'amber' } });
    for (const label of ['H1 Sandworm-like', 'H2 criminal group', 'H3 insider']) {
      a = await rest<Assessment>(server.baseUrl, `/assessments/${a.id}/hypotheses`, { token: t, method: 'POST', body: { label } });
    }
    // Weights (PARC ACH): B2 → high credibility √2, C3 → medium 1, D4 → low 1/√2; relevance the same scale.
    const evidence = [
      { description: 'E1 wiper code overlap', reliability: 'B', credibility: 2, relevance: 'high' }, // weight √2·√2 = 2
      { description: 'E2 ransom note in Brenovan', reliability: 'C', credibility: 3, relevance: 'medium' }, // 1·1 = 1
      { description: 'E3 badge logs at night', reliability: 'D', credibility: 4, relevance: 'low' }, // ½√2·½√2 = 0.5
    ];
    for (const e of evidence) a = await rest<Assessment>(server.baseUrl, `/assessments/${a.id}/evidence`, { token: t, method: 'POST', body: e });

    const { ctx, page } = await signedIn(who.aResp, `#/attribution/${a.id}`);
    await page.getByTestId('ach-matrix').waitFor();
    expect(await page.getByTestId('grade').allTextContents()).toEqual(['B2', 'C3', 'D4']);
    expect(await page.getByTestId('hypothesis-col').allTextContents()).toEqual(['H1 Sandworm-like', 'H2 criminal group', 'H3 insider']);
    const cells: [string, string, string][] = [
      ['E1 wiper code overlap', 'H1 Sandworm-like', 'C'], ['E1 wiper code overlap', 'H2 criminal group', 'II'], ['E1 wiper code overlap', 'H3 insider', 'I'],
      ['E2 ransom note in Brenovan', 'H1 Sandworm-like', 'I'], ['E2 ransom note in Brenovan', 'H2 criminal group', 'CC'], ['E2 ransom note in Brenovan', 'H3 insider', 'N'],
      ['E3 badge logs at night', 'H1 Sandworm-like', 'II'], ['E3 badge logs at night', 'H2 criminal group', 'N'], ['E3 badge logs at night', 'H3 insider', 'II'],
    ];
    for (const [e, h, r] of cells) await page.getByLabel(`Rating of "${e}" for ${h}`).selectOption(r);
    await page.getByRole('button', { name: 'Save ratings (9)' }).click();

    // By hand: H1 = 1·(−1) + 0.5·(−2) = −2; H2 = 2·(−2) = −4; H3 = 2·(−1) + 0.5·(−2) = −3.
    // Least inconsistent first: H1 rank 1, H3 rank 2, H2 rank 3.
    const expected = { 'H1 Sandworm-like': ['-2.000', '1'], 'H2 criminal group': ['-4.000', '3'], 'H3 insider': ['-3.000', '2'] };
    const shown = async () => {
      const scores = await page.getByTestId('score').evaluateAll((els) => els.map((e) => [e.getAttribute('data-hypothesis'), e.textContent]));
      const ranks = await page.getByTestId('rank').evaluateAll((els) => els.map((e) => [e.getAttribute('data-hypothesis'), e.textContent]));
      return Object.fromEntries(scores.map(([h, s]) => [h, [s, ranks.find(([x]) => x === h)?.[1]]]));
    };
    await expect.poll(shown, poll).toEqual(expected);
    expect(await page.getByTestId('ranking-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-label'))))
      .toEqual(['H1 Sandworm-like', 'H3 insider', 'H2 criminal group']);
    const saved = await rest<Assessment>(server.baseUrl, `/assessments/${a.id}`, { token: t });
    expect(saved.scores.map((s) => `${s.label}:${s.inconsistency}:${s.rank}`).sort()).toEqual(['H1 Sandworm-like:-2:1', 'H2 criminal group:-4:3', 'H3 insider:-3:2']);

    // The judgement: one ICD 203 term and a separate confidence level.
    await page.getByRole('form', { name: 'Judgement' }).getByLabel('Hypothesis').selectOption({ label: 'H1 Sandworm-like' });
    await page.getByLabel('Likelihood (ICD 203)').selectOption('likely');
    await page.getByLabel('Confidence').selectOption('moderate');
    await page.getByLabel('Rationale').fill('Code overlap outweighs the language of the note.');
    await page.getByRole('button', { name: 'Record judgement' }).click();
    await expect.poll(() => page.getByTestId('judgement').textContent(), poll).toContain('H1 Sandworm-like is likely (55–80%) responsible, with moderate confidence');
    // Revised as evidence comes in: the page shows the latest, and the one it revised below it.
    await page.getByLabel('Likelihood (ICD 203)').selectOption('very likely');
    await page.getByLabel('Confidence').selectOption('high');
    await page.getByLabel('Rationale').fill('Infrastructure reuse confirmed by an ally.');
    await page.getByRole('button', { name: 'Record judgement' }).click();
    await expect.poll(() => page.getByTestId('judgement').textContent(), poll).toContain('H1 Sandworm-like is very likely (80–95%) responsible, with high confidence');
    await page.getByTestId('earlier-judgements').getByText('Earlier judgements (1)').click();
    await expect.poll(() => page.getByTestId('earlier-judgements').textContent(), poll).toContain('H1 Sandworm-like likely, moderate confidence. Code overlap outweighs the language of the note.');
    await ctx.close();
  });

  it('works an incident in the page: tasks in order, observables, attachment with its SHA-256, STIX download, metrics, transfer', async () => {
    const t = who.aResp.token;
    const inc = await rest<Incident>(server.baseUrl, '/incidents', {
      token: t, method: 'POST',
      body: { title: `${tag} DDoS on the ministry portal`, severity: 3, category: 'ddos', tlp: 'green', occurredAt: isoIn(-3 * 3600_000), detectedAt: isoIn(-3600_000) },
    });
    const { ctx, page } = await signedIn(who.aResp, `#/incidents/${inc.id}`);
    await page.getByTestId('incident-detail').waitFor();
    // Time to detect: occurred 3 h before now, detected 1 h before now.
    expect(await page.getByTestId('incident-metrics').textContent()).toContain('2h 0m 0s');

    // The first task can start; the ones depending on it wait until it is completed.
    const rowOf = (title: string) => page.getByTestId('task-row').filter({ has: page.getByRole('rowheader', { name: title }) });
    const first = rowOf('Confirm attack traffic and targeted services');
    const dependent = rowOf('Share attacking sources with allies');
    expect(await dependent.getAttribute('data-waiting')).toBe('true');
    expect(await dependent.getByRole('button').count()).toBe(0);
    await first.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => first.getAttribute('data-status'), poll).toBe('in-progress');
    await first.getByRole('button', { name: 'Complete' }).click();
    await expect.poll(() => first.getAttribute('data-status'), poll).toBe('completed');
    await expect.poll(() => dependent.getAttribute('data-waiting'), poll).toBe('false');
    expect(await dependent.getByRole('button', { name: 'Complete' }).count()).toBe(1);
    // A mandatory task cannot be cancelled: the page offers no Cancel for it.
    expect(await dependent.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    // Marking the incident contained records the stage: time to contain runs from detection (1 h ago).
    await page.getByRole('button', { name: 'Mark contained' }).click();
    await expect.poll(() => page.getByTestId('incident-metrics').textContent(), poll).toMatch(/Time to contain1h 0m \d+s/);
    expect(await page.getByRole('button', { name: 'Mark contained' }).count()).toBe(0);

    await page.getByLabel('Type', { exact: true }).selectOption('ipv4-addr');
    await page.getByLabel('Value', { exact: true }).fill('198.51.100.23');
    await page.getByLabel('IOC', { exact: true }).check();
    await page.getByRole('button', { name: 'Add observable' }).click();
    const obs = page.getByTestId('observable-row').filter({ hasText: '198.51.100.23' });
    await obs.waitFor();
    expect(await obs.getByTestId('tlp-badge').getAttribute('data-tlp')).toBe('amber');
    expect(await obs.textContent()).toContain('IOC');

    // Attachment: uploaded through the file input, SHA-256 shown, downloaded byte for byte.
    const bytes = Buffer.from(`${tag} pcap excerpt\n`.repeat(200));
    const sha = createHash('sha256').update(bytes).digest('hex');
    await page.getByLabel('File (at most 10 MB)').setInputFiles({ name: 'excerpt.pcap', mimeType: 'application/vnd.tcpdump.pcap', buffer: bytes });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByTestId('attachment-sha256').first().textContent(), poll).toBe(sha);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('attachment-row').getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('excerpt.pcap');
    expect(createHash('sha256').update(readFileSync(await download.path())).digest('hex')).toBe(sha);
    // A file over 10 MB is refused before it is sent.
    await page.getByLabel('File (at most 10 MB)').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
    expect(await page.getByRole('button', { name: 'Upload' }).isDisabled()).toBe(true);
    await page.getByText('The file is larger than 10 MB.').waitFor();

    const [stix] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download STIX bundle' }).click()]);
    const bundle = JSON.parse(readFileSync(await stix.path(), 'utf8')) as { type: string; objects: { type: string; id: string }[] };
    expect(bundle.type).toBe('bundle');
    expect(bundle.objects.find((o) => o.type === 'incident')?.id).toBe(inc.id);

    // Manual timeline entry at a given time, beside the automatic ones.
    await page.getByLabel('Manual timeline entry at a given time').check();
    await page.getByLabel('Timeline entry', { exact: true }).fill('Upstream scrubbing engaged');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.locator('[data-testid="timeline-entry"][data-kind="incident.timeline"]').filter({ hasText: 'Upstream scrubbing engaged' }).waitFor();
    expect(await page.locator('[data-testid="timeline-entry"][data-kind="incident.task.status"]').count()).toBe(2);

    // The organisation table lists the owner with its mean time to detect.
    await page.goto(`${server.baseUrl}/#/incidents`);
    const metrics = page.getByTestId('org-metrics');
    await metrics.waitFor();
    expect(await metrics.textContent()).toContain(who.aResp.short);
    // The phase filter asks the server for the chosen phases only.
    const listed = page.locator(`[data-testid="incident-row"][data-id="${inc.id}"]`);
    await listed.waitFor();
    const phases = async () => page.getByTestId('incident-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')));
    await page.getByLabel('Phase').selectOption('closed');
    await page.getByTestId('incident-table').or(page.getByText('No incident is visible to your organisation.')).waitFor();
    expect((await phases()).every((p) => p === 'closed')).toBe(true);
    expect(await listed.count()).toBe(0);
    await page.getByLabel('Phase').selectOption('detection-analysis');
    await listed.waitFor();
    expect(new Set(await phases())).toEqual(new Set(['detection-analysis']));

    // Transfer to Brenova: Aldermark is no longer the owner and loses the owner's controls.
    await page.goto(`${server.baseUrl}/#/incidents/${inc.id}`);
    await page.getByTestId('incident-detail').waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByLabel('Transfer ownership to').selectOption(who.bResp.orgId);
    await page.getByRole('button', { name: 'Transfer' }).click();
    await expect.poll(() => page.getByTestId('incident-owner').textContent(), poll).toBe(who.bResp.short);
    expect(await page.getByTestId('phase-move').count()).toBe(0);
    expect((await rest<Incident>(server.baseUrl, `/incidents/${inc.id}`, { token: who.bResp.token })).ownerOrg).toBe(who.bResp.orgId);
    await ctx.close();
  });

  it('closes an incident in the page with a closing summary that its readers see', async () => {
    const t = who.aResp.token;
    const inc = await rest<Incident & { tasks: { id: string; mandatory: boolean }[] }>(server.baseUrl, '/incidents', {
      token: t, method: 'POST', body: { title: `${tag} Phishing wave closed`, severity: 2, category: 'default' },
    });
    await rest(server.baseUrl, `/incidents/${inc.id}/shares`, { token: t, method: 'POST', body: { shares: [{ orgId: who.bResp.orgId, permission: 'read' }] } });
    for (const task of inc.tasks.filter((x) => x.mandatory)) {
      await rest(server.baseUrl, `/incidents/${inc.id}/tasks/${task.id}/status`, { token: t, method: 'POST', body: { status: 'completed' } });
    }
    const { ctx, page } = await signedIn(who.aResp, `#/incidents/${inc.id}`);
    await page.getByTestId('incident-detail').waitFor();
    const summary = 'True positive: three mailboxes reached, credentials reset, sender domain blocked.';
    await page.getByLabel('Closing summary (with the move to closed)').fill(summary);
    await page.getByRole('button', { name: 'Move to closed' }).click();
    await expect.poll(() => page.getByTestId('incident-phase').textContent(), poll).toBe('closed');
    await expect.poll(() => page.getByTestId('closing-summary').textContent(), poll).toContain(summary);
    const seen = await rest<{ closure: { summary: string } | null }>(server.baseUrl, `/incidents/${inc.id}`, { token: who.bResp.token });
    expect(seen.closure?.summary).toBe(summary);
    await ctx.close();
  });

  it('a representative changes its own alert level on the board, with history', async () => {
    // Brenova's level is whatever the demo left; the test moves it to two other levels in turn.
    const { ctx, page } = await signedIn(who.bRep, '#/alert-levels');
    const own = page.locator(`[data-testid="member-level"][data-org-id="${who.bRep.orgId}"]`);
    await own.waitFor();
    const start = Number(await own.getByTestId('alert-level').getAttribute('data-level'));
    const [high, low] = start === 4 ? [5, 2] : start === 2 ? [4, 3] : [4, 2];
    const changes = await own.getByTestId('level-change').count();
    await page.getByLabel("Your organisation's level").selectOption(String(high));
    await page.getByLabel('Reason').fill(`${tag} wiper campaign against the energy sector`);
    await page.getByRole('button', { name: 'Change level' }).click();
    await expect.poll(() => own.textContent(), poll).toContain(`${tag} wiper campaign against the energy sector`);
    expect(await own.getByTestId('alert-level').getAttribute('data-level')).toBe(String(high));
    await page.getByLabel("Your organisation's level").selectOption(String(low));
    await page.getByLabel('Reason').fill(`${tag} campaign contained`);
    await page.getByRole('button', { name: 'Change level' }).click();
    await expect.poll(() => own.getByTestId('alert-level').getAttribute('data-level'), poll).toBe(String(low));
    await own.locator('summary').click();
    const history = await own.getByTestId('level-change').allTextContents();
    expect(history).toHaveLength(changes + 2);
    expect(history.at(-1)).toContain(`${high} → ${low} — ${tag} campaign contained`);
    // The first change too is kept with its reason (from the default level when there was none).
    expect(history.at(-2)).toMatch(new RegExp(`${start} → ${high} — ${tag} wiper`));
    await ctx.close();

    // A responder sees the board but has no control to change it.
    const responder = await signedIn(who.cResp, '#/alert-levels');
    await responder.page.getByTestId('member-levels').waitFor();
    expect(await responder.page.getByRole('button', { name: 'Change level' }).count()).toBe(0);
    await responder.ctx.close();
  });

  it('a page whose live stream dropped reads its data again once the stream is back (no event of the gap is lost for it)', async () => {
    const { ctx, page } = await signedIn(who.bResp);
    // Every stream this tab opens ends at once, with no event (a proxy that cuts idle connections,
    // a network blip): the tab reconnects with a new ticket every 3 s.
    let streams = 0;
    await page.route('**/api/v1/stream?**', (route) => {
      streams++;
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 3000\n: connected\n\n' });
    });
    // A new document (the session stays): its only streams are these.
    await page.goto(`${server.baseUrl}/#/incidents`);
    await page.reload();
    await page.getByTestId('incident-row').first().waitFor();
    const created = await rest<Incident>(server.baseUrl, '/incidents', {
      token: who.bResp.token, method: 'POST', body: { title: `${tag} declared while the tab's stream was down`, description: 'x', severity: 2, tlp: 'amber' },
    });
    // Its event never reaches the tab; the reconnection makes the list read again, and it shows.
    await page.locator(`[data-testid="incident-row"][data-id="${created.id}"]`).waitFor({ timeout: 20_000 });
    expect(streams).toBeGreaterThanOrEqual(2);
    await ctx.close();
  });
});
