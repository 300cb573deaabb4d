/**
 * Validation context: collects errors and warnings, and enforces the size limits in one
 * iterative pre-pass so that no later check ever walks unbounded input.
 */
import type { RuleId } from './rules.js';

export interface ValidationError {
  /** JSON-path-like location, e.g. `external_references[0].url`; empty for the object itself. */
  path: string;
  rule: RuleId;
  message: string;
}

export interface ValidationLimits {
  maxDepth: number;
  maxStringLength: number;
  maxListLength: number;
  maxProperties: number;
  /** Stop collecting after this many errors. */
  maxErrors: number;
}

export const DEFAULT_LIMITS: Readonly<ValidationLimits> = Object.freeze({
  maxDepth: 32,
  maxStringLength: 1024 * 1024,
  maxListLength: 100_000,
  maxProperties: 1_000,
  maxErrors: 100,
});

export interface ValidateOptions {
  /** Accept custom object types and custom properties (default true; custom properties still warn without `x_`). */
  allowCustom?: boolean;
  limits?: Partial<ValidationLimits>;
}

const MAX_WARNINGS = 100;

export class Ctx {
  readonly errors: ValidationError[] = [];
  readonly warnings: string[] = [];
  readonly limits: Readonly<ValidationLimits>;
  readonly allowCustom: boolean;

  constructor(opts: ValidateOptions | undefined) {
    this.limits = opts?.limits ? { ...DEFAULT_LIMITS, ...opts.limits } : DEFAULT_LIMITS;
    this.allowCustom = opts?.allowCustom ?? true;
  }

  error(path: string, rule: RuleId, message: string): void {
    if (this.errors.length < this.limits.maxErrors) this.errors.push({ path, rule, message });
  }

  warn(path: string, message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(path ? `${path}: ${message}` : message);
  }

  get full(): boolean {
    return this.errors.length >= this.limits.maxErrors;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * A number literal too large for a double (1e400) parses as Infinity, which JSON cannot hold:
 * stored, it would be written back as `null` — another content than the one submitted, and one
 * the validator itself refuses on the next node.
 */
const NOT_FINITE = 'a number beyond the range of a JSON number (it reads as Infinity, and would be stored as null)';

/**
 * Walks the whole value once, iteratively, and reports the first breaches of the limits.
 * Returns false when any limit is exceeded; the caller then stops, so the type checks never
 * see oversized input.
 */
export function checkLimits(ctx: Ctx, root: unknown): boolean {
  // Almost all input is within the limits: a walk that builds no paths says so; the one below,
  // which names where a limit is exceeded, runs only when it is not.
  if (withinLimits(root, ctx.limits, 0)) return true;
  const { maxDepth, maxStringLength, maxListLength, maxProperties } = ctx.limits;
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: root, path: '', depth: 0 }];
  let ok = true;
  while (stack.length > 0 && !ctx.full) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > maxStringLength) {
        ctx.error(path, 'limits.string-length', `string longer than ${maxStringLength} characters`);
        ok = false;
      }
      continue;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) {
      ctx.error(path, 'value.type', NOT_FINITE);
      ok = false;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      ctx.error(path, 'limits.depth', `nesting deeper than ${maxDepth} levels`);
      ok = false;
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length > maxListLength) {
        ctx.error(path, 'limits.list-length', `list longer than ${maxListLength} items`);
        ok = false;
        continue;
      }
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: join(path, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.length > maxProperties) {
      ctx.error(path, 'limits.property-count', `more than ${maxProperties} properties`);
      ok = false;
      continue;
    }
    for (const k of keys) {
      if (k.length > maxStringLength) {
        ctx.error(path, 'limits.string-length', `property name longer than ${maxStringLength} characters`);
        ok = false;
        continue;
      }
      stack.push({ v: (v as Record<string, unknown>)[k], path: join(path, k), depth: depth + 1 });
    }
  }
  return ok;
}

/**
 * The first breach of the size limits in `value` (depth, string and list lengths, properties),
 * as "path: message", or null within them. Linear and never recursing past the depth limit: for
 * input that later steps walk recursively before validation (a peer's object, whose signature
 * is checked over its canonical form first).
 */
export function limitBreach(value: unknown, limits: Readonly<ValidationLimits> = DEFAULT_LIMITS): string | null {
  if (withinLimits(value, limits, 0)) return null;
  const ctx = new Ctx({ limits: { ...limits, maxErrors: 1 } });
  checkLimits(ctx, value);
  const e = ctx.errors[0];
  return e ? `${e.path ? `${e.path}: ` : ''}${e.message}` : 'over the size limits';
}

/**
 * True when no limit is exceeded under `v`. The recursion stops at maxDepth, and at 256 levels
 * whatever the limits say (the iterative walk then decides).
 */
function withinLimits(v: unknown, limits: Readonly<ValidationLimits>, depth: number): boolean {
  if (typeof v === 'string') return v.length <= limits.maxStringLength;
  if (typeof v === 'number') return Number.isFinite(v);
  if (v === null || typeof v !== 'object') return true;
  if (depth >= limits.maxDepth || depth >= 256) return false;
  if (Array.isArray(v)) {
    if (v.length > limits.maxListLength) return false;
    for (let i = 0; i < v.length; i++) if (!withinLimits(v[i], limits, depth + 1)) return false;
    return true;
  }
  const keys = Object.keys(v);
  if (keys.length > limits.maxProperties) return false;
  for (const k of keys) {
    if (k.length > limits.maxStringLength || !withinLimits((v as Record<string, unknown>)[k], limits, depth + 1)) return false;
  }
  return true;
}

/**
 * `table[key]` when the table itself has that key. Keys come from input: `__proto__`,
 * `constructor` or `toString` would otherwise find Object.prototype's members (a hashes entry
 * named `toString` threw; a top-level `__proto__` passed as a known property).
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
