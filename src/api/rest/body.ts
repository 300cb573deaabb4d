/**
 * JSON body parsing at the edge: a body is read field by field into typed values; anything
 * missing, of the wrong type, too long or outside its vocabulary is a 400 naming the field.
 */
import { AppError } from '../../core/errors.js';
import { isStixTimestamp, versionKey } from '../../core/time.js';

export class Body {
  private constructor(private readonly b: Record<string, unknown>, private readonly path: string) {}

  static of(raw: unknown, path = ''): Body {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('BAD_REQUEST', `${path || 'body'} must be a JSON object`);
    return new Body(raw as Record<string, unknown>, path);
  }

  #name(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  #bad(k: string, msg: string): AppError {
    return new AppError('BAD_REQUEST', `${this.#name(k)}: ${msg}`, { details: { field: this.#name(k) } });
  }

  has(k: string): boolean {
    return this.b[k] !== undefined && this.b[k] !== null;
  }

  str(k: string, opts: { max?: number; min?: number } = {}): string {
    const v = this.b[k];
    if (typeof v !== 'string') throw this.#bad(k, 'required string');
    const t = v.trim();
    if (t.length < (opts.min ?? 1)) throw this.#bad(k, `at least ${opts.min ?? 1} characters`);
    if (t.length > (opts.max ?? 10_000)) throw this.#bad(k, `at most ${opts.max ?? 10_000} characters`);
    return t;
  }

  optStr(k: string, opts: { max?: number } = {}): string | undefined {
    return this.has(k) ? this.str(k, { ...opts, min: 0 }) : undefined;
  }

  int(k: string, min: number, max: number): number {
    const v = this.b[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw this.#bad(k, `integer ${min}-${max}`);
    return v;
  }

  bool(k: string): boolean | undefined {
    const v = this.b[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw this.#bad(k, 'boolean');
    return v;
  }

  oneOf<T extends string>(k: string, list: readonly T[]): T {
    const v = this.b[k];
    if (typeof v !== 'string' || !(list as readonly string[]).includes(v)) throw this.#bad(k, `one of ${list.join(', ')}`);
    return v as T;
  }

  optOneOf<T extends string>(k: string, list: readonly T[]): T | undefined {
    return this.has(k) ? this.oneOf(k, list) : undefined;
  }

  timestamp(k: string): string {
    const v = this.b[k];
    if (!isStixTimestamp(v)) throw this.#bad(k, 'RFC 3339 UTC timestamp, e.g. 2025-01-31T12:00:00Z');
    // A leap second (…:60) is valid RFC 3339 that no Date reads (NaN): it is handed on as the
    // instant it names, the first of the next minute, as version keys have it.
    return v.charCodeAt(17) === 54 && v.charCodeAt(18) === 48 ? versionKey(v) : v;
  }

  optTimestamp(k: string): string | undefined {
    return this.has(k) ? this.timestamp(k) : undefined;
  }

  strings(k: string, opts: { max?: number; re?: RegExp; itemMax?: number } = {}): string[] {
    const v = this.b[k];
    if (!Array.isArray(v)) throw this.#bad(k, 'required list of strings');
    if (v.length > (opts.max ?? 100)) throw this.#bad(k, `at most ${opts.max ?? 100} items`);
    return v.map((x, i) => {
      if (typeof x !== 'string' || x.length > (opts.itemMax ?? 500) || (opts.re && !opts.re.test(x))) throw this.#bad(`${k}[${i}]`, 'invalid value');
      return x;
    });
  }

  optStrings(k: string, opts: { max?: number; re?: RegExp; itemMax?: number } = {}): string[] | undefined {
    return this.has(k) ? this.strings(k, opts) : undefined;
  }

  objects(k: string, max = 100): Body[] {
    const v = this.b[k];
    if (!Array.isArray(v) || v.length === 0 || v.length > max) throw this.#bad(k, `required list of 1-${max} objects`);
    return v.map((x, i) => Body.of(x, this.#name(`${k}[${i}]`)));
  }

  optObject(k: string): Body | undefined {
    return this.has(k) ? Body.of(this.b[k], this.#name(k)) : undefined;
  }
}

export const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const RECORD_ID = /^[a-z-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
