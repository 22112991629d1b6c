/**
 * The order service's saga operator API in-process (`app.handle`) on a real node: list by status with paging, one
 * saga with its log, retry and resolve of a parked saga (409 for any other), errors that name the field. The routes
 * are generic over the saga they serve; here they serve a two-step saga whose participant each test scripts, so a
 * saga can be made to park in a second (the order saga's compensations back off for ~40 s before they park).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createClient } from 'redis';
import { createNode, defineActor, defineSaga, tell, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp, sagaRoutes } from '../../runtime/http/index.ts';
import { partitionKeys } from '../../runtime/keys.ts';
import { FULFILLMENT_SAGA_WORDS } from '../../services/order/saga-protocol.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

/** A participant: `configure {mode, undoFailures}`, then `do` answers done / rejected / nothing, `undo` fails n times. */
const participant = defineActor(
  'part',
  setup({ types: {} as { context: { mode: string; undoFailures: number; undid: number }; events: any } }).createMachine({
    context: { mode: 'ok', undoFailures: 0, undid: 0 },
    on: {
      configure: { actions: assign(({ event }) => ({ mode: event.mode, undoFailures: event.undoFailures ?? 0 })) },
      do: [
        { guard: ({ context }) => context.mode === 'silent' },
        {
          guard: ({ context }) => context.mode === 'reject',
          actions: tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'out of widgets' })),
        },
        { actions: tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.done', commandId: event.commandId })) },
      ],
      undo: [
        {
          guard: ({ context }) => context.undoFailures > 0,
          actions: [
            assign({ undoFailures: ({ context }) => context.undoFailures - 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.undoFailed', commandId: event.commandId, reason: 'warehouse offline' })),
          ],
        },
        {
          actions: [
            assign({ undid: ({ context }) => context.undid + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.undone', commandId: event.commandId })),
          ],
        },
      ],
    },
  }),
);

type Data = { orderId: string };
const step = (name: string, part: string) => ({
  name,
  command: (d: Data) => ({ to: `order/part/${d.orderId}-${part}`, event: { type: 'do' } }),
  succeeded: 'step.done',
  failed: 'step.rejected',
  compensation: { command: (d: Data) => ({ to: `order/part/${d.orderId}-${part}`, event: { type: 'undo' } }), succeeded: 'step.undone', failed: 'step.undoFailed' },
  // Long: a saga told nothing stays running for the whole file.
  timeoutMs: 60_000,
});
const saga = defineSaga<Data>({
  name: 'fulfillment',
  steps: [step('reserveThing', 'a'), step('chargeThing', 'b')],
  compensation: { maxAttempts: 2, baseBackoffMs: 20, timeoutMs: 60_000 },
});

const prefix = testPrefix('saga-routes');
let node: MailroomNode;
let app: ReturnType<typeof build>;
const build = (n: MailroomNode) => createServiceApp({ name: 'order', log: () => {} }).use(sagaRoutes(n, saga, FULFILLMENT_SAGA_WORDS));

const request = (method: string, path: string, body?: unknown) =>
  app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
const read = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

/** Starts saga `id` with its participants scripted, and waits until it reached `until` (a machine state). */
async function start(id: string, modes: { a?: object; b?: object }, until: (state: string) => boolean) {
  for (const [part, mode] of Object.entries(modes)) await node.ask(`order/part/${id}-${part}`, { type: 'configure', ...mode });
  await node.send(`order/fulfillment/${id}`, { type: 'saga.start', data: { orderId: id } }, { id: `start:${id}` });
  await node.waitFor(`order/fulfillment/${id}`, (v) => until(v.state), { timeoutMs: 4_000 });
}

beforeAll(async () => {
  node = await createNode({ service: 'order', actors: [participant, saga.definition], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  app = build(node);
  await Promise.all([
    start('done-1', {}, (s) => s === 'completed'),
    start('undone-1', { b: { mode: 'reject' } }, (s) => s === 'compensated'),
    start('running-1', { b: { mode: 'silent' } }, (s) => s.startsWith('chargeThing')),
    // Undo of reserveThing fails twice (its limit): parked, and it succeeds when retried. 99 failures: it never would.
    start('parked-1', { b: { mode: 'reject' }, a: { undoFailures: 2 } }, (s) => s === 'failedNeedsOperator'),
    start('parked-2', { b: { mode: 'reject' }, a: { undoFailures: 99 } }, (s) => s === 'failedNeedsOperator'),
    start('parked-3', { b: { mode: 'reject' }, a: { undoFailures: 2 } }, (s) => s === 'failedNeedsOperator'),
    start('parked-4', { b: { mode: 'reject' }, a: { undoFailures: 99 } }, (s) => s === 'failedNeedsOperator'),
  ]);
}, 15_000);
afterAll(async () => {
  await node?.stop();
  await cleanupPrefix(prefix);
});

describe('saga operator routes', () => {
  it('should list sagas by status, each with its state and reason', async () => {
    const all = await read(await request('GET', '/sagas?limit=100'));
    expect(all.status).toBe(200);
    const byId = Object.fromEntries(all.body.items.map((s: any) => [s.orderId, s]));
    expect(Object.keys(byId).sort()).toEqual(['done-1', 'parked-1', 'parked-2', 'parked-3', 'parked-4', 'running-1', 'undone-1']);
    expect(byId['done-1']).toMatchObject({ saga: 'order/fulfillment/done-1', status: 'completed', step: 'completed', finishedAt: expect.any(Number) });
    expect(byId['undone-1']).toMatchObject({ status: 'compensated', reason: 'out of widgets', failedStep: 'chargeThing' });
    expect(byId['running-1']).toMatchObject({ status: 'running', step: 'chargeThing', finishedAt: null });
    expect(byId['running-1'].state).toBeUndefined(); // one field says where a saga is: status (and step)
    expect(byId['parked-2']).toMatchObject({ step: 'failedNeedsOperator', status: 'parked', parkedAt: 'undoReserveThing', failedStep: 'chargeThing' });
    expect(all.body.items[0].log).toBeUndefined(); // a list shows summaries; the log is on the detail

    const statuses = { running: ['running-1'], completed: ['done-1'], compensated: ['undone-1'], parked: ['parked-1', 'parked-2', 'parked-3', 'parked-4'], compensating: [] };
    for (const [status, ids] of Object.entries(statuses)) {
      const page = await read(await request('GET', `/sagas?status=${status}`));
      expect(`${status}: ${page.body.items.map((s: any) => s.orderId).sort().join(',')}`).toBe(`${status}: ${ids.join(',')}`);
    }
  });

  it('should page through every saga once with the cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await read(await request('GET', `/sagas?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((s: any) => s.orderId));
      cursor = page.body.cursor;
      if (!cursor) break;
    }
    expect(cursor).toBeNull();
    expect(seen.sort()).toEqual(['done-1', 'parked-1', 'parked-2', 'parked-3', 'parked-4', 'running-1', 'undone-1']);
  });

  it('should show one saga with its data and its log in order, with timings and the reason', async () => {
    const { status, body } = await read(await request('GET', '/sagas/undone-1'));
    expect(status).toBe(200);
    expect(body).toMatchObject({ orderId: 'undone-1', status: 'compensated', reason: 'out of widgets', failedStep: 'chargeThing', data: { orderId: 'undone-1' } });
    expect(body.log.map((l: any) => `${l.step}:${l.phase}`)).toEqual([
      'reserveThing:started',
      'reserveThing:succeeded',
      'chargeThing:started',
      'chargeThing:failed',
      'undoReserveThing:compensating',
      'undoReserveThing:compensated',
      'saga:compensated',
    ]);
    expect(body.log[3]).toMatchObject({ reason: 'out of widgets', attempt: 1, durationMs: expect.any(Number) });
    for (const entry of body.log) expect(entry.sinceStartMs).toBe(entry.at - body.startedAt);
    expect(body.durationMs).toBe(body.finishedAt - body.startedAt);
  });

  it('should answer 404 for an unknown saga, and 422 or 400 naming what is wrong with a request', async () => {
    expect(await read(await request('GET', '/sagas/nobody'))).toMatchObject({ status: 404, body: { code: 'SAGA_NOT_FOUND', message: 'no saga for order nobody' } });
    expect((await read(await request('POST', '/sagas/nobody/retry'))).status).toBe(404);
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/sagas?status=lost', undefined, 422, 'query.status'],
      ['GET', '/sagas?limit=0', undefined, 422, 'query.limit'],
      ['GET', '/sagas?limit=101', undefined, 422, 'query.limit'],
      ['GET', '/sagas?cursor=nonsense', undefined, 400, 'cursor'],
      ['GET', `/sagas/${'x'.repeat(70)}`, undefined, 422, 'params.orderId'],
      ['POST', '/sagas/parked-4/resolve', {}, 422, 'body.note is required'],
      ['POST', '/sagas/parked-4/resolve', { note: '' }, 422, 'body.note'],
    ];
    for (const [method, path, payload, status, field] of cases) {
      const res = await read(await request(method, path, payload));
      expect(`${method} ${path} → ${res.status}`).toBe(`${method} ${path} → ${status}`);
      expect(res.body.message).toContain(field);
    }
    // Nothing above touched the parked saga.
    expect((await read(await request('GET', '/sagas/parked-4'))).body.status).toBe('parked');
  });

  it('should refuse to retry or resolve a saga that is not parked, with 409 naming its status', async () => {
    for (const [id, action, body] of [
      ['done-1', 'retry', undefined],
      ['undone-1', 'resolve', { note: 'x' }],
      ['running-1', 'retry', undefined],
      ['running-1', 'resolve', { note: 'x' }],
    ] as const) {
      const res = await read(await request('POST', `/sagas/${id}/${action}`, body));
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'SAGA_NOT_PARKED', details: { orderId: id } });
      expect(res.body.message).toContain('only a parked saga can be');
    }
    expect((await read(await request('GET', '/sagas/running-1'))).body.step).toBe('chargeThing');
  });

  it('should retry a parked saga’s compensation: it resumes and ends compensated, the undo done once', async () => {
    const res = await read(await request('POST', '/sagas/parked-1/retry'));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('compensating');
    expect(res.body.step).toBe('undoReserveThing');
    const done = await waitFor('parked-1 to be compensated', async () => {
      const view = (await read(await request('GET', '/sagas/parked-1'))).body;
      return view.status === 'compensated' ? view : null;
    });
    const phases = done.log.map((l: any) => `${l.step}:${l.phase}`);
    expect(phases.slice(phases.indexOf('undoReserveThing:parked'))).toEqual([
      'undoReserveThing:parked',
      'undoReserveThing:compensating',
      'undoReserveThing:compensated',
      'saga:compensated',
    ]);
    expect((await node.read('order/part/parked-1-a'))?.context.undid).toBe(1);
  });

  it('should let only one of two operators retrying at once win; the other gets 409', async () => {
    const results = await Promise.all([request('POST', '/sagas/parked-3/retry'), request('POST', '/sagas/parked-3/retry')].map(async (r) => (await r).status));
    expect(results.sort()).toEqual([200, 409]);
    await waitFor('parked-3 to be compensated', async () => (await read(await request('GET', '/sagas/parked-3'))).body.status === 'compensated');
  });

  it('should resolve a parked saga by hand: compensated, the note in its reason, and a second resolve is a 409', async () => {
    const res = await read(await request('POST', '/sagas/parked-2/resolve', { note: 'stock counted back by hand' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'compensated', step: 'compensated', failedStep: 'chargeThing' });
    expect(res.body.reason).toBe('out of widgets; resolved by operator: stock counted back by hand');
    expect(res.body.log.at(-1)).toMatchObject({ step: 'saga', phase: 'compensated', reason: res.body.reason });
    expect((await read(await request('POST', '/sagas/parked-2/resolve', { note: 'again' }))).status).toBe(409);
    expect((await node.read('order/part/parked-2-a'))?.context.undid).toBe(0);
  });

  it('should hand back a cursor rather than scan every saga for a rare status', async () => {
    // 6,000 finished sagas in the index (entries only: the list reads each match, and these match no filter below).
    const redis = createClient({ url: SHARED_REDIS });
    await redis.connect();
    try {
      for (const p of [0, 1]) {
        const entries = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`fulfillment/old-${p}-${i}`, 'completed']));
        await redis.hSet(partitionKeys(prefix, 'order', p).index, entries);
      }
      const running: string[] = [];
      let pages = 0;
      let cursor: string | null = null;
      do {
        const page = await read(await request('GET', `/sagas?status=running&limit=100${cursor ? `&cursor=${cursor}` : ''}`));
        expect(page.status).toBe(200);
        running.push(...page.body.items.map((s: any) => s.orderId));
        cursor = page.body.cursor;
        pages++;
      } while (cursor && pages < 100);
      expect(cursor).toBeNull();
      expect(pages).toBeGreaterThan(1); // no single request scanned all 6,000
      expect(running).toEqual(['running-1']);
    } finally {
      await redis.quit();
    }
  });

  it('should describe every route in its OpenAPI document', async () => {
    const spec = (await read(await request('GET', '/swagger/json'))).body;
    const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes).toEqual(expect.arrayContaining(['GET /sagas', 'GET /sagas/{orderId}', 'POST /sagas/{orderId}/retry', 'POST /sagas/{orderId}/resolve']));
    expect(spec.paths['/sagas/{orderId}/retry'].post.responses['409']).toBeDefined();
  });
});
