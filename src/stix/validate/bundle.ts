/**
 * Bundles (STIX 2.1 §8) are transport envelopes, not STIX objects: `type: "bundle"`, an id,
 * and an optional `objects` list, each member validated on its own.
 */
import { parseStixId } from '../ids.js';
import { checkLimits, Ctx, isPlainObject, join } from './context.js';
import type { ValidateOptions, ValidationError } from './context.js';
import { validateObject } from './validate.js';
import type { ValidationResult } from './validate.js';

export interface BundleValidation {
  /** Errors of the envelope itself (type, id, objects list, limits). */
  envelopeErrors: ValidationError[];
  /** One result per member of `objects`, in order. */
  results: ValidationResult[];
}

/** Validates a bundle envelope and each object in it. Never throws. */
export function validateBundle(input: unknown, opts?: ValidateOptions): BundleValidation {
  const ctx = new Ctx(opts);
  const results: ValidationResult[] = [];
  try {
    if (!isPlainObject(input)) {
      ctx.error('', 'input.not-object', 'a bundle must be a JSON object');
      return { envelopeErrors: ctx.errors, results };
    }
    // The envelope is bounded like everything else; members are re-checked one by one.
    if (!checkLimits(ctx, { ...input, objects: [] })) return { envelopeErrors: ctx.errors, results };
    if (input['type'] !== 'bundle') ctx.error('type', 'value.enum', 'type must be "bundle"');
    const id = parseStixId(input['id']);
    if (!id || id.type !== 'bundle') ctx.error('id', 'id.format', 'id must be bundle--UUID');
    const objects = input['objects'];
    if (objects === undefined) return { envelopeErrors: ctx.errors, results };
    if (!Array.isArray(objects)) {
      ctx.error('objects', 'value.type', 'objects must be a list');
    } else if (objects.length > ctx.limits.maxListLength) {
      ctx.error('objects', 'limits.list-length', `more than ${ctx.limits.maxListLength} objects`);
    } else {
      if (objects.length === 0) ctx.error('objects', 'list.empty', 'lists must not be empty');
      for (const o of objects) results.push(validateObject(o, opts));
    }
  } catch (e) {
    ctx.error('', 'input.unprocessable', `input could not be read: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
  }
  return { envelopeErrors: ctx.errors, results };
}

/** Flattens a bundle validation into one error list with `objects[i].` path prefixes. */
export function bundleErrors(v: BundleValidation): ValidationError[] {
  const out = [...v.envelopeErrors];
  v.results.forEach((r, i) => {
    const prefix = join('objects', i);
    if (!r.ok) for (const e of r.errors) out.push({ ...e, path: e.path ? join(prefix, e.path) : prefix });
  });
  return out;
}
