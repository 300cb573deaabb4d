import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanJsonBudget, valueBudget, withinByLength, type EventLimits } from './budget.js';

const L = (o: Partial<EventLimits> = {}): EventLimits => ({ maxFields: 10, maxDepth: 4, maxStringBytes: 100, ...o });

describe('scanJsonBudget', () => {
  it('counts object members and array elements at any depth', () => {
    expect(scanJsonBudget('{"a":1,"b":[1,2,3],"c":{"d":"x"}}', L({ maxFields: 7 }))).toBeNull();
    expect(scanJsonBudget('{"a":1,"b":[1,2,3],"c":{"d":"x"}}', L({ maxFields: 6 }))).toMatch(/more than 6 fields/);
    expect(scanJsonBudget('{"a":[],"b":[ ],"c":{}}', L({ maxFields: 3 }))).toBeNull();
    expect(scanJsonBudget('{"a":[[1],[2]]}', L({ maxFields: 5 }))).toBeNull();
    expect(scanJsonBudget('{"a":[[1],[2]]}', L({ maxFields: 4 }))).toMatch(/fields/);
  });

  it('ignores structure inside strings, escapes included', () => {
    expect(scanJsonBudget('{"a":"x:y,[{\\"}]:,"}', L({ maxFields: 1, maxDepth: 1 }))).toBeNull();
  });

  it('counts the bytes of string values, not of keys', () => {
    const key = 'k'.repeat(200);
    expect(scanJsonBudget(`{"${key}":"${'v'.repeat(100)}"}`, L())).toBeNull();
    expect(scanJsonBudget(`{"${key}":"${'v'.repeat(101)}"}`, L())).toMatch(/more than 100 bytes/);
    expect(scanJsonBudget(`{"a":["${'é'.repeat(50)}"]}`, L())).toBeNull();
    expect(scanJsonBudget(`{"a":["${'é'.repeat(51)}"]}`, L())).toMatch(/bytes/);
  });

  it('refuses nesting deeper than the cap', () => {
    expect(scanJsonBudget('{"a":{"b":[{"c":1}]}}', L())).toBeNull();
    expect(scanJsonBudget('{"a":{"b":[{"c":[1]}]}}', L())).toMatch(/deeper than 4/);
  });

  it('stops early on a hostile line: 100k fields are refused at the cap', () => {
    const line = `{${Array.from({ length: 100_000 }, (_, i) => `"f${i}":1`).join(',')}}`;
    expect(scanJsonBudget(line, L({ maxFields: 10_000 }))).toBe('more than 10000 fields in one event');
  });

  it('agrees with the walk of the parsed value on fields and depth (property)', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 6 }), (v, maxFields, maxDepth) => {
      const limits = { maxFields, maxDepth, maxStringBytes: 1e9 };
      const scanned = scanJsonBudget(JSON.stringify(v), limits);
      const walked = valueBudget(v, limits);
      expect(scanned === null).toBe(walked === null);
    }));
  });
});

describe('withinByLength', () => {
  it('skips the scan only when the length alone rules out the field and string caps', () => {
    expect(withinByLength(20, L({ maxFields: 10, maxStringBytes: 60 }))).toBe(true);
    expect(withinByLength(21, L({ maxFields: 10, maxStringBytes: 1000 }))).toBe(false);
    expect(withinByLength(20, L({ maxFields: 10, maxStringBytes: 59 }))).toBe(false);
  });
});
