/**
 * One valid STIX 2.1 object per type the specification defines (test data builders,
 * STYLE habit 12). Each must pass `validateObject` and the OASIS schemas.
 */
const T = '2024-01-02T03:04:05.678Z';
const T2 = '2024-02-03T04:05:06.789Z';
const U = '6d9ff1e6-cd8b-4b1b-9f1c-0a8a1b2c3d4e';
const id = (type: string, n = 0): string => `${type}--${U.slice(0, -1)}${n}`;
const sdo = (type: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  type, spec_version: '2.1', id: id(type), created: T, modified: T2, ...extra,
});
const sco = (type: string, extra: Record<string, unknown>): Record<string, unknown> => ({ type, spec_version: '2.1', id: id(type), ...extra });

export const IDS = { identity: id('identity'), indicator: id('indicator'), malware: id('malware'), file: id('file'), ipv4: id('ipv4-addr') };

export const VALID_EXAMPLES: Readonly<Record<string, Record<string, unknown>>> = {
  'attack-pattern': sdo('attack-pattern', { name: 'Spearphishing', kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'initial-access' }] }),
  campaign: sdo('campaign', { name: 'Operation X', first_seen: T, last_seen: T2 }),
  'course-of-action': sdo('course-of-action', { name: 'Patch' }),
  grouping: sdo('grouping', { context: 'suspicious-activity', object_refs: [IDS.indicator] }),
  identity: sdo('identity', { name: 'CERT-X', identity_class: 'organization', sectors: ['government-national'] }),
  incident: sdo('incident', { name: 'Ransomware at site A' }),
  indicator: sdo('indicator', {
    name: 'C2', pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: T, valid_until: T2,
    indicator_types: ['malicious-activity'], created_by_ref: id('identity'), confidence: 80, lang: 'en',
    object_marking_refs: ['marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487'],
    external_references: [{ source_name: 'capec', external_id: 'CAPEC-163' }],
    granular_markings: [{ marking_ref: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb', selectors: ['description'] }],
  }),
  infrastructure: sdo('infrastructure', { name: 'C2 server', infrastructure_types: ['command-and-control'] }),
  'intrusion-set': sdo('intrusion-set', { name: 'APT-X', primary_motivation: 'organizational-gain' }),
  location: sdo('location', { latitude: 50.85, longitude: 4.35, precision: 1000, country: 'BE' }),
  malware: sdo('malware', { name: 'Wiper', is_family: true, malware_types: ['wiper'], sample_refs: [id('file')] }),
  'malware-analysis': sdo('malware-analysis', { product: 'sandbox', result: 'malicious', analysis_started: T, analysis_ended: T2 }),
  note: sdo('note', { content: 'Seen again.', object_refs: [IDS.malware] }),
  'observed-data': sdo('observed-data', { first_observed: T, last_observed: T2, number_observed: 3, object_refs: [id('ipv4-addr')] }),
  opinion: sdo('opinion', { opinion: 'agree', object_refs: [IDS.indicator] }),
  report: sdo('report', { name: 'Weekly', published: T2, object_refs: [IDS.indicator, IDS.malware], report_types: ['threat-report'] }),
  'threat-actor': sdo('threat-actor', { name: 'Actor', threat_actor_types: ['nation-state'], sophistication: 'expert' }),
  tool: sdo('tool', { name: 'mimikatz', tool_types: ['credential-exploitation'] }),
  vulnerability: sdo('vulnerability', { name: 'CVE-2021-44228', external_references: [{ source_name: 'cve', external_id: 'CVE-2021-44228' }] }),
  relationship: sdo('relationship', { relationship_type: 'indicates', source_ref: IDS.indicator, target_ref: IDS.malware }),
  sighting: sdo('sighting', { sighting_of_ref: IDS.indicator, count: 2, first_seen: T, last_seen: T2, where_sighted_refs: [IDS.identity] }),
  artifact: sco('artifact', { mime_type: 'application/zip', payload_bin: 'UEsDBA==' }),
  'autonomous-system': sco('autonomous-system', { number: 64500, name: 'Example AS' }),
  directory: sco('directory', { path: 'C:\\Windows' }),
  'domain-name': sco('domain-name', { value: 'example.com', resolves_to_refs: [id('ipv4-addr')] }),
  'email-addr': sco('email-addr', { value: 'soc@example.org', display_name: 'SOC' }),
  'email-message': sco('email-message', {
    is_multipart: true, subject: 'Invoice', from_ref: id('email-addr'),
    body_multipart: [{ content_type: 'text/plain', body: 'hello' }],
  }),
  file: sco('file', { name: 'a.exe', size: 1024, hashes: { 'SHA-256': 'a'.repeat(64) } }),
  'ipv4-addr': sco('ipv4-addr', { value: '198.51.100.0/24' }),
  'ipv6-addr': sco('ipv6-addr', { value: '2001:db8::1' }),
  'mac-addr': sco('mac-addr', { value: 'd2:fb:49:24:37:18' }),
  mutex: sco('mutex', { name: 'Global\\x' }),
  'network-traffic': sco('network-traffic', { src_ref: id('ipv4-addr'), dst_port: 443, protocols: ['ipv4', 'tcp'], start: T, end: T2 }),
  process: sco('process', { pid: 4242, command_line: 'cmd.exe /c whoami' }),
  software: sco('software', { name: 'Word', vendor: 'Microsoft', version: '2016' }),
  url: sco('url', { value: 'https://example.com/x' }),
  'user-account': sco('user-account', { user_id: '1001', account_login: 'alice', account_type: 'unix' }),
  'windows-registry-key': sco('windows-registry-key', { key: 'HKEY_LOCAL_MACHINE\\Software\\X', values: [{ name: 'v', data: '1', data_type: 'REG_SZ' }] }),
  'x509-certificate': sco('x509-certificate', { serial_number: '01', issuer: 'CN=Test', validity_not_before: T, validity_not_after: T2 }),
  'language-content': sdo('language-content', { object_ref: IDS.indicator, object_modified: T2, contents: { de: { name: 'Befehlsserver' } } }),
  'marking-definition': {
    type: 'marking-definition', spec_version: '2.1', id: id('marking-definition'), created: T,
    definition_type: 'statement', definition: { statement: 'Copyright Example' },
  },
  'extension-definition': sdo('extension-definition', {
    created_by_ref: IDS.identity, name: 'x', schema: 'https://example.com/schema.json', version: '1.0.0',
    extension_types: ['property-extension'],
  }),
};
