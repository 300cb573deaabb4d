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

/**
 * Dotted quad → its 32-bit value; null unless four decimal octets (no leading zero: some tools
 * read one as octal). By hand: the detection index runs this on every address of every event.
 */
export function ipv4Value(s: string): number | null {
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return null;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return v * 256 + octet;
}

function hexGroups(part: string): number[] | null {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

/**
 * RFC 5952 §4 text of eight 16-bit groups: lower case, no leading zeros, the longest run of two or
 * more zero groups (the first of equal runs) as `::`. One writer for the intel index and for
 * telemetry (detect/normalise/util.ts canonicalIp), so both name an address the same way.
 */
export function ipv6GroupsText(g: ArrayLike<number>): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  let out = '';
  let sep = false;
  for (let k = 0; k < 8; k++) {
    if (k === best) {
      out += '::';
      sep = false;
      k += bestLen - 1;
      continue;
    }
    if (sep) out += ':';
    out += g[k]!.toString(16);
    sep = true;
  }
  return out;
}

/** An IPv6 address's eight 16-bit groups, most significant first (RFC 4291 §2.2 text forms); null when malformed. */
export function ipv6Groups(s: string): number[] | null {
  if (s.length < 2 || s.length > 45) return null;
  const dbl = s.indexOf('::');
  const lastColon = s.lastIndexOf(':');
  let body = s;
  let tail: number | null = null;
  // An embedded dotted IPv4 tail counts for two 16-bit groups (RFC 4291 §2.2, form 3).
  if (s.indexOf('.', lastColon) > lastColon) {
    tail = ipv4Value(s.slice(lastColon + 1));
    if (tail === null) return null;
    // Keep a '::' that ends right before the IPv4 part; otherwise drop the separating ':'.
    body = s.charAt(lastColon - 1) === ':' ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const need = tail === null ? 8 : 6;
  let groups: number[];
  if (dbl >= 0) {
    if (body.indexOf('::', dbl + 1) >= 0) return null;
    const left = hexGroups(body.slice(0, dbl));
    const right = hexGroups(body.slice(dbl + 2));
    if (left === null || right === null || left.length + right.length > need - 1) return null;
    groups = [...left, ...new Array<number>(need - left.length - right.length).fill(0), ...right];
  } else {
    const g = hexGroups(body);
    if (g === null || g.length !== need) return null;
    groups = g;
  }
  if (tail !== null) groups.push(Math.floor(tail / 65536), tail % 65536);
  return groups;
}

/** `addr` or `addr/prefix` split: the address, its family and the prefix (the full width when none); null when the prefix is malformed or too long. */
export function splitBlock(text: string): { addr: string; v6: boolean; prefix: number } | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v6 = addr.includes(':');
  const width = v6 ? 128 : 32;
  let prefix = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > width) return null;
  }
  return { addr, v6, prefix };
}

/** Parses `addr` or `addr/prefix` (IPv4 or IPv6); null when malformed. */
export function parseIpBlock(text: string): IpBlock | null {
  const b = splitBlock(text);
  if (b === null) return null;
  let value: bigint;
  if (b.v6) {
    const groups = ipv6Groups(b.addr);
    if (groups === null) return null;
    value = 0n;
    for (const g of groups) value = (value << 16n) | BigInt(g);
  } else {
    const v = ipv4Value(b.addr);
    if (v === null) return null;
    value = BigInt(v);
  }
  const shift = BigInt((b.v6 ? 128 : 32) - b.prefix);
  return { version: b.v6 ? 6 : 4, network: (value >> shift) << shift, prefix: b.prefix };
}

/** True when block `a` lies inside block `b` (equal blocks included). */
export function ipBlockWithin(a: IpBlock, b: IpBlock): boolean {
  if (a.version !== b.version || a.prefix < b.prefix) return false;
  const width = a.version === 4 ? 32 : 128;
  const shift = BigInt(width - b.prefix);
  return a.network >> shift === b.network >> shift;
}
