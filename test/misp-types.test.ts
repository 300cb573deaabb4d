/**
 * Every MISP attribute type, with values that need care (quotes and backslashes, IPv6, CIDR,
 * composites, Unicode URLs, paths), converted with to_ids on and off: what is made passes our
 * validator, our STIX pattern parser and the OASIS schemas, no value can change the shape of a
 * pattern, and the export gives back the MISP value and flag.
 */
import { describe, expect, it } from 'vitest';
import { eventToStix, parseMispDocument, stixToMisp, type StixObj } from '../src/misp/index.js';
import { parsePattern, validateObject } from '../src/stix/index.js';
import { assertValidAgainstOasis } from './helpers/stix-schema.js';

type J = Record<string, unknown>;
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

const VALUES: readonly [string, string][] = [
  ['ip-src', '203.0.113.5'], ['ip-dst', '2001:db8::1'], ['ip-dst', '10.0.0.0/8'], ['ip-dst', '2001:db8::/32'], ['ip-src|port', '203.0.113.5|8080'],
  ['ip-dst|port', '2001:db8::1|443'], ['domain', 'evil.example'], ['hostname', 'h.evil.example'], ['domain|ip', 'evil.example|203.0.113.9'],
  ['hostname|port', 'h.example|8443'], ['url', "http://evil.example/it's"], ['url', 'http://пример.испытание/путь?q=ä'], ['uri', '/gate.php?id=1'],
  ['uri', 'http://evil.example/gate.php'], ['link', 'https://ref.example/r'], ['md5', MD5], ['sha1', SHA1], ['sha256', SHA256],
  ['filename', "C:\\Users\\x\\it's.exe"], ['filename|md5', `a.exe|${MD5}`], ['filename|sha256', `a.exe|${SHA256}`], ['email', 'x@evil.example'],
  ['email-src', 'x@evil.example'], ['email-dst', 'y@evil.example'], ['email-subject', "Re: it's \\ done"], ['email-reply-to', 'z@evil.example'],
  ['AS', 'AS174'], ['mutex', "Global\\m'x"], ['regkey', 'HKLM\\Software\\Run'], ['regkey|value', 'HKCU\\Software\\Run|C:\\x.exe'],
  ['mac-address', '00:11:22:33:44:55'], ['mac-address', '00-1A-2B-3C-4D-5E'], ['mac-address', '00:1A:2B:3C:4D:5F'], ['mac-address', '001a.2b3c.4d60'], ['x509-fingerprint-sha1', SHA1], ['x509-fingerprint-sha256', SHA256], ['x509-fingerprint-md5', MD5],
  ['github-username', 'evil'], ['user-agent', "Mozilla/5.0 'x' \\"], ['port', '8443'], ['http-method', 'POST'], ['size-in-bytes', '1234'],
  ['yara', 'rule x { condition: true }'], ['vulnerability', 'CVE-2021-44228'], ['campaign-name', 'Op X'], ['malware-sample', `a.exe|${MD5}`],
  ['attachment', 'a.png'], ['text', 'hello'], ['comment', 'c'], ['imphash', MD5], ['email-attachment', 'inv.pdf'],
];

