/**
 * The NATS JetStream server of the tests: SHIELDWALL_TEST_NATS (`.ci/run` starts `nats-server -js`
 * when none answers), default nats://127.0.0.1:4222. Tests make their own stream (a unique
 * prefix per run) and delete it afterwards.
 */
import crypto from 'node:crypto';
import net from 'node:net';

export const NATS_URL = process.env.SHIELDWALL_TEST_NATS ?? 'nats://127.0.0.1:4222';

export async function natsAvailable(): Promise<boolean> {
  const u = new URL(NATS_URL.replace(/^nats:/, 'http:'));
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 4222) });
    s.setTimeout(2000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** In CI (CI=true) a missing server is a failure, never a skip. */
export function mustRun(): boolean {
  return process.env.CI === 'true';
}

export function uniquePrefix(tag: string): string {
  return `swt_${tag}_${crypto.randomBytes(4).toString('hex')}`;
}
