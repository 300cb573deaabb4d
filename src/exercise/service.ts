/**
 * Exercises on the generic `records` table (DESIGN §2.3): scenarios (templates), runs, the
 * per-team state of a run (inject executions and expectation results), inbox items, exercise
 * intel and situation reports. Every row a run creates carries its id as `exercise_id`
 * (the run record itself is found by id), so real reads (which filter `exercise_id IS NULL`)
 * never see it and the purge removes it all. Technical injects go through the real ingest
 * pipeline as the team's sensor, tagged with the exercise.
 */
import crypto from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { BusEvent, EventBus } from '../core/bus.js';
import type { ReleaseFacts } from '../core/policy.js';
import { authorize, type AccessService, type Actor, type Principal } from '../access/index.js';
import { updateMeta, type RecordRow, type Store } from '../store/index.js';
import {
  exerciseSecondsAt, injectExecutionTime, type ClockBase, type ControlBody, type CreateRunBody, type ExerciseAccess, type ExerciseRun,
  type ExerciseSummary, type ExerciseView, type ExpectationResult, type Grant, type InboxItem, type Inject, type InjectExecution, type InjectState,
  type LessonsAnswerBody, type ObjectiveEvaluation, OBSERVATIONS_CATEGORY, type Scenario, type ScenarioRecord, type SitRep, type Team, type Scoreboard, type ExpectationType,
} from './model.js';
import { parseScenario } from './validate.js';
import { dependencyHolds, expire, rollUp, scoreboard } from './scoring.js';
import { technicalLines } from './telemetry.js';
import { executionsFor, runFor } from './player-view.js';

export const SCENARIO = 'exercise.scenario';
export const RUN = 'exercise.run';
export const TEAM_STATE = 'exercise.team-state';
export const INBOX = 'exercise.inbox';
export const INTEL = 'exercise.intel';
export const SITREP = 'exercise.sitrep';

export type AuthedActor = Actor & { readonly principal: Principal };

/** The ingest entry point of detection (DetectService.ingest), as the exercise needs it. */
export interface Ingest {
  ingest(principal: Principal, body: string, opts: { format: 'auto'; sensorId: string; exerciseId: string }): Promise<unknown>;
}

export interface ExerciseDeps {
  readonly store: Store;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly ingest: Ingest;
  /** A process that only records control actions (the CLI): the serving process fires the injects. */
  readonly passive?: boolean;
}

/** The run record's document. */
interface RunDoc extends Omit<ExerciseRun, 'id' | 'rev' | 'controlOrg'> {
  readonly evaluations: readonly ObjectiveEvaluation[];
  readonly lessonsAnswers: readonly (LessonsAnswerBody & { userId: string; at: number })[];
  readonly log: readonly { at: number; userId: string | null; action: string; detail?: string }[];
}

interface TeamDoc {
  readonly teamId: string;
  executions: InjectExecution[];
  expectations: ExpectationResult[];
}

interface TeamEntry { row: RecordRow; doc: TeamDoc; dirty: boolean; stored: boolean }
interface Loaded {
  run: RecordRow; doc: RunDoc; teams: Map<string, TeamEntry>;
  /** Every player of each team (for `all` expectations), read once per load. */
  players?: Map<string, readonly string[]>;
  /** Deliveries of this tick, written together (records in one transaction, telemetry one batch per team). */
  outbox?: RecordRow[];
  telemetry?: Map<string, { team: Team; lines: string[]; injects: string[] }>;
  fired?: number[];
}

const MAX_SPEED = 10_000;
const ACTIVE_KEY = 'exercise:active';
const MIN_TICK_MS = 100;
/** Injects by id per scenario object (the scheduler looks them up for every pending execution). */
const INJECT_INDEX = new WeakMap<Scenario, Map<string, Inject>>();

export class ExerciseService {
  readonly #cache = new Map<string, Loaded>();
  #timer: NodeJS.Timeout | null = null;
  #scan: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  #lastTick = 0;
  /** Fire lag samples (actual − scheduled, ms) for the benchmark. */
  readonly lags: number[] = [];

  constructor(readonly deps: ExerciseDeps) {}

  // ------------------------------------------------------------ scenarios

  async createScenario(actor: AuthedActor, input: unknown): Promise<ScenarioRecord> {
    authorize(actor.principal, 'exercise.plan');
    const scenario = parsed(input);
    const now = this.deps.clock.now();
    const row = this.#row({ kind: SCENARIO, org: actor.principal.orgId, exerciseId: null, recipients: [], state: 'active', doc: scenario });
    await this.#write(actor, row, { action: 'exercise.scenario.create', create: true });
    return scenarioView(row, now);
  }

  /**
   * Scenarios are the planners' (exercise.plan): a scenario holds every team's injects and
   * expectations, which a player reads only for its own team, and only once the run delivers them.
   */
  async listScenarios(actor: AuthedActor): Promise<ScenarioRecord[]> {
    authorize(actor.principal, 'exercise.plan');
    const rows = await this.deps.store.listRecords({ kind: SCENARIO, audience: this.deps.access.audienceOf(actor.principal), purpose: 'read', states: ['active'], limit: 500 });
    return rows.map((r) => scenarioView(r, 0));
  }

  async getScenario(actor: AuthedActor, id: string): Promise<ScenarioRecord> {
    authorize(actor.principal, 'exercise.plan');
    return scenarioView(await this.#scenarioRow(actor, id), 0);
  }

  async updateScenario(actor: AuthedActor, id: string, input: unknown): Promise<ScenarioRecord> {
    authorize(actor.principal, 'exercise.plan');
    const prev = await this.#scenarioRow(actor, id);
    const row = { ...prev, json: JSON.stringify(parsed(input)), updatedUs: this.deps.clock.now() * 1000, rev: prev.rev + 1 };
    await this.#write(actor, row, { action: 'exercise.scenario.update' });
    return scenarioView(row, 0);
  }

  async deleteScenario(actor: AuthedActor, id: string): Promise<void> {
    authorize(actor.principal, 'exercise.plan');
    const prev = await this.#scenarioRow(actor, id);
    await this.#write(actor, { ...prev, state: 'deleted', updatedUs: this.deps.clock.now() * 1000, rev: prev.rev + 1 }, { action: 'exercise.scenario.delete' });
  }

  async #scenarioRow(actor: AuthedActor, id: string): Promise<RecordRow> {
    const row = await this.deps.store.getRecord(id);
    // Scenarios belong to the organisation that wrote them (AMBER, no recipients).
    if (!row || row.kind !== SCENARIO || row.state !== 'active' || row.creatorOrg !== actor.principal.orgId) throw new AppError('NOT_FOUND', `no scenario ${id}`);
    return row;
  }

  // ------------------------------------------------------------ runs and access

