/**
 * Demo content of the respond domain for the demo alliance (src/intel/demo): incidents in
 * several phases and shares, an assistance request with offers, decisions open and settled,
 * an attribution assessment with its ACH matrix, alert levels. All names are invented.
 */
import { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { AccessService } from '../access/index.js';
import type { Store } from '../store/index.js';
import { DEMO_ORGS } from '../intel/demo/alliance.js';
import { createRespond } from './index.js';
import type { AuthedActor } from './repo.js';

export async function createRespondDemo(deps: { store: Store; clock: Clock }): Promise<{ incidents: number; decisions: number }> {
  const access = new AccessService(deps.store, deps.clock);
  const r = createRespond({ store: deps.store, access, clock: deps.clock, bus: new EventBus() });
  const org = async (key: string) => (await access.organisation(DEMO_ORGS.find((o) => o.key === key)!.shortName)).id;
  const as = async (user: string): Promise<AuthedActor> => ({ principal: await access.principalOfUser(user.replace('-', '.')), source: 'demo' });
  const at = (hours: number) => new Date(deps.clock.now() + hours * 3600_000).toISOString();
  const [csirt, ald, brn, crv, dsk, est] = await Promise.all(['csirt', 'ald', 'brn', 'crv', 'dsk', 'est'].map(org));

  // Corvania: a wiper in the grid operator's control network, shared with the CSIRT and Aldermark.
  const crvResp = await as('crv-responder');
  const wiper = await r.incidents.create(crvResp, {
    title: 'Wiper in the Corvania grid operator control network', severity: 4, category: 'apt-intrusion', tlp: 'amber',
    description: 'Engineering workstations of a regional grid operator were wiped; HMI access lost at two substations.',
    occurredAt: at(-30), detectedAt: at(-26), determination: 'confirmed',
  });
  await r.incidents.share(crvResp, wiper.id, [{ orgId: csirt!, permission: 'contribute' }, { orgId: ald!, permission: 'read' }]);
  await r.incidents.addObservable(crvResp, wiper.id, { type: 'ipv4-addr', value: '203.0.113.77', ioc: true, sighted: true });
  await r.incidents.addObservable(crvResp, wiper.id, { type: 'file-sha256', value: '5f2b0c8a9d1e3f4a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c', ioc: true });
  await r.incidents.link(crvResp, wiper.id, 'techniques', ['T0813', 'T0809', 'T1485']);
  await r.incidents.transition(crvResp, wiper.id, 'containment-eradication-recovery');
  // Containment follows scoping and evidence preservation: both are done, the eviction is not.
  const [scope, evidence] = (await r.incidents.get(crvResp, wiper.id)).tasks;
  await r.incidents.setTaskStatus(crvResp, wiper.id, scope!.id, 'completed');
  await r.incidents.setTaskStatus(crvResp, wiper.id, evidence!.id, 'completed');
  await r.incidents.comment(await as('csirt-responder'), wiper.id, 'CSIRT malware lab has the sample; first triage in 4 hours.');

  // Duskmere: a phishing wave against ministries, GREEN so the whole community learns from it.
  const dskResp = await as('dsk-responder');
  const phish = await r.incidents.create(dskResp, { title: 'Credential phishing against Duskmere ministries', severity: 2, category: 'phishing', tlp: 'green', occurredAt: at(-80), detectedAt: at(-72) });
  await r.incidents.addObservable(dskResp, phish.id, { type: 'domain-name', value: 'login-duskmere-gov.example', ioc: true, tlp: 'green' });
  // The response work is done before the incident reaches post-incident activity: its mandatory
  // response tasks are completed (in dependency order), only lessons learned may remain open.
  for (const t of (await r.incidents.get(dskResp, phish.id)).tasks.filter((x) => x.mandatory)) {
    await r.incidents.setTaskStatus(dskResp, phish.id, t.id, 'completed');
  }
  await r.incidents.transition(dskResp, phish.id, 'post-incident-activity');

  // Corvania asks for help; Aldermark and the CSIRT offer; the CSIRT's offer is accepted.
  const req = await r.assistance.request(crvResp, {
    title: 'Malware analysis and forensics for the grid wiper', services: ['malware-analysis', 'artifact-and-forensic-evidence-analysis'],
    urgency: 'immediate', incidentId: wiper.id, routedTo: 'all', offerDeadline: at(48), tlp: 'amber',
  });
  await r.assistance.offer(await as('ald-responder'), req.id, { team: 'Aldermark CERT forensic team', services: ['artifact-and-forensic-evidence-analysis'], capacity: '3 analysts, remote', availableFrom: at(2), availableUntil: at(120) });
  const withCsirt = await r.assistance.offer(await as('csirt-responder'), req.id, { team: 'Alliance CSIRT malware lab', services: ['malware-analysis'], capacity: '2 reverse engineers', availableFrom: at(1), availableUntil: at(96) });
  const csirtOffer = withCsirt.offers.find((o) => o.orgId === csirt)!;
  await r.assistance.decideOffer(crvResp, csirtOffer.id, 'accept');

  // Attribution: Corvania's technical assessment, shared with the CSIRT and the Northern Flank members.
  const crvAnalyst = await as('crv-analyst');
  let a = await r.attribution.create(crvAnalyst, { title: 'Who wiped the grid operator?', incidentId: wiper.id, tlp: 'amber', recipients: [csirt!, ald!, brn!] });
  a = await r.attribution.addHypothesis(crvAnalyst, a.id, { label: 'GREY HERON (state-affiliated intrusion set)' });
  a = await r.attribution.addHypothesis(crvAnalyst, a.id, { label: 'Criminal ransomware affiliate' });
  a = await r.attribution.addEvidence(crvAnalyst, a.id, { description: 'Wiper shares code with a 2024 GREY HERON tool', reliability: 'B', credibility: 2, relevance: 'high' });
  a = await r.attribution.addEvidence(crvAnalyst, a.id, { description: 'No ransom note, no payment channel', reliability: 'A', credibility: 1, relevance: 'medium' });
  const [h1, h2] = a.hypotheses;
  const [e1, e2] = a.evidence;
  await r.attribution.rate(crvAnalyst, a.id, [
    { evidenceId: e1!.id, hypothesisId: h1!.id, rating: 'CC' }, { evidenceId: e1!.id, hypothesisId: h2!.id, rating: 'I' },
    { evidenceId: e2!.id, hypothesisId: h1!.id, rating: 'C' }, { evidenceId: e2!.id, hypothesisId: h2!.id, rating: 'II' },
  ]);
  await r.attribution.judge(crvAnalyst, a.id, { hypothesisId: h1!.id, likelihood: 'likely', confidence: 'moderate', rationale: 'Code reuse and the absence of any monetisation.' });

  // Decisions: an open silence procedure on the alliance alert level, and a settled consensus round.
  const csirtRep = await as('csirt-rep');
  await r.decisions.propose(csirtRep, {
    title: 'Raise the alliance cyber alert level to ELEVATED', kind: 'alert-level', procedure: 'silence', participants: [ald!, brn!, crv!, dsk!, est!],
    deadline: at(36), text: 'In view of the destructive attack on Corvania\'s grid, the alliance cyber alert level is raised to ELEVATED.',
    effect: { type: 'alert-level', scope: 'alliance', level: 3 },
  });
  const joint = await r.decisions.propose(await as('crv-rep'), {
    title: 'Joint blocking of the wiper infrastructure', kind: 'collective-response', procedure: 'consensus', participants: [ald!, brn!, csirt!],
    deadline: at(24), text: 'Members block the listed infrastructure at national level within 24 hours.',
  });
  for (const u of ['crv-rep', 'ald-rep', 'brn-rep', 'csirt-rep']) await r.decisions.position(await as(u), joint.id, 'concur');

  await r.levels.setOwn(await as('crv-rep'), 4, 'Destructive attack on the grid');
  await r.levels.setOwn(await as('dsk-rep'), 2, 'Phishing wave against ministries');
  return { incidents: 2, decisions: 2 };
}
