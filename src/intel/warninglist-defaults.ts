/**
 * Warninglists shipped with Shieldwall: small, written for this project (not copied from
 * MISP's lists), each with the reason for its entries. A built-in list may be disabled, not
 * deleted. Lists whose entries are what exercises and demo data are made of (documentation
 * addresses, RFC 2606 names) ship disabled, or every exercise indicator would be flagged.
 */
import type { WarninglistRow } from '../store/index.js';

/** A shipped list: the stored row's fields (its `version` is bumped when the entries change, so stored copies are refreshed on start), with its entries. */
export interface BuiltinWarninglist extends Pick<WarninglistRow, 'id' | 'name' | 'version' | 'description' | 'type' | 'matchingAttributes'> {
  enabledByDefault: boolean;
  list: string[];
}

const IP_ATTRIBUTES = ['ip-src', 'ip-dst', 'ip-src|port', 'ip-dst|port', 'domain|ip'];
const HOST_ATTRIBUTES = ['domain', 'hostname', 'domain|ip', 'url', 'email', 'email-src', 'email-dst'];

export const BUILTIN_WARNINGLISTS: readonly BuiltinWarninglist[] = [
  {
    id: 'builtin-special-ip',
    name: 'Private, loopback, link-local and other special-purpose addresses',
    version: 1,
    description: 'Addresses that never identify a host on the Internet: RFC 1918 private ranges, shared address space '
      + '(RFC 6598), loopback, link-local, unspecified, multicast, reserved and broadcast, IPv6 unique-local, link-local and multicast.',
    type: 'cidr',
    matchingAttributes: IP_ATTRIBUTES,
    enabledByDefault: true,
    list: [
      '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
      '100.64.0.0/10', // RFC 6598 carrier-grade NAT
      '127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/8', // loopback, link-local (RFC 3927), "this network"
      '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32', // multicast, reserved, limited broadcast
      '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', // unspecified, loopback, ULA (RFC 4193), link-local, multicast
    ],
  },
  {
    id: 'builtin-public-resolvers',
    name: 'Well-known public DNS resolvers',
    version: 1,
    description: 'Anycast addresses of large public recursive resolvers: every network talks to them, so a hit says nothing.',
    type: 'string',
    matchingAttributes: IP_ATTRIBUTES,
    enabledByDefault: true,
    list: [
      '8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844', // Google Public DNS
      '1.1.1.1', '1.0.0.1', '2606:4700:4700::1111', '2606:4700:4700::1001', // Cloudflare
      '9.9.9.9', '149.112.112.112', '2620:fe::fe', '2620:fe::9', // Quad9
      '208.67.222.222', '208.67.220.220', // Cisco OpenDNS
    ],
  },
  {
    id: 'builtin-benign-domains',
    name: 'Operating-system and vendor update domains',
    version: 1,
    description: 'Domains (and their subdomains) of OS vendors\' update, telemetry and certificate services that every '
      + 'managed host contacts. Hosting and user-content domains (cloud storage, pages, CDNs serving customer content) are '
      + 'deliberately absent: attackers use them.',
    type: 'hostname',
    matchingAttributes: HOST_ATTRIBUTES,
    enabledByDefault: true,
    list: [
      'microsoft.com', 'windowsupdate.com', 'update.microsoft.com', 'msftncsi.com', 'msftconnecttest.com',
      'google.com', 'gstatic.com', 'apple.com', 'mzstatic.com',
      'mozilla.org', 'mozilla.net', 'ubuntu.com', 'debian.org',
      'digicert.com', 'letsencrypt.org', 'globalsign.com', 'sectigo.com',
    ],
  },
  {
    id: 'builtin-documentation-ip',
    name: 'Documentation and benchmarking address ranges',
    version: 1,
    description: 'TEST-NET-1/2/3 (RFC 5737), 2001:db8::/32 (RFC 3849) and the benchmarking range (RFC 2544). Disabled by '
      + 'default: exercises and demonstrations use these addresses for their indicators.',
    type: 'cidr',
    matchingAttributes: IP_ATTRIBUTES,
    enabledByDefault: false,
    list: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '198.18.0.0/15'],
  },
  {
    id: 'builtin-reserved-domains',
    name: 'Reserved example and test domain names',
    version: 1,
    description: 'Names reserved by RFC 2606 and RFC 6761 (example.com/.net/.org and the .example, .test, .invalid and '
      + '.localhost top-level domains). Disabled by default: exercises and demonstrations use them.',
    type: 'hostname',
    matchingAttributes: HOST_ATTRIBUTES,
    enabledByDefault: false,
    list: ['example.com', 'example.net', 'example.org', 'example', 'test', 'invalid', 'localhost'],
  },
];
