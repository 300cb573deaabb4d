import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { storeUnavailable } from './unreachable.js';

const err = (message: string, props: Record<string, unknown> = {}) => Object.assign(new Error(message), props);

describe('storeUnavailable', () => {
  it('takes a database that cannot be reached for a 503 with Retry-After', () => {
    for (const e of [
      err('connect ECONNREFUSED 10.0.0.5:5432', { code: 'ECONNREFUSED' }),
      err('terminating connection due to administrator command', { code: '57P01' }),
      err('the database system is starting up', { code: '57P03' }),
      err('sorry, too many clients already', { code: '53300' }),
      err('connection failure', { code: '08006' }),
      err('database "x" is not currently accepting connections', { code: '55000' }),
      err('Connection terminated unexpectedly'),
      err('timeout exceeded when trying to connect'),
      new AggregateError([err('a', { code: 'ECONNREFUSED' }), err('b', { code: 'ECONNREFUSED' })], 'refused'),
      err('wrapped', { cause: err('c', { code: 'ECONNRESET' }) }),
    ]) {
      const a = storeUnavailable(e);
      expect(a, e.message).toBeInstanceOf(AppError);
      expect(a?.http).toBe(503);
      expect(a?.headers).toEqual({ 'Retry-After': '5' });
    }
  });

  it('leaves every other error alone (a bug stays a 500)', () => {
    for (const e of [
      err('duplicate key value violates unique constraint', { code: '23505' }),
      err('currval of sequence is not yet defined in this session', { code: '55000' }),
      err('syntax error at or near', { code: '42601' }),
      new TypeError('x is undefined'),
      null, 'text', 42,
    ]) expect(storeUnavailable(e)).toBeNull();
  });
});
