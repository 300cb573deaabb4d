/**
 * Crash durability (DESIGN §2.2 "Nothing is lost"): the built server is SIGKILLed while many
 * TAXII envelopes are being POSTed concurrently; after a restart every object whose POST was
 * answered 202 is present, and each envelope is either wholly stored or not at all (one
 * transaction per envelope, SQLite WAL with synchronous=FULL). Run after `npm run build`.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/index.js';
import { generateIndicators } from '../bench/generate.js';
import path from 'node:path';
import {
  ROOT, headers, manifestIds, prepareNode, serverCommand, startNode, stopNode, type Node, type ServerProcess,
} from './durability-harness.js';

const ENVELOPES = 48;
const PER_ENVELOPE = 200;
const CONCURRENCY = 6;

interface Outcome {
  ids: string[];
  /** HTTP status of the POST, or null when the connection failed (the server was killed). */
  status: number | null;
  statusId?: string;
}

type KillAt = { afterAcks: number } | { afterFirstAckMs: number };

/**
 * POSTs every envelope with a few in flight at a time and SIGKILLs the server at the given
 * moment; resolves once every request has settled.
 */
async function postAndKill(srv: ServerProcess, node: Node, envelopes: Record<string, unknown>[][], killAt: KillAt): Promise<Outcome[]> {
  const outcomes: Outcome[] = envelopes.map((objs) => ({ ids: objs.map((o) => String(o.id)), status: null }));
  let acks = 0;
  let killed = false;
  const kill = () => {
    if (!killed) {
      killed = true;
      srv.child.kill('SIGKILL');
    }
  };
  let queue = 0;
  const url = `${srv.url}/${ROOT}/collections/${node.collectionId}/objects/`;
  const worker = async () => {
    for (let i = queue++; i < envelopes.length; i = queue++) {
      try {
        const res = await fetch(url, { method: 'POST', headers: headers(node.token), body: JSON.stringify({ objects: envelopes[i] }) });
        const body = (await res.json()) as { id?: string; success_count?: number; failure_count?: number; failures?: unknown };
        outcomes[i]!.status = res.status;
        if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
        expect(body.success_count, JSON.stringify(body.failures)).toBe(PER_ENVELOPE);
        outcomes[i]!.statusId = body.id!;
        acks++;
        if ('afterAcks' in killAt && acks >= killAt.afterAcks) kill();
        if ('afterFirstAckMs' in killAt && acks === 1) setTimeout(kill, killAt.afterFirstAckMs);
      } catch (e) {
        // A refused or reset connection is the kill; anything else answered is a failure.
        if (outcomes[i]!.status !== null) throw e;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    // Also when a POST failed: never leave the server (and its worker) running after the test.
    kill();
    await srv.exited;
  }
  return outcomes;
}

function envelopesOf(round: number): Record<string, unknown>[][] {
  return Array.from({ length: ENVELOPES }, (_, e) => generateIndicators(PER_ENVELOPE, { seed: round * 1000 + e, tlpOf: () => 'green' }));
}

const nodes: Node[] = [];
afterAll(() => {
  for (const n of nodes) fs.rmSync(n.dataDir, { recursive: true, force: true });
});

describe(`crash durability of TAXII POST (server: ${serverCommand().kind})`, () => {
  const moments: { name: string; killAt: KillAt }[] = [
    { name: 'right after the first acknowledgement', killAt: { afterAcks: 1 } },
    { name: 'in the middle of the stream', killAt: { afterAcks: Math.floor(ENVELOPES / 2) } },
    { name: 'at a timed moment after the first acknowledgement', killAt: { afterFirstAckMs: 150 } },
  ];

  moments.forEach(({ name, killAt }, round) => {
    it(`SIGKILL ${name}: every acknowledged envelope is stored, no envelope is half-written`, async () => {
      const node = await prepareNode();
      nodes.push(node);
      const envelopes = envelopesOf(round + 1);
      const first = await startNode(node);
      const outcomes = await postAndKill(first, node, envelopes, killAt);
      const acked = outcomes.filter((o) => o.status === 202);
      const unanswered = outcomes.filter((o) => o.status === null);
      // The kill really happened mid-stream: some envelopes were acknowledged, some never were.
      expect(acked.length).toBeGreaterThan(0);
      expect(unanswered.length).toBeGreaterThan(0);

      const second = await startNode(node);
      try {
        const stored = await manifestIds(second.url, node);
        for (const o of acked) for (const id of o.ids) expect(stored.has(id), `acknowledged ${id} is missing`).toBe(true);
        const partial = outcomes
          .map((o, e) => ({ e, present: o.ids.filter((id) => stored.has(id)).length }))
          .filter(({ present }) => present !== 0 && present !== PER_ENVELOPE);
        expect(partial, 'envelopes stored only in part').toEqual([]);
        const whole = outcomes.filter((o) => stored.has(o.ids[0]!));
        expect(stored.size).toBe(whole.length * PER_ENVELOPE);
        for (const v of stored.values()) expect(v).toHaveLength(1);

        // The status resource of an acknowledged POST survived too (TAXII 2.1 §4.3).
        const sample = acked[acked.length - 1]!;
        const st = await fetch(`${second.url}/${ROOT}/status/${sample.statusId}/`, { headers: headers(node.token) });
        expect(st.status).toBe(200);
        expect(((await st.json()) as { success_count: number }).success_count).toBe(PER_ENVELOPE);

        // Objects read back as posted.
        const probe = envelopes[outcomes.indexOf(sample)]![0]!;
        const one = await fetch(`${second.url}/${ROOT}/collections/${node.collectionId}/objects/${String(probe.id)}/`, { headers: headers(node.token) });
        const got = ((await one.json()) as { objects: Record<string, unknown>[] }).objects;
        expect(got).toHaveLength(1);
        expect(got[0]!.pattern).toBe(probe.pattern);

        // Re-posting an envelope that was cut off completes it; re-posting a stored one is idempotent.
        const lost = outcomes.findIndex((o) => !stored.has(o.ids[0]!));
        expect(lost).toBeGreaterThanOrEqual(0);
        for (const e of [lost, outcomes.indexOf(sample)]) {
          const res = await fetch(`${second.url}/${ROOT}/collections/${node.collectionId}/objects/`, {
            method: 'POST', headers: headers(node.token), body: JSON.stringify({ objects: envelopes[e] }),
          });
          expect(res.status).toBe(202);
          expect(((await res.json()) as { success_count: number }).success_count).toBe(PER_ENVELOPE);
        }
        expect((await manifestIds(second.url, node)).size).toBe(stored.size + PER_ENVELOPE);
      } finally {
        await stopNode(second);
      }

      // Nothing half-written below the API either: the table holds whole envelopes only.
      const store = await openSqliteStore(path.join(node.dataDir, 'shieldwall.db'));
      try {
        expect((await store.countObjects(node.collectionId)) % PER_ENVELOPE).toBe(0);
      } finally {
        await store.close();
      }
    }, 120_000);
  });
});
