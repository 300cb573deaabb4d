/**
 * Which rule the detection engines are evaluating, for the worker supervisor: when an event
 * hangs a worker, the last rule reported names the rule or indicator it hung on (DESIGN §2.7).
 * Off (null) except in a worker's careful pass over a batch that already failed, so the normal
 * path pays one null check per evaluated rule.
 */
let tracer: ((ref: string) => void) | null = null;

/** Sets (or clears, with null) the function told the ref of each rule before it is evaluated. */
export function setRuleTracer(fn: ((ref: string) => void) | null): void {
  tracer = fn;
}

export function traceRule(ref: string): void {
  if (tracer !== null) tracer(ref);
}

let eventTracer: ((seq: number) => void) | null = null;

/**
 * Sets (or clears) the function told the seq of each event before it is matched: a scale-out
 * worker's careful pass (scale/supervisor.ts), whose batches are whole stream messages and so
 * cannot be taken one event per transaction.
 */
export function setEventTracer(fn: ((seq: number) => void) | null): void {
  eventTracer = fn;
}

export function traceEvent(seq: number): void {
  if (eventTracer !== null) eventTracer(seq);
}
