/**
 * Real-world corpora must validate with zero rejects: MITRE ATT&CK for ICS 18.1 and every
 * OASIS example under the vendored stix2-json-schemas. Whatever the validator accepts from
 * them must also conform to the OASIS schemas (custom objects against the common core).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateBundle, validateObject, TLP2_MARKINGS, tlpOf } from '../src/stix/index.js';
import { oasisErrors } from './helpers/stix-schema.js';
import { sharedPath } from './helpers/shared.js';

const ICS = sharedPath('data/stix/ics-attack-18.1.json');
const EXAMPLES = sharedPath('vendor/stix2-json-schemas/examples');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return jsonFiles(p);
    return n.endsWith('.json') ? [p] : [];
  });
}

/** A file is a bundle or a single object; either way, the objects it holds. */
function objectsOf(file: string): unknown[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return doc['type'] === 'bundle' ? (doc['objects'] as unknown[]) : [doc];
}

function rejects(objects: unknown[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const r = validateObject(o);
    if (!r.ok) out.push(`${String((o as Record<string, unknown>)['id'])}: ${r.errors.map((e) => `${e.path} ${e.rule} ${e.message}`).join('; ')}`);
  }
  return out;
}

function schemaFailures(objects: unknown[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (!validateObject(o).ok) continue;
    const errs = oasisErrors(o);
    if (errs.length > 0) out.push(`${String((o as Record<string, unknown>)['id'])}: ${errs.slice(0, 3).join('; ')}`);
  }
  return out;
}

describe('ATT&CK for ICS 18.1', () => {
  const bundle = JSON.parse(readFileSync(ICS, 'utf8')) as Record<string, unknown>;
  const objects = bundle['objects'] as unknown[];

  it('has the 1,826 objects SOURCES.md describes', () => {
    expect(objects).toHaveLength(1826);
  });

  it('validates every object with zero rejects', () => {
    expect(rejects(objects)).toEqual([]);
  });

  it('validates as a bundle envelope too', () => {
    const v = validateBundle(bundle);
    expect(v.envelopeErrors).toEqual([]);
    expect(v.results.every((r) => r.ok)).toBe(true);
  });

  it('everything accepted also passes the OASIS schemas', () => {
    expect(schemaFailures(objects)).toEqual([]);
  });

  it('finds no TLP marking on ATT&CK (it uses a statement marking only)', () => {
    expect(objects.every((o) => tlpOf(o) === null)).toBe(true);
  });
});

describe('OASIS examples', () => {
  const files = jsonFiles(EXAMPLES);

  it('finds the example files', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it.each(files.map((f) => [path.relative(EXAMPLES, f), f]))('%s validates with zero rejects and passes the schemas', (_name, file) => {
    const objects = objectsOf(file);
    expect(objects.length).toBeGreaterThan(0);
    expect(rejects(objects)).toEqual([]);
    expect(schemaFailures(objects)).toEqual([]);
  });
});

describe('the TLP 2.0 marking objects', () => {
  it.each(Object.entries(TLP2_MARKINGS))('%s validates and passes the OASIS schema', (_tlp, md) => {
    expect(validateObject(md).ok).toBe(true);
    expect(oasisErrors(md)).toEqual([]);
  });
});
