/**
 * Inject execution times (OpenAEV computeInjectDate): start + T/speed, shifted by every pause
 * that began before it. Checked against an independent simulation of the exercise clock, which
 * advances only while running, under random pauses and speeds, and against speed re-basing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exerciseSecondsAt, injectExecutionTime, type ClockBase, type Pause } from './model.js';

/** Walks real time in 1 ms steps: the moment the exercise clock (running only outside pauses) reaches T. */
function simulate(start: number, speed: number, pauses: readonly Pause[], T: number): number {
  const target = T * 1000; // exercise ms
  let ex = 0;
  let t = start;
  const paused = (x: number) => pauses.some((p) => x >= p.start && x < (p.end ?? Infinity));
  while (ex < target - 1e-9) {
    if (!paused(t)) ex += speed;
    t++;
  }
  return t;
}

const pausesArb = (start: number) => fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), len: fc.integer({ min: 1, max: 400 }) }), { maxLength: 4 })
  .map((xs) => { let t = start; return xs.map(({ gap, len }) => { const p = { start: t + gap, end: t + gap + len }; t = p.end; return p; }); });

describe('inject execution time', () => {
  it('equals start + T/speed shifted by every pause that began before it', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(1, 2, 5, 10, 60), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 1_000_000 }),
      (start, speed, T, seed) => {
        const pauses = fc.sample(pausesArb(start), { numRuns: 1, seed })[0]!;
        const clock: ClockBase = { startedAt: start, speed, pauses };
        const at = injectExecutionTime(clock, T, Infinity);
        // The formula, written out: every pause beginning before the (shifted) time moves it by its length.
        let expected = start + (T * 1000) / speed;
        for (const p of pauses) if (p.start < expected) expected += p.end - p.start;
        expect(at).toBe(expected);
        // …and it is when the exercise clock really reaches T (integer ms steps: within one step).
        if (T > 0) expect(Math.abs(simulate(start, speed, pauses, T) - at)).toBeLessThanOrEqual(1);
        expect(exerciseSecondsAt(clock, at)).toBeCloseTo(T, 6);
      },
    ), { numRuns: 200 });
  });

  it('an open pause keeps moving pending injects; re-basing at a speed change keeps fired times', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 5000 }), fc.constantFrom(1, 10, 60, 600), fc.constantFrom(1, 10, 60, 600), (T, now, s1, s2) => {
      const open: ClockBase = { startedAt: 0, speed: s1, pauses: [{ start: 0, end: null }] };
      expect(injectExecutionTime(open, T, now)).toBe((T * 1000) / s1 + now);
      const clock: ClockBase = { startedAt: 0, speed: s1, pauses: [] };
      const anchorSeconds = exerciseSecondsAt(clock, now);
      const rebased: ClockBase = { startedAt: now, speed: s2, pauses: [], anchorSeconds };
      // Injects still ahead: now + (T − elapsed)/s2
      const Tlater = anchorSeconds + T;
      expect(injectExecutionTime(rebased, Tlater, now)).toBeCloseTo(now + (T * 1000) / s2, 6);
      expect(exerciseSecondsAt(rebased, now)).toBeCloseTo(anchorSeconds, 9);
    }), { numRuns: 200 });
  });
});
