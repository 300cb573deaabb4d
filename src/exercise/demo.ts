/**
 * The demo exercise of the demo alliance (src/intel/demo): "Cold Harbour", a storyline in the
 * spirit of Cyber Coalition — collective, three member teams (Aldermark, Corvania, Duskmere),
 * the Alliance CSIRT as exercise control. Every inject type, one conditional inject, and
 * technical injects that the demo's own detection content catches: the Sigma rules of the
 * detection demo (whoami discovery, encoded PowerShell) for every team, the GREEN PALEFERN C2
 * indicator for every team, and Duskmere's AMBER+STRICT SILENT TIDE range, which only Duskmere
 * holds — so Aldermark and Corvania miss that beacon and get the contingency inject. The run is
 * created scheduled at 60×; control (csirt.excon) launches it from the web app or the CLI.
 */
import type { Clock } from '../core/clock.js';
import { EventBus } from '../core/bus.js';
import { AccessService } from '../access/index.js';
import type { Store } from '../store/index.js';
import { DEMO_ORGS } from '../intel/demo/alliance.js';
import { ExerciseService } from './service.js';
import type { Scenario } from './model.js';

export function demoScenario(orgs: { ald: string; crv: string; dsk: string }): Scenario {
  const all: string[] = [];
  return {
    name: 'Cold Harbour', category: 'attack-scenario',
    storyline: 'A state-affiliated intrusion set (PALEFERN) and a scanning campaign (SILENT TIDE) hit ports and ministries of three members while '
      + 'a media campaign questions the alliance. Teams detect, declare incidents, share indicators, ask for assistance and report to control.',
    objectives: [
      { id: 'obj-sa', title: 'Situational awareness: detect the intrusions', priority: 'high' },
      { id: 'obj-share', title: 'Share cyber intelligence with the alliance', priority: 'high' },
      { id: 'obj-im', title: 'Cyber incident management and reporting', priority: 'medium' },
    ],
    teams: [
      { id: 'ald', name: 'Aldermark CERT', orgs: [orgs.ald] },
      { id: 'crv', name: 'Corvania NCSC', orgs: [orgs.crv] },
      { id: 'dsk', name: 'Duskmere CERT', orgs: [orgs.dsk] },
    ],
    variables: [{ key: 'port_host', value: 'ws-harbour-07' }],
    lessons: [{ id: 'lc-1', name: 'Detection', questions: [{ id: 'lq-1', content: 'Did your detection content catch the intrusion in time?' }] }],
    injects: [
      { id: 'startex', title: 'STARTEX: exercise brief', offsetSeconds: 60, type: 'communication', teams: all, payload: { kind: 'communication', channel: 'email', from: 'EXCON Cold Harbour', subject: 'STARTEX', body: 'Cold Harbour starts now. Play through your normal tools; everything you do is tagged with the exercise.' }, expectations: [] },
      {
        id: 'discovery', title: 'Discovery on a port workstation (T1033, Atomic Red Team)', offsetSeconds: 600, type: 'technical', teams: all,
        payload: { kind: 'technical', technique: 'T1033', host: 'ws-harbour-07', atomic: { technique: 'T1033', name: 'System Owner/User Discovery', executor: { name: 'command_prompt', command: 'whoami /all\nquser' } } },
        expectations: [{ name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['obj-sa'], match: { ruleRef: 'Whoami execution (discovery)' } }],
      },
      {
        id: 'encoded-ps', title: 'Encoded PowerShell stager (T1059.001, Caldera ability)', offsetSeconds: 1200, type: 'technical', teams: all,
        payload: { kind: 'technical', technique: 'T1059.001', caldera: { name: 'Encoded stager', tactic: 'execution', technique: { attack_id: 'T1059.001', name: 'PowerShell' }, platforms: { windows: { psh: { command: 'powershell.exe -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=' } } } } },
        expectations: [{ name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['obj-sa'] }],
      },
      {
        id: 'palefern-c2', title: 'Beacon to the PALEFERN C2', offsetSeconds: 1800, type: 'technical', teams: all,
        payload: { kind: 'technical', technique: 'T1071.001', network: [{ destIp: '198.51.100.23', destPort: 443 }] },
        expectations: [
          { name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['obj-sa'] },
          { name: 'Incident', type: 'INCIDENT', expectedScore: 100, expirySeconds: 7200, validation: 'any', objectives: ['obj-im'], match: { minSeverity: 2 } },
        ],
      },
      {
        id: 'tide-scan', title: 'SILENT TIDE scanning from 203.0.113.0/24', offsetSeconds: 2400, type: 'technical', teams: all,
        payload: { kind: 'technical', technique: 'T1595', network: [{ destIp: '203.0.113.50', destPort: 22 }] },
        expectations: [{ name: 'Detection', type: 'DETECTION', expectedScore: 100, expirySeconds: 1800, validation: 'any', objectives: ['obj-sa'] }],
      },
      {
        id: 'tide-tipoff', title: 'Contingency: Duskmere tips you off about SILENT TIDE', offsetSeconds: 4500, type: 'communication', teams: all,
        dependsOn: [{ parent: 'tide-scan', mode: 'and', conditions: [{ key: 'Detection', value: false }] }],
        payload: { kind: 'communication', channel: 'phone', from: 'Duskmere CERT duty officer', subject: 'SILENT TIDE', body: 'We see SILENT TIDE scanning your address space from 203.0.113.0/24. Check your perimeter.' }, expectations: [],
      },
      {
        id: 'advisory', title: 'CSIRT advisory: PALEFERN infrastructure', offsetSeconds: 3000, type: 'intel', teams: all,
        payload: {
          kind: 'intel', title: 'PALEFERN infrastructure (exercise advisory)',
          bundle: { type: 'bundle', id: 'bundle--0c0ffee0-0000-4000-8000-00000000c01d', objects: [{ type: 'indicator', spec_version: '2.1', id: 'indicator--0c0ffee0-0000-4000-8000-00000000c01e', created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'PALEFERN staging (exercise)', pattern: "[domain-name:value = 'harbour-update.example']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z' }] },
        },
        expectations: [{ name: 'Sharing', type: 'SHARING', expectedScore: 100, expirySeconds: 7200, validation: 'any', objectives: ['obj-share'] }],
      },
      {
        id: 'media', title: 'Media article: "Alliance ports blind to cyber attack"', offsetSeconds: 3600, type: 'communication', teams: all,
        payload: { kind: 'communication', channel: 'media', from: 'Harbour Herald', subject: 'Alliance ports blind to cyber attack', body: 'Sources say port authorities have not noticed intrusions for weeks. A spokesperson declined to comment.' },
        expectations: [{ name: 'Media line', type: 'MANUAL', expectedScore: 50, expirySeconds: 7200, validation: 'any', objectives: ['obj-im'], description: 'A holding statement, graded by control.' }],
      },
      {
        id: 'assist', title: 'Request assistance for forensics', offsetSeconds: 4200, type: 'prompt', teams: ['crv'],
        payload: { kind: 'prompt', action: 'request-assistance', text: 'Your forensic team is saturated: ask the alliance for artefact analysis.' },
        expectations: [{ name: 'Assistance', type: 'ASSISTANCE', expectedScore: 100, expirySeconds: 7200, validation: 'any', objectives: ['obj-im'] }],
      },
      {
        id: 'sitrep', title: 'Situation report to EXCON', offsetSeconds: 5400, type: 'prompt', teams: all,
        payload: { kind: 'prompt', action: 'publish-sitrep', text: 'Send your situation report: what you saw, what you did, what you need.' },
        expectations: [{ name: 'Sitrep', type: 'REPORT', expectedScore: 100, expirySeconds: 3600, validation: 'any', objectives: ['obj-im'] }],
      },
    ],
  };
}

/** Creates the demo scenario and a scheduled run at 60× as the CSIRT's exercise control. */
export async function createExerciseDemo(deps: { store: Store; clock: Clock }): Promise<{ scenarioId: string; exerciseId: string; injects: number }> {
  const access = new AccessService(deps.store, deps.clock);
  const ex = new ExerciseService({ store: deps.store, access, clock: deps.clock, bus: new EventBus(), ingest: { ingest: async () => { throw new Error('not running'); } }, passive: true });
  const org = async (key: string) => (await access.organisation(DEMO_ORGS.find((o) => o.key === key)!.shortName)).id;
  const actor = { principal: await access.principalOfUser('csirt.excon'), source: 'demo' };
  const sc = demoScenario({ ald: await org('ald'), crv: await org('crv'), dsk: await org('dsk') });
  const rec = await ex.createScenario(actor, sc);
  const run = await ex.createRun(actor, { scenarioId: rec.id, name: 'Cold Harbour 2026', speed: 60 });
  return { scenarioId: rec.id, exerciseId: run.id, injects: sc.injects.length };
}
