/**
 * A hash table keyed by 32-bit words (IPv4 addresses), in typed arrays: open addressing with
 * linear probing and backward-shift deletion (no tombstones). Exact-table keys that are dotted
 * quads live here instead of in a `Map` of strings: a key costs 12 bytes of arrays instead of a
 * string and a Map entry, and a lookup reads one typed-array slot instead of hashing and
 * comparing strings in a million-entry Map. Dotted quads as `ipv4Value` (stix/pattern/cidr.ts) accepts them have one
 * text per word, so word equality is string equality (see ip.ts).
 */
export class WordTable<V> {
  readonly kind = 'words';
  private keys = new Int32Array(16);
  private vals: (V | undefined)[] = new Array<V | undefined>(16).fill(undefined);
  private bits = 4;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The home slot of a key: Fibonacci hashing, top `bits` bits of the product. */
  private slot(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> (32 - this.bits);
  }

  get(key: number): V | undefined {
    const mask = this.keys.length - 1;
    const keys = this.keys;
    const vals = this.vals;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (keys[i] === key) return v;
    }
  }

  set(key: number, value: V): void {
    const mask = this.keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      if (this.vals[i] === undefined) {
        this.keys[i] = key;
        this.vals[i] = value;
        // Load at most one half: probes stay short.
        if (++this.count * 2 > this.keys.length) this.grow();
        return;
      }
      if (this.keys[i] === key) { this.vals[i] = value; return; }
    }
  }

  delete(key: number): boolean {
    const mask = this.keys.length - 1;
    let i = this.slot(key);
    for (; ; i = (i + 1) & mask) {
      if (this.vals[i] === undefined) return false;
      if (this.keys[i] === key) break;
    }
    // Backward shift: move later members of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, j].
    let j = i;
    for (;;) {
      this.vals[i] = undefined;
      for (;;) {
        j = (j + 1) & mask;
        if (this.vals[j] === undefined) { this.count--; return true; }
        const k = this.slot(this.keys[j] ?? 0);
        if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
        break;
      }
      this.keys[i] = this.keys[j] ?? 0;
      this.vals[i] = this.vals[j];
      i = j;
    }
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.bits++;
    this.keys = new Int32Array(keys.length * 2);
    this.vals = new Array<V | undefined>(keys.length * 2).fill(undefined);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = vals[i];
      if (v !== undefined) this.set(keys[i] ?? 0, v);
    }
  }
}
