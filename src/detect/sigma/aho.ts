/**
 * Aho-Corasick automaton over lower-cased literals, compiled to a dense DFA on a reduced alphabet:
 * one table lookup per character of the text. Matching is case-insensitive without lower-casing
 * the text: upper- and lower-case forms of a character share one class. Characters that occur in
 * no needle share class 0. Output lists are merged along dictionary suffix links at build time.
 */
let FOLD: Uint16Array | undefined;

/** Per-code-unit lower-case mapping (single-unit results only; others map to themselves). */
function fold(): Uint16Array {
  if (FOLD === undefined) {
    FOLD = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const l = c >= 0xd800 && c <= 0xdfff ? '' : String.fromCharCode(c).toLowerCase();
      FOLD[c] = l.length === 1 ? l.charCodeAt(0) : c;
    }
  }
  return FOLD;
}

export class Automaton {
  private readonly cls: Uint16Array; // ASCII char code -> class (case-folded)
  private readonly high: Map<number, number>; // folded non-ASCII code -> class
  private readonly bucket: Uint16Array | undefined; // approximate mode: (folded code & 31) -> class
  private readonly k: number; // alphabet size incl. class 0
  private readonly delta: Int32Array | Uint16Array;
  private readonly out: readonly (readonly number[])[];
  private readonly final: Uint8Array; // 1 when the state has outputs

  /**
   * `approximate`: characters above ASCII share 32 bucket classes, which bounds the alphabet (the
   * corpus has rules listing hundreds of emoji) at the price of false hits; only for prefilters.
   */
  constructor(needles: readonly string[], approximate = false) {
    const f = fold();
    const cls = new Uint16Array(128);
    const high = new Map<number, number>();
    let k = 1;
    const classOf = (c: number): number => {
      const l = f[c] as number;
      if (l < 128) {
        if (cls[l] === 0) cls[l] = k++;
        return cls[l] as number;
      }
      const key = approximate ? 0x10000 + (l & 31) : l;
      let x = high.get(key);
      if (x === undefined) high.set(key, (x = k++));
      return x;
    };
    const coded = needles.map((n) => Array.from({ length: n.length }, (_, i) => classOf(n.charCodeAt(i))));
    for (let c = 65; c <= 90; c++) cls[c] = cls[c + 32] as number; // A-Z share a-z classes
    this.bucket = approximate ? new Uint16Array(32) : undefined;
    if (this.bucket !== undefined) for (const [key, x] of high) if (key >= 0x10000) this.bucket[key & 31] = x;
    this.cls = cls;
    this.high = high;
    this.k = k;
    // Trie
    const goto: Map<number, number>[] = [new Map()];
    const outs: number[][] = [[]];
    coded.forEach((n, id) => {
      let s = 0;
      for (let i = 0; i < n.length; i++) {
        const c = n[i] as number;
        const g = goto[s] as Map<number, number>;
        let t = g.get(c);
        if (t === undefined) {
          t = goto.length;
          goto.push(new Map());
          outs.push([]);
          g.set(c, t);
        }
        s = t;
      }
      (outs[s] as number[]).push(id);
    });
    const states = goto.length;
    // 16-bit state numbers when they fit: half the table, fewer cache misses per character.
    const delta = states < 65536 ? new Uint16Array(states * k) : new Int32Array(states * k);
    const fail = new Int32Array(states);
    // BFS building the full DFA.
    const queue: number[] = [];
    for (let c = 0; c < k; c++) {
      const t = (goto[0] as Map<number, number>).get(c);
      if (t !== undefined) {
        delta[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi] as number;
      const f = fail[s] as number;
      if ((outs[f] as number[]).length > 0) outs[s] = [...(outs[s] as number[]), ...(outs[f] as number[])];
      // Row of s = row of its failure state, then its own trie edges on top (f is shallower, so
      // its row is complete already).
      delta.copyWithin(s * k, f * k, f * k + k);
      for (const [c, t] of goto[s] as Map<number, number>) {
        fail[t] = delta[f * k + c] as number;
        delta[s * k + c] = t;
        queue.push(t);
      }
    }
    this.delta = delta;
    this.out = outs;
    this.final = Uint8Array.from(outs, (o) => (o.length > 0 ? 1 : 0));
  }

  /** Calls `hit(needleId)` for every occurrence end (ids may repeat). */
  scan(text: string, hit: (id: number) => void): void {
    const { cls, high, bucket, k, delta, out, final } = this;
    const f = FOLD as Uint16Array;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      s = delta[s * k + (ch < 128 ? (cls[ch] as number) : bucket !== undefined ? (bucket[(f[ch] as number) & 31] as number) : (high.get(f[ch] as number) ?? 0))] as number;
      if (final[s] === 1) for (const id of out[s] as readonly number[]) hit(id);
    }
  }

  get states(): number {
    return this.out.length;
  }
}
