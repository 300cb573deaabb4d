/** docs/stix-validation.md lists every validation rule with its current description. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VALIDATION_RULES } from '../src/stix/index.js';

const doc = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/stix-validation.md'), 'utf8');

describe('docs/stix-validation.md', () => {
  it('has one row per rule, in table order, with the same description', () => {
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]?.replaceAll('\\|', '|')]);
    expect(rows).toEqual(Object.entries(VALIDATION_RULES));
  });
});
