/**
 * Demo telemetry for the demo alliance: a sensor per member (Aldermark, Duskmere, Estravia),
 * two hours of ordinary Suricata EVE and Sysmon traffic with a few events that hit the demo
 * intelligence and two alliance Sigma rules, sent through the real ingestion path and processed
 * by the real pipeline — so the operational picture has something to show after `npm start`.
 * Corvania and Brenova get no demo telemetry: their users see the picture fill from their own.
 */
import type { AccessService, Principal } from '../../access/index.js';
import type { Clock } from '../../core/clock.js';
import { prng } from '../../core/random.js';
import type { Store } from '../../store/index.js';
import type { DetectService } from './service.js';

/** What the demo needs of the Sigma rules service. */
export interface DemoRules {
  add(actor: { principal: Principal; source: string }, r: { yaml: string; tlp?: 'green' }): Promise<unknown>;
}

const WHOAMI = `title: Whoami execution (discovery)
id: 0b6f1f4e-6a53-4d7c-9a51-3f1d2f7c9e01
status: stable
description: whoami run on a server is rare outside hands-on-keyboard discovery.
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
level: medium
tags:
  - attack.discovery
  - attack.t1033
`;

const ENCODED_PS = `title: PowerShell with an encoded command
id: 0b6f1f4e-6a53-4d7c-9a51-3f1d2f7c9e02
status: stable
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\powershell.exe'
    CommandLine|contains:
      - ' -enc '
      - ' -EncodedCommand '
  condition: selection
level: high
tags:
  - attack.execution
  - attack.t1059.001
`;


const BENIGN_DOMAINS = ['www.example.org', 'updates.vendor.example', 'mail.gov.example', 'cdn.news.example', 'login.cloud.example'];
const BENIGN_IPS = ['93.184.216.34', '151.101.1.69', '140.82.112.3', '104.16.132.229', '13.107.42.14'];

interface Plan {
  readonly short: string;
  readonly net: string;
  /** Extra events that should hit demo intelligence or rules. */
  readonly hits: (at: (minAgo: number) => string) => Record<string, unknown>[];
}

const PLANS: readonly Plan[] = [
  {
    short: 'ALD-CERT', net: '10.10',
    hits: (at) => [
      { timestamp: at(95), event_type: 'dns', src_ip: '10.10.4.21', src_port: 53211, dest_ip: '10.10.0.53', dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: 'update-ministry-portal.example', rrtype: 'A' } },
      { timestamp: at(94), event_type: 'flow', src_ip: '10.10.4.21', src_port: 50412, dest_ip: '198.51.100.23', dest_port: 443, proto: 'TCP', flow: { pkts_toserver: 12, bytes_toserver: 2210 } },
      { timestamp: at(35), event_type: 'flow', src_ip: '10.10.4.21', src_port: 50977, dest_ip: '198.51.100.23', dest_port: 443, proto: 'TCP', flow: { pkts_toserver: 9, bytes_toserver: 1620 } },
    ],
  },
  {
    short: 'DSK-CERT', net: '10.20',
    hits: (at) => [0, 1, 2, 3, 4, 5].map((i) => ({ timestamp: at(70 - i * 9), event_type: 'flow', src_ip: `203.0.113.${40 + i}`, src_port: 40000 + i, dest_ip: '10.20.1.10', dest_port: 3389, proto: 'TCP', flow: { pkts_toserver: 3 } })),
  },
  {
    short: 'EST-CDA', net: '10.40',
    hits: (at) => [
      { EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': at(50), Hostname: 'est-fs-02', Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /priv', ParentImage: 'C:\\Windows\\System32\\cmd.exe', User: 'EST\\svc-backup' },
      { EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': at(48), Hostname: 'est-fs-02', Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', CommandLine: 'powershell.exe -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=', ParentImage: 'C:\\Windows\\System32\\cmd.exe', User: 'EST\\svc-backup' },
      { timestamp: at(47), event_type: 'flow', src_ip: '10.40.2.8', src_port: 51000, dest_ip: '198.51.100.99', dest_port: 443, proto: 'TCP', flow: { pkts_toserver: 4 } },
    ],
  },
];

export interface DetectDemoResult {
  readonly sensors: number;
  readonly events: number;
  readonly rules: number;
  readonly alerts: number;
}

/** Runs the demo telemetry through ingestion and detection (on a node where the demo alliance was just created). */
export async function createDetectDemo(d: { store: Store; access: AccessService; clock: Clock; detect: DetectService; rules?: DemoRules }): Promise<DetectDemoResult> {
  const orgs = await d.store.listOrganisations();
  const csirt = orgs.find((o) => o.kind === 'alliance-body');
  let rules = 0;
  if (d.rules && csirt) {
    const analyst = (await d.store.listUsers(csirt.id)).find((u) => u.roles.includes('analyst') || u.roles.includes('admin'));
    if (analyst) {
      const principal = await d.access.principalOfUser(analyst.username);
      for (const yaml of [WHOAMI, ENCODED_PS]) {
        await d.rules.add({ principal, source: 'demo' }, { yaml, tlp: 'green' });
        rules++;
      }
    }
  }
  await d.detect.sync();
  const now = d.clock.now();
  const at = (minAgo: number) => new Date(now - minAgo * 60_000).toISOString();
  const rand = prng(20261126); // every demo node looks the same
  let sensors = 0;
  let events = 0;
  for (const plan of PLANS) {
    const org = orgs.find((o) => o.shortName === plan.short);
    if (!org) continue;
    const issued = await d.access.createToken({ principal: null, source: 'demo' }, { orgId: org.id, kind: 'sensor', name: `${plan.short.toLowerCase()}-ids-1` });
    const principal = await d.access.authenticateToken(issued.token, 'demo');
    sensors++;
    const lines: string[] = [];
    for (let i = 0; i < 240; i++) {
      const minAgo = 120 * rand();
      const host = `${plan.net}.${1 + Math.floor(rand() * 4)}.${10 + Math.floor(rand() * 40)}`;
      lines.push(JSON.stringify(rand() < 0.5
        ? { timestamp: at(minAgo), event_type: 'dns', src_ip: host, src_port: 40000 + i, dest_ip: `${plan.net}.0.53`, dest_port: 53, proto: 'UDP', dns: { type: 'query', rrname: BENIGN_DOMAINS[i % BENIGN_DOMAINS.length], rrtype: 'A' } }
        : { timestamp: at(minAgo), event_type: 'flow', src_ip: host, src_port: 40000 + i, dest_ip: BENIGN_IPS[i % BENIGN_IPS.length], dest_port: 443, proto: 'TCP', flow: { pkts_toserver: 5 + (i % 20) } }));
    }
    for (const e of plan.hits(at)) lines.push(JSON.stringify(e));
    // In pieces the queue takes, drained in between (a node may run with a small SHIELDWALL_INGEST_QUEUE).
    const piece = Math.max(1, Math.min(100, d.detect.options.queueCapacity));
    for (let i = 0; i < lines.length; i += piece) {
      const r = await d.detect.ingest(principal, lines.slice(i, i + piece).join('\n'), { format: 'auto', sensorId: `${plan.short.toLowerCase()}-ids-1` });
      events += r.accepted;
      await d.detect.drain();
    }
  }
  await d.detect.drain();
  const alerts = (await d.store.listAlertFacts({ sinceUs: 0, exerciseId: null, limit: 10_000 })).length;
  return { sensors, events, rules, alerts };
}
