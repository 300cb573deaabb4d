/**
 * Expectation scoring with OpenAEV semantics (shared reference §5.4, InjectExpectationHelper):
 * score null → pending; ≥ expected → success; 0 → failed; else partial. Team roll-up:
 * `any` (expectation_group true) — the best result decides, success as soon as one player
 * succeeds; `all` — every player must answer, failed if any falls short, score the average.
 * An alert and control's grade validate for the whole team; a record a player made (an incident,
 * a request, a decision) counts for that player, so `all` needs one from every player.
 */
import { statusOfScore, type ExpectationResult, type ExpectationResultEntry, type InjectDependency, type ResultStatus, type Scoreboard, type ScoreLine } from './model.js';

/** Entries that answer for the whole team: control's grade, or an automatic validation no player made (an alert). */
const TEAM_WIDE = (e: ExpectationResultEntry) => e.source === 'control' || (e.source.startsWith('auto:') && !e.userId);

/** Each player's latest score (entries a player made: their own action, validated automatically or not). */
function byPlayer(r: ExpectationResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of r.results) if (x.userId && !TEAM_WIDE(x)) m.set(x.userId, x.score);
  return m;
}

/**
 * Recomputes score and status from the results. `players` are every player of the team (the
 * team's listed players, or its organisations' users): for `all`, each of them counts — one who
 * has not answered keeps it pending, a score below the expected fails it, and the average is
 * over every player, not only those who answered.
 */
export function rollUp(r: ExpectationResult, players: readonly string[]): Pick<ExpectationResult, 'score' | 'status'> {
  if (r.results.length === 0) return { score: null, status: 'pending' };
  const team = r.results.filter(TEAM_WIDE);
  if (r.validation === 'any' || team.length > 0 || players.length === 0) {
    // A control grade or a team-wide automatic validation is the team's result; the last one wins (regrade).
    const last = team.at(-1);
    const score = last ? last.score : Math.max(...r.results.map((x) => x.score));
    return { score, status: statusOfScore(score, r.expectedScore) };
  }
  const got = byPlayer(r);
  const scores = players.map((p) => got.get(p));
  const avg = Math.round(scores.reduce<number>((a, b) => a + (b ?? 0), 0) / players.length);
  if (scores.some((s) => s !== undefined && s < r.expectedScore)) return { score: avg, status: 'failed' };
  if (scores.some((s) => s === undefined)) return { score: null, status: 'pending' };
  return { score: avg, status: statusOfScore(avg, r.expectedScore) };
}

/**
 * At expiry a pending expectation closes. `any`: failed with 0 (or the best score it has).
 * `all`: the average over every player of the team — a player who never answered counts 0 —
 * partial if anyone answered, failed if nobody did.
 */
export function expire(r: ExpectationResult, players: readonly string[] = []): Pick<ExpectationResult, 'score' | 'status'> {
  if (r.status !== 'pending') return { score: r.score, status: r.status };
  if (r.validation === 'all' && players.length > 0) {
    const got = byPlayer(r);
    const score = Math.round(players.reduce((a, p) => a + (got.get(p) ?? 0), 0) / players.length);
    return { score, status: score > 0 ? 'partial' : 'failed' };
  }
  const got = r.results.length ? Math.max(...r.results.map((x) => x.score)) : 0;
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
    // A parent that executed without this result, or will never execute (failed, blocked), never gets one.
    if (st === undefined) return { v: parent.fired || parent.failed ? false : null, why: `parent ${d.parent} has no result for ${c.key}` };
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
