/**
 * The spool's chunk form (store/spool-codec.ts): accepted lines' bytes as sent, compressed, with
 * their formats; read back line by line under seqs chunk × LINE_SLOTS + line.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LINE_SLOTS, packSpool, spoolBody, spoolLinesOf, splitSpoolLines, unpackSpool } from './spool-codec.js';

const META = { orgId: 'o', sensorId: 's', receivedUs: 7, exerciseId: null };

/** What ingestion records for a request body: [start, end) of each accepted line (end before its newline). */
function rangesOf(raw: Buffer, accept: (line: string) => boolean): number[] {
  const out: number[] = [];
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(10, start);
    if (end < 0) end = raw.length;
    if (accept(raw.toString('utf8', start, end).trim())) out.push(start, end);
    start = end + 1;
  }
  return out;
}

describe('spool chunks', () => {
  it('keeps a batch whose every line was accepted as the same bytes (no copy), trailing newline and CRs included', () => {
    const raw = Buffer.from('{"a":1}\r\n{"b":"é"}\r\n{"c":3}\n');
    const body = spoolBody(raw, rangesOf(raw, (l) => l !== ''));
    expect(body.buffer).toBe(raw.buffer);
    const rows = unpackSpool(META, { body: packSpool({ body, formats: ['ecs', 'ecs', 'ecs'] }).body, formats: 'ecs', seq: 5 });
    expect(rows.map((r) => [r.seq, r.event, r.format])).toEqual([[5 * LINE_SLOTS, '{"a":1}', 'ecs'], [5 * LINE_SLOTS + 1, '{"b":"é"}', 'ecs'], [5 * LINE_SLOTS + 2, '{"c":3}', 'ecs']]);
  });

  it('leaves out rejected and blank lines, and numbers the accepted ones densely', () => {
    const raw = Buffer.from('{"a":1}\nnot json\n\n   \n<13>Jan  1 00:00:00 host app: x\n');
    const body = spoolBody(raw, rangesOf(raw, (l) => l !== '' && l !== 'not json'));
    const packed = packSpool({ body, formats: ['ecs', 'syslog'] });
    expect(packed.lines).toBe(2);
    expect(packed.formats).toBe('["ecs","syslog"]');
    const rows = unpackSpool(META, { ...packed, seq: 1 });
    expect(rows.map((r) => [r.seq - LINE_SLOTS, r.event, r.format])).toEqual([[0, '{"a":1}', 'ecs'], [1, '<13>Jan  1 00:00:00 host app: x', 'syslog']]);
  });

  it('compresses, reads after a seq and at most max rows, and keeps a null format (legacy JSON) as null', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => ({ event: `{"event":{"kind":"alert"},"n":${i}}`, format: null }));
    const packed = packSpool(spoolLinesOf(lines));
    expect(packed.formats).toBe('');
    expect(packed.body.length).toBeLessThan(spoolLinesOf(lines).body.length / 4);
    const rows = unpackSpool(META, { ...packed, seq: 2 }, { afterSeq: 2 * LINE_SLOTS + 9, max: 3 });
    expect(rows.map((r) => [r.seq - 2 * LINE_SLOTS, r.format])).toEqual([[10, null], [11, null], [12, null]]);
  });

  it('splits more lines than a chunk holds into chunks that keep every line once', () => {
    const lines = Array.from({ length: 10 }, (_, i) => ({ event: `line ${i}`, format: i < 5 ? 'a' : 'b' }));
    const parts = splitSpoolLines(spoolLinesOf(lines), 4);
    expect(parts.map((p) => p.formats.length)).toEqual([4, 4, 2]);
    const back = parts.flatMap((p, i) => unpackSpool(META, { ...packSpool(p), seq: i + 1 }).map((r) => [r.event, r.format]));
    expect(back).toEqual(lines.map((l) => [l.event, l.format]));
  });

  it('writes Brotli behind a tag and the inflated size, and still reads the gzip chunks written before', () => {
    const lines = Array.from({ length: 50 }, (_, i) => ({ event: `{"@timestamp":"2026-01-01T00:00:00Z","n":${i}}`, format: 'ecs' }));
    const plain = spoolLinesOf(lines).body;
    const packed = packSpool(spoolLinesOf(lines));
    expect(packed.body[0]).toBe(0x02);
    expect(packed.body.readUInt32LE(1)).toBe(plain.length);
    expect(zlib.brotliDecompressSync(packed.body.subarray(5)).equals(plain)).toBe(true);
    const legacy = zlib.gzipSync(plain, { level: 1 });
    const fromGzip = unpackSpool(META, { body: legacy, formats: 'ecs', seq: 3 });
    const fromBrotli = unpackSpool(META, { ...packed, seq: 3 });
    expect(fromGzip.map((r) => [r.seq, r.event])).toEqual(lines.map((l, i) => [3 * LINE_SLOTS + i, l.event]));
    expect(fromBrotli.map((r) => [r.seq, r.event])).toEqual(fromGzip.map((r) => [r.seq, r.event]));
    expect(() => unpackSpool(META, { body: Buffer.from([0x02, 1]), formats: 'ecs', seq: 1 })).toThrow(/truncated/);
  });

  it('decodes a row\'s line when it is read, the same text every time', () => {
    const lines = [{ event: '{"a":"é"}', format: 'ecs' }, { event: 'x', format: 'syslog' }];
    const [row] = unpackSpool(META, { ...packSpool(spoolLinesOf(lines)), seq: 1 }, { max: 1 });
    expect(row!.event).toBe('{"a":"é"}');
    expect(row!.event).toBe(row!.event);
    expect(row).toMatchObject({ seq: LINE_SLOTS, orgId: 'o', sensorId: 's', receivedUs: 7, exerciseId: null, format: 'ecs' });
  });
});
