import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import { CursorCodec } from './cursor.js';

const AT = 1_780_000_123_456_789;

describe('CursorCodec', () => {
  it('seals the position: a cursor does not show the date_added it resumes after (possibly a version the caller may not read)', async () => {
    const codec = await CursorCodec.load(await openSqliteStore(':memory:'));
    const cursor = codec.encode(AT, 'fp', 'org-a');
    for (const part of cursor.split('.')) expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain(String(AT).slice(0, 8));
    expect(codec.decode(cursor, 'fp', 'org-a')).toBe(AT);
    expect(() => codec.decode(cursor, 'fp', 'org-b')).toThrow(/different filters or another caller/);
    const [sealed, mac] = cursor.split('.') as [string, string];
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[14]! ^= 1;
    expect(() => codec.decode(`${flipped.toString('base64url')}.${mac}`, 'fp', 'org-a')).toThrow(/malformed or forged/);
  });

  it('still takes a cursor issued before positions were sealed (a peer keeps its next across an upgrade)', async () => {
    const store = await openSqliteStore(':memory:');
    const codec = await CursorCodec.load(store);
    const key = Buffer.from((await store.getMeta('taxii.cursor-key'))!, 'base64');
    const payload = `${AT}.${crypto.createHash('sha256').update('fp\u0000org-a').digest('base64url').slice(0, 22)}`;
    const legacy = `${Buffer.from(payload).toString('base64url')}.${crypto.createHmac('sha256', key).update(payload).digest().subarray(0, 16).toString('base64url')}`;
    expect(codec.decode(legacy, 'fp', 'org-a')).toBe(AT);
  });
});
