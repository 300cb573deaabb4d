/**
 * What one live-stream reader receives of a bus event: nothing unless the event's record and
 * every sub-record it carries release to the reader (the same `mayRelease` the REST read of
 * that record uses), and only the sealed parts the reader could read through REST.
 */
import type { BusEvent } from '../core/bus.js';
import type { Audience } from '../core/policy.js';
import { mayRelease } from './policy.js';

export function eventFor(e: BusEvent, audience: Audience): Record<string, unknown> | null {
  if (!mayRelease(e.facts, audience, 'read')) return null;
  if (e.requires?.some((f) => !mayRelease(f, audience, 'read'))) return null;
  const data: Record<string, unknown> = { ...e.data };
  for (const part of e.sealed ?? []) if (mayRelease(part.facts, audience, 'read')) Object.assign(data, part.data);
  return data;
}
