import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, defineSaga, tell, type MailroomNode, type SagaContext } from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

/**
 * A participant whose behaviour each test sets: `configure {mode, undoFailures}` then the saga's `do`/`undo`.
 * Modes: ok → step.done, reject → step.rejected, silent → no reply, flaky → retryable failure until attempt 2,
 * down → a retryable failure every time.
 */
const participant = defineActor(
  'part',
  setup({
    types: {} as {
      context: { mode: string; undoFailures: number; did: number; undid: number; undoTries: number; seen: string[] };
      events: any;
    },
  }).createMachine({
    context: { mode: 'ok', undoFailures: 0, did: 0, undid: 0, undoTries: 0, seen: [] },
    on: {
      configure: { actions: assign(({ event }) => ({ mode: event.mode, undoFailures: event.undoFailures ?? 0 })) },
      do: [
        { guard: ({ context }) => context.mode === 'silent', actions: assign({ seen: ({ context, event }) => [...context.seen, event.commandId] }) },
        {
          guard: ({ context }) => context.mode === 'reject',
          actions: tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'rejected on purpose' })),
        },
        {
          guard: ({ context }) => context.mode === 'down',
          actions: tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'no answer from upstream', retryable: true })),
        },
        {
          guard: ({ context, event }) => context.mode === 'flaky' && !String(event.commandId).endsWith('/2'),
          actions: tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'busy', retryable: true })),
        },
        {
          actions: [
            assign({ did: ({ context }) => context.did + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.done', commandId: event.commandId, token: `t-${event.commandId}` })),
          ],
        },
      ],
      undo: [
        {
          guard: ({ context }) => context.undoTries < context.undoFailures,
          actions: [
            assign({ undoTries: ({ context }) => context.undoTries + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.undoFailed', commandId: event.commandId, reason: 'still down' })),
          ],
        },
        {
          actions: [
            assign({ undid: ({ context }) => context.undid + 1, undoTries: ({ context }) => context.undoTries + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.undone', commandId: event.commandId })),
          ],
        },
      ],
      commit: { actions: assign({ did: ({ context }) => context.did + 100 }) },
    },
  }),
);

type Data = { id: string; tokenA?: string };
const step = (name: string, part: string, extra: Partial<Parameters<typeof defineSaga<Data>>[0]['steps'][number]> = {}) => ({
  name,
  command: (d: Data) => ({ to: `t/part/${d.id}-${part}`, event: { type: 'do' } }),
  succeeded: 'step.done',
  failed: 'step.rejected',
  compensation: { command: (d: Data) => ({ to: `t/part/${d.id}-${part}`, event: { type: 'undo' } }), succeeded: 'step.undone', failed: 'step.undoFailed' },
  timeoutMs: 400,
  ...extra,
});

const saga = defineSaga<Data>({
  name: 'trip',
  steps: [
    step('bookA', 'a', { onSuccess: (_d, reply) => ({ tokenA: String(reply.token) }) }),
    step('bookB', 'b', { retry: { maxAttempts: 2, backoffMs: 50 } }),
    step('bookC', 'c'),
  ],
  compensation: { maxAttempts: 3, baseBackoffMs: 30, timeoutMs: 400 },
  onCompleted: (d) => [{ to: `t/part/${d.id}-a`, event: { type: 'commit' } }],
});

/** The same trip with long timeouts, for tests that must not race a timer. */
const patientSaga = defineSaga<Data>({
  name: 'patient',
  steps: [step('bookA', 'a', { timeoutMs: 30_000 }), step('bookB', 'b', { timeoutMs: 30_000 }), step('bookC', 'c', { timeoutMs: 30_000 })],
});

/** bookB's retryable failures leave its outcome unknown (think: a card processor that did not answer in time). */
const unsureSaga = defineSaga<Data>({
  name: 'unsure',
  steps: [step('bookA', 'a'), step('bookB', 'b', { retry: { maxAttempts: 2, backoffMs: 20 }, uncertain: (reply) => reply.retryable === true }), step('bookC', 'c')],
  compensation: { maxAttempts: 3, baseBackoffMs: 30, timeoutMs: 400 },
});

const prefix = testPrefix('saga');
let node: MailroomNode;
afterAll(async () => {
  await node?.stop();
  await cleanupPrefix(prefix);
});

async function run(id: string, modes: Record<string, { mode: string; undoFailures?: number }>, type = 'trip') {
  node ??= await createNode({ service: 't', actors: [participant, saga.definition, patientSaga.definition, unsureSaga.definition], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4 });
  for (const [part, m] of Object.entries(modes)) await node.ask(`t/part/${id}-${part}`, { type: 'configure', ...m });
  await node.send(`t/${type}/${id}`, { type: 'saga.start', data: { id } }, { id: `start:${id}` });
  return node;
}
const finished = (n: MailroomNode, id: string, states = ['completed', 'compensated', 'failedNeedsOperator'], type = id === 'dup' ? 'patient' : 'trip') =>
  n.waitFor<SagaContext<Data>>(`t/${type}/${id}`, (v) => states.includes(v.state), { timeoutMs: 4_000 });
const phases = (ctx: SagaContext<Data>) => ctx.log.map((l) => `${l.step}:${l.phase}`);
const part = async (n: MailroomNode, id: string) => (await n.read(`t/part/${id}`))?.context;

describe('defineSaga', () => {
  it('should draw one state per step and per compensation, plus completed, compensated and failedNeedsOperator', () => {
    expect(Object.keys(saga.machine.config.states!)).toEqual([
      'idle', 'bookA', 'undoBookA', 'bookB', 'undoBookB', 'bookC', 'undoBookC', 'completed', 'compensated', 'failedNeedsOperator',
    ]);
  });

  it('should run every step in order and complete', async () => {
    const n = await run('happy', {});
    const v = await finished(n, 'happy');
    expect(v.state).toBe('completed');
    expect(phases(v.context)).toEqual(['bookA:started', 'bookA:succeeded', 'bookB:started', 'bookB:succeeded', 'bookC:started', 'bookC:succeeded', 'saga:completed']);
    expect(v.context.data.tokenA).toBe('t-happy/bookA/1');
    await waitFor('the completion command', async () => (await part(n, 'happy-a'))?.did === 101);
  });

  it('should compensate only the steps before a rejected one, in reverse order', async () => {
    const n = await run('rejC', { c: { mode: 'reject' } });
    const v = await finished(n, 'rejC');
    expect(v.state).toBe('compensated');
    expect(v.context.reason).toBe('rejected on purpose');
    expect(v.context.failedStep).toBe('bookC');
    expect(phases(v.context).slice(5)).toEqual(['bookC:failed', 'undoBookB:compensating', 'undoBookB:compensated', 'undoBookA:compensating', 'undoBookA:compensated', 'saga:compensated']);
    expect((await part(n, 'rejC-c'))?.undid ?? 0).toBe(0);
    expect((await part(n, 'rejC-b'))?.undid).toBe(1);
    expect((await part(n, 'rejC-a'))?.undid).toBe(1);
  });

  it('should compensate nothing when the first step is rejected', async () => {
    const n = await run('rejA', { a: { mode: 'reject' } });
    const v = await finished(n, 'rejA');
    expect(v.state).toBe('compensated');
    expect(phases(v.context)).toEqual(['bookA:started', 'bookA:failed', 'saga:compensated']);
  });

  it('should retry a step on a retryable failure', async () => {
    const n = await run('flakyB', { b: { mode: 'flaky' } });
    const v = await finished(n, 'flakyB');
    expect(v.state).toBe('completed');
    expect(phases(v.context)).toContain('bookB:retrying');
    expect((await part(n, 'flakyB-b'))?.did).toBe(1);
  });

  it('should retry a silent step, then treat the timeout as a failure that may have taken effect', async () => {
    const n = await run('silentB', { b: { mode: 'silent' } });
    const v = await finished(n, 'silentB');
    expect(v.state).toBe('compensated');
    expect(v.context.reason).toBe('bookB timed out after 2 × 400 ms');
    const p = phases(v.context);
    expect(p).toContain('bookB:retrying');
    expect(p.slice(p.indexOf('bookB:timedOut'))).toEqual(['bookB:timedOut', 'undoBookB:compensating', 'undoBookB:compensated', 'undoBookA:compensating', 'undoBookA:compensated', 'saga:compensated']);
    // two attempts reached the participant, each with its own command id
    expect((await part(n, 'silentB-b'))?.seen).toEqual(['silentB/bookB/1', 'silentB/bookB/2']);
  });

  it('should compensate a step whose failure leaves its outcome unknown, itself first, once its attempts are used up', async () => {
    const n = await run('unsureB', { b: { mode: 'down' } }, 'unsure');
    const v = await finished(n, 'unsureB', ['completed', 'compensated', 'failedNeedsOperator'], 'unsure');
    expect(v.state).toBe('compensated');
    const p = phases(v.context);
    expect(p.slice(p.indexOf('bookB:retrying'))).toEqual([
      'bookB:retrying', 'bookB:failed', 'undoBookB:compensating', 'undoBookB:compensated', 'undoBookA:compensating', 'undoBookA:compensated', 'saga:compensated',
    ]);
    expect((await part(n, 'unsureB-b'))?.undid).toBe(1);
  });

  it('should still treat a certain failure of an uncertain-capable step as one that took no effect', async () => {
    const n = await run('sureB', { b: { mode: 'reject' } }, 'unsure');
    const v = await finished(n, 'sureB', ['completed', 'compensated', 'failedNeedsOperator'], 'unsure');
    expect(v.state).toBe('compensated');
    const p = phases(v.context);
    expect(p.slice(p.indexOf('bookB:failed'))).toEqual(['bookB:failed', 'undoBookA:compensating', 'undoBookA:compensated', 'saga:compensated']);
    expect((await part(n, 'sureB-b'))?.undid ?? 0).toBe(0);
  });

  it('should retry a failing compensation with backoff, park it for an operator, and resume on saga.retry', async () => {
    const n = await run('park', { c: { mode: 'reject' }, b: { mode: 'ok', undoFailures: 5 } });
    const parked = await finished(n, 'park', ['failedNeedsOperator', 'compensated']);
    expect(parked.state).toBe('failedNeedsOperator');
    expect(parked.context.parkedAt).toBe('undoBookB');
    expect(phases(parked.context).filter((p) => p === 'undoBookB:retrying')).toHaveLength(2);
    expect(parked.context.log.at(-1)?.reason).toContain('compensation failed 3 times: still down');
    await n.send('t/trip/park', { type: 'saga.retry' });
    // two more failures (tries 4 and 5) then it succeeds on the 6th
    const v = await finished(n, 'park', ['compensated']);
    expect((await part(n, 'park-b'))?.undid).toBe(1);
    expect((await part(n, 'park-a'))?.undid).toBe(1);
    expect(v.context.status).toBe('compensated');
  });

  it('should close a parked saga by hand on saga.resolve', async () => {
    const n = await run('resolve', { c: { mode: 'reject' }, b: { mode: 'ok', undoFailures: 99 } });
    await finished(n, 'resolve', ['failedNeedsOperator']);
    await n.send('t/trip/resolve', { type: 'saga.resolve', note: 'refunded by phone' });
    const v = await finished(n, 'resolve', ['compensated']);
    expect(v.context.reason).toContain('resolved by operator: refunded by phone');
  });

  it('should ignore a repeated or stray reply', async () => {
    const n = await run('dup', { b: { mode: 'silent' } }, 'patient');
    await n.waitFor('t/patient/dup', (v) => v.state === 'bookB.sending');
    // a stray success for another step, and a success for A again: neither may move the saga
    await n.send('t/patient/dup', { type: 'step.done', commandId: 'dup/bookA/1' });
    await n.send('t/patient/dup', { type: 'step.done', commandId: 'other/bookB/1' });
    const v = await n.ask<SagaContext<Data>>('t/patient/dup', { type: 'noop' });
    expect(v.state).toBe('bookB.sending');
    expect(phases(v.context).filter((p) => p === 'bookA:succeeded')).toHaveLength(1);
    await n.send('t/patient/dup', { type: 'step.done', commandId: 'dup/bookB/1' });
    const done = await finished(n, 'dup', ['completed']).catch(() => null);
    expect(done === null ? [] : phases((done as { context: SagaContext<Data> }).context)).toContain('bookB:succeeded');
  });
});
