/**
 * The strangler controller: the gateway's migrated-route weight, read and set through its admin API.
 */
import { Elysia } from 'elysia';
import type { ControlContext } from './context.ts';
import { StranglerBodySchema } from './protocol.ts';
import { callUpstream, jsonInit, relay } from './upstream.ts';

const tags = ['strangler'];

export function stranglerRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:strangler' })
    .get('/strangler', async ({ set }) => relay(await callUpstream(ctx.origins, 'gateway', '/api/admin/strangler'), set), {
      detail: { summary: 'The weight of GET /api/catalogue: percent served by inventory (the rest by the legacy handler)', tags },
    })
    .put('/strangler', async ({ body, set }) => relay(await callUpstream(ctx.origins, 'gateway', '/api/admin/strangler', jsonInit('PUT', body)), set), {
      body: StranglerBodySchema,
      detail: { summary: 'Set the weight, 0 (all legacy) – 100 (all inventory)', tags },
    });
}
