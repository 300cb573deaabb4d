/**
 * The service units of the deployment docs run the node's own build: `npx shieldwall` resolves
 * the checkout's command only in the checkout's directory, and a unit runs in `/` unless told
 * otherwise — there npx looks the name up in the npm registry and would run a stranger's package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DOCS = ['docs/deploying.md', 'docs/deploying-at-scale.md'];

describe('service units in the deployment docs', () => {
  for (const doc of DOCS) {
    it(`${doc}: every ExecStart runs the checkout's build by its path, never npx`, () => {
      const text = fs.readFileSync(path.join(import.meta.dirname, '..', doc), 'utf8');
      const units = [...text.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1]!);
      for (const unit of units) {
        for (const line of unit.split('\n').filter((l) => l.startsWith('ExecStart='))) {
          expect(line, doc).not.toMatch(/\bnpx\b/);
          expect(line, doc).toMatch(/^ExecStart=\S*node \/\S+\/dist\/src\/cli\/main\.js /);
        }
      }
    });
  }
});
