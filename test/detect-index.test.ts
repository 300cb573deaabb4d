/**
 * The STIX indicator index: real EVE events against indicators built from their own values,
 * Zeek's intel baseline (every covering indicator is reported), agreement with a brute-force
 * `evaluatePattern` of every indicator (property-based, including sequences over the window),
 * visibility per organisation, validity, and incremental add / remove / replace.
 */
import { stateScope } from '../src/detect/scope.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchIndicatorMatching, compilePattern, compileSimple, IndicatorIndex, observationOf } from '../src/detect/indicators/index.js';
import type { IndicatorInput, Release } from '../src/detect/indicators/index.js';
import { normaliseLine } from '../src/detect/normalise/index.js';
import type { NormalisedEvent } from '../src/detect/normalise/index.js';
import { evaluatePattern, parsePattern } from '../src/stix/pattern/index.js';
import type { Observation, PatternAst } from '../src/stix/pattern/index.js';
import { sharedPath } from './helpers/shared.js';

const data = sharedPath('data/telemetry');
const ctx = { orgId: 'org-a', sensorId: 'sensor-1' };
const FROM = '2000-01-01T00:00:00Z';

function indicator(id: string, pattern: string, extra: Partial<IndicatorInput> = {}): IndicatorInput {
  return { id, pattern, pattern_type: 'stix', valid_from: FROM, ...extra };
}

function ids(matches: readonly { indicatorId: string }[]): string[] {
  return [...new Set(matches.map((m) => m.indicatorId))].sort();
}

function ecsEvent(fields: Record<string, unknown>, orgId = 'org-a'): NormalisedEvent {
  const r = normaliseLine('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', ...fields }), { orgId, sensorId: 's' });
  if (!r.ok) throw new Error(r.error);
  return r.event;
}

describe('real Suricata EVE events', () => {
  const raw = readFileSync(path.join(data, 'suricata-eve/surevego/testdata/eve.json'), 'utf8').split('\n').filter((l) => l !== '');
  const records = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = raw.map((l) => {
    const r = normaliseLine('suricata-eve', l, ctx);
    if (!r.ok) throw new Error(r.error);
    return r.event;
  });

  /** Values of a raw EVE record, read independently of the normaliser. */
  function rawValues(rec: Record<string, unknown>): { ips: Set<string>; domains: Set<string>; urls: Set<string> } {
    const ips = new Set<string>();
    const domains = new Set<string>();
    const urls = new Set<string>();
    for (const k of ['src_ip', 'dest_ip']) if (typeof rec[k] === 'string') ips.add(rec[k]);
    const http = rec['http'] as Record<string, unknown> | undefined;
    if (http !== undefined && typeof http['hostname'] === 'string') {
      domains.add(http['hostname']);
      if (typeof http['url'] === 'string') urls.add(`http://${http['hostname']}${http['url']}`);
    }
    const dns = rec['dns'] as Record<string, unknown> | undefined;
    if (dns !== undefined) {
      if (typeof dns['rrname'] === 'string') domains.add(dns['rrname']);
      if (dns['rrtype'] === 'A' && dns['type'] === 'answer' && typeof dns['rdata'] === 'string') ips.add(dns['rdata']);
    }
    return { ips, domains, urls };
  }

  it('matches every event against indicators built from the sample values, and nothing else', () => {
    const index = new IndicatorIndex();
    const all = records.map(rawValues);
    const ipSet = new Set(all.flatMap((v) => [...v.ips]));
    const domainSet = new Set(all.flatMap((v) => [...v.domains]));
    const urlSet = new Set(all.flatMap((v) => [...v.urls]));
    for (const ip of ipSet) {
      const type = ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
      expect(index.add(indicator(`ip:${ip}`, `[${type}:value = '${ip}']`), ['org-a']).ok).toBe(true);
    }
    for (const d of domainSet) expect(index.add(indicator(`domain:${d}`, `[domain-name:value = '${d}']`), ['org-a']).ok).toBe(true);
    for (const u of urlSet) expect(index.add(indicator(`url:${u}`, `[url:value = '${u.replaceAll("'", "\\'")}']`), ['org-a']).ok).toBe(true);
    expect(index.stats().exact.keys).toBe(ipSet.size + domainSet.size + urlSet.size);
    let matched = 0;
    events.forEach((e, i) => {
      const v = all[i];
      if (v === undefined) throw new Error('missing');
      const expected = [...[...v.ips].map((x) => `ip:${x}`), ...[...v.domains].map((x) => `domain:${x}`), ...[...v.urls].map((x) => `url:${x}`)].sort();
      const got = ids(index.match(e));
      expect(got, raw[i]).toEqual(expected);
      if (got.length > 0) matched++;
    });
    expect(matched).toBe(265); // all but the stats record
  });

  it('reports CIDR and exact indicators for the same address, with the path and value that hit', () => {
    const index = new IndicatorIndex();
    index.add(indicator('net', "[ipv4-addr:value ISSUBSET '172.17.0.0/16']"), ['org-a']);
    index.add(indicator('host', "[ipv4-addr:value = '172.17.0.2']"), ['org-a']);
    index.add(indicator('alert-flow', "[network-traffic:dst_port = 80 AND network-traffic:dst_ref.value = '54.230.202.37']"), ['org-a']);
    const expectedNet = records.filter((r) => String(r['src_ip']).startsWith('172.17.') || String(r['dest_ip']).startsWith('172.17.')).length;
    const expectedFlow = records.filter((r) => r['dest_ip'] === '54.230.202.37' && r['dest_port'] === 80).length;
    let net = 0;
    let flow = 0;
    for (const e of events) {
      const m = index.match(e);
      const n = m.find((x) => x.indicatorId === 'net');
      if (n !== undefined) {
        net++;
        expect(n.via).toBe('cidr');
        expect(n.path).toBe('ipv4-addr:value');
        expect(String(n.value)).toMatch(/^172\.17\./);
        expect(m.some((x) => x.indicatorId === 'host')).toBe(e['source.ip'] === '172.17.0.2' || e['destination.ip'] === '172.17.0.2');
      }
      if (m.some((x) => x.indicatorId === 'alert-flow' && x.via === 'pattern')) flow++;
    }
    expect(net).toBe(expectedNet);
    expect(flow).toBe(expectedFlow);
    expect(flow).toBeGreaterThan(0);
  });
});

