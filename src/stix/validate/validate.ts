/**
 * `validateObject`: the one entry point that decides whether untrusted JSON is a valid
 * STIX 2.1 object. It never throws; size limits are enforced before any other check.
 */
import { parsePattern } from '../pattern/index.js';
import { parseStixId, uuidVersionOfValid } from '../ids.js';
import { categoryOf } from '../types.js';
import type { StixObject } from '../types.js';
import { checkLimits, Ctx, isPlainObject, own } from './context.js';
import type { ValidateOptions, ValidationError } from './context.js';
import {
  checkCustomProperty, checkExtensions, checkExternalReferences, checkGranularMarkings, checkVersioning,
  COMMON_PROPS, RESERVED_PROPERTIES, SPECIAL_PROPS,
} from './common.js';
import type { Category } from './common.js';
import { checkValue } from './props.js';
import { META_SPECS } from './meta.js';
import { SCO_SPECS } from './sco.js';
import { SDO_SPECS, SRO_SPECS } from './sdo.js';
import type { TypeSpec } from './spec.js';

export type ValidationResult =
  | { ok: true; object: StixObject; warnings: string[] }
  | { ok: false; errors: ValidationError[] };

const SPECS: Readonly<Record<string, TypeSpec>> = { ...SDO_SPECS, ...SRO_SPECS, ...SCO_SPECS, ...META_SPECS };

// §3.1: 3-250 characters, a-z 0-9 and single hyphens, starting with a letter.
const TYPE_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const RESERVED_TYPES = new Set(['action']);
/** Patterns are parsed, so they get a tighter bound than other strings. */
const MAX_PATTERN_LENGTH = 64 * 1024;

/** Common properties required per category (§3.2, §6.1, §7). */
const REQUIRED_COMMON: Readonly<Record<Category, readonly string[]>> = {
  sdo: ['type', 'spec_version', 'id', 'created', 'modified'],
  sro: ['type', 'spec_version', 'id', 'created', 'modified'],
  sco: ['type', 'id'],
  meta: ['type', 'spec_version', 'id', 'created'],
};

function requiredFor(type: string, category: Category): readonly string[] {
  // Marking definitions are never versioned (§7.2.1), so they have no `modified`.
  if (type === 'marking-definition') return REQUIRED_COMMON.meta;
  if (category === 'meta') return [...REQUIRED_COMMON.meta, 'modified'];
  return REQUIRED_COMMON[category];
}

/** Custom category from a new-* extension, else by shape: `created` means SDO-like. */
function customCategory(o: Record<string, unknown>, declared: Set<string>): Category {
  if (declared.has('new-sco')) return 'sco';
  if (declared.has('new-sro')) return 'sro';
  if (declared.has('new-sdo')) return 'sdo';
  return 'created' in o ? 'sdo' : 'sco';
}

function checkId(ctx: Ctx, o: Record<string, unknown>, category: Category): void {
  const id = parseStixId(o['id']);
  if (!id) return void ctx.error('id', 'id.format', 'id must be type--UUID');
  if (id.type !== o['type']) ctx.error('id', 'id.type-mismatch', `id names type ${id.type}, object is ${String(o['type'])}`);
  const ver = uuidVersionOfValid(id.uuid); // parseStixId checked the layout
  const variant = Number.parseInt(id.uuid.charAt(19), 16);
  if (ver < 1 || ver > 5 || variant < 8 || variant > 11) {
    ctx.error('id', 'id.uuid-version', 'the UUID must be an RFC 4122 UUID (version 1-5, variant 10xx)');
  } else if (ver !== 4 && !(category === 'sco' && ver === 5)) {
    ctx.warn('id', `UUID version ${ver}; STIX 2.1 recommends v4${category === 'sco' ? ' or deterministic v5' : ''}`);
  }
}

function checkIndicatorPattern(ctx: Ctx, o: Record<string, unknown>): void {
  if (o['pattern_type'] !== 'stix' || typeof o['pattern'] !== 'string') return;
  if (o['pattern'].length > MAX_PATTERN_LENGTH) {
    return void ctx.error('pattern', 'limits.string-length', `patterns are limited to ${MAX_PATTERN_LENGTH} characters`);
  }
  const res = parsePattern(o['pattern']);
  if (!res.ok) {
    ctx.error('pattern', 'indicator.pattern', `invalid STIX pattern at position ${res.error.position}: ${res.error.message}`);
  }
}

