/**
 * Micro-benchmark for the bench runner: events per second through `SigmaEngine.process` on one
 * core, cycling over the given events for about `seconds` seconds. The rate is per second of
 * process CPU time (single-threaded code, so one core), with the wall-clock rate alongside.
 */
import type { SigmaEvent } from './event.js';
import { SigmaEngine, type EngineOptions } from './engine.js';
import type { SigmaItem } from './types.js';

export interface SigmaBenchResult {
  readonly rules: number;
  readonly events: number;
  readonly seconds: number;
  /** Events per second of CPU time of this process (robust when the machine is shared). */
  readonly eventsPerSecond: number;
  /** Events per second of wall-clock time. */
  readonly eventsPerWallSecond: number;
  readonly matches: number;
}

export function benchSigma(
  rules: readonly SigmaItem[] | SigmaEngine,
  events: readonly SigmaEvent[],
  seconds: number,
  options: EngineOptions = {},
): SigmaBenchResult {
  const engine = rules instanceof SigmaEngine ? rules : new SigmaEngine(rules, options);
  if (events.length === 0) return { rules: engine.rules.length, events: 0, seconds: 0, eventsPerSecond: 0, eventsPerWallSecond: 0, matches: 0 };
  // Warm-up pass: builds the per-logsource routes and lets the JIT settle.
  for (const e of events) engine.process(e, 0);
  let n = 0;
  let matches = 0;
  let t = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const budget = seconds * 1000;
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < events.length; i++) {
      matches += engine.process(events[i] as SigmaEvent, t++).length;
    }
    n += events.length;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    rules: engine.rules.length,
    events: n,
    seconds: elapsed / 1000,
    eventsPerSecond: Math.round(n / cpuSeconds),
    eventsPerWallSecond: Math.round(n / (elapsed / 1000)),
    matches,
  };
}
