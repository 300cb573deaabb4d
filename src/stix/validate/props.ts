/**
 * A small declarative language for STIX property definitions, and the one checker that
 * interprets it. Type tables (sdo.ts, sco.ts, meta.ts) are data written in this language.
 */
import { isStixTimestamp } from '../../core/time.js';
import { categoryOf } from '../types.js';
import { parseStixId } from '../ids.js';
import { isPlainObject, join, own } from './context.js';
import type { Ctx } from './context.js';
import { HASH_DIGESTS, matchesFormat } from './formats.js';
import type { Format } from './formats.js';

/** Reference targets: concrete types, or `@sdo` / `@sco` / `@sro` (each including custom types), or `@any`. */
export type RefTarget = string;

export type PropSpec =
  | { kind: 'string'; format?: Format; enum?: readonly string[]; ov?: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'timestamp' }
  | { kind: 'ref'; targets: readonly RefTarget[] }
  | { kind: 'list'; of: PropSpec }
  | { kind: 'dict'; values?: PropSpec }
  | { kind: 'object'; props: Readonly<Record<string, PropSpec>>; required?: readonly string[] }
  | { kind: 'hashes' }
  | { kind: 'kill-chain-phase' }
  | { kind: 'any' };

export const str = (format?: Format): PropSpec => (format ? { kind: 'string', format } : { kind: 'string' });
export const en = (values: readonly string[]): PropSpec => ({ kind: 'string', enum: values });
export const ov = (values: readonly string[]): PropSpec => ({ kind: 'string', ov: values });
export const bool: PropSpec = { kind: 'boolean' };
export const int = (min?: number, max?: number): PropSpec => ({ kind: 'integer', min, max } as PropSpec);
export const num = (min?: number, max?: number): PropSpec => ({ kind: 'number', min, max } as PropSpec);
export const ts: PropSpec = { kind: 'timestamp' };
export const ref = (...targets: RefTarget[]): PropSpec => ({ kind: 'ref', targets });
export const list = (of: PropSpec): PropSpec => ({ kind: 'list', of });
export const refs = (...targets: RefTarget[]): PropSpec => list(ref(...targets));
export const strs: PropSpec = list(str());
export const ovs = (values: readonly string[]): PropSpec => list(ov(values));
export const dict = (values?: PropSpec): PropSpec => (values ? { kind: 'dict', values } : { kind: 'dict' });
export const obj = (props: Record<string, PropSpec>, required?: string[]): PropSpec => ({ kind: 'object', props, required });
export const hashes: PropSpec = { kind: 'hashes' };
export const kcps: PropSpec = list({ kind: 'kill-chain-phase' });
export const any: PropSpec = { kind: 'any' };

const DICT_KEY = /^[a-zA-Z0-9_-]{1,250}$/;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

/** Whether an object type is allowed by a reference's target list. */
export function refTargetAllowed(type: string, targets: readonly RefTarget[]): boolean {
  if (targets.includes('@any') || targets.includes(type)) return true;
  const cat = categoryOf(type);
  const custom = cat === undefined; // custom types may be SDOs, SCOs or SROs
  return (
    (targets.includes('@sdo') && (cat === 'sdo' || custom)) ||
    (targets.includes('@sco') && (cat === 'sco' || custom)) ||
    (targets.includes('@sro') && (cat === 'sro' || custom))
  );
}

/** Checks that `v` is an identifier, and (when targets are given) of an allowed type. */
export function checkRef(ctx: Ctx, path: string, v: unknown, targets?: readonly RefTarget[]): void {
  const id = parseStixId(v);
  if (!id) {
    ctx.error(path, 'ref.format', `expected an identifier type--UUID, got ${typeName(v) === 'string' ? JSON.stringify(String(v).slice(0, 80)) : typeName(v)}`);
    return;
  }
  if (targets && !refTargetAllowed(id.type, targets)) {
    ctx.error(path, 'ref.target-type', `a ${id.type} may not be referenced here (allowed: ${targets.join(', ')})`);
  }
}

function checkString(ctx: Ctx, path: string, v: string, spec: Extract<PropSpec, { kind: 'string' }>): void {
  if (spec.format && !matchesFormat(spec.format, v)) {
    ctx.error(path, 'value.format', `not a valid ${spec.format}: ${JSON.stringify(v.slice(0, 80))}`);
  }
  if (spec.enum && !spec.enum.includes(v)) {
    ctx.error(path, 'value.enum', `must be one of ${spec.enum.join(', ')}`);
  }
  if (spec.ov && !spec.ov.includes(v)) {
    ctx.warn(path, `"${v.slice(0, 80)}" is not in the suggested vocabulary`);
  }
}

function checkRange(ctx: Ctx, path: string, v: number, spec: { min?: number; max?: number }): void {
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    ctx.error(path, 'value.range', `${v} is outside ${spec.min ?? '-inf'}..${spec.max ?? '+inf'}`);
  }
}

export function checkHashes(ctx: Ctx, path: string, v: unknown): void {
  if (!isPlainObject(v)) return void ctx.error(path, 'value.type', `expected a hashes dictionary, got ${typeName(v)}`);
  const keys = Object.keys(v);
  if (keys.length === 0) ctx.error(path, 'hashes', 'hashes must not be empty');
  for (const k of keys) {
    const h = v[k];
    const p = join(path, k);
    if (!/^[a-zA-Z0-9_-]{3,250}$/.test(k)) ctx.error(p, 'hashes', 'hash algorithm names are 3-250 characters of a-z, A-Z, 0-9, _ and -');
    if (typeof h !== 'string' || h.length === 0) ctx.error(p, 'hashes', 'hash values are non-empty strings');
    else if (own(HASH_DIGESTS, k)?.test(h) === false) ctx.error(p, 'hashes', `not a valid ${k} digest`);
  }
}

