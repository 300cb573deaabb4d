/**
 * Partitioning of telemetry by organisation (shared/reference/scale-out.md §1.8, §4).
 *
 * The partition is computed by the publisher, so no server-side mapping is needed (nats-server
 * 2.9 has no stream subject transforms). The hash is FNV-1a 32-bit — byte-identical to the
 * server's `{{partition(n, …)}}` mapping (server/subject_transform.go `getHashPartition`) — of
 * the organisation id, modulo a FIXED number of partitions: changing the number re-hashes every
 * organisation, so it is chosen once per deployment and partitions move between workers, keys never.
 *
 * Keying by organisation (not by sensor) keeps every stateful rule correct: Sigma correlations,
 * STIX FOLLOWEDBY/REPEATS windows and anomaly baselines all span the sensors of one organisation.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit over the UTF-8 bytes of `key`. */
export function fnv1a32(key: string): number {
  let h = FNV_OFFSET;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

export function partitionOf(orgId: string, partitions: number): number {
  return fnv1a32(orgId) % partitions;
}

/** A subject token: NATS subjects split on `.` and give `*`, `>` and whitespace a meaning. */
export function subjectToken(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_-]/g, '_');
  return t === '' ? '_' : t;
}

/** Names in NATS of one deployment, all derived from its prefix (SHIELDWALL_NATS_PREFIX). */
export interface ScaleNames {
  readonly prefix: string;
  /** The JetStream stream of telemetry. */
  readonly stream: string;
  /** Core NATS subject of the live stream fan-out between API processes. */
  readonly live: string;
  /** Core NATS subject of change notifications (intel, rules, warninglists, directory). */
  readonly changes: string;
  /** `<prefix>.events.<partition>.<org>.<sensor>` */
  eventSubject(partition: number, orgId: string, sensorId: string): string;
  /** Everything of one partition (the filter of its consumer). */
  partitionFilter(partition: number): string;
}

export function scaleNames(prefix: string): ScaleNames {
  const p = subjectToken(prefix);
  return Object.freeze({
    prefix: p,
    stream: `${p.toUpperCase()}_EVENTS`,
    live: `${p}.live`,
    changes: `${p}.changes`,
    eventSubject: (partition: number, orgId: string, sensorId: string) => `${p}.events.${partition}.${subjectToken(orgId)}.${subjectToken(sensorId)}`,
    partitionFilter: (partition: number) => `${p}.events.${partition}.>`,
  });
}
