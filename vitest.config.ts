import net from 'node:net';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Two projects. `embedded`: every test, on the embedded node. `scaleout`: the leak tests again,
 * unchanged, against a scale-out node (PostgreSQL + NATS JetStream, worker processes; see
 * test/helpers/node-mode.ts) — issue 8 "the leak tests run unchanged against the scale-out mode" —
 * and the hostile-input sweep (PostgreSQL refuses what SQLite takes, e.g. a NUL in text).
 * Where neither PostgreSQL nor NATS answers (a developer's machine) the second project is left
 * out with a note; in CI (CI=true) it always runs, so a missing server fails it.
 */
const SCALEOUT_TESTS = ['test/leak*.test.ts', 'test/hostile-input.test.ts'];

function answers(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url.replace(/^(nats|postgres(ql)?):/, 'http:'));
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    s.setTimeout(1000);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const pg = process.env.SHIELDWALL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const nats = process.env.SHIELDWALL_TEST_NATS ?? 'nats://127.0.0.1:4222';
  const wanted = process.env.SHIELDWALL_TEST_SCALEOUT !== '0';
  const up = process.env.CI === 'true' || ((await answers(pg, 5432)) && (await answers(nats, 4222)));
  if (wanted && !up) process.stderr.write('vitest: PostgreSQL or NATS does not answer: the scale-out leak tests (project "scaleout") are left out\n');
  return {
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks' as const,
      projects: [
        { extends: true as const, test: { name: 'embedded', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
        ...(wanted && up ? [{ extends: true as const, test: { name: 'scaleout', include: SCALEOUT_TESTS, env: { SHIELDWALL_TEST_NODE: 'scaleout' } } }] : []),
      ],
    },
  };
});