describe('one text per address, name and digest (sensors and feeds write them differently)', () => {
  const eveLines = readFileSync(path.join(data, 'suricata-eve/surevego/testdata/eve.json'), 'utf8').split('\n').filter((l) => l !== '');
  const otrf = readFileSync(path.join(data, 'otrf-security-datasets/datasets/atomic/windows/credential_access/host/cmd_psexec_lsa_secrets_dump_2020-10-1903305471.json'), 'utf8').split('\n');
  const event = (format: 'suricata-eve' | 'windows' | 'zeek' | 'ecs' | 'cef', line: string): NormalisedEvent => {
    const r = normaliseLine(format, line, ctx);
    if (!r.ok) throw new Error(r.error);
    return r.event;
  };

  it('matches the real Suricata IPv6 lines (every group written in full) with indicators in RFC 5952 or any other form', () => {
    // surevego writes "fe80:0000:0000:0000:0042:95ff:fea2:534a"; feeds write "fe80::42:95ff:fea2:534a".
    const index = new IndicatorIndex();
    index.add(indicator('short', "[ipv6-addr:value = 'fe80::42:95ff:fea2:534a']"), ['org-a']);
    index.add(indicator('upper', "[ipv6-addr:value = 'FE80:0:0:0:42:95FF:FEA2:534A']"), ['org-a']);
    index.add(indicator('mcast', "[ipv6-addr:value IN ('ff02::2', 'ff02::fb')]"), ['org-a']);
    index.add(indicator('flow', "[network-traffic:src_ref.value = 'fe80::42:95ff:fea2:534a' AND network-traffic:dst_ref.value IN ('FF02::2', 'ff02:0:0:0:0:0:0:fb')]"), ['org-a']);
    const v6 = eveLines.filter((l) => l.includes('"src_ip":"fe80:0000:0000:0000:0042:95ff:fea2:534a"'));
    expect(v6.length).toBe(2);
    for (const l of v6) {
      const e = event('suricata-eve', l);
      expect(e['source.ip']).toBe('fe80::42:95ff:fea2:534a');
      expect(ids(index.match(e))).toEqual(['flow', 'mcast', 'short', 'upper']);
    }
    const mdns = eveLines.find((l) => l.includes('"dest_ip":"ff02:0000:0000:0000:0000:0000:0000:00fb"'));
    expect(mdns).toBeDefined();
    expect(ids(index.match(event('suricata-eve', mdns ?? '')))).toContain('mcast');
  });

  it('gives Sysmon\'s "fe80:0:0:0:…" and the Security log\'s "fe80::…" of one real capture the same address', () => {
    const index = new IndicatorIndex();
    index.add(indicator('host', "[ipv6-addr:value = 'fe80::90e:17af:263c:5209']"), ['org-a']);
    const sysmon = otrf.find((l) => l.includes('"SourceIp":"fe80:0:0:0:90e:17af:263c:5209"'));
    const security = otrf.find((l) => l.includes('"IpAddress":"fe80::90e:17af:263c:5209"'));
    for (const l of [sysmon, security]) {
      expect(l).toBeDefined();
      const e = event('windows', l ?? '');
      expect(e['source.ip']).toBe('fe80::90e:17af:263c:5209');
      expect(index.match(e).map((m) => [m.indicatorId, m.value])).toEqual([['host', 'fe80::90e:17af:263c:5209']]);
    }
  });

  it('reads an IPv4-mapped client address (Windows logon events) as the IPv4 address', () => {
    const index = new IndicatorIndex();
    index.add(indicator('client', "[ipv4-addr:value = '10.0.0.5']"), ['org-a']);
    index.add(indicator('net', "[ipv4-addr:value ISSUBSET '10.0.0.0/24']"), ['org-a']);
    const e = event('windows', JSON.stringify({ Channel: 'Security', EventID: 4625, TimeCreated: '2024-06-01T12:00:00Z', TargetUserName: 'admin', IpAddress: '::ffff:10.0.0.5', IpPort: '51234' }));
    expect(e['source.ip']).toBe('10.0.0.5');
    expect(ids(index.match(e))).toEqual(['client', 'net']);
  });

  it('matches domain names without case: a DNS 0x20 query, a mixed-case Host header or SNI, and a feed in capitals', () => {
    const index = new IndicatorIndex();
    index.add(indicator('lower', "[domain-name:value = 'www.evil.example']"), ['org-a']);
    index.add(indicator('upper', "[domain-name:value = 'WWW.EVIL.EXAMPLE']"), ['org-a']);
    index.add(indicator('like', "[domain-name:value LIKE '%.EVIL.example']"), ['org-a']);
    index.add(indicator('re', "[domain-name:value MATCHES '^WWW\\\\.evil\\\\.']"), ['org-a']);
    index.add(indicator('keyed', "[domain-name:value = 'Www.Evil.Example' AND domain-name:value != 'good.example']"), ['org-a']);
    index.add(indicator('url', "[url:value = 'http://www.evil.example/a']"), ['org-a']);
    const all = ['keyed', 'like', 'lower', 're', 'upper'];
    const base = { timestamp: '2024-06-01T12:00:00.000000+0000', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '10.0.0.53', dest_port: 53, proto: 'UDP' };
    const dns = event('suricata-eve', JSON.stringify({ ...base, event_type: 'dns', dns: { type: 'query', id: 1, rrname: 'wWw.EvIL.exAMple', rrtype: 'A' } }));
    expect(dns['dns.question.name']).toBe('www.evil.example');
    expect(ids(index.match(dns))).toEqual(all);
    const http = event('suricata-eve', JSON.stringify({ ...base, dest_port: 80, proto: 'TCP', event_type: 'http', http: { hostname: 'WWW.EVIL.EXAMPLE', url: '/a', http_method: 'GET' } }));
    expect(ids(index.match(http))).toEqual([...all, 'url'].sort());
    const tls = event('zeek', JSON.stringify({ _path: 'ssl', ts: 1717243200, 'id.orig_h': '10.0.0.1', 'id.orig_p': 1, 'id.resp_h': '10.0.0.2', 'id.resp_p': 443, server_name: 'Www.Evil.Example' }));
    expect(ids(index.match(tls))).toEqual(all);
    const ecs = event('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', dns: { question: { name: 'WWW.evil.EXAMPLE' } } }));
    expect(ids(index.match(ecs))).toEqual(all);
  });

  it('writes a URL with the Host header\'s port as a browser does (http\'s 80 omitted): EVE http_port, Zeek host', () => {
    // Before, url.full of EVE lost http.http_port: [url:value = 'http://host:8080/x'] never matched.
    const index = new IndicatorIndex();
    const line = eveLines.find((l) => l.includes('"event_type":"http"')) ?? '';
    const rec = JSON.parse(line) as { http: { hostname: string; url: string } };
    const url = `${rec.http.hostname}${rec.http.url}`;
    index.add(indicator('8080', `[url:value = 'http://${rec.http.hostname}:8080${rec.http.url}']`), ['org-a']);
    index.add(indicator('80', `[url:value = 'http://${url}']`), ['org-a']);
    const port = (n: number): string => line.replace('"hostname":', `"http_port":${n},"hostname":`);
    const on8080 = event('suricata-eve', port(8080));
    expect(on8080['url.port']).toBe(8080);
    expect(ids(index.match(on8080))).toEqual(['8080']);
    expect(ids(index.match(event('suricata-eve', port(80))))).toEqual(['80']);
    expect(ids(index.match(event('suricata-eve', line)))).toEqual(['80']);
    const zeek = (host: string): NormalisedEvent => event('zeek', JSON.stringify({ _path: 'http', ts: 1717243200, 'id.orig_h': '10.0.0.1', 'id.orig_p': 1, 'id.resp_h': '10.0.0.2', 'id.resp_p': 8080, method: 'GET', host, uri: rec.http.url }));
    const z = zeek(`${rec.http.hostname}:8080`);
    expect(z['url.domain']).toBe(rec.http.hostname);
    expect(ids(index.match(z))).toEqual(['8080']);
    expect(ids(index.match(zeek(`${rec.http.hostname}:80`)))).toEqual(['80']);
  });

  it('matches an ECS address written as a list: each address, a list of one as the connection end', () => {
    const index = new IndicatorIndex();
    for (const ip of ['10.0.0.5', '10.0.0.9', '203.0.113.7']) index.add(indicator(ip, `[ipv4-addr:value = '${ip}']`), ['org-a']);
    index.add(indicator('v6', "[ipv6-addr:value = 'fe80::1']"), ['org-a']);
    index.add(indicator('src', "[network-traffic:src_ref.value = '10.0.0.5' AND network-traffic:dst_port = 443]"), ['org-a']);
    const ecs = (fields: Record<string, unknown>): NormalisedEvent => event('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', ...fields }));
    expect(ids(index.match(ecs({ source: { ip: ['10.0.0.5'] }, destination: { port: 443 } })))).toEqual(['10.0.0.5', 'src']);
    expect(ids(index.match(ecs({ 'source.ip': ['10.0.0.5', '10.0.0.9'], 'destination.ip': ['FE80::0:1'] })))).toEqual(['10.0.0.5', '10.0.0.9', 'v6']);
    expect(ids(index.match(ecs({ dns: { resolved_ip: '203.0.113.7' } })))).toEqual(['203.0.113.7']);
  });

  it('keys every digest a normaliser stores: CEF and ECS SHA-512, ECS SSDEEP / TLSH / certificate hashes, the Sysmon IMPHASH', () => {
    // Before, a CEF fileHash of 128 hex digits was stored as file.hash.sha512 but never matched.
    const index = new IndicatorIndex();
    const sha512 = `${'ab'.repeat(32)}${'cd'.repeat(32)}`;
    index.add(indicator('sha512', `[file:hashes.'SHA-512' = '${sha512.toUpperCase()}']`), ['org-a']);
    index.add(indicator('tlsh', "[file:hashes.TLSH = 'T1A2B3']"), ['org-a']);
    index.add(indicator('ssdeep', "[file:hashes.SSDEEP = '3:AbC:dEf']"), ['org-a']);
    index.add(indicator('cert', `[x509-certificate:hashes.'SHA-512' = '${sha512}']`), ['org-a']);
    const cef = event('cef', `CEF:0|Vendor|AV|1.0|100|Malware found|8|fname=C:\\\\x\\\\evil.exe fileHash=${sha512}`);
    expect(cef['file.hash.sha512']).toBe(sha512);
    expect(ids(index.match(cef))).toEqual(['sha512']);
    const ecs = event('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', file: { hash: { sha512: sha512.toUpperCase(), ssdeep: '3:AbC:dEf', tlsh: 'T1A2B3' } } }));
    expect(ids(index.match(ecs))).toEqual(['sha512', 'ssdeep', 'tlsh']);
    const cert = event('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', tls: { server: { hash: { sha512 } } } }));
    expect(ids(index.match(cert))).toEqual(['cert']);
    // A real Sysmon 1 event of OTRF with IMPHASH=… among its Hashes (a feed writes it in capitals).
    const sysmon = readFileSync(path.join(data, 'otrf-security-datasets/datasets/atomic/windows/defense_evasion/host/cmd_mshta_vbscript_execute_psh_2020-10-2202580804.json'), 'utf8')
      .split('\n').find((l) => l.includes('IMPHASH=') && l.includes('"EventID":1,')) ?? '';
    const imphash = /IMPHASH=([0-9A-F]{32})/.exec(sysmon)?.[1] ?? '';
    const proc = event('windows', sysmon);
    expect(proc['process.pe.imphash']).toBe(imphash.toLowerCase());
    index.add(indicator('imphash', `[file:extensions.'windows-pebinary-ext'.imphash = '${imphash}']`), ['org-a']);
    index.add(indicator('image', `[process:image_ref.extensions.'windows-pebinary-ext'.imphash = '${imphash.toLowerCase()}']`), ['org-a']);
    expect(ids(index.match(proc))).toEqual(['image', 'imphash']);
  });

  it('matches hex digests without case (a feed in capitals), and leaves SSDEEP as written', () => {
    const index = new IndicatorIndex();
    const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    index.add(indicator('simple', `[file:hashes.'SHA-256' = '${sha.toUpperCase()}']`), ['org-a']);
    index.add(indicator('list', `[file:hashes.'SHA-256' IN ('${'0'.repeat(64)}', '${sha.toUpperCase()}')]`), ['org-a']);
    index.add(indicator('keyed', `[file:hashes.'SHA-256' = '${sha.toUpperCase()}' AND file:name = 'eicar.com']`), ['org-a']);
    index.add(indicator('md5', "[file:hashes.MD5 = '44D88612FEA8A8F36DE82E1278ABB02F']"), ['org-a']);
    index.add(indicator('ssdeep', "[file:hashes.SSDEEP = '3:A:B']"), ['org-a']);
    const e = event('ecs', JSON.stringify({ '@timestamp': '2024-06-01T12:00:00Z', file: { name: 'eicar.com', hash: { sha256: sha, md5: '44d88612fea8a8f36de82e1278abb02f' } } }));
    expect(ids(index.match(e))).toEqual(['keyed', 'list', 'md5', 'simple']);
    const c = compilePattern((parsePattern("[file:hashes.SSDEEP = '3:AbC:dEf']") as { ok: true; ast: PatternAst }).ast);
    expect(c.keys.map((k) => (k.kind === 'exact' ? k.value : null))).toEqual(['3:AbC:dEf']);
  });
});