function checkKillChainPhase(ctx: Ctx, path: string, v: unknown): void {
  if (!isPlainObject(v)) return void ctx.error(path, 'kill-chain-phase', 'a kill chain phase is an object');
  for (const k of ['kill_chain_name', 'phase_name']) {
    if (typeof v[k] !== 'string' || v[k] === '') ctx.error(join(path, k), 'kill-chain-phase', `${k} must be a non-empty string`);
  }
}

/**
 * A value in a dictionary or a custom property: lists non-empty (§2.7), no nulls, `*_bin`
 * and `*_hex` well formed. `*_ref(s)` values that are not identifiers only warn here: the
 * naming convention (§3.1) binds custom producers less firmly, and ATT&CK ships an empty
 * deprecated `x_mitre_data_source_ref`.
 */
export function checkFreeValue(ctx: Ctx, path: string, key: string, v: unknown): void {
  if (Array.isArray(v) && v.length === 0) ctx.error(path, 'list.empty', 'lists must not be empty');
  if (v === null) ctx.error(path, 'value.type', 'null is not a STIX value');
  if (key.endsWith('_ref') && v !== null && !parseStixId(v)) ctx.warn(path, 'a *_ref property that is not an identifier');
  if (key.endsWith('_refs') && Array.isArray(v) && !v.every((x) => parseStixId(x))) ctx.warn(path, 'a *_refs property with non-identifiers');
  if (key.endsWith('_bin') && !(typeof v === 'string' && matchesFormat('binary', v))) ctx.error(path, 'value.format', 'a *_bin property holds base64');
  if (key.endsWith('_hex') && !(typeof v === 'string' && matchesFormat('hex', v))) ctx.error(path, 'value.format', 'a *_hex property holds hex digits');
}

function checkDict(ctx: Ctx, path: string, v: unknown, values: PropSpec | undefined): void {
  if (!isPlainObject(v)) return void ctx.error(path, 'value.type', `expected a dictionary, got ${typeName(v)}`);
  const keys = Object.keys(v);
  if (keys.length === 0) ctx.error(path, 'dictionary.keys', 'dictionaries must not be empty');
  for (const k of keys) {
    const p = join(path, k);
    if (!DICT_KEY.test(k)) ctx.error(p, 'dictionary.keys', 'keys are 1-250 characters of a-z, A-Z, 0-9, _ and -');
    if (values) checkValue(ctx, p, v[k], values);
    else checkFreeValue(ctx, p, k, v[k]);
  }
}

/** Checks one value against its definition. Never throws. */
export function checkValue(ctx: Ctx, path: string, v: unknown, spec: PropSpec): void {
  switch (spec.kind) {
    case 'any':
      return;
    case 'string':
      if (typeof v !== 'string') return void ctx.error(path, 'value.type', `expected a string, got ${typeName(v)}`);
      return checkString(ctx, path, v, spec);
    case 'boolean':
      if (typeof v !== 'boolean') ctx.error(path, 'value.type', `expected a boolean, got ${typeName(v)}`);
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return void ctx.error(path, 'value.type', `expected an integer, got ${typeName(v)}`);
      return checkRange(ctx, path, v, spec);
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return void ctx.error(path, 'value.type', `expected a number, got ${typeName(v)}`);
      return checkRange(ctx, path, v, spec);
    case 'timestamp':
      if (!isStixTimestamp(v)) ctx.error(path, 'timestamp', 'expected an RFC 3339 UTC timestamp such as 2016-05-12T08:17:27.000Z');
      return;
    case 'ref':
      return checkRef(ctx, path, v, spec.targets);
    case 'list':
      if (!Array.isArray(v)) return void ctx.error(path, 'value.type', `expected a list, got ${typeName(v)}`);
      if (v.length === 0) ctx.error(path, 'list.empty', 'lists must not be empty');
      for (let i = 0; i < v.length && !ctx.full; i++) checkValue(ctx, join(path, i), v[i], spec.of);
      return;
    case 'dict':
      return checkDict(ctx, path, v, spec.values);
    case 'object':
      return checkObjectProps(ctx, path, v, spec);
    case 'hashes':
      return checkHashes(ctx, path, v);
    case 'kill-chain-phase':
      return checkKillChainPhase(ctx, path, v);
  }
}

/** A nested object type (e.g. a MIME part): required properties, known ones typed, others free. */
export function checkObjectProps(ctx: Ctx, path: string, v: unknown, spec: Extract<PropSpec, { kind: 'object' }>): void {
  if (!isPlainObject(v)) return void ctx.error(path, 'value.type', `expected an object, got ${typeName(v)}`);
  for (const r of spec.required ?? []) {
    if (!(r in v)) ctx.error(join(path, r), 'required', `${r} is required`);
  }
  for (const [k, x] of Object.entries(v)) {
    const s = own(spec.props, k);
    if (s) checkValue(ctx, join(path, k), x, s);
    else checkFreeValue(ctx, join(path, k), k, x);
  }
}
