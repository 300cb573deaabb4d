/**
 * Aho-Corasick automaton over the rules' required literals (lower-cased), compiled to a dense DFA
 * on a reduced alphabet: one table lookup per character of the event text. Characters that occur
 * in no needle share class 0. Output lists are merged along dictionary suffix links at build time.
 */
export class Automaton {
  private readonly cls: Uint16Array; // char code (BMP) -> class
  private readonly k: number; // alphabet size incl. class 0
  private readonly delta: Int32Array;
  private readonly out: readonly (readonly number[])[];

  constructor(needles: readonly string[]) {
    const cls = new Uint16Array(65536);
    let k = 1;
    for (const n of needles) {
      for (let i = 0; i < n.length; i++) {
        const c = n.charCodeAt(i);
        if (cls[c] === 0) cls[c] = k++;
      }
    }
    this.cls = cls;
    this.k = k;
    // Trie
    const goto: Map<number, number>[] = [new Map()];
    const outs: number[][] = [[]];
    needles.forEach((n, id) => {
      let s = 0;
      for (let i = 0; i < n.length; i++) {
        const c = cls[n.charCodeAt(i)] as number;
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
    const delta = new Int32Array(states * k);
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
      const g = goto[s] as Map<number, number>;
      for (let c = 0; c < k; c++) {
        const t = g.get(c);
        if (t !== undefined) {
          fail[t] = delta[f * k + c] as number;
          delta[s * k + c] = t;
          queue.push(t);
        } else {
          delta[s * k + c] = delta[f * k + c] as number;
        }
      }
    }
    this.delta = delta;
    this.out = outs;
  }

  /** Calls `hit(needleId)` for every occurrence end (ids may repeat). */
  scan(text: string, hit: (id: number) => void): void {
    const { cls, k, delta, out } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[s * k + (cls[text.charCodeAt(i)] as number)] as number;
      const o = out[s] as readonly number[];
      if (o.length > 0) for (const id of o) hit(id);
    }
  }

  /** True when any needle occurs in `text`. */
  any(text: string): boolean {
    const { cls, k, delta, out } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[s * k + (cls[text.charCodeAt(i)] as number)] as number;
      if ((out[s] as readonly number[]).length > 0) return true;
    }
    return false;
  }

  get states(): number {
    return this.out.length;
  }
}
