/**
 * Expectation scoring with OpenAEV semantics (shared reference §5.4, InjectExpectationHelper):
 * score null → pending; ≥ expected → success; 0 → failed; else partial. Team roll-up:
 * `any` (expectation_group true) — the best result decides, success as soon as one player
 * succeeds; `all` — every player must answer, failed if any falls short, score the average.
 * Automatic sources (an alert, an incident record) validate for the whole team.
 */
import { statusOfScore, type ExpectationResult, type ExpectationResultEntry, type InjectDependency, type ResultStatus, type Scoreboard, type ScoreLine } from './model.js';

const AUTO = (e: ExpectationResultEntry) => e.source.startsWith('auto:') || e.source === 'control';

/** Recomputes score and status from the results (and, for `all`, the team's players). */
export function rollUp(r: ExpectationResult, players: readonly string[]): Pick<ExpectationResult, 'score' | 'status'> {
  if (r.results.length === 0) return { score: null, status: 'pending' };
  const team = r.results.filter(AUTO);
  if (r.validation === 'any' || team.length > 0 || players.length === 0) {
    // A control grade or an automatic validation is the team's result; the last one wins (regrade).
    const last = team.at(-1);
    const score = last ? last.score : Math.max(...r.results.map((x) => x.score));
    return { score, status: statusOfScore(score, r.expectedScore) };
  }
  const byPlayer = new Map<string, number>();
  for (const x of r.results) if (x.userId) byPlayer.set(x.userId, x.score);
  const scores = players.map((p) => byPlayer.get(p));
  if (scores.some((s) => s !== undefined && s < r.expectedScore)) {
    const known = scores.filter((s): s is number => s !== undefined);
    return { score: Math.round(known.reduce((a, b) => a + b, 0) / players.length), status: 'failed' };
  }
  if (scores.some((s) => s === undefined)) return { score: null, status: 'pending' };
  const avg = Math.round((scores as number[]).reduce((a, b) => a + b, 0) / players.length);
  return { score: avg, status: statusOfScore(avg, r.expectedScore) };
}

/** At expiry a pending expectation fails with score 0 (a partial `all` keeps what it has). */
export function expire(r: ExpectationResult): Pick<ExpectationResult, 'score' | 'status'> {
  if (r.status !== 'pending') return { score: r.score, status: r.status };
  const got = r.results.length ? Math.round(r.results.reduce((a, b) => a + b.score, 0) / r.results.length) : 0;
  // Some players answered well but not all of them in time: partial; nothing at all: failed.
  return { score: got, status: got > 0 ? 'partial' : 'failed' };
}

/**
 * Whether a dependency holds for one team: `true` / `false`, or `null` while undecided (the
 * parent has not fired, or a named expectation is still pending). Returns why it does not hold.
 */
export function dependencyHolds(
  d: InjectDependency,
  parent: { fired: boolean; failed: boolean; expectations: ReadonlyMap<string, ResultStatus> },
): { holds: boolean | null; why: string } {
  const each = d.conditions.map((c) => {
    if (c.key === 'Execution') {
      if (!parent.fired && !parent.failed) return { v: null, why: `parent ${d.parent} has not executed yet` };
      return { v: parent.fired === c.value, why: `parent ${d.parent} ${parent.fired ? 'executed' : 'did not execute'}` };
    }
    const st = parent.expectations.get(c.key);
    if (st === undefined) return { v: parent.fired ? false : null, why: `parent ${d.parent} has no result for ${c.key}` };
    if (st === 'pending') return { v: null, why: `parent ${d.parent}: ${c.key} is pending` };
    const met = st === 'success';
    return { v: met === c.value, why: `parent ${d.parent}: ${c.key} ${met ? 'met' : 'failed'} (condition: ${c.value ? 'met' : 'failed'})` };
  });
  if (d.mode === 'and') {
    const no = each.find((x) => x.v === false);
    if (no) return { holds: false, why: no.why };
    const wait = each.find((x) => x.v === null);
    if (wait) return { holds: null, why: wait.why };
    return { holds: true, why: each.map((x) => x.why).join('; ') };
  }
  const yes = each.find((x) => x.v === true);
  if (yes) return { holds: true, why: yes.why };
  const wait = each.find((x) => x.v === null);
  if (wait) return { holds: null, why: wait.why };
  return { holds: false, why: each.map((x) => x.why).join('; ') };
}

/** Per-team and per-objective scores from the expectation results of fired injects. */
export function scoreboard(exerciseId: string, at: number, teams: readonly { id: string; results: readonly ExpectationResult[] }[]): Scoreboard {
  const lines: ScoreLine[] = [];
  const objectives = new Map<string, { objectiveId: string; teamId: string; score: number; max: number }>();
  for (const t of teams) {
    let score = 0, max = 0, success = 0, partial = 0, failed = 0, pending = 0;
    for (const r of t.results) {
      score += r.score ?? 0; max += r.expectedScore;
      if (r.status === 'success') success++; else if (r.status === 'partial') partial++; else if (r.status === 'failed') failed++; else pending++;
      for (const o of r.objectives) {
        const k = `${o}\u001f${t.id}`;
        const cur = objectives.get(k) ?? { objectiveId: o, teamId: t.id, score: 0, max: 0 };
        objectives.set(k, { ...cur, score: cur.score + (r.score ?? 0), max: cur.max + r.expectedScore });
      }
    }
    lines.push({ teamId: t.id, score, max, success, partial, failed, pending });
  }
  return { exerciseId, at, teams: lines, objectives: [...objectives.values()] };
}
