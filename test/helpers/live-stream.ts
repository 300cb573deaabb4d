/** The live stream (`GET /api/v1/stream`) as the web app opens it, for tests that read what it sends. */

export interface OpenedStream {
  readonly res: Response;
  /** Everything received so far. */
  readonly text: string;
  /** True once the server has ended the stream (or it was closed). */
  readonly ended: boolean;
  close(): Promise<void>;
}

/**
 * Opens the stream with a single-use ticket in the URL (never the session token), as the web app
 * does; `query` adds parameters (`exercise=…`). A refused stream (not 200) is returned with its body
 * (the error) unread.
 */
export async function openLiveStream(baseUrl: string, token: string, query: Record<string, string> = {}): Promise<OpenedStream> {
  const ctrl = new AbortController();
  const t = await fetch(`${baseUrl}/api/v1/stream/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const { ticket } = (await t.json()) as { ticket: string };
  const params = new URLSearchParams({ ticket, ...query });
  const res = await fetch(`${baseUrl}/api/v1/stream?${params.toString()}`, { signal: ctrl.signal });
  let text = '';
  let ended = false;
  const pump = res.ok && res.body ? (async () => {
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
    } catch {
      // aborted
    }
    ended = true;
  })() : Promise.resolve();
  return { res, get text() { return text; }, get ended() { return ended; }, close: async () => { ctrl.abort(); await pump; } };
}
