/** Timestamp parsing (RFC 3339 UTC, STIX 2.1 §3.2) and the TAXII microsecond format. */
import { describe, expect, it } from 'vitest';
import { formatMicros, parseTimestampMicros, versionKey } from './time.js';

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

  it('round-trips through formatMicros and versionKey', () => {
    expect(formatMicros(parseTimestampMicros('2024-05-06T07:08:09.1Z')!)).toBe('2024-05-06T07:08:09.100000Z');
    expect(versionKey('2024-05-06T07:08:09Z')).toBe('2024-05-06T07:08:09.000000Z');
    expect(() => versionKey('2024-02-30T00:00:00Z')).toThrow();
  });
});
