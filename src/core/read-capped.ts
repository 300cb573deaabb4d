/**
 * A response body read whole, but never past `max` bytes: null when it is larger. Returning from
 * inside the loop ends the iteration, which cancels a web stream (fetch) and destroys a Node
 * stream (undici `request`), so the rest is never read. For answers from other machines (peer
 * nodes, feeds): a body that never ends must not take the process's memory.
 */
export async function readAtMost(body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer | null> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.byteLength;
    if (n > max) return null;
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}
