/**
 * The strangler controller: the gateway's migrated-route weight, read and set through its admin API.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { StranglerBodySchema, StranglerViewSchema } from './protocol.ts';
import { callUpstream, jsonInit, relay } from './upstream.ts';

const tags = ['strangler'];

export function stranglerRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:strangler' })
    .get('/strangler', async ({ set }) => relay(await callUpstream(ctx, 'gateway', '/api/admin/strangler'), set), {
      response: { 200: StranglerViewSchema, 503: ErrorBodySchema },
      detail: {
        summary: 'The weight of the catalogue reads: percent served by inventory (the rest by the legacy handler)',
        tags,
        responses: answers({ 200: 'The weight (the gateway’s answer)', 503: 'UPSTREAM_UNAVAILABLE: the gateway could not be reached or answered something that is not JSON' }),
      },
    })
    .put('/strangler', async ({ body, set }) => relay(await callUpstream(ctx, 'gateway', '/api/admin/strangler', jsonInit('PUT', body)), set), {
      body: StranglerBodySchema,
      response: { 200: StranglerViewSchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
      detail: {
        summary: 'Set the weight, 0 (all legacy) – 100 (all inventory)',
        tags,
        responses: answers({ 200: 'The weight as stored (the gateway’s answer)', 503: 'UPSTREAM_UNAVAILABLE: the gateway could not be reached or answered something that is not JSON; or the gateway’s own 503 when Redis could not store it' }),
      },
    });
}
