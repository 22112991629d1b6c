/**
 * The dead letters controller: the newest dead letters of one service or all (each with the event's type and its
 * full payload, the error and the delivery count), replay one into its mailbox, or discard it.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError } from '../../runtime/http/index.ts';
import type { DeadLetter } from '../../runtime/index.ts';
import { asHttp } from './actor-routes.ts';
import type { ControlContext } from './context.ts';
/** One dead letter as `GET /control/deadletters` answers it: the event's type, and the event itself as `payload`. */
export type DeadLetterRow = Omit<DeadLetter, 'event'> & { service: string; event: string; payload: unknown };

import { ControlErrorCode, DeadLetterParamsSchema, DeadLetterQuerySchema, DeadLetterRowsSchema, DiscardedSchema, inRange, LIMITS, ReplayedSchema } from './protocol.ts';

const tags = ['dead letters'];

export function deadLetterRoutes(ctx: ControlContext) {
  const check = async (service: string, partition: number) => {
    const partitions = await ctx.view.partitionsOf(service);
    if (partitions === null) throw new HttpError(404, ControlErrorCode.unknownService, `no service "${service}" has ever run a node here`, { service });
    if (partition >= partitions) throw new HttpError(404, ControlErrorCode.deadLetterNotFound, `${service} has partitions 0–${partitions - 1}, not ${partition}`, { service, partition });
  };
  const missing = (service: string, partition: number, id: string) =>
    new HttpError(404, ControlErrorCode.deadLetterNotFound, `no dead letter ${id} in ${service} partition ${partition} (replayed or discarded already?)`, { service, partition, id });

  return new Elysia({ name: 'control:deadletters' })
    .get(
      '/deadletters',
      async ({ query }) => {
        const letters = await ctx.view.deadLetters.list({ service: query.service, limit: inRange('query.limit', query.limit, LIMITS.deadLetters) }).catch(asHttp);
        return letters.map((l): DeadLetterRow => ({
          service: l.service,
          partition: l.partition,
          id: l.id,
          messageId: l.messageId,
          actor: l.actor,
          event: describeEvent(l.event),
          payload: l.event,
          error: l.error,
          deliveries: l.deliveries,
          failedAt: l.failedAt,
          ...(l.actorVersion === undefined ? {} : { actorVersion: l.actorVersion }),
        }));
      },
      {
        query: DeadLetterQuerySchema,
        response: { 200: DeadLetterRowsSchema, 404: ErrorBodySchema, 422: ErrorBodySchema },
        detail: {
          summary: 'The newest dead letters, newest first (event = its type; payload = the whole event)',
          tags,
          responses: answers({ 200: 'The dead letters', 404: 'UNKNOWN_SERVICE: no node of this service ever ran here', 422: 'VALIDATION: limit outside 1–500' }),
        },
      },
    )
    .post(
      '/deadletters/:service/:partition/:id/replay',
      async ({ params: { service, partition, id } }) => {
        await check(service, partition);
        const entry = await ctx.view.deadLetters.replay(service, partition, id);
        if (entry === null) throw missing(service, partition, id);
        return { replayed: true, service, partition, id, mailboxEntry: entry };
      },
      {
        params: DeadLetterParamsSchema,
        response: { 200: ReplayedSchema, 404: ErrorBodySchema },
        detail: {
          summary: 'Put a dead letter back into its mailbox (same message id)',
          tags,
          responses: answers({ 200: 'Replayed: its new mailbox entry', 404: 'UNKNOWN_SERVICE, or DEAD_LETTER_NOT_FOUND: no such partition or dead letter (replayed or discarded already?)' }),
        },
      },
    )
    .delete(
      '/deadletters/:service/:partition/:id',
      async ({ params: { service, partition, id } }) => {
        await check(service, partition);
        if (!(await ctx.view.deadLetters.discard(service, partition, id))) throw missing(service, partition, id);
        return { discarded: true, service, partition, id };
      },
      {
        params: DeadLetterParamsSchema,
        response: { 200: DiscardedSchema, 404: ErrorBodySchema },
        detail: {
          summary: 'Discard a dead letter',
          tags,
          responses: answers({ 200: 'Discarded', 404: 'UNKNOWN_SERVICE, or DEAD_LETTER_NOT_FOUND: no such partition or dead letter (replayed or discarded already?)' }),
        },
      },
    );
}

/**
 * The event's type, or a short word for what was there instead. Never `String(event)`: a dead letter holds whatever
 * was written into a mailbox, and an object with its own `toString` or a deeply nested array would throw.
 */
function describeEvent(event: unknown): string {
  if (event && typeof event === 'object' && typeof (event as { type?: unknown }).type === 'string') return (event as { type: string }).type;
  if (typeof event === 'string') return event.slice(0, 80);
  if (event === null || event === undefined) return '(no event)';
  return Array.isArray(event) ? '(an array, not an event)' : `(a ${typeof event}, not an event)`;
}
