/**
 * IPv4 / IPv6 addresses and CIDR blocks for ISSUBSET / ISSUPERSET (STIX 2.1 §9.4: "ISSUBSET:
 * the network address is a strict or equal subset of the value"). A bare address is a /32 or
 * /128 block. Host bits below the prefix are ignored, as network tools do.
 */
export interface IpBlock {
  readonly version: 4 | 6;
  /** The address, masked to the prefix. */
  readonly network: bigint;
  readonly prefix: number;
}

function parseIpv4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    // Decimal octets only; a leading zero would be read as octal by some tools, so refuse it.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIpv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45) return null;
  const dbl = s.indexOf('::');
  let tail: bigint | null = null;
  let words: number[] = [];
  // An embedded dotted IPv4 tail counts for two 16-bit groups (RFC 4291 §2.2, form 3).
  const lastColon = s.lastIndexOf(':');
  let body = s;
  if (s.indexOf('.', lastColon) > lastColon) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === null) return null;
    // Keep a '::' that ends right before the IPv4 part; otherwise drop the separating ':'.
    body = s.charAt(lastColon - 1) === ':' ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const toWords = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const need = tail === null ? 8 : 6;
  if (dbl >= 0) {
    if (body.indexOf('::', dbl + 1) >= 0) return null;
    const left = toWords(body.slice(0, dbl));
    const right = toWords(body.slice(dbl + 2));
    if (left === null || right === null || left.length + right.length > need - 1) return null;
    words = [...left, ...new Array<number>(need - left.length - right.length).fill(0), ...right];
  } else {
    const w = toWords(body);
    if (w === null || w.length !== need) return null;
    words = w;
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  if (tail !== null) v = (v << 32n) | tail;
  return v;
}

/** Parses `addr` or `addr/prefix` (IPv4 or IPv6); null when malformed. */
export function parseIpBlock(text: string): IpBlock | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const isV6 = addr.includes(':');
  const width = isV6 ? 128 : 32;
  let prefix = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > width) return null;
  }
  const value = isV6 ? parseIpv6(addr) : parseIpv4(addr);
  if (value === null) return null;
  const shift = BigInt(width - prefix);
  return { version: isV6 ? 6 : 4, network: (value >> shift) << shift, prefix };
}

/** True when block `a` lies inside block `b` (equal blocks included). */
export function ipBlockWithin(a: IpBlock, b: IpBlock): boolean {
  if (a.version !== b.version || a.prefix < b.prefix) return false;
  const width = a.version === 4 ? 32 : 128;
  const shift = BigInt(width - b.prefix);
  return a.network >> shift === b.network >> shift;
}
