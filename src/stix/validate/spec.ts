/** The shape of a type definition table entry, and helpers the cross-property checks share. */
import { parseTimestampMicros } from '../../core/time.js';
import type { Ctx } from './context.js';
import type { PropSpec } from './props.js';

export interface TypeSpec {
  required: readonly string[];
  props: Readonly<Record<string, PropSpec>>;
  /** Cross-property constraints, run after the property checks. */
  check?: (o: Readonly<Record<string, unknown>>, ctx: Ctx) => void;
}

function micros(v: unknown): number | null {
  return typeof v === 'string' ? parseTimestampMicros(v) : null;
}

/**
 * Reports `later` not after `earlier` (strictly when `strict`). Only runs when both are
 * well-formed timestamps; malformed ones were reported by the property checks.
 */
export function checkOrder(o: Readonly<Record<string, unknown>>, ctx: Ctx, pair: { earlier: string; later: string; strict?: boolean }): void {
  const a = micros(o[pair.earlier]);
  const b = micros(o[pair.later]);
  if (a === null || b === null) return;
  if (pair.strict ? b <= a : b < a) {
    ctx.error(pair.later, 'time.order', `${pair.later} must be ${pair.strict ? 'later than' : 'later than or equal to'} ${pair.earlier}`);
  }
}