  async createRun(actor: AuthedActor, body: CreateRunBody): Promise<ExerciseRun> {
    authorize(actor.principal, 'exercise.plan');
    const sc = JSON.parse((await this.#scenarioRow(actor, body.scenarioId)).json) as Scenario;
    const speed = checkSpeed(body.speed ?? 1);
    const grants = await this.#checkGrants(body.grants ?? []);
    const doc: RunDoc = {
      name: body.name ?? sc.name, scenarioId: body.scenarioId, scenario: sc, status: 'scheduled', startedAt: null, pauses: [], clock: null, speed,
      endedAt: null, archived: false, grants, evaluations: [], lessonsAnswers: [], log: [],
    };
    const id = `exercise--${crypto.randomUUID()}`;
    const row = this.#row({ kind: RUN, org: actor.principal.orgId, exerciseId: null, recipients: await this.#runRecipients(sc, grants), state: 'scheduled', doc, id });
    await this.#write(actor, row, { action: 'exercise.create', create: true });
    const teams = new Map<string, TeamEntry>();
    for (const t of sc.teams) {
      const tdoc: TeamDoc = { teamId: t.id, executions: planned(sc, t), expectations: [] };
      const trow = this.#row({ kind: TEAM_STATE, org: actor.principal.orgId, exerciseId: id, recipients: t.orgs, state: 'active', doc: tdoc, parentId: id });
      teams.set(t.id, { row: trow, doc: tdoc, dirty: true, stored: false });
    }
    this.#cache.set(id, { run: row, doc, teams });
    await this.#flush(id);
    return runView(row, doc);
  }

  async listRuns(actor: AuthedActor): Promise<ExerciseSummary[]> {
    authorize(actor.principal, 'exercise.read');
    const rows = await this.deps.store.listRecords({ kind: RUN, audience: this.deps.access.audienceOf(actor.principal), purpose: 'read', limit: 500 });
    const out: ExerciseSummary[] = [];
    for (const r of rows) {
      const doc = JSON.parse(r.json) as RunDoc;
      if (!accessOf(actor.principal, r, doc)) continue;
      out.push({ id: r.id, name: doc.name, status: doc.status, speed: doc.speed, startedAt: doc.startedAt, archived: doc.archived, teams: doc.scenario.teams.map((t) => ({ id: t.id, name: t.name })) });
    }
    return out;
  }

  /** The run if the reader takes part in it (control, grant or team); 404 otherwise. */
  async open(actor: AuthedActor, id: string): Promise<{ l: Loaded; access: ExerciseAccess }> {
    authorize(actor.principal, 'exercise.read');
    const l = await this.#fresh(id);
    const access = l ? accessOf(actor.principal, l.run, l.doc) : null;
    if (!l || !access) throw new AppError('NOT_FOUND', `no exercise ${id}`);
    return { l, access };
  }

  /**
   * The gate of respond records (incidents, assistance, decisions, assessments) made in an
   * exercise: reading needs a part in the exercise (404 otherwise, as if it did not exist);
   * writing needs a player or control (403 for observers and planners) and a running or paused,
   * unarchived exercise (409). Respond calls it through RespondDeps.exerciseGate.
   */
  async gate(actor: AuthedActor, id: string, mode: 'read' | 'write'): Promise<ExerciseAccess> {
    const { l, access } = await this.open(actor, id);
    if (mode === 'read') return access;
    if (access.role !== 'player' && !access.canControl) throw new AppError('FORBIDDEN', 'only a player or exercise control acts in an exercise');
    if (l.doc.archived) throw new AppError('CONFLICT', 'the exercise is archived (read-only)');
    if (l.doc.status !== 'running' && l.doc.status !== 'paused') throw new AppError('CONFLICT', `exercise is ${l.doc.status}; actions are taken in a running exercise`);
    return access;
  }

  /** The organisations that play in the exercise (its teams'); none when there is no such exercise. */
  async playingOrgs(id: string): Promise<string[]> {
    const l = await this.#fresh(id);
    return l ? [...new Set(l.doc.scenario.teams.flatMap((t) => t.orgs))] : [];
  }

  async view(actor: AuthedActor, id: string): Promise<ExerciseView> {
    const { l, access } = await this.open(actor, id);
    const now = this.deps.clock.now();
    return { run: runFor(access, runView(l.run, l.doc), executionsOf(l)), access, now, exerciseSeconds: l.doc.clock ? exerciseSecondsAt(l.doc.clock, now) : null,
      // When the next inject comes is control's: a player is not warned of a technical one.
      nextInjectAt: access.role === 'player' ? null : this.#nextDue(l, now) };
  }

  async setGrants(actor: AuthedActor, id: string, grants: readonly Grant[]): Promise<ExerciseRun> {
    authorize(actor.principal, 'exercise.plan');
    const { l, access } = await this.open(actor, id);
    if (!access.canPlan) throw new AppError('FORBIDDEN', 'changing grants needs exercise control or a planner grant');
    const checked = await this.#checkGrants(grants);
    writable(l);
    l.doc = { ...l.doc, grants: checked };
    await this.#saveRun(actor, l, { action: 'exercise.grants', recipients: await this.#runRecipients(l.doc.scenario, checked) });
    return runView(l.run, l.doc);
  }

  async #checkGrants(grants: readonly Grant[]): Promise<Grant[]> {
    const out: Grant[] = [];
    for (const g of grants) {
      if (!(await this.deps.store.getUser(g.userId))) throw new AppError('BAD_REQUEST', `grants: no user ${g.userId}`);
      out.push({ userId: g.userId, role: g.role });
    }
    return out;
  }

  async #runRecipients(sc: Scenario, grants: readonly Grant[]): Promise<string[]> {
    const orgs = new Set(sc.teams.flatMap((t) => t.orgs));
    for (const g of grants) { const u = await this.deps.store.getUser(g.userId); if (u) orgs.add(u.orgId); }
    return [...orgs];
  }

  // ------------------------------------------------------------ control

  async control(actor: AuthedActor, id: string, c: ControlBody): Promise<ExerciseRun> {
    authorize(actor.principal, 'exercise.control');
    const { l, access } = await this.open(actor, id);
    if (!access.canControl) throw new AppError('FORBIDDEN', 'exercise control needs the control organisation\'s excon/admin or a launcher grant');
    writable(l);
    const now = this.deps.clock.now();
    const d = l.doc;
    const bad = (msg: string) => new AppError('CONFLICT', msg);
    switch (c.action) {
      case 'launch': {
        if (d.status !== 'scheduled') throw bad(`exercise is ${d.status}; only a scheduled exercise launches`);
        const speed = checkSpeed(c.speed ?? d.speed);
        l.doc = { ...d, status: 'running', startedAt: now, speed, clock: { startedAt: now, speed, pauses: [], anchorSeconds: 0 } };
        break;
      }
      case 'pause':
        if (d.status !== 'running' || !d.clock) throw bad(`exercise is ${d.status}; only a running exercise pauses`);
        l.doc = { ...d, status: 'paused', pauses: [...d.pauses, { start: now, end: null }], clock: { ...d.clock, pauses: [...d.clock.pauses, { start: now, end: null }] } };
        break;
      case 'resume':
        if (d.status !== 'paused' || !d.clock) throw bad(`exercise is ${d.status}; only a paused exercise resumes`);
        l.doc = { ...d, status: 'running', pauses: closePause(d.pauses, now), clock: { ...d.clock, pauses: closePause(d.clock.pauses, now) } };
        break;
      case 'speed': {
        if (d.status === 'finished' || d.status === 'cancelled') throw bad(`exercise is ${d.status}; its clock no longer moves`);
        const speed = checkSpeed(c.speed);
        if (!d.clock) { l.doc = { ...d, speed }; break; }
        // Re-base: exercise seconds so far become the anchor, so the formula stays start + (T − anchor)/speed + pauses.
        const anchorSeconds = exerciseSecondsAt(d.clock, now);
        const open = d.status === 'paused' ? [{ start: now, end: null }] : [];
        l.doc = { ...d, speed, clock: { startedAt: now, speed, pauses: open, anchorSeconds } };
        break;
      }
      case 'cancel': case 'finish':
        if (d.status === 'finished' || d.status === 'cancelled') throw bad(`exercise is already ${d.status}`);
        if (c.action === 'finish' && d.status === 'scheduled') throw bad('a scheduled exercise has not run: cancel it');
        l.doc = { ...d, status: c.action === 'cancel' ? 'cancelled' : 'finished', endedAt: now, pauses: closePause(d.pauses, now) };
        // Play is over: what was still expected is scored as at its expiry (met in part, or not), never left "pending" in the report.
        for (const [teamId, t] of l.teams) {
          for (const r of t.doc.expectations) {
            if (r.status !== 'pending') continue;
            await this.#expire(l, teamId, r);
            Object.assign(r, { expiresAt: Math.min(r.expiresAt, now) });
          }
        }
        await this.#flush(id);
        break;
      case 'trigger': {
        if (d.status !== 'running' && d.status !== 'paused') throw bad('injects are triggered in a running or paused exercise');
        const inj = d.scenario.injects.find((i) => i.id === c.injectId);
        if (!inj) throw new AppError('NOT_FOUND', `no inject ${c.injectId}`);
        const teams = (c.teamId ? [c.teamId] : targets(d.scenario, inj)).filter((t) => l.teams.has(t));
        if (c.teamId && teams.length === 0) throw new AppError('NOT_FOUND', `no team ${c.teamId}`);
        for (const t of teams) {
          const e = l.teams.get(t)!.doc.executions.find((x) => x.injectId === inj.id);
          if (e && e.state === 'fired') continue;
          await this.#fire(l, { inj, teamId: t, now, manual: true });
        }
        await this.#flush(id);
        break;
      }
    }
    l.doc = { ...l.doc, log: [...l.doc.log, { at: now, userId: actor.principal.userId, action: c.action, ...('injectId' in c ? { detail: c.injectId } : {}) }].slice(-2000) };
    await this.#saveRun(actor, l, { action: `exercise.${c.action}` });
    if (this.deps.passive) return runView(l.run, l.doc);
    await this.tick();
    this.#arm();
    return runView(l.run, l.doc);
  }

  async archive(actor: AuthedActor, id: string): Promise<ExerciseRun> {
    authorize(actor.principal, 'exercise.control');
    const { l, access } = await this.open(actor, id);
    if (!access.canControl) throw new AppError('FORBIDDEN', 'archiving needs exercise control');
    if (l.doc.status !== 'finished' && l.doc.status !== 'cancelled') throw new AppError('CONFLICT', 'only a finished or cancelled exercise is archived');
    l.doc = { ...l.doc, archived: true };
    await this.#saveRun(actor, l, { action: 'exercise.archive' });
    return runView(l.run, l.doc);
  }

  /** Removes every row of the exercise, in every table; only after the end. */
  async purge(actor: AuthedActor, id: string): Promise<{ removed: number }> {
    authorize(actor.principal, 'exercise.control');
    const { l, access } = await this.open(actor, id);
    if (!access.canControl) throw new AppError('FORBIDDEN', 'purging needs exercise control');
    if (l.doc.status === 'running' || l.doc.status === 'paused') throw new AppError('CONFLICT', 'finish or cancel the exercise before purging it');
    let removed = 0;
    await this.deps.store.transaction(async (tx) => {
      removed = await tx.purgeExercise(id);
      await tx.appendAudit({ atUs: this.deps.clock.now() * 1000, userId: actor.principal.userId, orgId: actor.principal.orgId, tokenId: actor.principal.tokenId, source: actor.source, action: 'exercise.purge', target: id, detail: JSON.stringify({ removed }) });
    });
    this.#cache.delete(id);
    await this.#markActive(id, false);
    return { removed };
  }

  // ------------------------------------------------------------ the scheduler

  /** Starts the background job: a timer to the next due inject or expiry, and detection via the bus. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.deps.bus.subscribe((e) => { if (e.exerciseId) this.#serial(() => this.onEvent(e)); });
    // Alerts raised by a detection worker in another process reach this one through the store: a slow scan.
    this.#scan = setInterval(() => this.#serial(async () => { await this.refresh(); await this.scanAlerts(); }), 5000);
    this.#scan.unref();
    this.#serial(() => this.#warm());
  }

  stop(): void {
    this.#unsubscribe?.(); this.#unsubscribe = null;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#scan) clearInterval(this.#scan);
    this.#timer = null; this.#scan = null;
  }

  async idle(): Promise<void> { await this.#busy; }

  #serial(fn: () => Promise<unknown>): void {
    this.#busy = this.#busy.then(fn).catch(() => undefined);
  }

  async #warm(): Promise<void> {
    await this.refresh();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#unsubscribe) return;
    const now = this.deps.clock.now();
    let next = Infinity;
    for (const l of this.#cache.values()) next = Math.min(next, this.#nextDue(l, now) ?? Infinity);
    if (next === Infinity) return;
    // At most one tick per MIN_TICK_MS: at high speed, injects due close together are delivered in one
    // transaction instead of one each (each tick rewrites the changed team states).
    const wait = Math.max(next - now, this.#lastTick + MIN_TICK_MS - now, 0);
    this.#timer = setTimeout(() => this.#serial(async () => { this.#lastTick = this.deps.clock.now(); await this.tick(); this.#arm(); }), Math.min(wait, 60_000));
    this.#timer.unref();
  }

  #nextDue(l: Loaded, now: number): number | null {
    if (l.doc.status !== 'running' || !l.doc.clock) return null;
    let next = Infinity;
    for (const t of l.teams.values()) {
      for (const e of t.doc.executions) if (e.state === 'pending') next = Math.min(next, injectExecutionTime(l.doc.clock, this.#inject(l, e.injectId).offsetSeconds, now));
      for (const r of t.doc.expectations) if (r.status === 'pending') next = Math.min(next, injectExecutionTime(l.doc.clock, r.firedAtSeconds + this.#expiry(l, r), now));
    }
    return next === Infinity ? null : next;
  }

  /**
   * Every player of a team: its listed players, else the users of its organisations who may
   * play (exercise.play). An `all` expectation counts each of them (scoring.ts).
   */
  async #players(l: Loaded, teamId: string): Promise<readonly string[]> {
    const hit = l.players?.get(teamId);
    if (hit) return hit;
    const team = l.doc.scenario.teams.find((t) => t.id === teamId);
    let out: string[] = team?.players?.length ? [...team.players] : [];
    if (team && out.length === 0) {
      for (const org of team.orgs) {
        for (const u of await this.deps.store.listUsers(org)) {
          const p: Principal = { orgId: u.orgId, userId: u.id, username: u.username, roles: u.roles, tokenId: null, kind: 'password', groupIds: [] };
          if (mayPlay(p)) out.push(u.id);
        }
      }
    }
    out = [...new Set(out)].sort();
    (l.players ??= new Map()).set(teamId, out);
    return out;
  }

