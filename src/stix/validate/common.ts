/**
 * Common properties (STIX 2.1 §3.2 SDO/SRO, §6.1 SCO, §7 meta), extensions (§7.3), and the
 * naming rules for custom properties (§3.1, §11.1).
 */
import { parseTimestampMicros } from '../../core/time.js';
import { parseStixId } from '../ids.js';
import { isPlainObject, join } from './context.js';
import type { Ctx } from './context.js';
import { bool, checkFreeValue, checkHashes, checkRef, checkValue, int, ref, refs, str, strs, ts } from './props.js';
import type { PropSpec } from './props.js';
import { matchesFormat } from './formats.js';
import * as V from './vocab.js';

export type Category = 'sdo' | 'sro' | 'sco' | 'meta';

/** Property names the core schema forbids (STIX 2.1 §3.1; OASIS core.json `not`). */
export const RESERVED_PROPERTIES = new Set(['severity', 'action', 'username', 'usernames', 'phone_numbers', 'addresses']);

const ENVELOPE = { type: str(), id: str(), spec_version: str() };

/** Common properties that are typed by the shared checker. */
export const COMMON_PROPS: Readonly<Record<Category, Readonly<Record<string, PropSpec>>>> = {
  sdo: {
    ...ENVELOPE, created: ts, modified: ts, created_by_ref: ref('identity'), revoked: bool, labels: strs, confidence: int(0, 100),
    lang: str('lang'), object_marking_refs: refs('marking-definition'),
  },
  sro: {
    ...ENVELOPE, created: ts, modified: ts, created_by_ref: ref('identity'), revoked: bool, labels: strs, confidence: int(0, 100),
    lang: str('lang'), object_marking_refs: refs('marking-definition'),
  },
  sco: { ...ENVELOPE, object_marking_refs: refs('marking-definition'), defanged: bool },
  meta: {
    ...ENVELOPE, created: ts, modified: ts, created_by_ref: ref('identity'), revoked: bool, labels: strs, confidence: int(0, 100),
    lang: str('lang'), object_marking_refs: refs('marking-definition'),
  },
};

/** Properties handled by dedicated checks below rather than a PropSpec. */
export const SPECIAL_PROPS = new Set(['external_references', 'granular_markings', 'extensions']);

const MILLIS = /T\d{2}:\d{2}:\d{2}\.\d{3,}Z$/;

/**
 * `modified >= created`, and millisecond precision (§3.2) on everything versioned: SDOs,
 * SROs, and meta objects other than the never-versioned marking definitions.
 */
export function checkVersioning(o: Readonly<Record<string, unknown>>, ctx: Ctx, category: Category): void {
  if (category !== 'sco' && o['type'] !== 'marking-definition') {
    for (const k of ['created', 'modified']) {
      const v = o[k];
      if (typeof v === 'string' && parseTimestampMicros(v) !== null && !MILLIS.test(v)) {
        ctx.error(k, 'timestamp.precision', `${k} must be precise to the millisecond (e.g. 2016-05-12T08:17:27.000Z)`);
      }
    }
  }
  const c = typeof o['created'] === 'string' ? parseTimestampMicros(o['created']) : null;
  const m = typeof o['modified'] === 'string' ? parseTimestampMicros(o['modified']) : null;
  if (c !== null && m !== null && m < c) ctx.error('modified', 'modified-before-created', 'modified must be later than or equal to created');
}

export function checkExternalReferences(ctx: Ctx, v: unknown): void {
  const path = 'external_references';
  if (!Array.isArray(v)) return void ctx.error(path, 'value.type', 'external_references must be a list');
  if (v.length === 0) ctx.error(path, 'list.empty', 'lists must not be empty');
  v.forEach((r, i) => {
    const p = join(path, i);
    if (!isPlainObject(r)) return void ctx.error(p, 'external-reference', 'an external reference is an object');
    if (typeof r['source_name'] !== 'string') ctx.error(join(p, 'source_name'), 'external-reference', 'source_name is a required string');
    if (!('description' in r) && !('url' in r) && !('external_id' in r)) {
      ctx.error(p, 'external-reference', 'one of description, url, external_id is required');
    }
    for (const k of ['description', 'url', 'external_id']) {
      if (k in r && typeof r[k] !== 'string') ctx.error(join(p, k), 'value.type', `${k} must be a string`);
    }
    if (typeof r['url'] === 'string' && !matchesFormat('uri', r['url'])) ctx.error(join(p, 'url'), 'value.format', 'url must be a URL');
    if ('hashes' in r) checkHashes(ctx, join(p, 'hashes'), r['hashes']);
    // §2.5: the cve and capec sources carry their canonical identifiers.
    const id = r['external_id'];
    if (r['source_name'] === 'cve' && !(typeof id === 'string' && /^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$/.test(id))) {
      ctx.error(join(p, 'external_id'), 'external-reference', 'a cve reference has external_id CVE-YYYY-NNNN');
    }
    if (r['source_name'] === 'capec' && !(typeof id === 'string' && /^CAPEC-\d+$/.test(id))) {
      ctx.error(join(p, 'external_id'), 'external-reference', 'a capec reference has external_id CAPEC-N');
    }
  });
}

