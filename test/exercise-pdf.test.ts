/**
 * The after-action report PDF drawn with pdfkit: pages (title + one per team + lessons) and the
 * figures of the report JSON as text, compressed or not; user text outside WinAnsi does not break it.
 */
import { describe, expect, it } from 'vitest';
import { reportPdf } from '../src/exercise/pdf/report-pdf.js';
import type { AfterActionReport, ExpectationResult } from '../src/exercise/model.js';
import { pdfPageCount, pdfText } from './helpers/pdf-text.js';

const exp = (teamId: string, status: ExpectationResult['status'], score: number | null, ttv: number | null): ExpectationResult => ({
  injectId: 'inj-2', teamId, name: 'Detection', type: 'DETECTION', expectedScore: 100, validation: 'any', status, score, firedAt: 0, firedAtSeconds: 0, expiresAt: 1, timeToValidateSeconds: ttv, results: [], objectives: ['obj-1'],
});

export const REPORT: AfterActionReport = {
  exercise: { id: 'ex-1', name: 'Cyber Coalition – day 1', status: 'finished', speed: 60, startedAt: '2026-11-17T09:00:00.000Z', endedAt: '2026-11-17T10:00:00.000Z', scenario: { name: 'Grid storyline', storyline: 'A grid operator is hit.', category: 'attack-scenario' } },
  generatedAt: '2026-11-17T10:05:00.000Z',
  teams: [
    {
      teamId: 'team-a', name: 'Team A', score: 100, max: 200,
      objectives: [{ objectiveId: 'obj-1', title: 'Detect intrusions', priority: 'high', score: 100, max: 100, evaluation: 85 }],
      injects: [{ injectId: 'inj-2', title: 'Discovery on the mail gateway', state: 'fired', firedAt: '2026-11-17T09:10:00.000Z', timeToDetectSeconds: 240, timeToRespondSeconds: null }],
      expectations: { met: 1, partial: 0, missed: 0, pending: 1, items: [exp('team-a', 'success', 100, 240)] },
      timeline: [{ at: Date.parse('2026-11-17T09:14:00Z'), teamId: 'team-a', kind: 'alert', text: 'Alert T1033 on ws-team-a-01' }],
    },
    {
      teamId: 'team-b', name: 'Team B', score: 0, max: 200, objectives: [],
      injects: [
        { injectId: 'inj-2', title: 'Discovery on the mail gateway', state: 'fired', firedAt: '2026-11-17T09:10:00.000Z', timeToDetectSeconds: null, timeToRespondSeconds: null },
        { injectId: 'inj-4', title: 'Escalation call', state: 'fired', firedAt: '2026-11-17T09:40:00.000Z', timeToDetectSeconds: null, timeToRespondSeconds: null },
      ],
      expectations: { met: 0, partial: 0, missed: 1, pending: 0, items: [exp('team-b', 'failed', 0, null)] },
      timeline: [],
    },
  ],
  scoreSeries: [{ teamId: 'team-a', points: [{ at: '2026-11-17T09:14:00.000Z', score: 100 }] }],
  lessons: [{ id: 'lc-1', name: 'Detection', questions: [{ id: 'q1', content: 'Did the Sigma rules fire in time?', answers: [{ userId: 'u', teamId: 'team-a', positive: 'Yes', negative: 'Slow triage', score: 70 }] }] }],
  evaluations: [{ objectiveId: 'obj-1', teamId: 'team-a', score: 85, userId: 'excon', comment: 'Good detection → fast', at: 0 }],
};

describe('after-action report PDF', () => {
  it('has a title page, one page per team and the lessons page, with the report figures as text', async () => {
    for (const compress of [false, true]) {
      const pdf = await reportPdf(REPORT, { compress });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(pdfPageCount(pdf)).toBe(4);
      const text = pdfText(pdf);
      for (const s of ['EXERCISE - Cyber Coalition - day 1', 'After-action report', 'Scores per team', 'Team A', 'Team B', '100/200', '0/200', '50 %',
        'Time to detect per team and inject', '4 min', 'Detect intrusions', 'Escalation call', 'Detection (DETECTION)', 'success', 'failed',
        'Did the Sigma rules fire in time?', "Control's evaluations", 'Good detection -> fast']) {
        expect(text, `${s} (compress ${compress})`).toContain(s);
      }
    }
  });
});
