/**
 * The queue of partitions no live worker owns (docs/deploying-at-scale.md "Checking it"). A worker
 * reports the backlog of the partitions it holds (scale/presence.ts); one that nobody holds —
 * every worker stopped, or too few for the partitions — has nobody to report it, yet its events
 * are exactly the ones waiting longest. Counted here from the stream after the partition's mark:
 * an ephemeral consumer from the mark + 1 (made and deleted at once) gives how many messages
 * wait, and its first message their age. A few round trips per such partition, in parallel, on
 * an administrator's request only.
 */
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { Store } from '../store/index.js';
import { H_RECEIVED } from './codec.js';
import { marksInStream } from './jetstream-source.js';
import type { NatsLink } from './nats.js';
import type { PartitionBacklog } from './presence.js';

/** How long the whole count may take (NATS disconnected: the partitions are left uncounted). */
const BACKLOG_TIMEOUT_MS = 2_000;

async function count(link: NatsLink, partition: number, mark: number): Promise<PartitionBacklog> {
  const { js, jsm, names } = link;
  const c = await jsm.consumers.add(names.stream, {
    filter_subject: names.partitionFilter(partition), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: mark + 1, ack_policy: AckPolicy.None,
    mem_storage: true, inactive_threshold: 5_000_000_000, // ns: gone by itself should the delete below not reach the server
  });
  try {
    if (c.num_pending === 0) return { partition, waitingMessages: 0, oldestReceivedUs: null };
    const first = await (await js.consumers.get(names.stream, c.name)).next({ expires: 1_000 });
    const received = Number(first?.headers?.get(H_RECEIVED));
    return { partition, waitingMessages: c.num_pending, oldestReceivedUs: Number.isFinite(received) ? received : null };
  } finally {
    await jsm.consumers.delete(names.stream, c.name).catch(() => undefined);
  }
}

/** The backlog of each of `partitions` (those no worker reports), or none when NATS does not answer in time. */
export async function unownedBacklog(link: NatsLink, store: Store, partitions: readonly number[]): Promise<PartitionBacklog[]> {
  if (partitions.length === 0) return [];
  const all = marksInStream(link, (keys) => store.getMetas(keys), partitions).then((marks) => Promise.all(partitions.map((p) => count(link, p, marks.get(p)!))));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<PartitionBacklog[]>((resolve) => {
    timer = setTimeout(() => resolve([]), BACKLOG_TIMEOUT_MS);
  });
  try {
    return await Promise.race([all.catch(() => []), late]);
  } finally {
    clearTimeout(timer);
  }
}
