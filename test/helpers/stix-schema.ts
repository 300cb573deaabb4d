/**
 * The OASIS STIX 2.1 JSON Schemas (vendored under ../shared, read by tests only) compiled
 * with ajv 2020-12, as an independent second opinion on everything the server emits.
 *
 * Caveat (SOURCES.md): the schemas are non-normative and cannot express every rule. Custom
 * objects (`x-...` types, or types declared by new-sdo/new-sco/new-sro extensions) have no
 * schema: they are checked against the common core (SDO-like when they carry `created`,
 * otherwise the cyber-observable core).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sharedPath } from './shared.js';

export const OASIS_SCHEMA_DIR = sharedPath('vendor/stix2-json-schemas/schemas');

const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

interface Compiled {
  byType: Map<string, ValidateFunction>;
  core: ValidateFunction;
  scoCore: ValidateFunction;
}

let compiled: Compiled | undefined;

function load(): Compiled {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  // The OASIS patterns use escapes (\-) that are invalid in unicode mode, hence unicodeRegExp: false.
  // ajv-formats is CommonJS; its default export arrives as the module under NodeNext.
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const byType = new Map<string, string>();
  for (const dir of ['common', 'observables', 'sdos', 'sros']) {
    for (const f of readdirSync(path.join(OASIS_SCHEMA_DIR, dir)).filter((n) => n.endsWith('.json'))) {
      const schema = JSON.parse(readFileSync(path.join(OASIS_SCHEMA_DIR, dir, f), 'utf8')) as { $id?: string };
      ajv.addSchema(schema);
      if (dir !== 'common' || ['marking-definition.json', 'language-content.json', 'extension-definition.json', 'bundle.json'].includes(f)) {
        byType.set(f.replace(/\.json$/, ''), schema.$id ?? `${BASE}${dir}/${f}`);
      }
    }
  }
  const get = (id: string): ValidateFunction => {
    const v = ajv.getSchema(id);
    if (!v) throw new Error(`schema not loaded: ${id}`);
    return v;
  };
  compiled = {
    byType: new Map([...byType].map(([t, id]) => [t, get(id)])),
    core: get(`${BASE}common/core.json`),
    scoCore: get(`${BASE}common/cyber-observable-core.json`),
  };
  return compiled;
}

function fmt(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** The schema errors of one STIX object (or bundle); empty when it conforms. */
export function oasisErrors(obj: unknown): string[] {
  const c = load();
  const type = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)['type'] : undefined;
  if (typeof type !== 'string') return ['/ has no string type'];
  const v = c.byType.get(type) ?? ('created' in (obj as object) ? c.core : c.scoCore);
  return v(obj) ? [] : fmt(v.errors);
}

/** Throws with the schema errors when `obj` does not conform to the OASIS schemas. */
export function assertValidAgainstOasis(obj: unknown): void {
  const errs = oasisErrors(obj);
  if (errs.length > 0) {
    const id = (obj as Record<string, unknown> | null)?.['id'];
    throw new Error(`${String(id)} does not conform to the OASIS STIX 2.1 schemas:\n  ${errs.slice(0, 20).join('\n  ')}`);
  }
}
