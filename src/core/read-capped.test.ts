import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAtMost } from './read-capped.js';

describe('readAtMost', () => {
  it('reads a body within the cap whole', async () => {
    expect((await readAtMost(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4))?.toString()).toBe('abcd');
  });

  it('stops at the cap: a Node stream is destroyed, a web stream cancelled, nothing more is read', async () => {
    let pulled = 0;
    const endless = new Readable({ read() { pulled++; this.push(Buffer.alloc(1024)); } });
    expect(await readAtMost(endless, 10 * 1024)).toBeNull();
    expect(endless.destroyed).toBe(true);
    expect(pulled).toBeLessThan(40);
    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({ pull(c) { c.enqueue(new Uint8Array(1024)); }, cancel() { cancelled = true; } });
    expect(await readAtMost(web as unknown as AsyncIterable<Uint8Array>, 4096)).toBeNull();
    expect(cancelled).toBe(true);
  });
});
