/**
 * The chaos controller: failure rules (create with every problem named, list, delete one or all), the named
 * scenarios, and the process actions — kill, restart, stop, start, pause, resume through the supervisor, and
 * pausing a service's consumers with a rule. Every rule and action is also an inspection event (`chaos.rule`,
 * `chaos.action`), so the panel can show a fault next to what it caused.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError } from '../../runtime/http/index.ts';
import { CHAOS_KINDS, ruleProblems } from '../../runtime/ops/index.ts';
import { type ChaosRule, type ChaosTarget } from '../../runtime/index.ts';
import { type ProcessAction } from '../../runtime/supervisor/index.ts';
import type { ControlContext } from './context.ts';
import {
  ChaosRuleSchema,
  ControlErrorCode,
  NewRuleSchema,
  PauseBodySchema,
  ProcessCommandBodySchema,
  ProcessCommandSchema,
  ProcessParamsSchema,
  RuleRemovedSchema,
  RulesClearedSchema,
  ScenarioBodySchema,
  ScenarioResultSchema,
  ScenariosSchema,
  ServiceParamsSchema,
  type NewRule,
  type ScenarioResult,
} from './protocol.ts';
import { t } from 'elysia';
import { scenarioNamed, SCENARIOS } from './scenarios.ts';

const tags = ['chaos'];
const MAX_DURATION_MS = 24 * 3_600_000;

/** A target in words, for events: `inventory reserve`, `→ provider`, `gateway /api/orders`. */
export function describeTarget(target: ChaosTarget): string {
  return [target.service, target.dependency && `→ ${target.dependency}`, target.route, target.messageType].filter(Boolean).join(' ') || '(nothing)';
}

/**
 * The rule a request asks for, and everything wrong with it (empty when it is valid).
 *
 * @example
 * ruleRequest({ kind: 'latency', target: { service: 'inventory' }, probability: 1, latencyMs: 200, durationMs: 30_000 }).problems; // []
 */
export function ruleRequest(body: NewRule): { input: Omit<ChaosRule, 'id' | 'createdAt' | 'expiresAt'> & { durationMs: number }; problems: string[] } {
  const target: ChaosTarget = {};
  for (const field of ['service', 'messageType', 'route', 'dependency'] as const) {
    const value = body.target[field]?.trim();
    if (value) target[field] = value;
  }
  const latencyMs = typeof body.latencyMs === 'number' ? { min: body.latencyMs, max: body.latencyMs } : body.latencyMs;
  const input = {
    kind: body.kind as ChaosRule['kind'],
    target,
    probability: body.probability,
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
    ...(body.fault !== undefined ? { fault: body.fault as ChaosRule['fault'] } : {}),
    ...(body.note ? { note: body.note } : {}),
    durationMs: body.durationMs,
  };
  const problems = ruleProblems(input);
  if (latencyMs !== undefined && input.kind !== 'latency' && input.kind !== 'delay') problems.push(`latencyMs applies to latency and delay rules, not ${CHAOS_KINDS.includes(input.kind) ? input.kind : 'this kind'}`);
  if (body.status !== undefined && input.kind !== 'error') problems.push('status applies to error rules only');
  if (!(body.durationMs >= 1 && body.durationMs <= MAX_DURATION_MS)) problems.push('durationMs must be between 1 ms and 24 h (86400000)');
  return { input, problems };
}

