/**
 * The actors controller: page through every actor (server-side, through the per-partition index, so it stays
 * cheap at 100,000+), one actor with its committed state, its machine as a graph and its recent transitions, and
 * the machines themselves — an actor type's as its nodes registered it, and the circuit breaker's. Time travel: an
 * actor's committed versions, and the actor exactly as one of them left it (`runtime/node/version-history.ts`).
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import { circuitBreakerMachine } from '../../runtime/resilience/index.ts';
import { InvalidAddressError, InvalidCursorError, machineGraph, UnknownServiceError } from '../../runtime/index.ts';
import { TRANSITIONS_PER_ACTOR } from './actor-history.ts';
import type { ControlContext } from './context.ts';
import {
  ActorAtSchema,
  ActorDetailSchema,
  ActorHistoryQuerySchema,
  ActorHistorySchema,
  ActorListQuerySchema,
  ActorPageSchema,
  ActorParamsSchema,
  ActorVersionParamsSchema,
  ControlErrorCode,
  inRange,
  LIMITS,
  MachineGraphSchema,
  MachineParamsSchema,
} from './protocol.ts';

const tags = ['actors'];
const breakerGraph = machineGraph(circuitBreakerMachine);

/** `q` as an HSCAN pattern over the id: a glob as given, anything else as a prefix. */
export function idPattern(q: string | undefined): string {
  if (!q) return '*';
  return /[*?[\]]/.test(q) ? q : `${q}*`;
}

/** Turns the cluster view's errors into HTTP ones. */
export function asHttp(error: unknown): never {
  if (error instanceof UnknownServiceError) throw new HttpError(404, ControlErrorCode.unknownService, error.message, { service: error.service });
  if (error instanceof InvalidCursorError) throw new HttpError(400, ControlErrorCode.invalidCursor, error.message);
  if (error instanceof InvalidAddressError) throw new HttpError(422, ControlErrorCode.invalidAddress, error.message);
  throw error;
}

export function actorRoutes(ctx: ControlContext) {
  /** The actor's last transitions, newest first: from memory, or (after a restart of the control plane) the stream. */
  const transitionsOf = async (address: string) => {
    if (ctx.history.has(address)) return ctx.history.recent(address);
    const found = await ctx.view.inspection.history({
      limit: TRANSITIONS_PER_ACTOR,
      keep: (e) => e.type === 'actor.transition' && e.actor === address,
      maxEntries: 2_000,
    });
    return found.reverse().map(({ id, event }) => ({ ...event, id }));
  };

  return new Elysia({ name: 'control:actors' })
    .get(
      '/actors',
      async ({ query }) =>
        ctx.view.actors.list({ service: query.service, type: query.type, match: idPattern(query.q), cursor: query.cursor, limit: inRange('query.limit', query.limit, LIMITS.actors) }).catch(asHttp),
      {
        query: ActorListQuerySchema,
        response: { 200: ActorPageSchema, 400: ErrorBodySchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Page through actors (one service or all), by type and id prefix or glob',
          tags,
          responses: answers({
            200: 'One page of actors with their states',
            400: 'INVALID_CURSOR: the cursor is not one this control plane handed out',
            404: 'UNKNOWN_SERVICE: no node of this service ever ran here',
            422: 'VALIDATION: limit outside 1–500',
          }),
        },
      },
    )
    .get(
      '/actors/:service/:type/:id',
      async ({ params }) => {
        const address = `${params.service}/${params.type}/${params.id}`;
        const actor = await ctx.view.actors.read(address).catch(asHttp);
        if (!actor) throw new HttpError(404, ControlErrorCode.actorNotFound, `no actor ${address} has committed a state`, { address });
        const [machine, transitions] = await Promise.all([ctx.view.machine(params.service, params.type), transitionsOf(address)]);
        return { ...actor, machine, transitions };
      },
      {
        params: ActorParamsSchema,
        response: { 200: ActorDetailSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'One actor: state, context, version, machine version, its machine as a graph, its last 50 transitions (newest first)',
          tags,
          responses: answers({
            200: 'The actor',
            404: 'ACTOR_NOT_FOUND: no actor at this address has committed a state; UNKNOWN_SERVICE: no node of this service ever ran here',
            422: 'INVALID_ADDRESS: the address is not service/type/id',
          }),
        },
      },
    )
    .get(
      '/actors/:service/:type/:id/history',
      async ({ params, query }) => {
        const address = `${params.service}/${params.type}/${params.id}`;
        const limit = inRange('query.limit', query.limit, LIMITS.versions);
        return ctx.view.actors.history(address, { offset: query.offset ?? 0, limit }).catch(asHttp);
      },
      {
        params: ActorParamsSchema,
        query: ActorHistoryQuerySchema,
        response: { 200: ActorHistorySchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Time travel: the actor’s committed versions its type keeps (`history.keep`, default 50), newest first, each with when, the messages that made it and the state it left',
          tags,
          responses: answers({
            200: 'One page of versions (empty for an actor without a history)',
            404: 'UNKNOWN_SERVICE: no node of this service ever ran here',
            422: 'INVALID_ADDRESS: the address is not service/type/id; VALIDATION: limit outside 1–500, or an offset outside 0–1,000,000',
          }),
        },
      },
    )
    .get(
      '/actors/:service/:type/:id/at/:version',
      async ({ params }) => {
        const address = `${params.service}/${params.type}/${params.id}`;
        const found = await ctx.view.actors.at(address, params.version).catch(asHttp);
        if (found) return found;
        const held = await ctx.view.actors.history(address, { offset: 0, limit: 1 }).catch(asHttp);
        const range = held.newest === null ? 'it holds no version' : `it holds versions ${held.oldest}–${held.newest}`;
        throw new HttpError(404, ControlErrorCode.versionNotFound, `version ${params.version} of ${address} is not in its history: ${range}`, {
          address,
          version: params.version,
          oldest: held.oldest,
          newest: held.newest,
        });
      },
      {
        params: ActorVersionParamsSchema,
        response: { 200: ActorAtSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Time travel: the actor exactly as one committed version left it (state, context, the persisted snapshot, the messages that made it)',
          tags,
          responses: answers({
            200: 'The actor at that version',
            404: 'VERSION_NOT_FOUND: the version was never reached or is older than the history keeps (the message names the versions held); UNKNOWN_SERVICE: no node of this service ever ran here',
            422: 'INVALID_ADDRESS: the address is not service/type/id; VALIDATION: the version is not an integer ≥ 1',
          }),
        },
      },
    )
    .get('/machines/breaker', () => breakerGraph, {
      response: { 200: MachineGraphSchema },
      detail: { summary: 'The circuit breaker’s machine as a graph (every breaker runs it)', tags, responses: answers({ 200: 'The breaker’s machine' }) },
    })
    .get(
      '/machines/:service/:type',
      async ({ params }) => {
        const graph = await ctx.view.machine(params.service, params.type);
        if (!graph) throw new HttpError(404, ControlErrorCode.machineNotFound, `no node of ${params.service} has registered actor type ${params.type}`, params);
        return graph;
      },
      {
        params: MachineParamsSchema,
        response: { 200: MachineGraphSchema, 404: ErrorBodySchema },
        detail: {
          summary: 'An actor type’s machine as a graph (states, transitions), as its nodes registered it',
          tags,
          responses: answers({ 200: 'The machine', 404: 'MACHINE_NOT_FOUND: no node of this service registered this actor type' }),
        },
      },
    );
}
