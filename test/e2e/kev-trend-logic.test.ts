import { describe, expect, it } from 'vitest';
import { trendSeries } from '../../web/src/components/kevTrend.js';

describe('KEV trend series', () => {
  it('aligns the own and alliance points by day, a day without a snapshot is a gap', () => {
    const [x, own, members] = trendSeries({
      own: [{ day: '2026-03-02', open: 5, kevOpen: 3, kevEntries: 3 }, { day: '2026-03-01', open: 4, kevOpen: 2, kevEntries: 2 }],
      alliance: [{ day: '2026-03-01', members: 3, membersExposed: 1, kevEntries: 2 }, { day: '2026-03-03', members: 3, membersExposed: 2, kevEntries: 4 }],
    });
    expect(x).toEqual(['2026-03-01', '2026-03-02', '2026-03-03'].map((d) => Date.parse(`${d}T00:00:00Z`) / 1000));
    expect(own).toEqual([2, 3, null]);
    expect(members).toEqual([1, null, 2]);
    expect(trendSeries({ own: [], alliance: [] })).toEqual([[], [], []]);
  });
});