export function chaosRoutes(ctx: ControlContext) {
  const record = (type: 'chaos.rule' | 'chaos.action', fields: { rule?: string; kind: string; target: string; detail?: string }) =>
    ctx.inspect({ type, at: Date.now(), source: 'control', ...fields });

  const addRule = async (input: ReturnType<typeof ruleRequest>['input']) => {
    const rule = await ctx.chaos.add(input);
    record('chaos.rule', {
      rule: rule.id,
      kind: rule.kind,
      target: describeTarget(rule.target),
      detail: `added: p=${rule.probability} for ${Math.round(input.durationMs / 1000)} s${rule.note ? ` (${rule.note})` : ''}`,
    });
    return rule;
  };

  /** Sends a command to the supervisor, after checking one listens and knows the process. */
  const command = async (process: string, action: ProcessAction, signal?: string, why = 'by an operator') => {
    if (!(await ctx.table.supervisorAlive())) {
      throw new HttpError(503, ControlErrorCode.supervisorUnavailable, 'no supervisor is listening for process commands (start Mailroom with `bun run dev` or `bun run start`)');
    }
    const row = (await ctx.table.list()).find((p) => p.name === process);
    if (!row) throw new HttpError(404, ControlErrorCode.unknownProcess, `the supervisor runs no process called "${process}"`, { process });
    // Recorded first: the cause is stamped before its effects (the supervisor's process.* events).
    record('chaos.action', { kind: action, target: process, detail: `${action}${signal ? ` (${signal})` : ''} pid ${row.pid ?? '-'} ${why}` });
    await ctx.table.command({ action, process, ...(signal ? { signal: signal as 'SIGKILL' } : {}), id: crypto.randomUUID() });
    return { accepted: true as const, action, process, pid: row.pid };
  };

  return new Elysia({ name: 'control:chaos' })
    .get('/chaos/rules', () => ctx.chaos.list(), {
      response: { 200: t.Array(ChaosRuleSchema) },
      detail: { summary: 'The failure rules in force (expired ones are gone)', tags, responses: answers({ 200: 'The rules in force' }) },
    })
    .post(
      '/chaos/rules',
      async ({ body, set }) => {
        const { input, problems } = ruleRequest(body);
        if (problems.length > 0) throw new HttpError(422, ControlErrorCode.invalidChaosRule, `invalid chaos rule: ${problems.join('; ')}`, { problems });
        set.status = 201;
        return addRule(input);
      },
      {
        body: NewRuleSchema,
        response: { 201: ChaosRuleSchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Add a failure rule (error, latency, drop, duplicate, delay, pause) with a probability and a duration',
          description:
            'A body of the right shape with rules that do not fit together (a pause with a route, latency for an error rule, probability above 1, …) gets one 422 INVALID_CHAOS_RULE naming every problem in `details.problems`; a body of the wrong shape (a field missing or of the wrong type) gets the frame’s 422 VALIDATION with `details.issues`. latencyMs is a number (fixed) or {min, max}.',
          tags,
          responses: answers({ 201: 'The rule, in force until expiresAt', 422: 'INVALID_CHAOS_RULE: every problem with the rule in details.problems' }),
        },
      },
    )
    .delete(
      '/chaos/rules/:id',
      async ({ params }) => {
        if (!(await ctx.chaos.remove(params.id))) throw new HttpError(404, ControlErrorCode.ruleNotFound, `no chaos rule ${params.id} (expired or removed already?)`, { id: params.id });
        record('chaos.rule', { rule: params.id, kind: 'removed', target: params.id, detail: 'removed by an operator' });
        return { removed: true, id: params.id };
      },
      {
        params: t.Object({ id: t.String({ minLength: 1, maxLength: 100, description: 'The rule’s id (from POST /control/chaos/rules)', examples: ['r-1'] }) }),
        response: { 200: RuleRemovedSchema, 404: ErrorBodySchema },
        detail: { summary: 'Remove one rule', tags, responses: answers({ 200: 'Removed', 404: 'RULE_NOT_FOUND: no rule with this id (expired or removed already?)' }) },
      },
    )
    .delete(
      '/chaos/rules',
      async () => {
        const before = await ctx.chaos.list();
        await ctx.chaos.clear();
        record('chaos.rule', { kind: 'cleared', target: '*', detail: `${before.length} rule(s) removed by an operator` });
        return { removed: before.length };
      },
      { response: { 200: RulesClearedSchema }, detail: { summary: 'Remove every rule', tags, responses: answers({ 200: 'Every rule removed' }) } },
    )
    .get('/chaos/scenarios', () => SCENARIOS.map(({ name, title, description, durationMs }) => ({ name, title, description, durationMs })), {
      response: { 200: ScenariosSchema },
      detail: { summary: 'The named scenarios (one click each in the panel)', tags, responses: answers({ 200: 'The scenarios' }) },
    })
    .post(
      '/chaos/scenarios/:name',
      async ({ params, body, set }): Promise<ScenarioResult> => {
        const scenario = scenarioNamed(params.name);
        if (!scenario) {
          throw new HttpError(404, ControlErrorCode.scenarioNotFound, `no scenario "${params.name}"; there are ${SCENARIOS.map((s) => s.name).join(', ')}`, { scenario: params.name });
        }
        const durationMs = body?.durationMs ?? scenario.durationMs;
        const actions = [];
        for (const a of scenario.actions) actions.push(await command(a.process, a.action, undefined, `(scenario ${scenario.name})`));
        const rules = [];
        for (const rule of scenario.rules) rules.push(await addRule({ ...rule, durationMs }));
        set.status = 201;
        return { scenario: scenario.name, rules, actions: actions.map(({ action, process }) => ({ action, process })) };
      },
      {
        params: t.Object({ name: t.String({ minLength: 1, maxLength: 100, description: 'A scenario’s name (GET /control/chaos/scenarios)', examples: ['slow-inventory'] }) }),
        body: ScenarioBodySchema,
        response: { 201: ScenarioResultSchema, 404: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Start a scenario: its rules (for durationMs, default 60 s) and actions',
          tags,
          responses: answers({
            201: 'Started: its rules and the process commands sent',
            404: 'SCENARIO_NOT_FOUND: no scenario with this name; UNKNOWN_PROCESS: the supervisor runs no process it acts on',
            503: 'SUPERVISOR_UNAVAILABLE: the scenario acts on a process and no supervisor listens',
          }),
        },
      },
    )
    .post(
      '/processes/:name/:action',
      async ({ params, body, set }) => {
        if (body?.signal && params.action !== 'kill') throw validationError('body.signal', 'body.signal applies to kill only');
        set.status = 202;
        return command(params.name, params.action, body?.signal);
      },
      {
        params: ProcessParamsSchema,
        body: ProcessCommandBodySchema,
        response: { 202: ProcessCommandSchema, 404: ErrorBodySchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          responses: answers({
            202: 'The supervisor has the command',
            404: 'UNKNOWN_PROCESS: the supervisor runs no process with this name',
            422: 'VALIDATION: a signal for another action than kill',
            503: 'SUPERVISOR_UNAVAILABLE: no supervisor listens (start Mailroom with bun run dev or bun run start)',
          }),
          summary: 'Kill, restart, stop, start, pause or resume a process (through the supervisor)',
          description: 'kill = SIGKILL (or body.signal); the supervisor restarts it with its backoff. restart = now. pause/resume = SIGSTOP/SIGCONT. 202: the supervisor has the command; GET /control/topology shows the effect.',
          tags,
        },
      },
    )
    .post(
      '/services/:name/pause',
      async ({ params, body, set }) => {
        if ((await ctx.view.partitionsOf(params.name)) === null) {
          throw new HttpError(404, ControlErrorCode.unknownService, `no service "${params.name}" has ever run a node here`, { service: params.name });
        }
        set.status = 201;
        return addRule({ kind: 'pause', target: { service: params.name }, probability: 1, durationMs: body.seconds * 1000, note: `consumers paused for ${body.seconds} s` });
      },
      {
        params: ServiceParamsSchema,
        body: PauseBodySchema,
        response: { 201: ChaosRuleSchema, 404: ErrorBodySchema },
        detail: {
          summary: 'Pause a service’s consumers for N seconds (a chaos pause rule)',
          tags,
          responses: answers({ 201: 'The pause rule', 404: 'UNKNOWN_SERVICE: no node of this service ever ran here' }),
        },
      },
    );
}
