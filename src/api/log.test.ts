import { describe, expect, it } from 'vitest';
import { redactUrl } from './log.js';

describe('redactUrl', () => {
  it('hides credential-bearing query values and token-shaped strings, keeps the rest', () => {
    expect(redactUrl('/api/v1/stream?access_token=sw_0123456789ab_secret&types=alert')).toBe('/api/v1/stream?access_token=[redacted]&types=alert');
    expect(redactUrl('/api/v1/stream?ticket=abc')).toBe('/api/v1/stream?ticket=[redacted]');
    expect(redactUrl('/x?q=sw_0123456789ab_zzz')).toBe('/x?q=[redacted]');
    expect(redactUrl('/x/sw_0123456789ab_zzz/y')).toBe('/x/[redacted]/y');
    expect(redactUrl('/x?password=hunter2&limit=10')).toBe('/x?password=[redacted]&limit=10');
    expect(redactUrl('/x?%E0=1')).toBe('/x?%E0=[redacted]');
    expect(redactUrl('/taxii2/api1/collections/c/objects/?match[type]=indicator')).toBe('/taxii2/api1/collections/c/objects/?match[type]=indicator');
  });
});
