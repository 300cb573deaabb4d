/** Where the built `shieldwall` CLI is, to fork `shieldwall worker` from the server. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI entry (dist/src/cli/main.js) of this package: found from this module's location,
 * whether it runs built (dist/src/detect/worker) or from source under a test runner (src/detect/worker).
 */
export function workerEntry(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'dist', 'src', 'cli', 'main.js'))) return path.join(dir, 'dist', 'src', 'cli', 'main.js');
    dir = path.dirname(dir);
  }
  throw new Error('the built shieldwall CLI (dist/src/cli/main.js) was not found: run `npm run build:server`');
}