  /** Scores a pending expectation as its time is over (met in part, or not), marks its team to save, and says so. */
  async #expire(l: Loaded, teamId: string, r: ExpectationResult): Promise<void> {
    Object.assign(r, expire(r, r.validation === 'all' ? await this.#players(l, teamId) : []));
    l.teams.get(teamId)!.dirty = true;
    this.#emit(l, teamId, 'exercise.expectation.updated', { injectId: r.injectId, name: r.name, status: r.status, score: r.score });
  }

  #expiry(l: Loaded, r: ExpectationResult): number {
    return this.#inject(l, r.injectId).expectations.find((x) => x.name === r.name)?.expirySeconds ?? 0;
  }

  #inject(l: Loaded, id: string): Inject {
    let index = INJECT_INDEX.get(l.doc.scenario);
    if (!index) { index = new Map(l.doc.scenario.injects.map((x) => [x.id, x])); INJECT_INDEX.set(l.doc.scenario, index); }
    const i = index.get(id);
    if (!i) throw new AppError('INTERNAL', `inject ${id} vanished`);
    return i;
  }

  /** Fires what is due, expires what is over, for every running exercise in memory. */
  async tick(): Promise<void> {
    const now = this.deps.clock.now();
    for (const id of [...this.#cache.keys()]) {
      // What another process wrote since (a grade) is read first: a write over it would fail.
      const l = await this.#fresh(id);
      if (!l || l.doc.status !== 'running' || !l.doc.clock) continue;
      const clock = l.doc.clock;
      const sec = exerciseSecondsAt(clock, now);
      for (const [teamId, t] of l.teams) {
        for (const r of t.doc.expectations) {
          if (r.status !== 'pending' || sec < r.firedAtSeconds + this.#expiry(l, r)) continue;
          await this.#expire(l, teamId, r);
        }
        // Injects in T order, so a parent fired in this tick counts for its children.
        const due = t.doc.executions.filter((e) => e.state === 'pending').map((e) => ({ e, inj: this.#inject(l, e.injectId) }))
          .filter((x) => x.inj.offsetSeconds <= sec + 1e-9).sort((a, b) => a.inj.offsetSeconds - b.inj.offsetSeconds);
        for (const { e, inj } of due) {
          const verdict = this.#dependencies(l, { inj, teamId });
          if (verdict.holds === null) { if (e.reason !== `waiting: ${verdict.why}`) { Object.assign(e, { reason: `waiting: ${verdict.why}` }); t.dirty = true; } continue; }
          if (verdict.holds === false) {
            Object.assign(e, { state: 'blocked' as InjectState, reason: verdict.why, scheduledAt: null });
            t.dirty = true;
            this.#emit(l, teamId, 'exercise.inject.blocked', { injectId: inj.id, reason: verdict.why });
            continue;
          }
          await this.#fire(l, { inj, teamId, now, manual: false, scheduled: injectExecutionTime(clock, inj.offsetSeconds, now) });
        }
      }
      await this.#flush(id);
    }
  }

  #dependencies(l: Loaded, o: { inj: Inject; teamId: string }): { holds: boolean | null; why: string } {
    const deps = o.inj.dependsOn ?? [];
    if (deps.length === 0) return { holds: true, why: '' };
    const t = l.teams.get(o.teamId)!;
    const results = deps.map((d) => {
      const pe = t.doc.executions.find((x) => x.injectId === d.parent);
      const exps = new Map(t.doc.expectations.filter((r) => r.injectId === d.parent).map((r) => [r.name, r.status]));
      // A parent aimed at other teams never executes for this one.
      return dependencyHolds(d, { fired: pe?.state === 'fired', failed: !pe || pe.state === 'failed' || pe.state === 'blocked', expectations: exps });
    });
    const no = results.find((r) => r.holds === false);
    if (no) return no;
    const wait = results.find((r) => r.holds === null);
    return wait ?? { holds: true, why: results.map((r) => r.why).join('; ') };
  }

  async #fire(l: Loaded, o: { inj: Inject; teamId: string; now: number; manual: boolean; scheduled?: number }): Promise<void> {
    const { inj, teamId, now } = o;
    const t = l.teams.get(teamId)!;
    const team = l.doc.scenario.teams.find((x) => x.id === teamId)!;
    const exec = t.doc.executions.find((x) => x.injectId === inj.id);
    let state: InjectState = 'fired';
    let reason: string | undefined;
    try {
      this.#deliver(l, { inj, team, now });
    } catch (err) {
      state = 'failed'; reason = err instanceof Error ? err.message.slice(0, 300) : 'delivery failed';
    }
    const next: InjectExecution = { injectId: inj.id, teamId, state, scheduledAt: o.scheduled ?? now, firedAt: now, ...(reason ? { reason } : {}), ...(o.manual ? { manual: true } : {}) };
    if (exec) Object.assign(exec, next, reason ? {} : { reason: undefined }); else t.doc.executions.push(next);
    // Lag as the benchmark reports it: when this delivery finished, against its computed time.
    if (o.scheduled !== undefined && state === 'fired') (l.fired ??= []).push(o.scheduled);
    const sec = l.doc.clock ? exerciseSecondsAt(l.doc.clock, now) : 0;
    if (state === 'fired') {
      for (const x of inj.expectations) {
        t.doc.expectations = t.doc.expectations.filter((r) => !(r.injectId === inj.id && r.name === x.name));
        const r: ExpectationResult = {
          injectId: inj.id, teamId, name: x.name, type: x.type, expectedScore: x.expectedScore, validation: x.validation, status: 'pending', score: null,
          firedAt: now, firedAtSeconds: sec, expiresAt: l.doc.clock ? injectExecutionTime(l.doc.clock, sec + x.expirySeconds, now) : now, timeToValidateSeconds: null, results: [], objectives: x.objectives ?? [],
        };
        t.doc.expectations.push(r);
      }
    }
    t.dirty = true;
    this.#emit(l, teamId, state === 'fired' ? 'exercise.inject.fired' : 'exercise.inject.failed', { injectId: inj.id, title: inj.title, type: inj.type, ...(reason ? { reason } : {}) });
  }

  /** Delivers one inject to one team, through the same entry points as real activity. */
  #deliver(l: Loaded, o: { inj: Inject; team: Team; now: number }): void {
    const { inj, team, now } = o;
    const exerciseId = l.run.id;
    const p = inj.payload;
    switch (p.kind) {
      case 'technical': {
        const lines = technicalLines(p, { at: now, teamId: team.id, seed: `${exerciseId}:${inj.id}:${team.id}`, vars: l.doc.scenario.variables });
        const batch = (l.telemetry ??= new Map()).get(team.id) ?? { team, lines: [], injects: [] };
        batch.lines.push(...lines); batch.injects.push(inj.id);
        l.telemetry.set(team.id, batch);
        break;
      }
      case 'intel': {
        const row = this.#row({ kind: INTEL, org: l.run.creatorOrg, exerciseId, recipients: team.orgs, state: 'published', parentId: exerciseId, doc: { injectId: inj.id, teamId: team.id, at: now, title: p.title ?? inj.title, bundle: p.bundle, source: 'control' } });
        (l.outbox ??= []).push(row);
        break;
      }
      case 'communication': case 'prompt': break;
    }
    // Every inject is announced in the team's inbox (technical ones only as a note for control's log: no spoiler).
    if (p.kind === 'technical') return;
    const item: InboxItem = { id: `exercise-inbox--${crypto.randomUUID()}`, exerciseId, teamId: team.id, injectId: inj.id, type: inj.type, at: now, title: inj.title, payload: p };
    (l.outbox ??= []).push(this.#row({ kind: INBOX, org: l.run.creatorOrg, exerciseId, recipients: team.orgs, state: 'delivered', parentId: exerciseId, doc: item, id: item.id }));
  }

  // ------------------------------------------------------------ automatic validation

  /** Reacts to records created in an exercise: alerts (DETECTION), incidents, intel, requests, decisions. */
  async onEvent(e: BusEvent): Promise<void> {
    if (!e.exerciseId || !e.type.endsWith('.created')) return;
    const l = await this.#load(e.exerciseId);
    if (!l || l.doc.status !== 'running' && l.doc.status !== 'paused') return;
    const type = AUTO_TYPES[e.type.slice(0, -'.created'.length)];
    if (!type) return;
    let data = e.data;
    if (type !== 'DETECTION') {
      // Record events carry only the state: the document (category, severity …) is read from the store.
      const row = await this.deps.store.getRecord(e.subject);
      if (!row || row.exerciseId !== l.run.id) return;
      data = JSON.parse(row.json) as Record<string, unknown>;
    }
    const org = String(type === 'DETECTION' ? (e.data as { orgId?: unknown }).orgId ?? e.facts.creatorOrg : e.facts.creatorOrg);
    // A record a player made counts for that player (an `all` expectation needs one from each): its creation event names them.
    const userId = type === 'DETECTION' ? null : (await this.deps.store.listRecordEvents(e.subject)).find((x) => x.kind === e.type)?.userId ?? null;
    await this.#validate(l, { type, org, ref: e.subject, data, ...(userId ? { userId } : {}) });
    await this.#flush(l.run.id);
  }

  /** Alerts of the exercise that the bus did not bring (a worker in another process): validate from the store. */
  async scanAlerts(): Promise<void> {
    for (const l of this.#cache.values()) {
      if (l.doc.status !== 'running') continue;
      const pending = [...l.teams.values()].some((t) => t.doc.expectations.some((r) => r.type === 'DETECTION' && r.status === 'pending'));
      if (!pending) continue;
      for (const team of l.doc.scenario.teams) {
        for (const org of team.orgs) {
          const rows = await this.deps.store.listAlertRecords({ audience: { hop: 'local', orgId: org, groupIds: [] }, purpose: 'read', exerciseId: l.run.id, limit: 200 });
          for (const row of rows) await this.#validate(l, { type: 'DETECTION', org, ref: row.id, data: { ...JSON.parse(row.json) as Record<string, unknown>, id: row.id } });
        }
      }
      await this.#flush(l.run.id);
    }
  }

  async #validate(l: Loaded, v: { type: ExpectationType; org: string; ref: string; data: Record<string, unknown>; userId?: string }): Promise<void> {
    const now = this.deps.clock.now();
    const sec = l.doc.clock ? exerciseSecondsAt(l.doc.clock, now) : 0;
    for (const team of l.doc.scenario.teams) {
      if (!team.orgs.includes(v.org)) continue;
      const t = l.teams.get(team.id)!;
      for (const r of t.doc.expectations) {
        if (r.type !== v.type || r.status !== 'pending' || r.results.some((x) => x.ref === v.ref)) continue;
        const inj = this.#inject(l, r.injectId);
        const spec = inj.expectations.find((x) => x.name === r.name);
        if (!matches(v, { inj, spec, firedAt: r.firedAt })) continue;
        const entry = { source: `auto:${v.type.toLowerCase()}`, ref: v.ref, at: now, score: r.expectedScore, ...(v.userId ? { userId: v.userId } : {}) };
        Object.assign(r, { results: [...r.results, entry] });
        Object.assign(r, rollUp(r, r.validation === 'all' ? await this.#players(l, team.id) : []), { timeToValidateSeconds: Math.max(0, Math.round((sec - r.firedAtSeconds) * 1000) / 1000) });
        t.dirty = true;
        this.#emit(l, team.id, 'exercise.expectation.updated', { injectId: r.injectId, name: r.name, status: r.status, score: r.score, timeToValidateSeconds: r.timeToValidateSeconds });
        // One record validates the earliest pending expectation of its type only (a second alert counts for the next inject).
        if (v.type !== 'DETECTION') break;
      }
    }
  }

  // ------------------------------------------------------------ players and control: reads and grades

  async injects(actor: AuthedActor, id: string): Promise<InjectExecution[]> {
    const { l, access } = await this.open(actor, id);
    const now = this.deps.clock.now();
    const out: InjectExecution[] = [];
    for (const [teamId, t] of l.teams) {
      if (!access.teams.includes(teamId)) continue;
      for (const e of executionsFor(access, t.doc.executions)) out.push(e.state === 'pending' && l.doc.clock ? { ...e, scheduledAt: injectExecutionTime(l.doc.clock, this.#inject(l, e.injectId).offsetSeconds, now) } : e);
    }
    return out;
  }

  async expectations(actor: AuthedActor, id: string, team?: string): Promise<ExpectationResult[]> {
    const { l, access } = await this.open(actor, id);
    const now = this.deps.clock.now();
    return [...l.teams.entries()].filter(([t]) => access.teams.includes(t) && (!team || t === team))
      .flatMap(([, t]) => t.doc.expectations.map((r) => (r.status === 'pending' && l.doc.clock ? { ...r, expiresAt: injectExecutionTime(l.doc.clock, r.firedAtSeconds + this.#expiry(l, r), now) } : r)))
      .map(plain);
  }

  async scoreboard(actor: AuthedActor, id: string): Promise<Scoreboard> {
    const { l, access } = await this.open(actor, id);
    return scoreboard(id, this.deps.clock.now(), [...l.teams.entries()].filter(([t]) => access.teams.includes(t)).map(([tid, t]) => ({ id: tid, results: t.doc.expectations })));
  }

  /** Records of the exercise of one kind the reader may see, for the reader's teams only. */
  async records<T>(actor: AuthedActor, id: string, kind: typeof INBOX | typeof INTEL | typeof SITREP): Promise<T[]> {
    const { access } = await this.open(actor, id);
    const rows = await this.deps.store.listRecords({ kind, audience: this.deps.access.audienceOf(actor.principal), purpose: 'read', exerciseId: id, limit: 1000 });
    // A team's own items; intel a player shared is addressed to every team (share): its recipients decide.
    return rows.map((r) => JSON.parse(r.json) as T & { teamId: string; source?: string }).filter((d) => access.teams.includes(d.teamId) || (kind === INTEL && d.source === 'player'));
  }

  /** The team's exercise picture: its alerts in this exercise (never a real one). */
  async alerts(actor: AuthedActor, id: string, team?: string): Promise<Record<string, unknown>[]> {
    const { l, access } = await this.open(actor, id);
    const orgs = new Set(l.doc.scenario.teams.filter((t) => access.teams.includes(t.id) && (!team || t.id === team)).flatMap((t) => t.orgs));
    // Exercise alerts are the teams' own (their sensors' organisation); control and observers of the
    // exercise see every team's, players their team's. Real alerts never appear: the query is per exercise.
    const rows = [];
    for (const org of orgs) rows.push(...await this.deps.store.listAlertRecords({ audience: { hop: 'local', orgId: org, groupIds: [] }, purpose: 'read', exerciseId: id, limit: 500 }));
    return rows.filter((r) => r.creatorOrg !== null && orgs.has(r.creatorOrg)).map((r) => ({ ...JSON.parse(r.json) as Record<string, unknown>, id: r.id, status: r.state, exerciseId: r.exerciseId } as Record<string, unknown>)).filter((a) => orgs.has(String(a.orgId)));
  }

  async submitSitrep(actor: AuthedActor, id: string, b: { teamId: string; injectId?: string; title: string; body: string }): Promise<SitRep> {
    authorize(actor.principal, 'exercise.play');
    const { l, access } = await this.open(actor, id);
    if (access.role !== 'player' || !access.teams.includes(b.teamId)) throw new AppError('FORBIDDEN', 'only a player of the team writes its situation report');
    if (l.doc.status !== 'running' && l.doc.status !== 'paused') throw new AppError('CONFLICT', `exercise is ${l.doc.status}`);
    const team = l.doc.scenario.teams.find((t) => t.id === b.teamId)!;
    const rep: SitRep = { id: `exercise-sitrep--${crypto.randomUUID()}`, teamId: b.teamId, injectId: b.injectId ?? null, authorId: actor.principal.userId ?? '', at: this.deps.clock.now(), title: b.title, body: b.body };
    const row = this.#row({ kind: SITREP, org: actor.principal.orgId, exerciseId: id, recipients: [...team.orgs, l.run.creatorOrg], state: 'submitted', parentId: id, doc: rep, id: rep.id });
    await this.#write(actor, row, { action: 'exercise.sitrep.create', create: true });
    this.#emit(l, b.teamId, 'exercise.sitrep.submitted', { sitrepId: rep.id, injectId: rep.injectId, title: rep.title });
    return rep;
  }

  /** A player shares a STIX bundle into the exercise's own collection (SHARING expectations); never a real collection. */
  async share(actor: AuthedActor, id: string, b: { teamId: string; bundle: unknown }): Promise<{ id: string }> {
    authorize(actor.principal, 'exercise.play');
    const { l, access } = await this.open(actor, id);
    if (access.role !== 'player' || !access.teams.includes(b.teamId)) throw new AppError('FORBIDDEN', 'only a player of the team shares in its name');
    if (l.doc.status !== 'running' && l.doc.status !== 'paused') throw new AppError('CONFLICT', `exercise is ${l.doc.status}`);
    const parsedBundle = parseScenario({ name: 'x', teams: [{ id: 't', name: 't', orgs: ['o'] }], injects: [{ id: 'i', title: 'i', offsetSeconds: 0, type: 'intel', teams: [], payload: { bundle: b.bundle } }] });
    if (!parsedBundle.ok) throw new AppError('BAD_REQUEST', parsedBundle.errors.map((e) => e.replace('$.injects[0].payload.', '')).join('; '));
    // Shared with every team of the exercise and control (the alliance of the exercise world).
    const row = this.#row({ kind: INTEL, org: actor.principal.orgId, exerciseId: id, recipients: [...l.run.recipients, l.run.creatorOrg], state: 'published', parentId: id, doc: { teamId: b.teamId, at: this.deps.clock.now(), title: 'shared by team', bundle: b.bundle, source: 'player' } });
    await this.#write(actor, row, { action: 'exercise.intel.share', create: true });
    this.deps.bus.publish({ type: `${INTEL}.created`, subject: row.id, atUs: row.createdUs, exerciseId: id, facts: { tlp: 'amber', creatorOrg: row.creatorOrg, recipients: row.recipients, originNode: null }, data: { teamId: b.teamId } });
    return { id: row.id };
  }

  /** Control grades a REPORT / MANUAL (or any) expectation of a team; a player grades nothing. */
  async grade(actor: AuthedActor, id: string, g: { injectId: string; teamId: string; name: string; score: number; comment?: string }): Promise<ExpectationResult> {
    authorize(actor.principal, 'exercise.control');
    const { l, access } = await this.open(actor, id);
    if (!access.canGrade) throw new AppError('FORBIDDEN', 'grading needs exercise control');
    writable(l);
    const t = l.teams.get(g.teamId);
    const r = t?.doc.expectations.find((x) => x.injectId === g.injectId && x.name === g.name);
    if (!t || !r) throw new AppError('NOT_FOUND', `no expectation ${g.name} of inject ${g.injectId} for team ${g.teamId} (has the inject fired?)`);
    // A grade is a score of this expectation: at most its expected score (the scoreboard's max counts it).
    if (g.score > r.expectedScore) throw new AppError('BAD_REQUEST', `score: 0 to ${r.expectedScore}, the expected score of ${g.name}`, { details: { field: 'score' } });
    const now = this.deps.clock.now();
    const sec = l.doc.clock ? exerciseSecondsAt(l.doc.clock, now) : r.firedAtSeconds;
    Object.assign(r, { results: [...r.results, { source: 'control', userId: actor.principal.userId ?? undefined, at: now, score: g.score, ...(g.comment ? { comment: g.comment } : {}) }] });
    Object.assign(r, rollUp(r, r.validation === 'all' ? await this.#players(l, g.teamId) : []), { timeToValidateSeconds: r.timeToValidateSeconds ?? Math.max(0, sec - r.firedAtSeconds) });
    t.dirty = true;
    await this.#flush(id);
    await this.#audit(actor, { action: 'exercise.grade', target: id, detail: g });
    this.#emit(l, g.teamId, 'exercise.expectation.updated', { injectId: r.injectId, name: r.name, status: r.status, score: r.score });
    return plain(r);
  }

  async evaluate(actor: AuthedActor, id: string, e: { objectiveId: string; teamId?: string; score: number; comment?: string }): Promise<ObjectiveEvaluation> {
    authorize(actor.principal, 'exercise.control');
    const { l, access } = await this.open(actor, id);
    if (!access.canGrade) throw new AppError('FORBIDDEN', 'evaluating objectives needs exercise control');
    writable(l);
    if (!l.doc.scenario.objectives.some((o) => o.id === e.objectiveId)) throw new AppError('NOT_FOUND', `no objective ${e.objectiveId}`);
    if (e.teamId && !l.teams.has(e.teamId)) throw new AppError('NOT_FOUND', `no team ${e.teamId}`);
    if (e.score < 10 || e.score > 100 || e.score % 5 !== 0) throw new AppError('BAD_REQUEST', 'score: 10 to 100 in steps of 5 (OpenAEV evaluations)');
    const ev: ObjectiveEvaluation = { objectiveId: e.objectiveId, teamId: e.teamId ?? null, score: e.score, userId: actor.principal.userId ?? '', at: this.deps.clock.now(), ...(e.comment ? { comment: e.comment } : {}) };
    l.doc = { ...l.doc, evaluations: [...l.doc.evaluations, ev] };
    await this.#saveRun(actor, l, { action: 'exercise.evaluate' });
    return ev;
  }

  async answerLessons(actor: AuthedActor, id: string, a: LessonsAnswerBody): Promise<void> {
    authorize(actor.principal, 'exercise.read');
    const { l, access } = await this.open(actor, id);
    // The after-action report is written by control and the players; an observer or a planner reads it.
    if (access.role !== 'player' && !access.canControl) throw new AppError('FORBIDDEN', 'only a player or exercise control writes lessons learned');
    writable(l);
    if (a.questionId !== OBSERVATIONS_CATEGORY.questions[0]!.id && !(l.doc.scenario.lessons ?? []).some((c) => c.questions.some((q) => q.id === a.questionId))) throw new AppError('NOT_FOUND', `no lessons-learned question ${a.questionId}`);
    if (a.teamId && !access.teams.includes(a.teamId)) throw new AppError('NOT_FOUND', `no team ${a.teamId}`);
    if (!a.positive.trim() && !a.negative.trim()) throw new AppError('BAD_REQUEST', 'write what went well (positive) or what should change (negative)');
    l.doc = { ...l.doc, lessonsAnswers: [...l.doc.lessonsAnswers, { ...a, userId: actor.principal.userId ?? '', at: this.deps.clock.now() }] };
    await this.#saveRun(actor, l, { action: 'exercise.lessons.answer' });
  }

  /** Everything the after-action report is computed from (report.ts), for readers of the run. */
  async reportInput(actor: AuthedActor, id: string) {
    const { l, access } = await this.open(actor, id);
    const sitreps = await this.records<SitRep>(actor, id, SITREP);
    const alerts = await this.alerts(actor, id);
    return { run: runFor(access, runView(l.run, l.doc), executionsOf(l)), access, doc: l.doc, teams: [...l.teams.entries()].filter(([t]) => access.teams.includes(t)).map(([teamId, t]) => ({ teamId, executions: executionsFor(access, t.doc.executions), expectations: t.doc.expectations.map(plain) })), sitreps, alerts, now: this.deps.clock.now() };
  }

  // ------------------------------------------------------------ persistence

  /**
   * The cached run, reloaded when another process (the CLI, another server) changed it: the run,
   * or a team's state, which changes without the run (the leader fires injects, control grades
   * through any API process). Only a stored revision ahead of the cached one counts: this
   * process's own write in flight has the cache ahead.
   */
  async #fresh(id: string): Promise<Loaded | null> {
    const hit = this.#cache.get(id);
    if (hit) {
      const row = await this.deps.store.getRecord(id);
      if (row && row.rev === hit.run.rev) {
        const stored = new Map((await this.#teamRows(hit.run)).map((r) => [r.id, r.rev]));
        if ([...hit.teams.values()].every((t) => (stored.get(t.row.id) ?? 0) <= (t.stored ? t.row.rev : 0))) return hit;
      }
      this.#cache.delete(id);
      if (!row) return null;
    }
    return this.#load(id);
  }

  #teamRows(run: RecordRow): Promise<RecordRow[]> {
    return this.deps.store.listRecords({ kind: TEAM_STATE, audience: { hop: 'local', orgId: run.creatorOrg, groupIds: [] }, purpose: 'read', exerciseId: run.id, limit: 1000 });
  }

  /**
   * Runs launched or resumed elsewhere (the CLI, another API process) are picked up by the serving
   * process from this list. Another process may change it at the same moment: its change is kept.
   */
  async #markActive(id: string, active: boolean): Promise<void> {
    await updateMeta(this.deps.store, ACTIVE_KEY, (text) => {
      const cur = new Set(JSON.parse(text ?? '[]') as string[]);
      if (active) cur.add(id); else cur.delete(id);
      return JSON.stringify([...cur]);
    });
  }

  /** The running or paused exercises of the node (any process's): the ones whose records still move. */
  async activeRuns(): Promise<string[]> {
    return JSON.parse((await this.deps.store.getMeta(ACTIVE_KEY)) ?? '[]') as string[];
  }

  /** Loads active runs (and reloads changed ones), then re-arms the timer. */
  async refresh(): Promise<void> {
    for (const id of new Set([...await this.activeRuns(), ...this.#cache.keys()])) await this.#fresh(id);
    this.#arm();
  }

  async #load(id: string): Promise<Loaded | null> {
    const hit = this.#cache.get(id);
    if (hit) return hit;
    const run = await this.deps.store.getRecord(id);
    if (!run || run.kind !== RUN) return null;
    const doc = JSON.parse(run.json) as RunDoc;
    const rows = await this.#teamRows(run);
    const teams = new Map(rows.map((r) => { const d = JSON.parse(r.json) as TeamDoc; return [d.teamId, { row: r, doc: d, dirty: false, stored: true }] as const; }));
    const l: Loaded = { run, doc, teams };
    this.#cache.set(id, l);
    this.#arm();
    return l;
  }

  async #flush(id: string): Promise<void> {
    const l = this.#cache.get(id);
    if (!l) return;
    // Technical injects of this tick: one batch per team through the real ingest pipeline, as the team's sensor.
    const telemetry = l.telemetry; l.telemetry = undefined;
    for (const b of telemetry?.values() ?? []) {
      const sensor: Principal = { orgId: b.team.orgs[0]!, userId: null, username: null, roles: [], tokenId: null, kind: 'sensor', groupIds: [] };
      try {
        await this.deps.ingest.ingest(sensor, b.lines.join('\n'), { format: 'auto', sensorId: b.team.sensorId ?? `exercise-${b.team.id}`, exerciseId: id });
      } catch (err) {
        const t = l.teams.get(b.team.id)!;
        const reason = err instanceof Error ? err.message.slice(0, 300) : 'ingest failed';
        for (const e of t.doc.executions) if (b.injects.includes(e.injectId)) Object.assign(e, { state: 'failed' as InjectState, reason });
        t.doc.expectations = t.doc.expectations.filter((r) => !b.injects.includes(r.injectId));
        t.dirty = true;
      }
    }
    const now = this.deps.clock.now() * 1000;
    const dirty = [...l.teams.values()].filter((t) => t.dirty);
    const outbox = l.outbox ?? []; l.outbox = undefined;
    const fired = l.fired ?? []; l.fired = undefined;
    if (!dirty.length && !outbox.length) return;
    await this.deps.store.transaction(async (tx) => {
      for (const r of outbox) await tx.putRecord(r);
      for (const t of dirty) {
        const row = { ...t.row, json: JSON.stringify(t.doc), updatedUs: now, rev: t.stored ? t.row.rev + 1 : 1 };
        if (!(await tx.putRecord(row))) {
          // Changed by another process since this one read it: read again at the next use (kept,
          // every later write of this process would fail the same way, the scheduler's included).
          this.#cache.delete(id);
          throw new AppError('CONFLICT', `exercise state ${t.row.id} changed underneath; retry`);
        }
        t.row = row; t.dirty = false; t.stored = true;
      }
    });
    // Lag as the benchmark reports it: delivered and durable, against the computed execution time.
    const done = this.deps.clock.now();
    for (const at of fired) this.lags.push(done - at);
    if (this.lags.length > 100_000) this.lags.splice(0, 50_000);
  }

  async #saveRun(actor: AuthedActor, l: Loaded, o: { action: string; recipients?: string[] }): Promise<void> {
    const row: RecordRow = { ...l.run, json: JSON.stringify(l.doc), state: l.doc.status, updatedUs: this.deps.clock.now() * 1000, rev: l.run.rev + 1, ...(o.recipients ? { recipients: o.recipients } : {}) };
    await this.#write(actor, row, { action: o.action });
    l.run = row;
    await this.#markActive(row.id, l.doc.status === 'running' || l.doc.status === 'paused');
    this.#emit(l, null, 'exercise.run.updated', { status: l.doc.status, speed: l.doc.speed, archived: l.doc.archived });
  }

  #row<T>(r: { kind: string; org: string; exerciseId: string | null; recipients: readonly string[]; state: string; doc: T; id?: string; parentId?: string }): RecordRow {
    const now = this.deps.clock.now() * 1000;
    return {
      id: r.id ?? `${r.kind.replace('.', '-')}--${crypto.randomUUID()}`, kind: r.kind, parentId: r.parentId ?? null, creatorOrg: r.org, tlp: 'amber',
      recipients: [...new Set(r.recipients)], originNode: null, exerciseId: r.exerciseId, state: r.state, createdUs: now, updatedUs: now, rev: 1, json: JSON.stringify(r.doc),
    };
  }

  async #write(actor: AuthedActor, row: RecordRow, o: { action: string; create?: boolean }): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.putRecord(row))) throw new AppError('CONFLICT', o.create ? `${row.id} exists` : `${row.id} was changed by someone else; reload and retry`);
      await tx.appendAudit({ atUs: row.updatedUs, userId: actor.principal.userId, orgId: actor.principal.orgId, tokenId: actor.principal.tokenId, source: actor.source, action: o.action, target: row.id, detail: JSON.stringify({ state: row.state }) });
    });
  }

  async #audit(actor: AuthedActor, e: { action: string; target: string; detail: unknown }): Promise<void> {
    await this.deps.store.appendAudit({ atUs: this.deps.clock.now() * 1000, userId: actor.principal.userId, orgId: actor.principal.orgId, tokenId: actor.principal.tokenId, source: actor.source, action: e.action, target: e.target, detail: JSON.stringify(e.detail).slice(0, 8000) });
  }

  /** A live event of the exercise: released to control and the team's organisations only (team null: every participant). */
  #emit(l: Loaded, teamId: string | null, type: string, data: Record<string, unknown>): void {
    const team = teamId ? l.doc.scenario.teams.find((t) => t.id === teamId) : null;
    const facts: ReleaseFacts = { tlp: 'amber', creatorOrg: l.run.creatorOrg, recipients: team ? [...team.orgs] : l.run.recipients, originNode: null };
    this.deps.bus.publish({ type, subject: l.run.id, atUs: this.deps.clock.now() * 1000, exerciseId: l.run.id, facts, data: { ...data, ...(teamId ? { teamId } : {}) } });
  }
}

const AUTO_TYPES: Readonly<Record<string, ExpectationType>> = {
  alert: 'DETECTION', incident: 'INCIDENT', [INTEL]: 'SHARING', 'assistance-request': 'ASSISTANCE', 'assistance-offer': 'ASSISTANCE', decision: 'DECISION',
};

/** Whether a record created in the exercise answers an expectation of this inject. */
function matches(v: { type: ExpectationType; data: Record<string, unknown> }, o: { inj: Inject; spec: Inject['expectations'][number] | undefined; firedAt: number }): boolean {
  const m = o.spec?.match;
  if (v.type === 'DETECTION') {
    const techniques = Array.isArray(v.data.techniques) ? v.data.techniques.map(String) : [];
    const matched = (v.data.matched ?? {}) as { id?: unknown; title?: unknown; name?: unknown };
    if (m?.ruleRef) {
      if (![matched.id, matched.title, matched.name].some((x) => x === m.ruleRef)) return false;
    } else {
      const p = o.inj.payload;
      const technique = m?.technique ?? (p.kind === 'technical' ? p.technique ?? p.atomic?.technique ?? p.caldera?.technique?.attack_id : undefined);
      // An alert that names techniques must name the inject's; one that names none (an indicator hit) counts.
      if (technique && techniques.length > 0 && !techniques.some((t) => t === technique || t.startsWith(`${technique}.`) || technique.startsWith(`${t}.`))) return false;
    }
    // Either way only when seen after the fire: the scan of the exercise's alerts also finds those an earlier inject raised.
    const last = Date.parse(String(v.data.lastSeen ?? '')) || Infinity;
    return last >= o.firedAt - 1000;
  }
  if (v.type === 'INCIDENT') {
    if (m?.category && v.data.category !== undefined && v.data.category !== m.category) return false;
    if (m?.minSeverity !== undefined && typeof v.data.severity === 'number' && v.data.severity < m.minSeverity) return false;
  }
  return true;
}

/** Every team's inject executions of a run. */
function executionsOf(l: Loaded): InjectExecution[] {
  return [...l.teams.values()].flatMap((t) => t.doc.executions);
}

function plain(r: ExpectationResult): ExpectationResult {
  return { ...r };
}

function parsed(input: unknown): Scenario {
  const r = parseScenario(input);
  if (!r.ok) throw new AppError('BAD_REQUEST', `invalid scenario: ${r.errors.slice(0, 5).join('; ')}`, { details: { errors: r.errors } });
  return r.scenario;
}

function checkSpeed(s: number): number {
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0 || s > MAX_SPEED) throw new AppError('BAD_REQUEST', `speed must be a number above 0 and at most ${MAX_SPEED}`);
  return s;
}

function closePause(p: ClockBase['pauses'], now: number) {
  return p.map((x) => (x.end === null ? { start: x.start, end: now } : x));
}

function writable(l: Loaded): void {
  if (l.doc.archived) throw new AppError('CONFLICT', 'the exercise is archived (read-only)');
}

function targets(sc: Scenario, inj: Inject): string[] {
  return inj.teams.length ? [...inj.teams] : sc.teams.map((t) => t.id);
}

function planned(sc: Scenario, t: Team): InjectExecution[] {
  return sc.injects.filter((i) => targets(sc, i).includes(t.id)).map((i) => ({ injectId: i.id, teamId: t.id, state: 'pending', scheduledAt: null, firedAt: null }));
}

function runView(row: RecordRow, d: RunDoc): ExerciseRun {
  return {
    id: row.id, name: d.name, scenarioId: d.scenarioId, scenario: d.scenario, status: d.status, startedAt: d.startedAt, pauses: d.pauses, clock: d.clock,
    speed: d.speed, endedAt: d.endedAt, archived: d.archived, grants: d.grants, controlOrg: row.creatorOrg, rev: row.rev,
  };
}

function scenarioView(row: RecordRow, _now: number): ScenarioRecord {
  return { id: row.id, creatorOrg: row.creatorOrg, rev: row.rev, createdAt: new Date(row.createdUs / 1000).toISOString(), updatedAt: new Date(row.updatedUs / 1000).toISOString(), scenario: JSON.parse(row.json) as Scenario };
}

/** Whether a user may play (the exercise.play permission of their roles). */
function mayPlay(p: Principal): boolean {
  try { authorize(p, 'exercise.play'); return true; } catch { return false; }
}

/**
 * Who the reader is in this exercise. Control: excon/admin of the organisation that created
 * it. Grants add launcher (control), planner (plan), observer (read all). Players: users of a
 * team's organisations (or the team's listed players). Anyone else: nothing (404).
 */
export function accessOf(p: Principal, run: RecordRow, d: Pick<RunDoc, 'grants' | 'scenario'>): ExerciseAccess | null {
  const all = d.scenario.teams.map((t) => t.id);
  const staff = p.roles.includes('excon') || p.roles.includes('admin');
  if (staff && p.orgId === run.creatorOrg) return { role: 'control', teams: all, canControl: true, canPlan: true, canGrade: true };
  const g = p.userId ? d.grants.find((x) => x.userId === p.userId) : undefined;
  if (g?.role === 'launcher') return { role: 'launcher', teams: all, canControl: staff, canPlan: false, canGrade: staff };
  if (g?.role === 'planner') return { role: 'planner', teams: all, canControl: false, canPlan: staff, canGrade: false };
  if (g?.role === 'observer') return { role: 'observer', teams: all, canControl: false, canPlan: false, canGrade: false };
  const teams = d.scenario.teams.filter((t) => t.orgs.includes(p.orgId) && (!t.players?.length || (p.userId !== null && t.players.includes(p.userId)))).map((t) => t.id);
  if (teams.length && p.kind !== 'sensor' && p.kind !== 'peer') return { role: 'player', teams, canControl: false, canPlan: false, canGrade: false };
  return null;
}
