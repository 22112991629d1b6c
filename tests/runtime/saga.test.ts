import { afterAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, defineSaga, tell, type InspectionEvent, type MailroomNode, type SagaContext } from '../../runtime/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

/**
 * A participant whose behaviour each test sets: `configure {mode, undoFailures, retryAfterMs, commitDrops}` then the
 * saga's `do`/`undo`/`commit`. Modes: ok → step.done, reject → step.rejected, silent → no reply, flaky → retryable
 * failure until attempt 2, down → a retryable failure every time, later → "retry after `retryAfterMs`" until attempt
 * 3, late → no answer to attempt 1, then (on attempt 2) attempt 1's late rejection followed by attempt 2's success.
 * `undoFailures` undos fail first (saying "retry after" when `retryAfterMs` is set); `commitDrops` commits are lost,
 * the next `commitRefusals` are refused.
 */
type PartContext = {
  mode: string;
  undoFailures: number;
  retryAfterMs: number;
  commitDrops: number;
  commitRefusals: number;
  did: number;
  undid: number;
  undoTries: number;
  commitTries: number;
  seen: string[];
  /** When each `do` and `undo` arrived (ms since the epoch). */
  doAt: number[];
  undoAt: number[];
};
const stampDo: any = assign({ doAt: ({ context }: { context: PartContext }) => [...context.doAt, Date.now()] });
const stampUndo: any = assign({ undoAt: ({ context }: { context: PartContext }) => [...context.undoAt, Date.now()] });
const participant = defineActor(
  'part',
  setup({
    types: {} as { context: PartContext; events: any },
  }).createMachine({
    context: { mode: 'ok', undoFailures: 0, retryAfterMs: 0, commitDrops: 0, commitRefusals: 0, did: 0, undid: 0, undoTries: 0, commitTries: 0, seen: [], doAt: [], undoAt: [] },
    on: {
      configure: {
        actions: assign(({ event }) => ({ mode: event.mode, undoFailures: event.undoFailures ?? 0, retryAfterMs: event.retryAfterMs ?? 0, commitDrops: event.commitDrops ?? 0, commitRefusals: event.commitRefusals ?? 0 })),
      },
      do: [
        { guard: ({ context }) => context.mode === 'silent', actions: [stampDo, assign({ seen: ({ context, event }) => [...context.seen, event.commandId] })] },
        {
          guard: ({ context }) => context.mode === 'reject',
          actions: [stampDo, tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'rejected on purpose' }))],
        },
        {
          guard: ({ context }) => context.mode === 'down',
          actions: [stampDo, tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'no answer from upstream', retryable: true }))],
        },
        {
          guard: ({ context, event }) => context.mode === 'flaky' && !String(event.commandId).endsWith('/2'),
          actions: [stampDo, tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'busy', retryable: true }))],
        },
        {
          guard: ({ context }) => context.mode === 'later' && context.doAt.length < 2,
          actions: [
            stampDo,
            tell(
              ({ event }) => event.replyTo,
              ({ context, event }) => ({ type: 'step.rejected', commandId: event.commandId, reason: 'breaker open', retryable: true, retryAfterMs: context.retryAfterMs }),
            ),
          ],
        },
        { guard: ({ context, event }) => context.mode === 'late' && String(event.commandId).endsWith('/1'), actions: stampDo },
        {
          guard: ({ context }) => context.mode === 'late',
          actions: [
            stampDo,
            assign({ did: ({ context }) => context.did + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.rejected', commandId: String(event.commandId).replace(/\/\d+$/, '/1'), reason: 'late failure of attempt 1' })),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.done', commandId: event.commandId, token: `t-${event.commandId}` })),
          ],
        },
        {
          actions: [
            stampDo,
            assign({ did: ({ context }) => context.did + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.done', commandId: event.commandId, token: `t-${event.commandId}` })),
          ],
        },
      ],
      undo: [
        {
          guard: ({ context }) => context.undoTries < context.undoFailures,
          actions: [
            stampUndo,
            assign({ undoTries: ({ context }) => context.undoTries + 1 }),
            tell(
              ({ event }) => event.replyTo,
              ({ context, event }) => ({
                type: 'step.undoFailed',
                commandId: event.commandId,
                reason: 'still down',
                ...(context.retryAfterMs ? { retryable: true, retryAfterMs: context.retryAfterMs } : {}),
              }),
            ),
          ],
        },
        {
          actions: [
            stampUndo,
            assign({ undid: ({ context }) => context.undid + 1, undoTries: ({ context }) => context.undoTries + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.undone', commandId: event.commandId })),
          ],
        },
      ],
      // Idempotent, as a participant's commit must be: a repeat is acknowledged again and changes nothing.
      commit: [
        { guard: ({ context }) => context.commitTries < context.commitDrops, actions: assign({ commitTries: ({ context }) => context.commitTries + 1 }) },
        {
          guard: ({ context }) => context.commitTries < context.commitDrops + context.commitRefusals,
          actions: [
            assign({ commitTries: ({ context }) => context.commitTries + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.commitFailed', commandId: event.commandId, reason: 'nothing to commit' })),
          ],
        },
        {
          actions: [
            assign({ did: ({ context }) => (context.did >= 100 ? context.did : context.did + 100), commitTries: ({ context }) => context.commitTries + 1 }),
            tell(({ event }) => event.replyTo, ({ event }) => ({ type: 'step.committed', commandId: event.commandId })),
          ],
        },
      ],
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
    // Waits out "retry after" answers for up to 5 s without using up its 2 attempts.
    step('bookB', 'b', { retry: { maxAttempts: 2, backoffMs: 50, retryAfterBudgetMs: 5_000 } }),
    step('bookC', 'c'),
  ],
  compensation: { maxAttempts: 3, baseBackoffMs: 30, timeoutMs: 400 },
  completion: [{ name: 'commitA', command: (d) => ({ to: `t/part/${d.id}-a`, event: { type: 'commit' } }), succeeded: 'step.committed', failed: 'step.commitFailed' }],
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

/** Compensations that wait out "retry after" answers for 775 ms at most, then count them: 2 attempts. */
const boundedSaga = defineSaga<Data>({
  name: 'bounded',
  steps: [step('bookA', 'a'), step('bookB', 'b')],
  compensation: { maxAttempts: 2, baseBackoffMs: 30, timeoutMs: 400, retryAfterBudgetMs: 775 },
});

const prefix = testPrefix('saga');
let node: MailroomNode;
/** Every inspection event of the node, as the panel would get them. */
const inspected: InspectionEvent[] = [];
afterAll(async () => {
  await node?.stop();
  await cleanupPrefix(prefix);
});

async function run(
  id: string,
  modes: Record<string, { mode: string; undoFailures?: number; retryAfterMs?: number; commitDrops?: number; commitRefusals?: number }>,
  type = 'trip',
) {
  node ??= await createNode({ service: 't', actors: [participant, saga.definition, patientSaga.definition, unsureSaga.definition, boundedSaga.definition], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4, inspect: (e) => void inspected.push(e) });
  for (const [part, m] of Object.entries(modes)) await node.ask(`t/part/${id}-${part}`, { type: 'configure', ...m });
  await node.send(`t/${type}/${id}`, { type: 'saga.start', data: { id } }, { id: `start:${id}` });
  return node;
}
const finished = (n: MailroomNode, id: string, states = ['completed', 'compensated', 'failedNeedsOperator'], type = id === 'dup' ? 'patient' : 'trip') =>
  n.waitFor<SagaContext<Data>>(`t/${type}/${id}`, (v) => states.includes(v.state), { timeoutMs: 4_000 });
const phases = (ctx: SagaContext<Data>) => ctx.log.map((l) => `${l.step}:${l.phase}`);
const part = async (n: MailroomNode, id: string) => (await n.read(`t/part/${id}`))?.context;

describe('defineSaga', () => {
  it('should draw one state per step, per compensation and per completion command, plus completed, compensated and failedNeedsOperator', () => {
    expect(Object.keys(saga.machine.config.states!)).toEqual([
      'idle', 'bookA', 'undoBookA', 'bookB', 'undoBookB', 'bookC', 'undoBookC', 'commitA', 'completed', 'compensated', 'failedNeedsOperator',
    ]);
  });

  it('should run every step in order and complete', async () => {
    const n = await run('happy', {});
    const v = await finished(n, 'happy');
    expect(v.state).toBe('completed');
    expect(phases(v.context)).toEqual([
      'bookA:started', 'bookA:succeeded', 'bookB:started', 'bookB:succeeded', 'bookC:started', 'bookC:succeeded', 'commitA:started', 'commitA:succeeded', 'saga:completed',
    ]);
    expect(v.context.data.tokenA).toBe('t-happy/bookA/1');
    // completed only once the commit was acknowledged: it has taken effect by now
    expect((await part(n, 'happy-a'))?.did).toBe(101);
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

  it('finding 12: should wait at least retryAfterMs before retrying a compensation, and not park on failures that say "retry later"', async () => {
    // Four refusals with retry-after 250 ms, more than the 3 attempts the compensation has: waiting them out must not use them up.
    const n = await run('later', { c: { mode: 'reject' }, b: { mode: 'ok', undoFailures: 4, retryAfterMs: 250 } });
    const v = await finished(n, 'later', ['compensated', 'failedNeedsOperator']);
    expect(v.state).toBe('compensated');
    const b = await part(n, 'later-b');
    expect(b?.undid).toBe(1);
    expect(b?.undoAt).toHaveLength(5);
    const retries = v.context.log.filter((l) => l.step === 'undoBookB' && l.phase === 'retrying');
    expect(retries).toHaveLength(4);
    // each new try reached the participant no sooner than 250 ms after the refusal that asked for the wait
    retries.forEach((r, k) => expect(b!.undoAt[k + 1]! - r.at).toBeGreaterThanOrEqual(250));
  });

  it('finding 12: should wait at least retryAfterMs before retrying a step, without using up its attempts within its retry-after budget', async () => {
    // bookB has 2 attempts; the first two tries are answered "breaker open, retry after 300 ms", the third succeeds.
    const n = await run('laterB', { b: { mode: 'later', retryAfterMs: 300 } });
    const v = await finished(n, 'laterB');
    expect(v.state).toBe('completed');
    const b = await part(n, 'laterB-b');
    expect(b?.doAt).toHaveLength(3);
    const retries = v.context.log.filter((l) => l.step === 'bookB' && l.phase === 'retrying');
    expect(retries).toHaveLength(2);
    retries.forEach((r, k) => expect(b!.doAt[k + 1]! - r.at).toBeGreaterThanOrEqual(300));
  });

  it('finding 12: should count "retry after" answers as attempts once the retry-after budget is spent, and then park', async () => {
    const n = await run('bounded', { b: { mode: 'reject' }, a: { mode: 'ok', undoFailures: 99, retryAfterMs: 300 } }, 'bounded');
    const v = await finished(n, 'bounded', ['compensated', 'failedNeedsOperator'], 'bounded');
    expect(v.state).toBe('failedNeedsOperator');
    expect(v.context.parkedAt).toBe('undoBookA');
    // answered at about 0, 300, 600 and 900 ms: two 300 ms waits end within the 775 ms budget (free), the next two
    // do not, and use up the 2 attempts
    expect((await part(n, 'bounded-a'))?.undoAt).toHaveLength(4);
    expect(v.context.log.at(-1)?.reason).toBe('compensation failed 4 times: still down');
  });

  it('finding 12: should ignore a late failure of an earlier attempt once a newer attempt is under way', async () => {
    // Attempt 1 of bookB gets no answer in time; attempt 2 is sent; then attempt 1's rejection arrives, then attempt 2's success.
    const n = await run('lateB', { b: { mode: 'late' } });
    const v = await finished(n, 'lateB');
    expect(v.context.reason).toBe('');
    expect(v.state).toBe('completed');
    expect(phases(v.context)).toContain('bookB:succeeded');
    expect(phases(v.context)).not.toContain('bookB:failed');
    expect((await part(n, 'lateB-b'))?.undid ?? 0).toBe(0);
    // the late reply shows in the panel as ignored
    expect(inspected.filter((e) => e.type === 'saga.replyIgnored' && e.sagaId === 'lateB')).toEqual([
      expect.objectContaining({ step: 'bookB', reply: 'step.rejected', commandId: 'lateB/bookB/1', reason: expect.stringContaining('lateB/bookB/2') }),
    ]);
  });

  it('finding 12: should retry the completion commit until the participant acknowledges it, and only then complete', async () => {
    // The first commit is lost (the participant drops it): the saga must send it again.
    const n = await run('commitLost', { a: { mode: 'ok', commitDrops: 1 } });
    const v = await finished(n, 'commitLost');
    expect(v.state).toBe('completed');
    const p = phases(v.context);
    expect(p.slice(p.indexOf('bookC:succeeded'))).toEqual(['bookC:succeeded', 'commitA:started', 'commitA:retrying', 'commitA:succeeded', 'saga:completed']);
    const a = await part(n, 'commitLost-a');
    expect(a?.commitTries).toBe(2);
    expect(a?.did).toBe(101);
  });

  it('should park on a refused completion command, resume it on saga.retry, and close it completed on saga.resolve', async () => {
    const n = await run('commitRefused', { a: { mode: 'ok', commitRefusals: 1 } });
    const parked = await finished(n, 'commitRefused', ['failedNeedsOperator', 'completed']);
    expect(parked.state).toBe('failedNeedsOperator');
    expect(parked.context.parkedAt).toBe('commitA');
    expect(parked.context.reason).toBe('commitA failed: nothing to commit');
    await n.send('t/trip/commitRefused', { type: 'saga.retry' });
    const retried = await finished(n, 'commitRefused', ['completed']);
    expect(retried.context.reason).toBe('');
    expect((await part(n, 'commitRefused-a'))?.did).toBe(101);

    const m = await run('commitResolved', { a: { mode: 'ok', commitRefusals: 99 } });
    await finished(m, 'commitResolved', ['failedNeedsOperator']);
    await m.send('t/trip/commitResolved', { type: 'saga.resolve', note: 'committed by hand' });
    const resolved = await finished(m, 'commitResolved', ['completed']);
    expect(resolved.context.reason).toBe('commitA failed: nothing to commit; resolved by operator: committed by hand');
    expect(resolved.context.status).toBe('completed');
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