function checkProperties(ctx: Ctx, o: Record<string, unknown>, t: { category: Category; spec: TypeSpec | undefined; custom: boolean }): void {
  const common = COMMON_PROPS[t.category];
  for (const k of Object.keys(o)) {
    if (ctx.full) return;
    const v = o[k];
    if (RESERVED_PROPERTIES.has(k)) {
      ctx.error(k, 'reserved.property', `${k} is a reserved property name`);
      continue;
    }
    if (k === 'external_references') checkExternalReferences(ctx, v);
    else if (k === 'granular_markings') checkGranularMarkings(ctx, v);
    else if (SPECIAL_PROPS.has(k)) continue;
    else if (own(common, k)) checkValue(ctx, k, v, own(common, k)!);
    else if (t.spec && own(t.spec.props, k)) checkValue(ctx, k, v, own(t.spec.props, k)!);
    else {
      if (!ctx.allowCustom && !t.custom) ctx.error(k, 'custom.disallowed', `custom property ${k} is not accepted here`);
      checkCustomProperty(ctx, { key: k, value: v, customType: t.custom });
    }
  }
}

/**
 * The deprecated observed-data `objects` dictionary (§4.13) holds complete 2.1 SCOs; each is
 * validated as one, with its errors reported under `objects.<key>`.
 */
function checkObservedObjects(ctx: Ctx, objects: Record<string, unknown>, opts: ValidateOptions | undefined): void {
  for (const [k, member] of Object.entries(objects)) {
    const t = isPlainObject(member) ? member['type'] : undefined;
    const cat = typeof t === 'string' ? categoryOf(t) : undefined;
    if (cat !== undefined && cat !== 'sco') {
      ctx.error(`objects.${k}`, 'observed-data.content', `objects holds SCOs only, not a ${String(t)}`);
      continue;
    }
    const r = validateObject(member, opts);
    if (!r.ok) for (const e of r.errors) ctx.error(e.path ? `objects.${k}.${e.path}` : `objects.${k}`, e.rule, e.message);
  }
}

function validateInto(ctx: Ctx, input: unknown, opts: ValidateOptions | undefined): void {
  if (!isPlainObject(input)) return void ctx.error('', 'input.not-object', 'a STIX object must be a JSON object');
  if (!checkLimits(ctx, input)) return;
  const o = input;
  const type = o['type'];
  if (typeof type !== 'string') return void ctx.error('type', 'required', 'type is required and must be a string');
  if (type.length < 3 || type.length > 250 || !TYPE_RE.test(type)) {
    return void ctx.error('type', 'type.format', 'type is 3-250 characters of a-z, 0-9 and single hyphens');
  }
  if (RESERVED_TYPES.has(type)) return void ctx.error('type', 'reserved.type', `${type} is a reserved type name`);
  const declared = 'extensions' in o ? checkExtensions(ctx, o['extensions']) : new Set<string>();
  const known = categoryOf(type);
  const custom = known === undefined;
  if (custom) {
    if (!type.startsWith('x-') && declared.size === 0) {
      return void ctx.error('type', 'type.unknown', `${type} is not a STIX 2.1 type; custom types start with x- or are declared by a new-sdo/new-sco/new-sro extension`);
    }
    if (!ctx.allowCustom) return void ctx.error('type', 'custom.disallowed', `custom type ${type} is not accepted here`);
  }
  const category = known ?? customCategory(o, declared);
  const spec = SPECS[type];
  for (const required of [requiredFor(type, category), spec?.required ?? []]) {
    for (const r of required) if (!(r in o)) ctx.error(r, 'required', `${r} is required for ${type}`);
  }
  if ('spec_version' in o && o['spec_version'] !== '2.1') ctx.error('spec_version', 'spec-version', 'spec_version must be "2.1"');
  if ('id' in o) checkId(ctx, o, category);
  checkProperties(ctx, o, { category, spec, custom });
  checkVersioning(o, ctx, category);
  spec?.check?.(o, ctx);
  if (type === 'observed-data' && isPlainObject(o['objects'])) checkObservedObjects(ctx, o['objects'], opts);
  if (type === 'indicator') checkIndicatorPattern(ctx, o);
}

/**
 * Validates one STIX 2.1 object. Errors carry a rule id from {@link VALIDATION_RULES}.
 * Never throws: input that cannot even be read is reported as `input.unprocessable`.
 */
export function validateObject(obj: unknown, opts?: ValidateOptions): ValidationResult {
  const ctx = new Ctx(opts);
  try {
    validateInto(ctx, obj, opts);
  } catch (e) {
    ctx.error('', 'input.unprocessable', `input could not be read: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
  }
  if (ctx.errors.length > 0) return { ok: false, errors: ctx.errors };
  return { ok: true, object: obj as StixObject, warnings: ctx.warnings };
}
