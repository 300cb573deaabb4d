/** String formats used by STIX 2.1 properties, as predicates. Regexes are linear-time. */
import { isIPv6 } from 'node:net';

export type Format = 'lang' | 'hex' | 'binary' | 'mac' | 'ipv4' | 'ipv6' | 'uri' | 'mime' | 'email' | 'token';

// RFC 5646 language tag, simplified to its syntax (primary subtag + subtags).
const LANG = /^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$/;
const HEX = /^([a-fA-F0-9]{2})+$/;
const B64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;
// §6.9: MAC addresses are colon-delimited, lower-case, zero-padded.
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\/(3[0-2]|[12]?\d))?$/;
// RFC 3986: a scheme, then only unreserved, reserved and percent-encoded characters.
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:([A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const MIME = /^(application|audio|font|image|message|model|multipart|text|video)\/[a-zA-Z0-9.+_-]+/;
// RFC 5322 addr-spec in its dot-atom form, with a DNS domain (§6.5 email-addr value).
const ATEXT = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?';
const EMAIL = new RegExp(`^${ATEXT}(\\.${ATEXT})*@(${LABEL}\\.)+${LABEL}$`);

// §5.1 relationship_type: a-z, 0-9 and hyphen only.
const TOKEN = /^[a-z0-9-]+$/;

function isIpv6Cidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash === -1) return isIPv6(s);
  const prefix = s.slice(slash + 1);
  return isIPv6(s.slice(0, slash)) && /^(12[0-8]|1[01]\d|[1-9]?\d)$/.test(prefix);
}

export function matchesFormat(format: Format, s: string): boolean {
  switch (format) {
    case 'lang':
      return LANG.test(s);
    case 'hex':
      return HEX.test(s);
    case 'binary':
      return B64.test(s);
    case 'mac':
      return MAC.test(s);
    case 'ipv4':
      return IPV4.test(s);
    case 'ipv6':
      return isIpv6Cidr(s);
    case 'uri':
      return URI.test(s);
    case 'mime':
      return MIME.test(s);
    case 'email':
      return EMAIL.test(s);
    case 'token':
      return TOKEN.test(s);
  }
}

/** Digest formats of the hash algorithms STIX 2.1 names (§10.7 hashing-algorithm-ov). */
export const HASH_DIGESTS: Readonly<Record<string, RegExp>> = {
  MD5: /^[a-fA-F0-9]{32}$/,
  'SHA-1': /^[a-fA-F0-9]{40}$/,
  'SHA-256': /^[a-fA-F0-9]{64}$/,
  'SHA-512': /^[a-fA-F0-9]{128}$/,
  'SHA3-256': /^[a-fA-F0-9]{64}$/,
  'SHA3-512': /^[a-fA-F0-9]{128}$/,
};
