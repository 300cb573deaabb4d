/**
 * The NATS JetStream server of the tests: SHIELDWALL_TEST_NATS (`.ci/run` starts `nats-server -js`
 * when none answers), default nats://127.0.0.1:4222. Tests make their own stream (a unique
 * prefix per run) and delete it afterwards.
 */
import crypto from 'node:crypto';
import net from 'node:net';

export const NATS_URL = process.env.SHIELDWALL_TEST_NATS ?? 'nats://127.0.0.1:4222';
/**
 * The stream size cap of a test node (SHIELDWALL_NATS_MAX_BYTES). JetStream reserves each stream's
 * max_bytes against the server's store (75% of the free disk by default): with the 8 GB default,
 * a few test nodes at once (parallel files) used it all up and the next stream was refused with
 * "insufficient storage resources available".
 */
export const TEST_STREAM_BYTES = 256 * 1024 * 1024;

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
