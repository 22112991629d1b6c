/**
 * The load controller: start (or re-rate) the order generator, read its counts, stop it.
 */
import { Elysia } from 'elysia';
import { answers } from '../../runtime/http/index.ts';
import type { ControlContext } from './context.ts';
import { LoadBodySchema, LoadStatusSchema } from './protocol.ts';

const tags = ['load'];

export function loadRoutes(ctx: ControlContext) {
  return new Elysia({ name: 'control:load' })
    .get('/load', () => ctx.load.status(), {
      response: { 200: LoadStatusSchema },
      detail: { summary: 'The order generator: running, rate, placed / accepted / failed (by code)', tags, responses: answers({ 200: 'The generator' }) },
    })
    .post(
      '/load',
      ({ body, set }) => {
        set.status = 202;
        return ctx.load.start(body);
      },
      {
        body: LoadBodySchema,
        response: { 202: LoadStatusSchema },
        detail: { summary: 'Start placing random orders through the gateway (or change the rate of a run)', tags, responses: answers({ 202: 'Running: orders are being placed' }) },
      },
    )
    .delete('/load', () => ctx.load.stop(), { response: { 200: LoadStatusSchema }, detail: { summary: 'Stop placing orders', tags, responses: answers({ 200: 'Stopped: the run’s counts' }) } });
}
