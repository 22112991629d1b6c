/**
 * The load controller: start (or re-rate) the order generator, read its counts, stop it.
 */
import { Elysia } from 'elysia';
import type { ControlContext } from './context.ts';
import { LoadBodySchema } from './protocol.ts';

const tags = ['load'];

export function loadRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:load' })
    .get('/load', () => ctx.load.status(), {
      detail: { summary: 'The order generator: running, rate, placed / accepted / failed (by code)', tags },
    })
    .post(
      '/load',
      ({ body, set }) => {
        set.status = 202;
        return ctx.load.start(body);
      },
      {
        body: LoadBodySchema,
        detail: { summary: 'Start placing random orders through the gateway (or change the rate of a run)', tags },
      },
    )
    .delete('/load', () => ctx.load.stop(), { detail: { summary: 'Stop placing orders', tags } });
}
