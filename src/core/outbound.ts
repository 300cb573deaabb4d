/**
 * Where the node's own outbound requests (TAXII peers and feeds, vulnerability feeds) never
 * connect, whatever a URL or its DNS name says: link-local (the cloud metadata services at
 * 169.254.169.254 and fd00:ec2::254 hand out the machine's credentials), "this network" and
 * unspecified, and Alibaba's metadata address. A URL pointing there would make this node fetch
 * them for whoever configured it. Loopback and private addresses stay allowed: nodes federate
 * over private networks.
 */
import dns from 'node:dns';
import net from 'node:net';

const REFUSED = new net.BlockList();
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addSubnet('0.0.0.0', 8, 'ipv4');
REFUSED.addAddress('100.100.100.200', 'ipv4');
REFUSED.addSubnet('fe80::', 10, 'ipv6');
REFUSED.addAddress('fd00:ec2::254', 'ipv6');
REFUSED.addAddress('::', 'ipv6');

/** Whether `ip` (an IPv4 or IPv6 literal, IPv4-mapped included) is an address the node never connects to. */
export function refusedAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '');
  const family = net.isIP(bare);
  return family !== 0 && REFUSED.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why a connection to `host` (resolved to `ip`) is refused. */
export const refusal = (host: string, ip: string) => `${host} is ${host === ip ? '' : `resolved to ${ip}, `}a link-local or metadata-service address, where no feed or peer is reached`;

/** DNS lookup for outbound connections that refuses names resolving to a refused address. */
export const guardedLookup = ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const bad = addresses.find((a) => refusedAddress(a.address));
    if (bad) return callback(Object.assign(new Error(refusal(hostname, bad.address)), { code: 'EADDRNOTAVAIL' }), '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}) as unknown as typeof dns.lookup;