describe('Zeek intel baseline (match-subnet)', () => {
  it('reports every covering indicator: the exact address and all its subnets', () => {
    const intel = readFileSync(path.join(data, 'zeek-intel-baselines/match-subnet.intel.dat'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const index = new IndicatorIndex();
    for (const line of intel) {
      const [value, type] = line.split('\t');
      const pattern = type === 'Intel::ADDR' ? `[ipv4-addr:value = '${value}']` : `[ipv4-addr:value ISSUBSET '${value}']`;
      expect(index.add(indicator(value ?? '', pattern), ['org-a']).ok).toBe(true);
    }
    // Expected: the Item lines after each Seen line of Zeek's own output.
    const out = readFileSync(path.join(data, 'zeek-intel-baselines/match-subnet.output.log'), 'utf8');
    const expected = new Map<string, string[]>();
    let seen = '';
    for (const line of out.split('\n')) {
      const s = /^Seen: \[indicator=([^,]+),/.exec(line);
      if (s?.[1] !== undefined) { seen = s[1]; expected.set(seen, []); }
      const item = /^Item: \[indicator=([^,]+),/.exec(line);
      if (item?.[1] !== undefined) expected.get(seen)?.push(item[1]);
    }
    expect([...expected.keys()]).toEqual(['192.168.1.1', '192.168.2.1', '192.168.142.1']);
    expect(expected.get('192.168.142.1')).toHaveLength(4);
    for (const [host, items] of expected) {
      expect(ids(index.match(ecsEvent({ source: { ip: host } }))), host).toEqual([...items].sort());
    }
    expect(index.match(ecsEvent({ source: { ip: '192.168.3.1' } }))).toEqual([]);
    expect(index.stats().cidr.blocks).toBe(4);
  });

  it('does the same for IPv6 prefixes', () => {
    const index = new IndicatorIndex();
    index.add(indicator('v6-32', "[ipv6-addr:value ISSUBSET '2001:db8::/32']"), ['org-a']);
    index.add(indicator('v6-64', "[ipv6-addr:value ISSUBSET '2001:db8:0:1::/64']"), ['org-a']);
    index.add(indicator('v6-host', "[ipv6-addr:value = '2001:db8:0:1::5']"), ['org-a']);
    index.add(indicator('v4-all', "[ipv4-addr:value ISSUBSET '0.0.0.0/0']"), ['org-a']);
    expect(ids(index.match(ecsEvent({ destination: { ip: '2001:db8:0:1::5' } })))).toEqual(['v6-32', 'v6-64', 'v6-host']);
    expect(ids(index.match(ecsEvent({ destination: { ip: '2001:db8:0:2::5' } })))).toEqual(['v6-32']);
    // An IPv6 address is never in an IPv4 block; an IPv4-mapped one is its IPv4 address (canonicalIp).
    expect(ids(index.match(ecsEvent({ destination: { ip: '::a00:1' } })))).toEqual([]);
    expect(ids(index.match(ecsEvent({ destination: { ip: '::ffff:10.0.0.1' } })))).toEqual(['v4-all']);
    expect(ids(index.match(ecsEvent({ destination: { ip: '10.0.0.1' } })))).toEqual(['v4-all']);
  });
});

describe('visibility, validity and incremental changes', () => {
  it('never returns an indicator to an organisation it is not released to', () => {
    const index = new IndicatorIndex();
    index.add(indicator('to-a', "[ipv4-addr:value = '10.0.0.1']"), ['org-a']);
    index.add(indicator('to-b', "[ipv4-addr:value = '10.0.0.1']"), new Set(['org-b']));
    index.add(indicator('to-ab-cidr', "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"), ['org-a', 'org-b']);
    index.add(indicator('pred', "[url:value LIKE '%evil%']"), (org) => org.endsWith('-c'));
    index.add(indicator('nobody', "[ipv4-addr:value = '10.0.0.1']"), []);
    const ev = (org: string): NormalisedEvent => ecsEvent({ source: { ip: '10.0.0.1' }, url: { full: 'http://evil.example/' } }, org);
    expect(ids(index.match(ev('org-a')))).toEqual(['to-a', 'to-ab-cidr']);
    expect(ids(index.match(ev('org-b')))).toEqual(['to-ab-cidr', 'to-b']);
    expect(ids(index.match(ev('org-c')))).toEqual(['pred']);
    expect(ids(index.match(ev('org-z')))).toEqual([]);
  });

  it('matches only events inside valid_from ≤ t < valid_until, and refuses revoked and invalid indicators', () => {
    const index = new IndicatorIndex();
    expect(index.add(indicator('window', "[ipv4-addr:value = '10.0.0.1']", { valid_from: '2024-06-01T00:00:00Z', valid_until: '2024-06-02T00:00:00Z' }), ['org-a']).ok).toBe(true);
    const at = (ts: string): NormalisedEvent => {
      const r = normaliseLine('ecs', JSON.stringify({ '@timestamp': ts, source: { ip: '10.0.0.1' } }), ctx);
      if (!r.ok) throw new Error(r.error);
      return r.event;
    };
    expect(ids(index.match(at('2024-05-31T23:59:59.999Z')))).toEqual([]);
    expect(ids(index.match(at('2024-06-01T00:00:00Z')))).toEqual(['window']);
    expect(ids(index.match(at('2024-06-01T23:59:59.999Z')))).toEqual(['window']);
    expect(ids(index.match(at('2024-06-02T00:00:00Z')))).toEqual([]);
    expect(index.add(indicator('revoked', "[ipv4-addr:value = '10.0.0.1']", { revoked: true }), ['org-a'])).toEqual({ ok: false, reason: 'revoked' });
    expect(index.add({ ...indicator('sigma', 'title: x'), pattern_type: 'sigma' }, ['org-a']).ok).toBe(false);
    const bad = index.add(indicator('bad', "[ipv4-addr:value = '10.0.0.1'"), ['org-a']);
    expect(bad.ok === false && bad.reason.startsWith('pattern:')).toBe(true);
    expect(index.add(indicator('ts', "[ipv4-addr:value = '10.0.0.1']", { valid_from: 'yesterday' }), ['org-a']).ok).toBe(false);
    expect(index.add(indicator('order', "[ipv4-addr:value = '10.0.0.1']", { valid_until: '1999-01-01T00:00:00Z' }), ['org-a']).ok).toBe(false);
    expect(index.add(indicator('window', "[ipv4-addr:value = '10.0.0.2']"), ['org-a']).ok).toBe(false);
    expect(index.size).toBe(1);
  });

  it('adds, removes and replaces without a rebuild, keeping stats exact', () => {
    const index = new IndicatorIndex();
    const e = ecsEvent({ source: { ip: '10.1.2.3' }, destination: { ip: '10.9.9.9' }, dns: { question: { name: 'evil.example' } } });
    expect(index.add(indicator('a', "[ipv4-addr:value = '10.1.2.3']"), ['org-a'])).toEqual({ ok: true, cls: 'pure' });
    expect(index.add(indicator('b', "[ipv4-addr:value = '10.1.2.3' OR domain-name:value = 'evil.example']"), ['org-a'])).toEqual({ ok: true, cls: 'pure' });
    expect(index.add(indicator('c', "[ipv4-addr:value ISSUBSET '10.1.0.0/16']"), ['org-a'])).toEqual({ ok: true, cls: 'pure' });
    expect(index.add(indicator('d', "[domain-name:value LIKE '%.example']"), ['org-a'])).toEqual({ ok: true, cls: 'scan' });
    expect(index.add(indicator('e', "[ipv4-addr:value = '10.9.9.9'] FOLLOWEDBY [domain-name:value = 'evil.example']"), ['org-a'])).toEqual({ ok: true, cls: 'sequence' });
    expect(index.add(indicator('f', "[ipv4-addr:value = '10.1.2.3' AND ipv4-addr:value != '1.1.1.1']"), ['org-a'])).toEqual({ ok: true, cls: 'keyed' });
    // Keys: 10.1.2.3 (a, b, f), evil.example (b, e's second piece), 10.9.9.9 (e's first piece).
    expect(index.stats()).toMatchObject({ indicators: 6, byClass: { pure: 3, keyed: 1, scan: 1, sequence: 1 }, exact: { keys: 3 }, cidr: { blocks: 1 } });
    expect(ids(index.match(e))).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(index.remove('c')).toBe(true);
    expect(index.remove('d')).toBe(true);
    expect(index.stats()).toMatchObject({ indicators: 3, byClass: { pure: 1, keyed: 1, scan: 0, sequence: 1 }, exact: { keys: 3 }, cidr: { blocks: 0 } });
    // The second sighting of the same event is a second observation: 10.9.9.9 then evil.example
    // (equal times satisfy FOLLOWEDBY), so the sequence completes now.
    expect(ids(index.match(e))).toEqual(['b', 'e', 'f']);
    expect(index.replace(indicator('b', "[domain-name:value = 'other.example']"), ['org-a']).ok).toBe(true);
    expect(ids(index.match(e))).toEqual(['f']); // the two sightings were consumed by e's report
    expect(index.stats().exact.keys).toBe(4); // 10.1.2.3 (f), other.example (b), e's two
    expect(index.replace(indicator('f', "[ipv4-addr:value = '10.1.2.3']"), ['org-b']).ok).toBe(true);
    expect(ids(index.match(e))).toEqual(['e']);
    expect(ids(index.match({ ...e, 'organization.id': 'org-b' }))).toEqual(['f']);
    // A revoked new version takes the indicator out.
    expect(index.replace(indicator('f', "[ipv4-addr:value = '10.1.2.3']", { revoked: true }), ['org-b']).ok).toBe(false);
    expect(index.has('f')).toBe(false);
    expect(ids(index.match({ ...e, 'organization.id': 'org-b' }))).toEqual([]);
    expect(index.remove('e')).toBe(true);
    expect(index.stats()).toMatchObject({ indicators: 1, byClass: { pure: 1, keyed: 0, scan: 0, sequence: 0 }, exact: { keys: 1 } });
  });
});

describe('sequences over the per-organisation window', () => {
  const at = (sec: number, fields: Record<string, unknown>, org = 'org-a'): NormalisedEvent => {
    const r = normaliseLine('ecs', JSON.stringify({ '@timestamp': new Date(Date.UTC(2024, 5, 1) + sec * 1000).toISOString(), ...fields }), { orgId: org, sensorId: 's' });
    if (!r.ok) throw new Error(r.error);
    return r.event;
  };

  it('reports FOLLOWEDBY … WITHIN when the second piece arrives in time, per organisation', () => {
    const index = new IndicatorIndex();
    index.add(indicator('seq', "([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 60 SECONDS"), ['org-a', 'org-b']);
    expect(ids(index.match(at(0, { dns: { question: { name: 'evil.example' } } })))).toEqual([]);
    expect(ids(index.match(at(5, { destination: { ip: '203.0.113.9' } }, 'org-b')))).toEqual([]); // other org's window
    expect(ids(index.match(at(10, { source: { ip: '10.0.0.1' } })))).toEqual([]); // unrelated
    expect(index.match(at(30, { destination: { ip: '203.0.113.9' } }))).toEqual([{ indicatorId: 'seq', via: 'sequence' }]);
    // Reported once: the observations that completed it are consumed for this indicator.
    expect(ids(index.match(at(35, { destination: { ip: '203.0.113.9' } })))).toEqual([]);
    expect(ids(index.match(at(200, { dns: { question: { name: 'evil.example' } } })))).toEqual([]);
    expect(ids(index.match(at(200, { destination: { ip: '203.0.113.9' } }, 'org-b')))).toEqual([]);
    expect(ids(index.match(at(220, { destination: { ip: '203.0.113.9' } })))).toEqual(['seq']);
  });

  it('keeps an exercise\'s sequence window apart from its organisation\'s real one; both are forgotten with the organisation', () => {
    const index = new IndicatorIndex();
    index.add(indicator('seq', "([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 60 SECONDS"), ['org-a']);
    const exercise = stateScope('org-a', 'exercise--1');
    expect(ids(index.match(at(0, { dns: { question: { name: 'evil.example' } } }), exercise))).toEqual([]);
    expect(ids(index.match(at(5, { destination: { ip: '203.0.113.9' } })))).toEqual([]); // the real window has no lookup
    expect(ids(index.match(at(6, { destination: { ip: '203.0.113.9' } }), exercise))).toEqual(['seq']);
    index.match(at(7, { dns: { question: { name: 'evil.example' } } }), exercise);
    expect(index.stats().window.organisations).toBe(2);
    expect(index.forgetOrganisations((org) => org === 'org-a')).toBe(2);
    expect(ids(index.match(at(8, { destination: { ip: '203.0.113.9' } }), exercise))).toEqual([]);
  });

  it('forgets the windows of the organisations it is told to (a scale-out partition taken back), and only those', () => {
    const index = new IndicatorIndex();
    index.add(indicator('seq', "([domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.9']) WITHIN 60 SECONDS"), ['org-a', 'org-b']);
    index.match(at(0, { dns: { question: { name: 'evil.example' } } }));
    index.match(at(0, { dns: { question: { name: 'evil.example' } } }, 'org-b'));
    expect(index.stats().window).toEqual({ organisations: 2, observations: 2 });
    expect(index.forgetOrganisations((org) => org === 'org-a')).toBe(1);
    expect(index.stats().window).toEqual({ organisations: 1, observations: 1 });
    // org-a's first piece is gone: its second piece completes nothing; org-b's still does.
    expect(ids(index.match(at(10, { destination: { ip: '203.0.113.9' } })))).toEqual([]);
    expect(ids(index.match(at(10, { destination: { ip: '203.0.113.9' } }, 'org-b')))).toEqual(['seq']);
  });

  it('honours WITHIN, REPEATS and the window bound', () => {
    const index = new IndicatorIndex({ window: { maxObservations: 3 } });
    index.add(indicator('within', "([domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']) WITHIN 10 SECONDS"), ['org-a']);
    index.add(indicator('repeat', "[url:value = 'http://c.example/'] REPEATS 3 TIMES"), ['org-a']);
    expect(ids(index.match(at(0, { dns: { question: { name: 'a.example' } } })))).toEqual([]);
    expect(ids(index.match(at(20, { dns: { question: { name: 'b.example' } } })))).toEqual([]); // too late
    expect(ids(index.match(at(25, { dns: { question: { name: 'a.example' } } })))).toEqual([]);
    expect(ids(index.match(at(30, { dns: { question: { name: 'b.example' } } })))).toEqual(['within']);
    const c = { url: { full: 'http://c.example/' } };
    expect(ids(index.match(at(40, c)))).toEqual([]);
    expect(ids(index.match(at(41, c)))).toEqual([]);
    // The window holds 3 relevant observations: 40, 41, 42 → three repeats.
    expect(ids(index.match(at(42, c)))).toEqual(['repeat']);
    expect(index.stats().window).toEqual({ organisations: 1, observations: 3 });
  });
});

// ---- brute-force agreement (property-based) ----

const ORGS = ['org-a', 'org-b', 'org-c'];
const V4 = ['10.0.0.1', '10.0.0.2', '10.0.1.5', '192.168.1.1', '192.168.142.1', '203.0.113.9'];
const V6 = ['2001:db8::1', '2001:db8:1::5'];
const DOMAINS = ['evil.example', 'good.example', 'a.evil.example'];
const URLS = ['http://evil.example/x', 'http://good.example/'];
const SHA = ['aa'.repeat(32), 'bb'.repeat(32)];
const MD5 = ['cc'.repeat(16), 'dd'.repeat(16)];
const SHA512 = ['ee'.repeat(64), 'ff'.repeat(64)];
const TIMES = ['2024-06-01T00:00:00Z', '2024-06-01T00:00:05Z', '2024-06-01T00:01:00Z', '2024-07-01T00:00:00Z'];
const q = (s: string): string => `'${s}'`;

const eventArb = fc.record(
  {
    '@timestamp': fc.constantFrom(...TIMES),
    'organization.id': fc.constantFrom(...ORGS),
    'source.ip': fc.constantFrom(...V4, ...V6),
    'destination.ip': fc.constantFrom(...V4, ...V6),
    'source.port': fc.constantFrom(1234, 443),
    'destination.port': fc.constantFrom(80, 443, 53),
    'network.transport': fc.constantFrom('tcp', 'udp'),
    'dns.question.name': fc.constantFrom(...DOMAINS),
    'dns.resolved_ip': fc.subarray([...V4, ...V6], { minLength: 1, maxLength: 2 }),
    'url.full': fc.constantFrom(...URLS),
    'url.domain': fc.constantFrom(...DOMAINS),
    'tls.client.server_name': fc.constantFrom(...DOMAINS),
    'http.request.method': fc.constantFrom('GET', 'POST'),
    'file.name': fc.constantFrom('a.exe', 'b.dll'),
    'file.hash.sha256': fc.constantFrom(...SHA),
    'file.hash.md5': fc.constantFrom(...MD5),
    'file.hash.sha512': fc.constantFrom(...SHA512),
    'file.hash.ssdeep': fc.constantFrom('3:a:b', '3:c:d'),
    'file.pe.imphash': fc.constantFrom(...MD5),
    'process.executable': fc.constantFrom('C:\\w\\cmd.exe'),
    'process.name': fc.constantFrom('cmd.exe', 'powershell.exe'),
    'process.command_line': fc.constantFrom('cmd /c whoami', 'powershell -enc AAA'),
    'process.pid': fc.constantFrom(4242, 7),
    'process.hash.sha256': fc.constantFrom(...SHA),
    'process.hash.sha512': fc.constantFrom(...SHA512),
    'process.pe.imphash': fc.constantFrom(...MD5),
    'tls.server.hash.sha512': fc.constantFrom(...SHA512),
    'process.parent.executable': fc.constantFrom('C:\\w\\explorer.exe'),
    'process.parent.name': fc.constantFrom('explorer.exe'),
    'user.name': fc.constantFrom('alice', 'bob'),
    'registry.path': fc.constantFrom('HKLM\\Run\\x'),
  },
  { requiredKeys: ['@timestamp', 'organization.id'] },
).map((r) => ({ 'event.kind': 'event', 'event.category': [], 'event.type': [], 'event.dataset': 'test', 'event.module': 'test', 'observer.id': 's', original: {}, logsource: {}, ...r }) as unknown as NormalisedEvent);

const byType: Record<string, readonly string[]> = {
  'ipv4-addr': [...V4.map((v) => `ipv4-addr:value = ${q(v)}`), `ipv4-addr:value IN (${V4.slice(0, 3).map(q).join(', ')})`, "ipv4-addr:value ISSUBSET '10.0.0.0/8'", "ipv4-addr:value ISSUBSET '10.0.0.0/24'", "ipv4-addr:value ISSUBSET '192.168.142.0/26'", "ipv4-addr:value ISSUBSET '0.0.0.0/0'", "ipv4-addr:value != '10.0.0.1'", "NOT ipv4-addr:value = '10.0.0.2'", "ipv4-addr:value ISSUPERSET '10.0.0.1'"],
  'ipv6-addr': [...V6.map((v) => `ipv6-addr:value = ${q(v)}`), "ipv6-addr:value ISSUBSET '2001:db8::/32'", "ipv6-addr:value ISSUBSET '2001:db8:1::/48'"],
  'domain-name': [...DOMAINS.map((v) => `domain-name:value = ${q(v)}`), "domain-name:value LIKE '%evil%'", "domain-name:value LIKE 'good%'", "domain-name:value LIKE '%a.evil.ex_mple'", "domain-name:value MATCHES '^a\\\\.'", "domain-name:resolves_to_refs[*].value = '203.0.113.9'", "domain-name:resolves_to_refs[*].value ISSUBSET '10.0.0.0/8'"],
  url: [...URLS.map((v) => `url:value = ${q(v)}`), "url:value LIKE 'http://evil%'", "url:value LIKE '%good.example/'", "url:value LIKE '%(x|y)*.+%'"],
  file: [`file:hashes.'SHA-256' = ${q(SHA[0] ?? '')}`, `file:hashes.'SHA-256' IN (${SHA.map(q).join(', ')})`, `file:hashes.MD5 = ${q(MD5[1] ?? '')}`, `file:hashes.'SHA-512' = ${q(SHA512[0] ?? '')}`, "file:hashes.SSDEEP = '3:a:b'", `file:extensions.'windows-pebinary-ext'.imphash = ${q(MD5[0] ?? '')}`, "file:name = 'a.exe'", "file:name = 'cmd.exe'", 'file:size > 10'],
  process: ["process:command_line LIKE '%whoami%'", 'process:pid = 4242', "process:image_ref.name = 'cmd.exe'", `process:image_ref.hashes.'SHA-256' = ${q(SHA[1] ?? '')}`, "process:parent_ref.image_ref.name = 'explorer.exe'"],
  'user-account': ["user-account:account_login = 'alice'", "user-account:account_login IN ('bob', 'carol')"],
  'network-traffic': ['network-traffic:dst_port = 443', "network-traffic:dst_ref.value = '10.0.0.2'", "network-traffic:src_ref.value ISSUBSET '10.0.0.0/8'", "network-traffic:protocols[*] = 'tcp'", "network-traffic:extensions.'http-request-ext'.request_method = 'POST'", 'network-traffic:dst_port IN (53, 80)'],
  'windows-registry-key': ["windows-registry-key:key = 'HKLM\\\\Run\\\\x'"],
  'x509-certificate': [`x509-certificate:hashes.'SHA-512' = ${q(SHA512[1] ?? '')}`],
};
const TYPES = Object.keys(byType);

const groupArb = fc.constantFrom(...TYPES).chain((type) =>
  fc.tuple(fc.array(fc.constantFrom(...(byType[type] ?? [])), { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom(' AND ', ' OR '), { minLength: 2, maxLength: 2 })).map(([cs, ops]) =>
    cs.reduce((acc, c, i) => (i === 0 ? c : `${acc}${ops[i - 1] ?? ' OR '}${c}`), '')));
const observationArb = fc.array(groupArb, { minLength: 1, maxLength: 3 }).map((gs) => `[${gs.map((g) => `(${g})`).join(' OR ')}]`);
const simpleArb = fc.constantFrom(...Object.values(byType).flat().filter((c) => / = '|ISSUBSET/.test(c) && !/ AND | OR |NOT |\[\*\]|_ref/.test(c))).map((c) => `[${c}]`);
const singlePatternArb = fc.oneof(
  { weight: 6, arbitrary: observationArb },
  { weight: 3, arbitrary: simpleArb },
  { weight: 2, arbitrary: fc.tuple(observationArb, observationArb).map(([a, b]) => `${a} OR ${b}`) },
  { weight: 1, arbitrary: observationArb.map((a) => `${a} START t'2024-06-01T00:00:00Z' STOP t'2024-06-01T00:00:30Z'`) },
  { weight: 1, arbitrary: observationArb.map((a) => `${a} WITHIN 5 SECONDS`) },
);
const releaseArb: fc.Arbitrary<Release> = fc.oneof(fc.subarray(ORGS), fc.constant((org: string) => org !== 'org-c'));
const validityArb = fc.record({ valid_from: fc.constantFrom(FROM, '2024-06-01T00:00:05Z'), valid_until: fc.option(fc.constantFrom('2024-06-01T00:01:00Z', '2030-01-01T00:00:00Z'), { nil: undefined }) });

interface Spec { id: string; pattern: string; release: Release; valid_from: string; valid_until: string | undefined }

function visible(r: Release, org: string): boolean {
  return typeof r === 'function' ? r(org) : [...(r as Iterable<string>)].includes(org);
}
function valid(s: Spec, t: number): boolean {
  return t >= Date.parse(s.valid_from) && (s.valid_until === undefined || t < Date.parse(s.valid_until));
}
function leavesOf(p: PatternAst): PatternAst[] {
  switch (p.kind) {
    case 'observation': return [p];
    case 'qualified': return leavesOf(p.expression);
    case 'and': case 'or': case 'followedby': return [...leavesOf(p.left), ...leavesOf(p.right)];
  }
}
function astOf(p: string): PatternAst | null {
  const r = parsePattern(p);
  return r.ok ? r.ast : null;
}

describe('agreement with brute-force evaluatePattern (property)', () => {
  it('reports exactly the indicators whose pattern matches the event, released to its organisation and valid at its time', () => {
    const specArb = fc.tuple(singlePatternArb, releaseArb, validityArb);
    const seen = { matches: 0, misses: 0, viaPattern: 0, viaCidr: 0 };
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 25 }), fc.array(eventArb, { minLength: 1, maxLength: 15 }), fc.array(fc.nat(30), { maxLength: 5 }), (specs, events, removals) => {
        const index = new IndicatorIndex();
        const live: (Spec & { ast: PatternAst })[] = [];
        specs.forEach(([pattern, release, v], i) => {
          const spec: Spec = { id: `indicator--${i}`, pattern, release, ...v };
          const ast = astOf(pattern);
          const res = index.add({ id: spec.id, pattern, pattern_type: 'stix', valid_from: spec.valid_from, valid_until: spec.valid_until }, release);
          expect(res.ok, pattern).toBe(ast !== null);
          if (ast !== null) live.push({ ...spec, ast });
        });
        for (const r of removals) {
          const victim = live[r % Math.max(1, live.length)];
          if (victim === undefined) continue;
          expect(index.remove(victim.id)).toBe(true);
          live.splice(live.indexOf(victim), 1);
        }
        expect(index.size).toBe(live.length);
        for (const e of events) {
          const obs = observationOf(e);
          const org = e['organization.id'];
          const expected = live.filter((s) => visible(s.release, org) && valid(s, obs.time) && evaluatePattern(s.ast, [obs]) !== null).map((s) => s.id).sort();
          const got = index.match(e);
          expect(ids(got), JSON.stringify({ e, p: live.map((s) => s.pattern) })).toEqual(expected);
          seen.matches += expected.length;
          seen.misses += live.length - expected.length;
          seen.viaPattern += got.filter((m) => m.via === 'pattern').length;
          seen.viaCidr += got.filter((m) => m.via === 'cidr').length;
          expect(ids(index.matchObservation(obs, org))).toEqual(expected);
        }
      }),
      { numRuns: 400 },
    );
    // The generators must exercise both outcomes and every path through the index.
    expect(seen.matches).toBeGreaterThan(500);
    expect(seen.misses).toBeGreaterThan(500);
    expect(seen.viaPattern).toBeGreaterThan(50);
    expect(seen.viaCidr).toBeGreaterThan(50);
  });

  it('agrees on sequence patterns, evaluated over the whole window of relevant observations', () => {
    const maxObservations = 6;
    const seqArb = fc.oneof(
      fc.tuple(observationArb, observationArb).map(([a, b]) => `${a} FOLLOWEDBY ${b}`),
      fc.tuple(observationArb, observationArb).map(([a, b]) => `(${a} AND ${b}) WITHIN 10 SECONDS`),
      observationArb.map((a) => `${a} REPEATS 2 TIMES`),
    );
    const streamArb = fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(seqArb, releaseArb), { minLength: 1, maxLength: 4 }), streamArb, (specs, stream) => {
        const index = new IndicatorIndex({ window: { maxObservations } });
        const live: { id: string; ast: PatternAst; release: Release; leaves: PatternAst[] }[] = [];
        specs.forEach(([pattern, release], i) => {
          const ast = astOf(pattern);
          const res = index.add(indicator(`seq--${i}`, pattern), release);
          expect(res.ok).toBe(ast !== null);
          if (ast === null) return;
          // The observation expressions of the pattern, each as a pattern of its own.
          const leaves = leavesOf(ast);
          live.push({ id: `seq--${i}`, ast, release, leaves });
        });
        // The model: per organisation, the last observations that take part in some sequence,
        // each with the indicators that have consumed it; a pattern is evaluated over the whole
        // model window (not the index's per-indicator selection), minus consumed observations.
        const windows = new Map<string, { obs: Observation; consumed: Set<string> }[]>();
        let t = Date.UTC(2024, 5, 1);
        for (const [base, step] of stream) {
          t += step * 1000;
          const e = { ...base, '@timestamp': new Date(t).toISOString() } as NormalisedEvent;
          const obs = observationOf(e);
          const org = e['organization.id'];
          const takesPart = (s: (typeof live)[number]): boolean => s.leaves.some((l) => evaluatePattern(l, [obs]) !== null);
          const w = windows.get(org) ?? [];
          if (live.some(takesPart)) {
            w.push({ obs, consumed: new Set() });
            while (w.length > maxObservations) w.shift();
            windows.set(org, w);
          }
          const expected: string[] = [];
          for (const s of live) {
            if (!takesPart(s) || !visible(s.release, org)) continue;
            if (evaluatePattern(s.ast, w.filter((x) => !x.consumed.has(s.id)).map((x) => x.obs)) === null) continue;
            expected.push(s.id);
            for (const x of w) x.consumed.add(s.id);
          }
          expect(ids(index.match(e))).toEqual(expected.sort());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('address parsing agrees with the evaluator', () => {
  it('matches ISSUBSET and = exactly as evaluatePattern does, on well-formed and odd address text', () => {
    const index = new IndicatorIndex();
    const patterns = ["[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "[ipv4-addr:value ISSUBSET '1.2.0.0/16']", "[ipv6-addr:value ISSUBSET '::/0']", "[ipv6-addr:value ISSUBSET '2001:db8::/32']", "[ipv4-addr:value = '1.2.3.4']"];
    patterns.forEach((p, i) => index.add(indicator(`p${i}`, p), ['org-a']));
    const asts = patterns.map((p) => astOf(p));
    const odd = fc.oneof(
      fc.constantFrom('1.2.3.4', '01.2.3.4', '1.2.3', '1.2.3.4.', '1..3.4', '256.1.1.1', '1.2.3.04', '0.0.0.0', '255.255.255.255', '1.2.3.4/24', '1.2.300.4', ' 1.2.3.4', '2001:db8::1', '2001:db8::1.2.3.4', '::ffff:1.2.3.4', ':::', '2001:db8:::1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '2001:DB8::A', '::', 'fe80::1%eth0'),
      fc.stringMatching(/^[0-9.]{1,16}$/),
      fc.stringMatching(/^[0-9a-f:.]{1,20}$/),
    );
    fc.assert(fc.property(odd, (ip) => {
      const e = { 'event.kind': 'event', 'event.category': [], 'event.type': [], 'event.dataset': 't', 'event.module': 't', 'observer.id': 's', original: {}, logsource: {}, '@timestamp': '2024-06-01T00:00:00.000Z', 'organization.id': 'org-a', 'source.ip': ip } as unknown as NormalisedEvent;
      const obs = observationOf(e);
      const expected = patterns.map((_, i) => `p${i}`).filter((_, i) => { const a = asts[i]; return a !== null && a !== undefined && evaluatePattern(a, [obs]) !== null; });
      expect(ids(index.match(e)), ip).toEqual(expected.sort());
    }), { numRuns: 3000 });
  });
});

describe('compileSimple (the parser-free path for plain IOCs)', () => {
  it('agrees with parsePattern + compilePattern wherever it answers', () => {
    const typeArb = fc.oneof(fc.constantFrom('ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'file', 'x', 'a-b', 'a--b', 'a-', '-a', 'A', '9x'), fc.stringMatching(/^[a-z0-9-]{1,12}$/));
    const pathArb = fc.constantFrom('value', "hashes.'SHA-256'", 'hashes.MD5', "hashes.'MD5'", 'hashes.SHA-256', "hashes.'SHA-1'", "hashes.'TLSH'", 'name');
    const valueArb = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('10.0.0.0/8', '10.0.0.1', '2001:db8::/32', '300.1.1.1/8', '10.0.0.0/33', "it's", 'a\\b', '', ' '));
    const arb = fc.oneof(
      fc.tuple(typeArb, pathArb, valueArb).map(([t, p, v]) => `[${t}:${p} = '${v}']`),
      fc.tuple(fc.constantFrom('ipv4-addr', 'ipv6-addr'), valueArb).map(([t, v]) => `[${t}:value ISSUBSET '${v}']`),
      fc.tuple(typeArb, valueArb).map(([t, v]) => `[${t}:value  = '${v}']`),
    );
    let answered = 0;
    fc.assert(fc.property(arb, (pattern) => {
      const fast = compileSimple(pattern);
      if (fast === null) return;
      answered++;
      const parsed = parsePattern(pattern);
      expect(parsed.ok, pattern).toBe(true);
      if (!parsed.ok) return;
      const slow = compilePattern(parsed.ast);
      expect(fast.cls).toBe(slow.cls);
      expect(JSON.parse(JSON.stringify(fast.keys))).toEqual(JSON.parse(JSON.stringify(slow.keys)));
    }), { numRuns: 5000 });
    expect(answered).toBeGreaterThan(500);
  });
});

describe('benchIndicatorMatching', () => {
  it('builds, matches real EVE lines and reports figures against the JSON.parse baseline', () => {
    const lines = readFileSync(path.join(data, 'suricata-eve/surevego/testdata/eve.json'), 'utf8').split('\n').filter((l) => l !== '');
    const r = benchIndicatorMatching({ indicators: 5000, events: lines, seconds: 0.2 });
    expect(r.stats.indicators).toBe(5000);
    expect(r.events).toBeGreaterThanOrEqual(lines.length);
    expect(r.matches).toBeGreaterThan(0);
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    expect(r.baselineEventsPerSecond).toBeGreaterThan(r.eventsPerSecond);
    expect(r.ratio).toBeGreaterThan(0);
    expect(r.rssMb).toBeGreaterThan(0);
    expect(() => benchIndicatorMatching({ indicators: 10, events: ['not json'] })).toThrow(/no valid EVE lines/);
  });
});
