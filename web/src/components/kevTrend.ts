/** The KEV trend as chart series (pure: tested in test/e2e/kev-trend-logic.test.ts). */
import type { Trend } from '../exposureApi.js';

/** One x per day present in either series (seconds), own KEV exposures and members exposed (null = no snapshot that day). */
export function trendSeries(t: Trend): [number[], (number | null)[], (number | null)[]] {
  const days = [...new Set([...t.own.map((p) => p.day), ...t.alliance.map((p) => p.day)])].sort();
  const own = new Map(t.own.map((p) => [p.day, p.kevOpen]));
  const al = new Map(t.alliance.map((p) => [p.day, p.membersExposed]));
  return [days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), days.map((d) => own.get(d) ?? null), days.map((d) => al.get(d) ?? null)];
}
