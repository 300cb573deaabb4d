/**
 * MISP attribute type ↔ STIX 2.1, as misp-stix maps it (documentation/mapping/
 * misp_attributes_to_stix21.json at tag 2026.6.30; shared/reference/misp-interop.md §2).
 * Each entry holds both directions side by side: the SCOs of the observed-data, the
 * indicator pattern, and how the MISP value is read back from the SCOs (export).
 */
import { matchesFormat } from '../stix/index.js';

export type Sco = Record<string, unknown> & { type: string; id: string };

export interface TypeSpec {
  /** SCOs for the observed-data (first is the primary); null when the type has no observable form. */
  scos: ((v: string, uuid: string) => Sco[] | string) | null;
  /** The STIX pattern (without brackets' content escaping done by the caller), or a reason it cannot be made. */
  pattern: (v: string) => string | { error: string };
  /** The MISP value from the SCOs of an observed-data this spec produced; null when absent. */
  value: ((scos: Sco[]) => string | null) | null;
  /**
   * Values of this type that have no observable form but are still a fine MISP value (a `uri`
   * that is a path): kept as an x-misp-attribute, as an unmapped type is, rather than skipped.
   */
  custom?: (v: string) => boolean;
}

/** STIX pattern string literal (misp-stix `_escape_pattern_value`: `\` and `'`). */
export const lit = (v: string): string => `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const pat = (parts: string[]) => `[${parts.join(' AND ')}]`;

export const isIpv6 = (v: string): boolean => v.includes(':');
const ipType = (v: string) => (isIpv6(v) ? 'ipv6-addr' : 'ipv4-addr');
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/\d{1,2})?$/;
const IPV6 = /^[0-9a-fA-F:.]{2,45}(\/\d{1,3})?$/;
const validIp = (v: string) => (isIpv6(v) ? IPV6.test(v) : IPV4.test(v));
const PORT = /^\d{1,5}$/;

const find = (scos: Sco[], type: string) => scos.find((s) => s.type === type);
const prop = (s: Sco | undefined, k: string): string | null => (s && (typeof s[k] === 'string' || typeof s[k] === 'number') ? String(s[k]) : null);
const ipOf = (scos: Sco[]) => prop(find(scos, 'ipv4-addr') ?? find(scos, 'ipv6-addr'), 'value');

/** Splits a composite value `a|b`; null when it has no `|`. */
export function split2(v: string): [string, string] | null {
  const i = v.indexOf('|');
  return i < 0 ? null : [v.slice(0, i), v.slice(i + 1)];
}

function ip(dir: 'src' | 'dst'): TypeSpec {
  return {
    scos: (v, u) => {
      if (!validIp(v)) return `"${v.slice(0, 60)}" is not an IP address`;
      return [{ type: 'network-traffic', id: `network-traffic--${u}`, [`${dir}_ref`]: `${ipType(v)}--${u}`, protocols: [isIpv6(v) ? 'ipv6' : 'ipv4'] }, { type: ipType(v), id: `${ipType(v)}--${u}`, value: v }];
    },
    pattern: (v) => pat([`network-traffic:${dir}_ref.type = '${ipType(v)}'`, `network-traffic:${dir}_ref.value = ${lit(v)}`]),
    value: ipOf,
  };
}

function ipPort(dir: 'src' | 'dst'): TypeSpec {
  return {
    scos: (v, u) => {
      const p = split2(v);
      if (!p || !validIp(p[0]) || !PORT.test(p[1])) return `"${v.slice(0, 60)}" is not ip|port`;
      return [
        { type: 'network-traffic', id: `network-traffic--${u}`, [`${dir}_ref`]: `${ipType(p[0])}--${u}`, [`${dir}_port`]: Number(p[1]), protocols: [isIpv6(p[0]) ? 'ipv6' : 'ipv4'] },
        { type: ipType(p[0]), id: `${ipType(p[0])}--${u}`, value: p[0] },
      ];
    },
    pattern: (v) => {
      const p = split2(v);
      if (!p) return { error: 'not ip|port' };
      return pat([`network-traffic:${dir}_ref.type = '${ipType(p[0])}'`, `network-traffic:${dir}_ref.value = ${lit(p[0])}`, `network-traffic:${dir}_port = '${p[1]}'`]);
    },
    value: (scos) => {
      const ipv = ipOf(scos);
      const port = prop(find(scos, 'network-traffic'), `${dir}_port`);
      return ipv && port ? `${ipv}|${port}` : null;
    },
  };
}

const one = (scoType: string, key: string, path = key): TypeSpec => ({
  scos: (v, u) => [{ type: scoType, id: `${scoType}--${u}`, [key]: v }],
  pattern: (v) => pat([`${scoType}:${path} = ${lit(v)}`]),
  value: (scos) => prop(find(scos, scoType), key),
});

export const HASHES: Readonly<Record<string, string>> = {
  md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512', sha224: 'SHA224', sha384: 'SHA384', ssdeep: 'SSDEEP', tlsh: 'TLSH',
  'sha3-256': 'SHA3-256', 'sha3-512': 'SHA3-512',
};
/** A hash key in a pattern path: quoted when it is not a plain identifier (`hashes.'SHA-256'`). */
export const hashPath = (h: string): string => (/^[A-Za-z0-9_]+$/.test(h) ? h : `'${h}'`);

function hash(type: string): TypeSpec {
  const h = HASHES[type]!;
  return {
    scos: (v, u) => [{ type: 'file', id: `file--${u}`, hashes: { [h]: v } }],
    pattern: (v) => pat([`file:hashes.${hashPath(h)} = ${lit(v)}`]),
    value: (scos) => {
      const hs = find(scos, 'file')?.hashes as Record<string, string> | undefined;
      return hs?.[h] ?? null;
    },
  };
}

function filenameHash(type: string): TypeSpec {
  const h = HASHES[type]!;
  return {
    scos: (v, u) => {
      const p = split2(v);
      if (!p) return `"${v.slice(0, 60)}" is not filename|${type}`;
      return [{ type: 'file', id: `file--${u}`, name: p[0], hashes: { [h]: p[1] } }];
    },
    pattern: (v) => {
      const p = split2(v);
      return p ? pat([`file:name = ${lit(p[0])}`, `file:hashes.${hashPath(h)} = ${lit(p[1])}`]) : { error: 'not filename|hash' };
    },
    value: (scos) => {
      const f = find(scos, 'file');
      const hv = (f?.hashes as Record<string, string> | undefined)?.[h];
      return f && typeof f.name === 'string' && hv ? `${f.name}|${hv}` : null;
    },
  };
}

/**
 * STIX 2.1 §6.13: the hive of a registry key "MUST be fully expanded and not truncated"
 * (HKEY_LOCAL_MACHINE, not HKLM; the OASIS schema refuses the short forms). MISP writes the
 * short forms, so they are expanded on the way in and shortened again on the way out.
 */
const HIVES: readonly [string, string][] = [
  ['HKLM', 'HKEY_LOCAL_MACHINE'], ['HKCU', 'HKEY_CURRENT_USER'], ['HKCR', 'HKEY_CLASSES_ROOT'], ['HKU', 'HKEY_USERS'], ['HKCC', 'HKEY_CURRENT_CONFIG'],
];
export function expandHive(key: string): string {
  for (const [s, l] of HIVES) if (key.toUpperCase().startsWith(`${s}\\`) || key.toUpperCase() === s) return l + key.slice(s.length);
  return key;
}
export function abbreviateHive(key: string): string {
  for (const [s, l] of HIVES) if (key.startsWith(`${l}\\`) || key === l) return s + key.slice(l.length);
  return key;
}

const indicatorOnly = (pattern: (v: string) => string | { error: string }): TypeSpec => ({ scos: null, pattern, value: null });

/** A value an indicator-only numeric type (port, size) puts in its pattern, checked: it is written unquoted by misp-stix's rules. */
const numeric = (what: string, re: RegExp, pattern: (v: string) => string) => (v: string): string | { error: string } =>
  re.test(v.trim()) ? pattern(v.trim()) : { error: `"${v.slice(0, 60)}" is not ${what}` };

/**
 * The url SCO value of a MISP url/uri/link: the value itself when it is a URI (RFC 3986, STIX
 * 2.1 §6.15); an IRI (a host or path in Unicode, MISP takes them) in its URI form (punycode host,
 * percent-encoded path); null when it is no absolute URL at all (a `uri` that is a path).
 */
export function urlValue(v: string): string | null {
  if (matchesFormat('uri', v)) return v;
  if (!/^https?:\/\//i.test(v) || /[\\\s]/.test(v)) return null;
  try {
    const href = new URL(v).href;
    return matchesFormat('uri', href) ? href : null;
  } catch {
    return null;
  }
}

/**
 * url, uri and link. An IRI goes into the SCO and the pattern as its URI, the MISP value beside
 * it (`x_misp_value`, read back on export); a value with no URI form is kept as an x-misp-attribute.
 */
const URL_SPEC: TypeSpec = {
  scos: (v, u) => {
    const uri = urlValue(v);
    if (uri === null) return `"${v.slice(0, 60)}" is not an absolute URL`;
    return [{ type: 'url', id: `url--${u}`, value: uri, ...(uri !== v ? { x_misp_value: v } : {}) }];
  },
  pattern: (v) => {
    const uri = urlValue(v);
    return uri === null ? { error: `"${v.slice(0, 60)}" is not an absolute URL` } : pat([`url:value = ${lit(uri)}`]);
  },
  value: (scos) => prop(find(scos, 'url'), 'x_misp_value') ?? prop(find(scos, 'url'), 'value'),
  custom: (v) => urlValue(v) === null,
};

const MAC_SEPARATED = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
const MAC_DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;

/**
 * The mac-addr SCO value of a MISP mac-address: STIX 2.1 §6.6 wants a single colon-delimited,
 * lower-case MAC-48 with leading zeros, and MISP takes `AA-BB-CC-DD-EE-FF`, upper case and Cisco's
 * `aabb.ccdd.eeff` as well; null when the value is no MAC-48 at all.
 */
export function macValue(v: string): string | null {
  const s = v.trim();
  const m = MAC_SEPARATED.exec(s);
  if (m) return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
  const d = MAC_DOTTED.exec(s);
  return d ? (d[1]! + d[2]! + d[3]!).toLowerCase().replace(/(..)(?!$)/g, '$1:') : null;
}

/**
 * mac-address. The SCO and the pattern hold the normalised MAC, the MISP value beside it
 * (`x_misp_value`, read back on export) when it differs; a value that is no MAC-48 is kept as an
 * x-misp-attribute (it was refused by the STIX validator, and the attribute skipped).
 */
const MAC_SPEC: TypeSpec = {
  scos: (v, u) => {
    const mac = macValue(v);
    if (mac === null) return `"${v.slice(0, 60)}" is not a MAC-48 address`;
    return [{ type: 'mac-addr', id: `mac-addr--${u}`, value: mac, ...(mac !== v ? { x_misp_value: v } : {}) }];
  },
  pattern: (v) => {
    const mac = macValue(v);
    return mac === null ? { error: `"${v.slice(0, 60)}" is not a MAC-48 address` } : pat([`mac-addr:value = ${lit(mac)}`]);
  },
  value: (scos) => prop(find(scos, 'mac-addr'), 'x_misp_value') ?? prop(find(scos, 'mac-addr'), 'value'),
  custom: (v) => macValue(v) === null,
};

const x509 = (h: string): TypeSpec => ({
  scos: (v, u) => [{ type: 'x509-certificate', id: `x509-certificate--${u}`, hashes: { [h]: v } }],
  pattern: (v) => pat([`x509-certificate:hashes.${hashPath(h)} = ${lit(v)}`]),
  value: (scos) => (find(scos, 'x509-certificate')?.hashes as Record<string, string> | undefined)?.[h] ?? null,
});

export const TYPES: Readonly<Record<string, TypeSpec>> = {
  'ip-src': ip('src'),
  'ip-dst': ip('dst'),
  'ip-src|port': ipPort('src'),
  'ip-dst|port': ipPort('dst'),
  domain: one('domain-name', 'value'),
  hostname: one('domain-name', 'value'),
  'domain|ip': {
    scos: (v, u) => {
      const p = split2(v);
      if (!p || !validIp(p[1])) return `"${v.slice(0, 60)}" is not domain|ip`;
      return [{ type: 'domain-name', id: `domain-name--${u}`, value: p[0], resolves_to_refs: [`${ipType(p[1])}--${u}`] }, { type: ipType(p[1]), id: `${ipType(p[1])}--${u}`, value: p[1] }];
    },
    pattern: (v) => {
      const p = split2(v);
      return p ? pat([`domain-name:value = ${lit(p[0])}`, `domain-name:resolves_to_refs[*].value = ${lit(p[1])}`]) : { error: 'not domain|ip' };
    },
    value: (scos) => {
      const d = prop(find(scos, 'domain-name'), 'value');
      const i = ipOf(scos);
      return d && i ? `${d}|${i}` : null;
    },
  },
  'hostname|port': {
    scos: (v, u) => {
      const p = split2(v);
      if (!p || !PORT.test(p[1])) return `"${v.slice(0, 60)}" is not hostname|port`;
      return [{ type: 'domain-name', id: `domain-name--${u}`, value: p[0] }, { type: 'network-traffic', id: `network-traffic--${u}`, dst_ref: `domain-name--${u}`, dst_port: Number(p[1]), protocols: ['tcp'] }];
    },
    pattern: (v) => {
      const p = split2(v);
      // STIX 2.1 §9.5: the comparisons an AND joins name one object type. misp-stix writes
      // `domain-name:value = … AND network-traffic:dst_port = …`, which every STIX 2.1 pattern
      // parser refuses (ours did: every to_ids hostname|port was skipped); the domain is the
      // connection's destination, so both go on network-traffic.
      return p && PORT.test(p[1])
        ? pat(["network-traffic:dst_ref.type = 'domain-name'", `network-traffic:dst_ref.value = ${lit(p[0])}`, `network-traffic:dst_port = '${p[1]}'`])
        : { error: `"${v.slice(0, 60)}" is not hostname|port` };
    },
    value: (scos) => {
      const d = prop(find(scos, 'domain-name'), 'value');
      const port = prop(find(scos, 'network-traffic'), 'dst_port');
      return d && port ? `${d}|${port}` : null;
    },
  },
  url: URL_SPEC,
  uri: URL_SPEC,
  link: URL_SPEC,
  ...Object.fromEntries(Object.keys(HASHES).map((t) => [t, hash(t)])),
  filename: one('file', 'name'),
  ...Object.fromEntries(['md5', 'sha1', 'sha256', 'sha512', 'ssdeep', 'tlsh'].map((t) => [`filename|${t}`, filenameHash(t)])),
  email: one('email-addr', 'value'),
  'email-src': {
    scos: (v, u) => [{ type: 'email-message', id: `email-message--${u}`, is_multipart: false, from_ref: `email-addr--${u}` }, { type: 'email-addr', id: `email-addr--${u}`, value: v }],
    pattern: (v) => pat([`email-message:from_ref.value = ${lit(v)}`]),
    value: (scos) => prop(find(scos, 'email-addr'), 'value'),
  },
  'email-dst': {
    scos: (v, u) => [{ type: 'email-message', id: `email-message--${u}`, is_multipart: false, to_refs: [`email-addr--${u}`] }, { type: 'email-addr', id: `email-addr--${u}`, value: v }],
    pattern: (v) => pat([`email-message:to_refs[*].value = ${lit(v)}`]),
    value: (scos) => prop(find(scos, 'email-addr'), 'value'),
  },
  'email-subject': {
    scos: (v, u) => [{ type: 'email-message', id: `email-message--${u}`, is_multipart: false, subject: v }],
    pattern: (v) => pat([`email-message:subject = ${lit(v)}`]),
    value: (scos) => prop(find(scos, 'email-message'), 'subject'),
  },
  'email-reply-to': {
    scos: (v, u) => [{ type: 'email-message', id: `email-message--${u}`, is_multipart: false, additional_header_fields: { 'Reply-To': v } }],
    pattern: (v) => pat([`email-message:additional_header_fields.reply_to = ${lit(v)}`]),
    value: (scos) => {
      const h = find(scos, 'email-message')?.additional_header_fields as Record<string, string> | undefined;
      return h?.['Reply-To'] ?? null;
    },
  },
  AS: {
    scos: (v, u) => {
      const n = /^(?:AS)?(\d{1,10})$/i.exec(v.trim());
      if (!n) return `"${v.slice(0, 60)}" is not an AS number`;
      return [{ type: 'autonomous-system', id: `autonomous-system--${u}`, number: Number(n[1]) }];
    },
    pattern: (v) => pat([`autonomous-system:number = '${v.replace(/^AS/i, '')}'`]),
    value: (scos) => {
      const n = prop(find(scos, 'autonomous-system'), 'number');
      return n === null ? null : `AS${n}`;
    },
  },
  mutex: one('mutex', 'name'),
  regkey: {
    scos: (v, u) => [{ type: 'windows-registry-key', id: `windows-registry-key--${u}`, key: expandHive(v) }],
    pattern: (v) => pat([`windows-registry-key:key = ${lit(expandHive(v))}`]),
    value: (scos) => {
      const k = prop(find(scos, 'windows-registry-key'), 'key');
      return k === null ? null : abbreviateHive(k);
    },
  },
  'regkey|value': {
    scos: (v, u) => {
      const p = split2(v);
      if (!p) return `"${v.slice(0, 60)}" is not regkey|value`;
      return [{ type: 'windows-registry-key', id: `windows-registry-key--${u}`, key: expandHive(p[0]), values: [{ data: p[1] }] }];
    },
    pattern: (v) => {
      const p = split2(v);
      return p ? pat([`windows-registry-key:key = ${lit(expandHive(p[0]))}`, `windows-registry-key:values.data = ${lit(p[1])}`]) : { error: 'not regkey|value' };
    },
    value: (scos) => {
      const k = find(scos, 'windows-registry-key');
      const d = (k?.values as { data?: string }[] | undefined)?.[0]?.data;
      return k && typeof k.key === 'string' && d !== undefined ? `${abbreviateHive(k.key)}|${d}` : null;
    },
  },
  'mac-address': MAC_SPEC,
  'x509-fingerprint-sha1': x509('SHA-1'),
  'x509-fingerprint-sha256': x509('SHA-256'),
  'x509-fingerprint-md5': x509('MD5'),
  'github-username': {
    scos: (v, u) => [{ type: 'user-account', id: `user-account--${u}`, account_type: 'github', account_login: v }],
    pattern: (v) => pat(["user-account:account_type = 'github'", `user-account:account_login = ${lit(v)}`]),
    value: (scos) => prop(find(scos, 'user-account'), 'account_login'),
  },
  'user-agent': indicatorOnly((v) => pat([`network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = ${lit(v)}`])),
  // Checked before they go into the pattern: `80' OR network-traffic:dst_port = '443` made another pattern.
  port: indicatorOnly(numeric('a port number', /^\d{1,5}$/, (v) => pat([`network-traffic:dst_port = '${v}'`]))),
  'http-method': indicatorOnly((v) => pat([`network-traffic:extensions.'http-request-ext'.request_method = ${lit(v)}`])),
  'size-in-bytes': indicatorOnly(numeric('a size in bytes', /^\d{1,15}$/, (v) => pat([`file:size = '${v}'`]))),
};

/** Rule languages kept as the indicator's pattern with their own `pattern_type` (misp-stix). */
export const RULE_TYPES: Readonly<Record<string, string>> = { yara: 'yara', snort: 'snort', sigma: 'sigma', suricata: 'suricata' };

/** The indicator-only value read back from a one-comparison pattern (export of indicator-only types). */
export function patternValue(pattern: string): string | null {
  const m = /=\s*'((?:[^'\\]|\\.)*)'\s*\]$/.exec(pattern);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : null;
}
