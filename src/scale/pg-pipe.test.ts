/**
 * The NOTIFY payloads of the PostgreSQL pipe (pg-pipe.ts): a text under the 8,000-byte limit goes
 * whole; a longer one in numbered parts, each under the limit and never splitting a surrogate
 * pair, put together again whatever their order; garbage, repeated parts and parts of a message
 * that never completes are dropped.
 */
import { describe, expect, it } from 'vitest';
import { channelOf, payloadsOf, Reassembler } from './pg-pipe.js';

describe('PostgreSQL pipe payloads', () => {
  it('sends a short text whole and a long one in parts under the limit, surrogate pairs kept whole', () => {
    expect(payloadsOf('{"a":1}')).toEqual(['0{"a":1}']);
    const long = `${'x'.repeat(1_899)}${'𝄞é'.repeat(5_000)}`;
    const parts = payloadsOf(long);
    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) {
      expect(Buffer.byteLength(p, 'utf8')).toBeLessThan(8_000);
      expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p); // no lone surrogate
    }
    const r = new Reassembler();
    const out = parts.map((p) => r.accept(p, 0));
    expect(out.slice(0, -1).every((x) => x === null)).toBe(true);
    expect(out[out.length - 1]).toBe(long);
  });

  it('puts parts together in any order, ignores repeats and garbage, and drops what never completes', () => {
    const text = 'ü'.repeat(10_000);
    const parts = payloadsOf(text);
    const r = new Reassembler();
    const shuffled = [...parts].reverse();
    expect(r.accept(shuffled[0]!, 0)).toBeNull();
    expect(r.accept(shuffled[0]!, 0)).toBeNull(); // a repeat counts once
    for (const garbage of ['', 'x', '1nope', '1' + '0'.repeat(36) + ':9:2:', `1${crypto.randomUUID()}:0:0:a`]) expect(r.accept(garbage, 0)).toBeNull();
    let got: string | null = null;
    for (const p of shuffled.slice(1)) got = r.accept(p, 1) ?? got;
    expect(got).toBe(text);
    // A message whose parts stop coming is dropped after its time: a late part starts it over.
    const other = payloadsOf('é'.repeat(10_000));
    const r2 = new Reassembler();
    r2.accept(other[0]!, 0);
    r2.accept(`0{}`, 20_000); // time passes
    for (const p of other.slice(1)) expect(r2.accept(p, 20_001)).toBeNull();
  });

  it('names a channel as a PostgreSQL identifier: at most 63 bytes, distinct per subject', () => {
    const a = channelOf('shieldwall-node.live');
    const b = channelOf('shieldwall-node.authfail');
    expect(a).not.toBe(b);
    expect(channelOf(`${'Ä'.repeat(200)}.live`)).toMatch(/^[a-z0-9_]{1,63}$/);
    expect(a).toMatch(/^[a-z0-9_]{1,63}$/);
  });
});
