/**
 * Alliance aggregates that do not reveal a member: a statistic is withheld until enough
 * members contributed (median from MIN_FOR_MEDIAN, quartiles from MIN_FOR_QUARTILES), and
 * quartiles are nearest-rank values (each an actual member score, never an interpolation a
 * member could solve for the others' scores with its own).
 */
export const MIN_FOR_MEDIAN = 3;
export const MIN_FOR_QUARTILES = 5;

export interface Distribution {
  n: number;
  median: number | null;
  q1: number | null;
  q3: number | null;
  /** Why a statistic is withheld, when one is. */
  withheld?: string;
}

/** Nearest-rank percentile (p in 0..100) of sorted values. */
export function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n < MIN_FOR_MEDIAN) return { n, median: null, q1: null, q3: null, withheld: `fewer than ${MIN_FOR_MEDIAN} submitted members` };
  const median = round(nearestRank(s, 50));
  if (n < MIN_FOR_QUARTILES) return { n, median, q1: null, q3: null, withheld: `quartiles need ${MIN_FOR_QUARTILES} submitted members` };
  return { n, median, q1: round(nearestRank(s, 25)), q3: round(nearestRank(s, 75)) };
}

/** Where a score stands: its quartile band (when quartiles are shown) and against the median. */
export function standing(score: number | null, d: Distribution): { vsMedian: 'above' | 'at' | 'below' | null; band: 'bottom' | 'lower-middle' | 'upper-middle' | 'top' | null } {
  if (score === null || d.median === null) return { vsMedian: null, band: null };
  const vsMedian = score > d.median ? 'above' : score < d.median ? 'below' : 'at';
  if (d.q1 === null || d.q3 === null) return { vsMedian, band: null };
  const band = score < d.q1 ? 'bottom' : score < d.median ? 'lower-middle' : score <= d.q3 ? 'upper-middle' : 'top';
  return { vsMedian, band };
}

export const round = (x: number): number => Math.round(x * 100) / 100;
