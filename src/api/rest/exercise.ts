/**
 * REST routes of exercises (/api/v1/exercises…): the shapes of src/exercise/model.ts. Handlers
 * parse the body field by field, call the exercise service, and return its view; the service
 * decides per exercise who may do what (control, grants, teams) and answers 404 to outsiders.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { AppError } from '../../core/errors.js';
import { GRANTS, type ControlBody, type ExerciseActor, type InboxItem, type SitRep } from '../../exercise/index.js';
import { exportScenario } from '../../exercise/index.js';
import { afterActionReport } from '../../exercise/report.js';
import type { Platform } from '../platform.js';
import { principalOf } from './auth.js';
import { Body } from './body.js';
import { queryOf } from './parse.js';

const EX_ID = /^exercise--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SC_ID = /^exercise-scenario--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEAM = { type: 'string', description: 'Team id of the scenario (only the reader\'s teams are answered).' };
const doc = (summary: string, description: string, extra: Record<string, unknown> = {}) => ({ schema: { summary, description, tags: ['exercises'], ...extra } as FastifySchema });
const ID_PARAMS = { params: { type: 'object', properties: { id: { type: 'string', description: 'exercise--<uuid>' } } } };

export async function exerciseRoutes(app: FastifyInstance, platform: Platform): Promise<void> {
  const ex = platform.exercise;
  const actor = (req: FastifyRequest): ExerciseActor => ({ principal: principalOf(req), source: req.ip });
  const param = (req: FastifyRequest, key: string, re: RegExp): string => {
    const v = (req.params as Record<string, string>)[key] ?? '';
    if (!re.test(v)) throw new AppError('NOT_FOUND', `no such ${key === 'sid' ? 'scenario' : 'exercise'} ${v.slice(0, 80)}`);
    return v;
  };
  const id = (req: FastifyRequest) => param(req, 'id', EX_ID);
  const sid = (req: FastifyRequest) => param(req, 'sid', SC_ID);
  // The team filter of a team view; any other parameter is refused (docs/rest-api.md), not ignored: a typo would answer every team.
  const team = (req: FastifyRequest): string | undefined => {
    const t = queryOf(req.query, ['team']).team;
    if (t === undefined) return undefined;
    if (typeof t !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(t)) throw new AppError('INVALID_FILTER', 'team: malformed team id');
    return t;
  };
  const SCENARIO_BODY = { type: 'object', description: 'A Scenario (src/exercise/model.ts) or its export envelope {format: "shieldwall-scenario", version: 1, scenario}.' };

  // ---- scenarios
  app.get('/exercises/scenarios', doc('List scenarios', 'Scenarios (templates) written by the reader\'s organisation (planners only: exercise.plan).'), async (req) => ({ scenarios: await ex.listScenarios(actor(req)) }));
  app.post('/exercises/scenarios', doc('Import a scenario', 'Validates the scenario JSON; 400 lists every problem with its JSON path in error.details.errors.', { body: SCENARIO_BODY }), async (req, reply) =>
    reply.code(201).send(await ex.createScenario(actor(req), req.body)));
  app.get('/exercises/scenarios/:sid', doc('One scenario', 'The stored scenario with id, creator and revision.'), async (req) => ex.getScenario(actor(req), sid(req)));
  app.put('/exercises/scenarios/:sid', doc('Replace a scenario', 'A new revision; runs already created keep their frozen copy.', { body: SCENARIO_BODY }), async (req) => ex.updateScenario(actor(req), sid(req), req.body));
  app.delete('/exercises/scenarios/:sid', doc('Delete a scenario', 'Runs created from it are kept.'), async (req, reply) => { await ex.deleteScenario(actor(req), sid(req)); return reply.code(204).send(); });
  app.get('/exercises/scenarios/:sid/export', doc('Export a scenario', 'The JSON export envelope, importable back.'), async (req) => exportScenario((await ex.getScenario(actor(req), sid(req))).scenario));

  // ---- runs
  app.get('/exercises', doc('List exercises', 'The exercises the reader takes part in (control, grant or team).'), async (req) => ({ exercises: await ex.listRuns(actor(req)) }));
  app.post('/exercises', doc('Create an exercise', 'A run created from a scenario: {scenarioId, name?, speed?, grants?[{userId, role}]}.'), async (req, reply) => {
    const b = Body.of(req.body);
    const speed = b.has('speed') ? num(req.body, 'speed') : undefined;
    return reply.code(201).send(await ex.createRun(actor(req), {
      scenarioId: b.str('scenarioId', { max: 100 }), ...(b.optStr('name', { max: 200 }) ? { name: b.optStr('name', { max: 200 })! } : {}),
      ...(speed !== undefined ? { speed } : {}), grants: grantsOf(b),
    }));
  });
  app.get('/exercises/:id', doc('One exercise', 'The run, the reader\'s access in it, the exercise clock now and the next due inject.', ID_PARAMS), async (req) => ex.view(actor(req), id(req)));
  app.post('/exercises/:id/control', doc('Control an exercise', 'action: launch (speed?), pause, resume, speed (speed), cancel, finish, trigger (injectId, teamId?). Control or a launcher grant only.', ID_PARAMS), async (req) =>
    ex.control(actor(req), id(req), controlOf(req.body)));
  app.put('/exercises/:id/grants', doc('Exercise grants', 'Replaces the grants {grants: [{userId, role: observer|planner|launcher}]}.', ID_PARAMS), async (req) => ex.setGrants(actor(req), id(req), grantsOf(Body.of(req.body))));
  app.post('/exercises/:id/archive', doc('Archive an exercise', 'A finished or cancelled exercise becomes read-only.', ID_PARAMS), async (req) => ex.archive(actor(req), id(req)));
  app.delete('/exercises/:id', doc('Purge an exercise', 'Removes every row of a finished or cancelled exercise, in every table.', ID_PARAMS), async (req) => ex.purge(actor(req), id(req)));

  // ---- play and scoring
  app.get('/exercises/:id/injects', doc('Inject executions', 'Per inject and team: pending (with its scheduled time), fired, blocked (with why) or failed.', ID_PARAMS), async (req) => ({ injects: await ex.injects(actor(req), id(req)) }));
  app.get('/exercises/:id/inbox', doc('Team inbox', 'Communication, prompt and intel injects delivered to the reader\'s teams.', { ...ID_PARAMS, querystring: { type: 'object', properties: { team: TEAM } } }), async (req) => {
    const t = team(req);
    return { items: (await ex.records<InboxItem>(actor(req), id(req), 'exercise.inbox')).filter((i) => !t || i.teamId === t) };
  });
  app.get('/exercises/:id/intel', doc('Exercise intel', 'STIX bundles published into the exercise\'s own collection (never a real TAXII collection).', ID_PARAMS), async (req) => ({ items: await ex.records(actor(req), id(req), 'exercise.intel') }));
  app.post('/exercises/:id/intel', doc('Share intel in the exercise', 'A player shares a STIX bundle with the exercise (validates SHARING expectations): {teamId, bundle}.', ID_PARAMS), async (req, reply) => {
    const b = Body.of(req.body);
    return reply.code(201).send(await ex.share(actor(req), id(req), { teamId: b.str('teamId', { max: 100 }), bundle: (req.body as { bundle?: unknown }).bundle }));
  });
  app.get('/exercises/:id/alerts', doc('Team exercise picture', 'Alerts raised in this exercise for the reader\'s teams.', { ...ID_PARAMS, querystring: { type: 'object', properties: { team: TEAM } } }), async (req) => ({ alerts: await ex.alerts(actor(req), id(req), team(req)) }));
  app.get('/exercises/:id/expectations', doc('Expectations', 'Expectation results per inject and team (pending, success, partial, failed).', { ...ID_PARAMS, querystring: { type: 'object', properties: { team: TEAM } } }), async (req) => ({ expectations: await ex.expectations(actor(req), id(req), team(req)) }));
  app.post('/exercises/:id/expectations/grade', doc('Grade an expectation', 'Control grades {injectId, teamId, name, score, comment?}.', ID_PARAMS), async (req) => {
    const b = Body.of(req.body);
    return ex.grade(actor(req), id(req), { injectId: b.str('injectId', { max: 100 }), teamId: b.str('teamId', { max: 100 }), name: b.str('name', { max: 200 }), score: b.int('score', 0, 1000), ...(b.optStr('comment') ? { comment: b.optStr('comment')! } : {}) });
  });
  app.get('/exercises/:id/sitreps', doc('Situation reports', 'Reports written by the reader\'s teams.', ID_PARAMS), async (req) => ({ sitreps: await ex.records<SitRep>(actor(req), id(req), 'exercise.sitrep') }));
  app.post('/exercises/:id/sitreps', doc('Write a situation report', 'A player of the team: {teamId, injectId?, title, body}.', ID_PARAMS), async (req, reply) => {
    const b = Body.of(req.body);
    return reply.code(201).send(await ex.submitSitrep(actor(req), id(req), { teamId: b.str('teamId', { max: 100 }), ...(b.optStr('injectId', { max: 100 }) ? { injectId: b.optStr('injectId', { max: 100 })! } : {}), title: b.str('title', { max: 300 }), body: b.str('body', { max: 50_000 }) }));
  });
  app.get('/exercises/:id/scoreboard', doc('Scoreboard', 'Per team and per objective scores of fired injects.', ID_PARAMS), async (req) => ex.scoreboard(actor(req), id(req)));
  app.post('/exercises/:id/lessons', doc('Add a lesson', 'Control or a player answers a lessons-learned question of the scenario, or writes a free observation with questionId "observations": {questionId, teamId?, positive, negative (one of them non-empty), score 0-100}.', ID_PARAMS), async (req, reply) => {
    const b = Body.of(req.body);
    await ex.answerLessons(actor(req), id(req), { questionId: b.str('questionId', { max: 100 }), ...(b.optStr('teamId', { max: 100 }) ? { teamId: b.optStr('teamId', { max: 100 })! } : {}), positive: b.optStr('positive', { max: 5000 }) ?? '', negative: b.optStr('negative', { max: 5000 }) ?? '', score: b.int('score', 0, 100) });
    return reply.code(204).send();
  });
  app.post('/exercises/:id/evaluations', doc('Evaluate an objective', 'Control: {objectiveId, teamId?, score 10-100 step 5, comment?}.', ID_PARAMS), async (req, reply) => {
    const b = Body.of(req.body);
    return reply.code(201).send(await ex.evaluate(actor(req), id(req), { objectiveId: b.str('objectiveId', { max: 100 }), ...(b.optStr('teamId', { max: 100 }) ? { teamId: b.optStr('teamId', { max: 100 })! } : {}), score: b.int('score', 0, 100), ...(b.optStr('comment') ? { comment: b.optStr('comment')! } : {}) }));
  });
  app.get('/exercises/:id/report', doc('After-action report', 'AfterActionReport JSON (src/exercise/model.ts): per team and objective scores, time to detect/respond, expectations, timeline, lessons, evaluations.', ID_PARAMS), async (req) =>
    afterActionReport(await ex.reportInput(actor(req), id(req))));
}

function num(raw: unknown, k: string): number {
  const v = (raw as Record<string, unknown>)[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new AppError('BAD_REQUEST', `${k}: number`, { details: { field: k } });
  return v;
}

function grantsOf(b: Body) {
  const raw = (b as unknown as { b: Record<string, unknown> }).b.grants;
  if (Array.isArray(raw) && raw.length === 0) return [];
  return b.has('grants') ? b.objects('grants', 200).map((g) => ({ userId: g.str('userId', { max: 100 }), role: g.oneOf('role', GRANTS) })) : [];
}

const ACTIONS = ['launch', 'pause', 'resume', 'speed', 'cancel', 'finish', 'trigger'] as const;

function controlOf(raw: unknown): ControlBody {
  const b = Body.of(raw);
  const action = b.oneOf('action', ACTIONS);
  switch (action) {
    case 'launch': return b.has('speed') ? { action, speed: num(raw, 'speed') } : { action };
    case 'speed': return { action, speed: num(raw, 'speed') };
    case 'trigger': { const teamId = b.optStr('teamId', { max: 100 }); return { action, injectId: b.str('injectId', { max: 100 }), ...(teamId ? { teamId } : {}) }; }
    case 'pause': case 'resume': case 'cancel': case 'finish': return { action };
  }
}