const uuidAt = (i: number) => `7e570000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function convert(attrs: readonly J[]) {
  const ev = parseMispDocument({ Event: { uuid: '7e570000-0000-4000-8000-ffffffffffff', info: 'types', timestamp: '1700000000', Attribute: attrs } })[0]!;
  return eventToStix(ev);
}

function exported(objects: readonly StixObj[]): J[] {
  return stixToMisp('grouping--7e570000-0000-4000-8000-ffffffffffff', objects).event.Event.Attribute as J[];
}

describe('MISP attribute types → STIX 2.1', () => {
  for (const toIds of [true, false]) {
    it(`every type (to_ids ${toIds}): valid STIX, parseable patterns, the same value and flag back`, () => {
      const conv = convert(VALUES.map(([type, value], i) => ({ uuid: uuidAt(i), type, value, to_ids: toIds, comment: 'c' })));
      expect(conv.attributes.filter((a) => a.status === 'skipped')).toEqual([]);
      for (const o of conv.objects) {
        const r = validateObject(o);
        expect(r.ok, `${o.id} ${JSON.stringify(r.ok ? '' : r.errors)}`).toBe(true);
        assertValidAgainstOasis(o);
        if (o.type === 'indicator' && o.pattern_type === 'stix') expect(parsePattern(String(o.pattern)).ok, String(o.pattern)).toBe(true);
      }
      const back = exported(conv.objects);
      for (const [i, [type, value]] of VALUES.entries()) {
        const a = back.find((x) => x.uuid === uuidAt(i));
        expect(a, `${type} ${value}`).toMatchObject({ type, value });
        // Only the rule and indicator-only types have no form without to_ids but their x-misp-attribute.
        expect(a!.to_ids, `${type} ${value}`).toBe(toIds);
      }
    });
  }

  it('hostname|port with to_ids is an indicator on network-traffic (one object type per AND, STIX 2.1 §9.5)', () => {
    const conv = convert([{ uuid: uuidAt(1), type: 'hostname|port', value: 'c2.example|8443', to_ids: true }]);
    const ind = conv.objects.find((o) => o.type === 'indicator')!;
    expect(ind.pattern).toBe("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'c2.example' AND network-traffic:dst_port = '8443']");
  });

  it('a port or size that is not a number never reaches a pattern (no pattern injection)', () => {
    const hostile = [
      ['port', "80' OR network-traffic:dst_port = '443"], ['size-in-bytes', "1' OR file:name = 'x"], ['port', '70000000'], ['hostname|port', "h.example|80' OR '1"],
    ];
    const conv = convert(hostile.map(([type, value], i) => ({ uuid: uuidAt(i), type, value, to_ids: true })));
    expect(conv.objects.filter((o) => o.type === 'indicator')).toEqual([]);
    expect(conv.attributes.map((a) => [a.type, a.status])).toEqual(hostile.map(([t]) => [t, 'skipped']));
    for (const a of conv.attributes) expect(a.reason).toMatch(/is not (a port number|a size in bytes|hostname\|port)/);
  });

  it('quotes and backslashes are escaped in patterns: the comparison holds the value, whole', () => {
    const value = "it's \\' OR [file:name = 'x']";
    const conv = convert([{ uuid: uuidAt(1), type: 'mutex', value, to_ids: true }]);
    const ind = conv.objects.find((o) => o.type === 'indicator')!;
    expect(ind.pattern).toBe(String.raw`[mutex:name = 'it\'s \\\' OR [file:name = \'x\']']`);
    expect(parsePattern(String(ind.pattern)).ok).toBe(true);
  });

  it('a Unicode URL is stored in its URI form for the SCO and the pattern; the MISP value comes back on export', () => {
    const conv = convert([{ uuid: uuidAt(1), type: 'url', value: 'http://пример.испытание/путь', to_ids: true }]);
    const url = conv.objects.find((o) => o.type === 'url')!;
    expect(url.value).toBe('http://xn--e1afmkfd.xn--80akhbyknj4f/%D0%BF%D1%83%D1%82%D1%8C');
    expect(conv.objects.find((o) => o.type === 'indicator')!.pattern).toBe(`[url:value = '${String(url.value)}']`);
    expect(exported(conv.objects)[0]).toMatchObject({ type: 'url', value: 'http://пример.испытание/путь', to_ids: true });
  });

  it('an upper-case or dash-separated MAC is stored lower-case and colon-separated (STIX 2.1 §6.6), the MISP value beside it and back on export', async () => {
    const conv = convert([{ uuid: uuidAt(1), type: 'mac-address', value: '00-1A-2B-3C-4D-5E', to_ids: true }, { uuid: uuidAt(2), type: 'mac-address', value: 'not a mac', to_ids: true }]);
    const mac = conv.objects.find((o) => o.type === 'mac-addr')!;
    expect(mac).toMatchObject({ value: '00:1a:2b:3c:4d:5e', x_misp_value: '00-1A-2B-3C-4D-5E' });
    expect(validateObject(mac).ok).toBe(true);
    expect(conv.objects.find((o) => o.type === 'indicator')!.pattern).toBe("[mac-addr:value = '00:1a:2b:3c:4d:5e']");
    expect(exported(conv.objects).find((a) => a.uuid === uuidAt(1))).toMatchObject({ type: 'mac-address', value: '00-1A-2B-3C-4D-5E', to_ids: true });
    // No MAC-48 at all: kept whole, as an x-misp-attribute, never refused.
    expect(conv.attributes[1]).toMatchObject({ status: 'imported', stixIds: [`x-misp-attribute--${uuidAt(2)}`] });
  });

  it('a uri that is a path, with no URL form, is kept as an x-misp-attribute instead of being skipped', () => {
    const conv = convert([{ uuid: uuidAt(1), type: 'uri', value: '/wp-content/gate.php', to_ids: true }]);
    expect(conv.attributes[0]).toMatchObject({ status: 'imported', stixIds: [`x-misp-attribute--${uuidAt(1)}`] });
    expect(exported(conv.objects)[0]).toMatchObject({ type: 'uri', value: '/wp-content/gate.php', to_ids: true });
  });
});
