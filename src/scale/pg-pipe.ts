/**
 * The pipe between API processes that share one PostgreSQL without NATS (pipe.ts): PostgreSQL
 * LISTEN/NOTIFY on one dedicated connection per process
 * (https://www.postgresql.org/docs/current/sql-notify.html). Every listening session gets each
 * notification once, the sender's own included, in the order the sender sent them; a NOTIFY
 * payload is at most 8,000 bytes, so a longer text goes as numbered parts that the receivers
 * put together again (an incomplete one is dropped after PART_TTL_MS).
 *
 * At most once, like core NATS: while the connection is down (it is reopened every
 * RECONNECT_MS) texts are neither sent nor received; what they announce is in the store.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import type { Pipe } from './pipe.js';

const RECONNECT_MS = 2_000;
/** Characters per part: at most 4 bytes each in UTF-8 (a surrogate pair counts two), under 8,000 bytes with the header. */
const PART_CHARS = 1_900;
const PART_TTL_MS = 10_000;
const MAX_PENDING = 256;

/** A PostgreSQL channel name (an identifier of at most 63 bytes) for a subject: a readable tail and a hash. */
export function channelOf(subject: string): string {
  const hash = crypto.createHash('sha256').update(subject).digest('hex').slice(0, 16);
  const tail = subject.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(-40);
  return `sw_${hash}_${tail}`;
}

/** Splits a text into NOTIFY payloads: `0<text>` whole, or `1<id>:<i>:<n>:<part>` parts. */
export function payloadsOf(text: string): string[] {
  if (Buffer.byteLength(text, 'utf8') <= 7_900) return [`0${text}`];
  const id = crypto.randomUUID();
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + PART_CHARS);
    // Never split a surrogate pair: its halves alone are not valid UTF-8.
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
    parts.push(text.slice(i, end));
    i = end;
  }
  return parts.map((p, i) => `1${id}:${i}:${parts.length}:${p}`);
}

/** Puts parts together: returns the whole text when a payload completes one, else null. */
export class Reassembler {
  readonly #pending = new Map<string, { parts: (string | undefined)[]; got: number; at: number }>();

  accept(payload: string, nowMs: number): string | null {
    if (payload.startsWith('0')) return payload.slice(1);
    if (!payload.startsWith('1')) return null;
    const m = /^1([0-9a-f-]{36}):(\d{1,6}):(\d{1,6}):/.exec(payload);
    if (!m) return null;
    const [head, id, iText, nText] = m as unknown as [string, string, string, string];
    const i = Number(iText);
    const n = Number(nText);
    if (n < 1 || i >= n) return null;
    for (const [k, v] of this.#pending) if (nowMs - v.at > PART_TTL_MS) this.#pending.delete(k);
    let p = this.#pending.get(id);
    if (!p) {
      if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
      p = { parts: new Array<string | undefined>(n), got: 0, at: nowMs };
      this.#pending.set(id, p);
    }
    if (p.parts.length !== n || p.parts[i] !== undefined) return null;
    p.parts[i] = payload.slice(head.length);
    if (++p.got < n) return null;
    this.#pending.delete(id);
    return p.parts.join('');
  }
}

export class PgPipe implements Pipe {
  #client: pg.Client | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #subs = new Map<string, Set<(text: string) => void>>();
  readonly #parts = new Reassembler();

  private constructor(private readonly url: string, private readonly name: string) {}

  static async open(url: string, name: string): Promise<PgPipe> {
    const p = new PgPipe(url, name);
    await p.#connect();
    return p;
  }

  /** Whether the listening connection is up (texts sent and received now). */
  get connected(): boolean {
    return this.#client !== null;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: `shieldwall-pipe ${this.name}`, keepAlive: true });
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = null;
      client.end().catch(() => undefined);
      this.#retry();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      const subs = this.#subs.get(n.channel);
      if (!subs || n.payload === undefined) return;
      const text = this.#parts.accept(n.payload, Date.now());
      if (text === null) return;
      for (const on of subs) {
        try {
          on(text);
        } catch {
          // A failing subscriber does not stop the others.
        }
      }
    });
    await client.connect();
    for (const channel of this.#subs.keys()) await client.query(`listen "${channel}"`);
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed || this.#client) return;
      this.#connect().catch(() => this.#retry());
    }, RECONNECT_MS);
    this.#timer.unref();
  }

  publish(subject: string, text: string): void {
    const client = this.#client;
    if (!client) return;
    const channel = channelOf(subject);
    for (const payload of payloadsOf(text)) client.query('select pg_notify($1, $2)', [channel, payload]).catch(() => undefined);
  }

  subscribe(subject: string, on: (text: string) => void): () => void {
    const channel = channelOf(subject);
    let subs = this.#subs.get(channel);
    if (!subs) {
      subs = new Set();
      this.#subs.set(channel, subs);
      this.#client?.query(`listen "${channel}"`).catch(() => undefined);
    }
    subs.add(on);
    return () => {
      subs.delete(on);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const c = this.#client;
    this.#client = null;
    await c?.end().catch(() => undefined);
  }
}
