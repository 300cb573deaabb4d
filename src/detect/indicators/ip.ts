/**
 * IP addresses and CIDR blocks as 32-bit words, and a binary trie per address family for
 * ISSUBSET indicators (STIX 2.1 §9.4 "ISSUBSET"). The parser accepts exactly what the pattern
 * evaluator's does (decimal octets without leading zeros; RFC 4291 §2.2 text forms, including an
 * embedded IPv4 tail), so the index and `evaluatePattern` agree on every value; host bits below
 * the prefix are ignored, as network tools do.
 */
import { ipv4Value, ipv6Groups, splitBlock } from '../../stix/pattern/cidr.js';

export interface Block {
  readonly version: 4 | 6;
  /** 1 word for IPv4, 4 for IPv6, most significant first. */
  readonly words: Uint32Array;
  readonly prefix: number;
}

/** Parses `addr` or `addr/prefix`; null when malformed (the same inputs the evaluator refuses). */
export function parseBlock(text: string): Block | null {
  const b = splitBlock(text);
  if (b === null) return null;
  if (b.v6) {
    const g = ipv6Groups(b.addr);
    if (g === null) return null;
    const w = new Uint32Array(4);
    for (let i = 0; i < 4; i++) w[i] = (g[2 * i] ?? 0) * 65536 + (g[2 * i + 1] ?? 0);
    return { version: 6, words: w, prefix: b.prefix };
  }
  const v = ipv4Value(b.addr);
  return v === null ? null : { version: 4, words: Uint32Array.of(v), prefix: b.prefix };
}

/** True when block `a` lies inside block `b` (equal included; versions must agree). */
export function blockWithin(a: Block, b: Block): boolean {
  if (a.version !== b.version || a.prefix < b.prefix) return false;
  for (let i = 0; i < b.prefix; i++) if (bitAt(a.words, i) !== bitAt(b.words, i)) return false;
  return true;
}

function bitAt(words: Uint32Array, i: number): number {
  return ((words[i >>> 5] ?? 0) >>> (31 - (i & 31))) & 1;
}

/**
 * Binary trie over address bits. Node arrays are typed (two Int32 children per node) so a
 * million prefixes cost tens of MB, not an object per node. A node holds the items of the block
 * ending there; a lookup walks the address's bits and collects every item on the way, which is
 * every block that covers the address (Zeek intel semantics: the /32 and all its supernets).
 * Removal empties the item list; nodes are not reclaimed (they are reused on re-insert).
 */
export class PrefixTrie<T> {
  /** Children of node n at 2n (bit 0) and 2n + 1 (bit 1): one array read per level. */
  private kids = new Int32Array(2048);
  private items: (T[] | undefined)[] = [undefined];
  /** 1 where `items` has a list: a lookup reads this small array, not `items`, at each level. */
  private marks = new Uint8Array(1024);
  private size = 1;
  private prefixes = 0;

  get nodes(): number {
    return this.size;
  }
  get blocks(): number {
    return this.prefixes;
  }

  private grow(): void {
    const kids = new Int32Array(this.kids.length * 2);
    kids.set(this.kids);
    this.kids = kids;
    const marks = new Uint8Array(this.marks.length * 2);
    marks.set(this.marks);
    this.marks = marks;
  }

  private child(node: number, bit: number, create: boolean): number {
    let c = this.kids[2 * node + bit] ?? 0;
    if (c === 0 && create) {
      if (this.size === this.marks.length) this.grow();
      c = this.size++;
      this.kids[2 * node + bit] = c;
      this.items.push(undefined);
    }
    return c;
  }

  insert(block: Block, item: T): void {
    let node = 0;
    for (let i = 0; i < block.prefix; i++) node = this.child(node, bitAt(block.words, i), true);
    const list = this.items[node];
    if (list === undefined) {
      this.items[node] = [item];
      this.marks[node] = 1;
      this.prefixes++;
    } else if (!list.includes(item)) list.push(item);
  }

  delete(block: Block, item: T): void {
    let node = 0;
    for (let i = 0; i < block.prefix && node >= 0; i++) {
      node = this.child(node, bitAt(block.words, i), false);
      if (node === 0) return;
    }
    const list = this.items[node];
    if (list === undefined) return;
    const k = list.indexOf(item);
    if (k >= 0) list.splice(k, 1);
    if (list.length === 0) {
      this.items[node] = undefined;
      this.marks[node] = 0;
      this.prefixes--;
    }
  }

  /**
   * Writes to `out[0..n)` the item lists of every stored IPv4 block containing the address
   * `word` (a /32) and returns n, without allocating a Block or truncating `out` (a reused
   * scratch array): the per-event path for IPv4 addresses.
   */
  coveringV4(word: number, out: (readonly T[])[]): number {
    let node = 0;
    let n = 0;
    const kids = this.kids;
    const marks = this.marks;
    for (let i = 0; ; i++) {
      if (marks[node] === 1) out[n++] = this.items[node] as T[];
      if (i >= 32) return n;
      node = kids[2 * node + ((word >>> (31 - i)) & 1)] ?? 0;
      if (node === 0) return n;
    }
  }

  /** Calls `fn` with the items of every stored block that contains `block` (equal included). */
  covering(block: Block, fn: (items: readonly T[], prefix: number) => void): void {
    let node = 0;
    for (let i = 0; ; i++) {
      const here = this.items[node];
      if (here !== undefined) fn(here, i);
      if (i >= block.prefix) return;
      node = this.child(node, bitAt(block.words, i), false);
      if (node === 0) return;
    }
  }
}
