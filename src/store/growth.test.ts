import { describe, expect, it } from 'vitest';
import { TableGrowth } from './growth.js';

describe('TableGrowth', () => {
  const fake = (estimate = 0) => {
    const analysed: string[] = [];
    let running = 0;
    let overlapped = false;
    return {
      analysed, get overlapped() { return overlapped; },
      db: {
        estimate: async () => estimate,
        analyze: async (t: string) => {
          if (running++ > 0) overlapped = true;
          await new Promise((r) => setTimeout(r, 5));
          running--;
          analysed.push(t);
        },
      },
    };
  };

  it('analyses a table once it grew by the minimum and by the share of what it held; one at a time', async () => {
    const f = fake();
    const g = new TableGrowth(f.db, { minRows: 100, share: 0.5 });
    g.add('objects', 99);
    g.settle();
    await g.close();
    expect(f.analysed).toEqual([]);
    const h = new TableGrowth(f.db, { minRows: 100, share: 0.5 });
    h.add('objects', 100);
    h.add('values', 300);
    h.settle();
    h.settle(); // a second settle while queued adds nothing
    await new Promise((r) => setTimeout(r, 30));
    expect(f.analysed.sort()).toEqual(['objects', 'values']);
    // objects now held 100: it needs max(100, 50) more; values held 300: max(100, 150) more.
    h.add('objects', 100);
    h.add('values', 120);
    h.settle();
    await new Promise((r) => setTimeout(r, 30));
    await h.close();
    expect(f.analysed.sort()).toEqual(['objects', 'objects', 'values']);
    expect(f.overlapped).toBe(false);
  });

  it('starts from the catalogue\'s estimate of a table: a large table is not analysed for a few rows', async () => {
    const f = fake(1_000_000);
    const g = new TableGrowth(f.db, { minRows: 100, share: 0.2 });
    g.add('objects', 5000);
    g.settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(f.analysed).toEqual([]);
    g.add('objects', 200_000);
    g.settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(f.analysed).toEqual(['objects']);
    // Closed: what is queued after does not start.
    g.add('objects', 1_000_000);
    await g.close();
    g.settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(f.analysed).toEqual(['objects']);
  });
});
