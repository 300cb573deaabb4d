import { describe, expect, it } from 'vitest';
import { expire, rollUp, scoreboard } from './scoring.js';
import type { ExpectationResult, ExpectationResultEntry } from './model.js';

const r = (validation: 'any' | 'all', results: ExpectationResultEntry[]): ExpectationResult => ({
  injectId: 'i', teamId: 't', name: 'Incident', type: 'INCIDENT', expectedScore: 100, validation, status: 'pending', score: null,
  firedAt: 0, firedAtSeconds: 0, expiresAt: 1, timeToValidateSeconds: null, results, objectives: ['o'],
});
const by = (userId: string, score = 100): ExpectationResultEntry => ({ source: 'auto:incident', ref: `incident--${userId}`, userId, at: 1, score });
const PLAYERS = ['u1', 'u2', 'u3', 'u4'];

describe('"all players" counts every player of the team, not only those who answered', () => {
  it('stays pending until each player has answered, then averages over all of them', () => {
    expect(rollUp(r('all', [by('u1')]), PLAYERS)).toEqual({ score: null, status: 'pending' });
    expect(rollUp(r('all', PLAYERS.map((u) => by(u))), PLAYERS)).toEqual({ score: 100, status: 'success' });
    // One player short of the expected score fails it; the score is the average over the four players.
    expect(rollUp(r('all', [by('u1'), by('u2', 20)]), PLAYERS)).toEqual({ score: 30, status: 'failed' });
  });

  it('at expiry a player who never answered counts as 0 (one of four answered: 25, partial)', () => {
    expect(expire(r('all', [by('u1')]), PLAYERS)).toEqual({ score: 25, status: 'partial' });
    expect(expire(r('all', []), PLAYERS)).toEqual({ score: 0, status: 'failed' });
    // `any` keeps OpenAEV's rule: one player is enough, nobody is a failure.
    expect(rollUp(r('any', [by('u1')]), PLAYERS)).toEqual({ score: 100, status: 'success' });
    expect(expire(r('any', []), PLAYERS)).toEqual({ score: 0, status: 'failed' });
  });

  it('an alert or control\'s grade answers for the whole team', () => {
    expect(rollUp(r('all', [{ source: 'auto:alert', ref: 'alert--1', at: 1, score: 100 }]), PLAYERS)).toEqual({ score: 100, status: 'success' });
    expect(rollUp(r('all', [by('u1'), { source: 'control', userId: 'excon', at: 2, score: 60 }]), PLAYERS)).toEqual({ score: 60, status: 'partial' });
  });

  it('the scoreboard counts an expired all-players expectation with the score of every player', () => {
    const e = { ...r('all', [by('u1')]), ...expire(r('all', [by('u1')]), PLAYERS) };
    const sb = scoreboard('exercise--x', 0, [{ id: 't', results: [e] }, { id: 'u', results: [] }]);
    expect(sb.teams).toEqual([
      { teamId: 't', score: 25, max: 100, success: 0, partial: 1, failed: 0, pending: 0 },
      { teamId: 'u', score: 0, max: 0, success: 0, partial: 0, failed: 0, pending: 0 },
    ]);
  });
});
