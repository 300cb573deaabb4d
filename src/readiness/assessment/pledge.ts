/**
 * The alliance's own pledge framework, shipped with the product: seven areas after the
 * commitments of the Cyber Defence Pledge (Warsaw 2016), each with a few outcomes written for
 * Shieldwall (not copied from any published questionnaire), scored on a 0–5 maturity scale.
 */
import { MATURITY_0_5, type Framework } from './framework.js';

const AREAS: [string, string, [string, string][]][] = [
  ['CAP', 'Capabilities', [
    ['CAP-1', 'Basic cyber hygiene (patching, backups, least privilege) is applied across national networks'],
    ['CAP-2', 'A national CERT/CSIRT detects and handles incidents around the clock'],
    ['CAP-3', 'Capabilities to defend critical networks against advanced threats are in place'],
  ]],
  ['RES', 'Resources', [
    ['RES-1', 'Cyber defence has a dedicated, multi-year budget line'],
    ['RES-2', 'Staffing of cyber defence functions matches the agreed plan'],
  ]],
  ['STK', 'National stakeholders', [
    ['STK-1', 'Roles of national cyber defence stakeholders are defined and known'],
    ['STK-2', 'Stakeholders exchange incident information under an agreed procedure'],
  ]],
  ['THR', 'Threat understanding', [
    ['THR-1', 'Threat intelligence is collected, assessed and shared with allies'],
    ['THR-2', 'Exposure to known exploited vulnerabilities is tracked'],
  ]],
  ['SKL', 'Skills and awareness', [
    ['SKL-1', 'Staff with privileged access receive regular security training'],
    ['SKL-2', 'Leadership is briefed on cyber risk at least yearly'],
  ]],
  ['EDU', 'Education, training and exercises', [
    ['EDU-1', 'National cyber exercises run at least yearly, with allies where possible'],
    ['EDU-2', 'Lessons from exercises are tracked to completion'],
  ]],
  ['IMP', 'Implementation of commitments', [
    ['IMP-1', 'Alliance cyber defence commitments have a national owner and a plan'],
    ['IMP-2', 'Progress is self-assessed every year and reported to the alliance'],
  ]],
];

export const PLEDGE_FRAMEWORK: Framework = {
  key: 'pledge-2016', title: 'Alliance Cyber Defence Pledge areas', version: '1', source: 'shieldwall', scale: MATURITY_0_5,
  groups: AREAS.map(([id, title]) => ({ id, title })),
  categories: AREAS.map(([id, title]) => ({ id, title, group: id })),
  items: AREAS.flatMap(([g, , items]) => items.map(([id, text]) => ({ id, text, group: g, category: g }))),
};
