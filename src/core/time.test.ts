/** Timestamp parsing (RFC 3339 UTC, STIX 2.1 §3.2) and the TAXII microsecond format. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMicros, parseTimestampMicros, timestampKey, versionKey } from './time.js';

describe('parseTimestampMicros', () => {
  it('parses valid timestamps to microseconds, any fraction length', () => {
    expect(parseTimestampMicros('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseTimestampMicros('1970-01-01T00:00:01.5Z')).toBe(1_500_000);
    expect(parseTimestampMicros('2024-02-29T12:34:56.123456789Z')).toBe(Date.UTC(2024, 1, 29, 12, 34, 56) * 1000 + 123456);
    expect(parseTimestampMicros('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29) * 1000);
    expect(parseTimestampMicros('2016-12-31T23:59:59.999Z')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999) * 1000);
  });

  it('refuses impossible dates and times', () => {
    for (const s of ['2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2024-02-30T00:00:00Z', '2023-04-31T00:00:00Z', '2023-13-01T00:00:00Z',
      '2023-00-10T00:00:00Z', '2023-06-00T00:00:00Z', '2023-06-01T24:00:00Z', '2023-06-01T10:60:00Z', '2023-06-01T10:00:61Z',
      '2016-12-31T23:59:60Z', '0099-06-01T00:00:00Z', '2023-06-01T00:00:00', '2023-06-01 00:00:00Z', '2023-06-01T00:00:00+01:00', '']) {
      expect(parseTimestampMicros(s), s).toBeNull();
    }
  });

  it('gives the right answer when the same and different inputs alternate (last-answer memo)', () => {
    const a = '2024-01-01T00:00:00Z';
    const b = '2024-13-01T00:00:00Z';
    for (let i = 0; i < 3; i++) {
      expect(parseTimestampMicros(a)).toBe(Date.UTC(2024, 0, 1) * 1000);
      expect(parseTimestampMicros(b)).toBeNull();
      expect(parseTimestampMicros(b)).toBeNull();
    }
  });

  it('accepts exactly what the RFC 3339 grammar reads (differential against a regular expression reading)', () => {
    const re = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
    const byRegex = (s: string): { us: number; key: string } | null => {
      const m = re.exec(s);
      if (!m) return null;
      const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
      const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
      if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]! || h > 23 || mi > 59 || se > 60 || y < 100 || (se === 60 && h === 23 && mi === 59)) return null;
      const ms = Date.UTC(y, mo - 1, d, h, mi, se);
      const frac6 = ((m[7] ?? '') + '000000').slice(0, 6);
      // The key from milliseconds (exact at any year) and the fraction's text.
      return { us: ms * 1000 + Number(frac6), key: `${new Date(ms).toISOString().slice(0, 19)}.${frac6}Z` };
    };
    // Mutations of valid timestamps (a character replaced, removed or added), and arbitrary text.
    const digitsOf = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
    const valid = fc.tuple(digitsOf(4), digitsOf(2), digitsOf(2), digitsOf(2), digitsOf(2), digitsOf(2), fc.option(fc.stringMatching(/^[0-9]{0,10}$/)))
      .map(([y, mo, d, h, mi, se, f]) => `${y}-${mo}-${d}T${h}:${mi}:${se}${f === null ? '' : `.${f}`}Z`);
    const mutated = fc.tuple(valid, fc.nat(), fc.constantFrom('', '0', '9', '.', 'Z', ':', '-', 'T', ' ', '١', 'a'), fc.boolean())
      .map(([s, at, c, insert]) => { const i = at % (s.length + 1); return s.slice(0, i) + c + s.slice(insert ? i : i + 1); });
    fc.assert(fc.property(fc.oneof(valid, mutated, fc.string()), (s) => {
      const want = byRegex(s);
      expect(parseTimestampMicros(s)).toBe(want?.us ?? null);
      expect(timestampKey(s)).toBe(want?.key ?? null);
      // Where microseconds fit a double (1685 to 2255), the key is also the formatted time.
      if (want && Math.abs(want.us) <= Number.MAX_SAFE_INTEGER) expect(timestampKey(s)).toBe(formatMicros(want.us));
    }), { numRuns: 20_000 });
  });

  it('keys a timestamp by its text: fraction cut or padded to six digits, a leap second rolled over', () => {
    expect(timestampKey('2024-05-06T07:08:09Z')).toBe('2024-05-06T07:08:09.000000Z');
    expect(timestampKey('2024-05-06T07:08:09.123456789Z')).toBe('2024-05-06T07:08:09.123456Z');
    expect(timestampKey('2999-12-31T23:59:59.999999Z')).toBe('2999-12-31T23:59:59.999999Z');
    expect(timestampKey('2016-12-31T10:59:60.5Z')).toBe('2016-12-31T11:00:00.500000Z');
    expect(timestampKey('9100-01-10T00:00:60Z')).toBe('9100-01-10T00:01:00.000000Z');
    expect(timestampKey('2016-12-31T10:59:61Z')).toBeNull();
  });

  it('round-trips through formatMicros and versionKey', () => {
    expect(formatMicros(parseTimestampMicros('2024-05-06T07:08:09.1Z')!)).toBe('2024-05-06T07:08:09.100000Z');
    expect(versionKey('2024-05-06T07:08:09Z')).toBe('2024-05-06T07:08:09.000000Z');
    expect(() => versionKey('2024-02-30T00:00:00Z')).toThrow();
  });
});