/** §7.2.3.1 selector syntax: property names joined by `.`, list indices as `[n]`. */
const SELECTOR = /^([a-z0-9_-]{3,249}(\.(\[\d+\]|[a-z0-9_-]{1,250}))*|id)$/;

export function checkGranularMarkings(ctx: Ctx, v: unknown): void {
  const path = 'granular_markings';
  if (!Array.isArray(v)) return void ctx.error(path, 'value.type', 'granular_markings must be a list');
  if (v.length === 0) ctx.error(path, 'list.empty', 'lists must not be empty');
  v.forEach((g, i) => {
    const p = join(path, i);
    if (!isPlainObject(g)) return void ctx.error(p, 'granular-marking', 'a granular marking is an object');
    const sel = g['selectors'];
    if (!Array.isArray(sel) || sel.length === 0 || !sel.every((s) => typeof s === 'string' && SELECTOR.test(s))) {
      ctx.error(join(p, 'selectors'), 'granular-marking', 'selectors is a non-empty list of selectors such as description or external_references.[0].url');
    }
    // §7.2.3: exactly one of marking_ref and lang.
    if (('marking_ref' in g) === ('lang' in g)) ctx.error(p, 'granular-marking', 'exactly one of marking_ref and lang is required');
    if ('marking_ref' in g) checkRef(ctx, join(p, 'marking_ref'), g['marking_ref'], ['marking-definition']);
    if ('lang' in g) checkValue(ctx, join(p, 'lang'), g['lang'], str('lang'));
  });
}

/** Extension names that predate extension-definitions: predefined (§6) or custom `x-...-ext`. */
const LEGACY_EXT = /^[a-z][a-z0-9]*(-[a-z0-9]+)*-ext$/;

/** Checks `extensions` and returns the extension types that declare new object types. */
export function checkExtensions(ctx: Ctx, v: unknown): Set<string> {
  const declared = new Set<string>();
  const path = 'extensions';
  if (!isPlainObject(v)) {
    ctx.error(path, 'value.type', 'extensions must be a dictionary');
    return declared;
  }
  if (Object.keys(v).length === 0) ctx.error(path, 'dictionary.keys', 'dictionaries must not be empty');
  for (const [k, e] of Object.entries(v)) {
    const p = join(path, k);
    const id = parseStixId(k);
    const isDef = id?.type === 'extension-definition';
    if (!isDef && !LEGACY_EXT.test(k)) ctx.error(p, 'extension.key', 'keys are extension-definition ids or *-ext names');
    if (!isPlainObject(e) || Object.keys(e).length === 0) {
      ctx.error(p, 'extension.value', 'an extension is a non-empty object');
      continue;
    }
    const et = e['extension_type'];
    if (isDef && !('extension_type' in e)) ctx.error(join(p, 'extension_type'), 'extension.type', 'extension_type is required for extension-definition extensions');
    if ('extension_type' in e) {
      if (typeof et !== 'string' || !V.EXTENSION_TYPE_ENUM.includes(et)) {
        ctx.error(join(p, 'extension_type'), 'extension.type', `extension_type must be one of ${V.EXTENSION_TYPE_ENUM.join(', ')}`);
      } else if (et.startsWith('new-')) declared.add(et);
    }
    for (const [ek, ev] of Object.entries(e)) {
      if (ek !== 'extension_type') checkFreeValue(ctx, join(p, ek), ek, ev);
    }
  }
  return declared;
}

const PROPERTY_NAME = /^[a-z][a-z0-9_]{2,249}$/;

/**
 * A property not defined for the type is a custom property (§11.1): its name is 3-250
 * characters of a-z, 0-9 and `_` (the OASIS schema also requires a leading letter); names
 * without the `x_` prefix are accepted with a warning, since toplevel-property-extensions
 * legitimately omit it.
 */
export function checkCustomProperty(ctx: Ctx, opts: { key: string; value: unknown; customType: boolean }): void {
  const { key, value } = opts;
  if (!PROPERTY_NAME.test(key)) {
    ctx.error(key.slice(0, 250), 'property.name', 'property names are 3-250 characters of a-z, 0-9 and _, starting with a letter');
    return;
  }
  if (!opts.customType && !key.startsWith('x_')) ctx.warn(key, 'custom property without the x_ prefix');
  checkFreeValue(ctx, key, key, value);
}
