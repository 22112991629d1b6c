import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { SimulatedClock } from '../../runtime/index.ts';
import {
  BulkheadRejectedError,
  CircuitOpenError,
  createCircuitBreaker,
  TerminalError,
  UpstreamStatusError,
  type CircuitBreakerOptions,
} from '../../runtime/resilience/index.ts';
import { collector, deferred, flush } from './support.ts';
import { rejectionOf } from '../helpers/rejection.ts';

const START = 1_700_000_000_000;

function setup(overrides: Partial<CircuitBreakerOptions> = {}) {
  const clock = new SimulatedClock(START);
  const inspection = collector();
  const breaker = createCircuitBreaker({
    name: 'payment-provider',
    source: 'payment',
    clock,
    inspector: inspection.inspector,
    window: { kind: 'count', size: 20 },
    minimumCalls: 10,
    failureRateThreshold: 50,
    openWait: 30_000,
    halfOpenProbes: 3,
    ...overrides,
  });
  let downstreamCalls = 0;
  const succeed = (): Promise<unknown> =>
    breaker.execute(async () => {
      downstreamCalls++;
      return 'ok';
    });
  const fail = (error: unknown = new Error('provider down')): Promise<unknown> =>
    breaker
      .execute(async () => {
        downstreamCalls++;
        throw error;
      })
      .then(
        () => expect.unreachable('the call should have failed'),
        (thrown: unknown) => {
          if (thrown !== error) throw thrown;
        },
      );
  return { clock, inspection, breaker, succeed, fail, calls: () => downstreamCalls };
}

async function trip(subject: ReturnType<typeof setup>): Promise<void> {
  for (let i = 0; i < 10; i++) await subject.fail();
  expect(subject.breaker.state).toBe('open');
}

describe('CircuitBreaker', () => {
  it('should stay closed until the window holds the minimum number of calls', async () => {
    const subject = setup();
    expect(subject.breaker.stats()).toMatchObject({ state: 'closed', reason: 'closed: created', since: START, retryAfterMs: undefined });
    for (let i = 0; i < 9; i++) await subject.fail();
    expect(subject.breaker.state).toBe('closed');
    await subject.fail();
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('opened: 10 of 10 calls failed (100%) ≥ 50% within the last 20 calls');
  });

  it('should stay closed below the failure-rate threshold and open when it is reached', async () => {
    const subject = setup();
    for (let i = 0; i < 6; i++) await subject.succeed();
    for (let i = 0; i < 4; i++) await subject.fail();
    expect(subject.breaker.state).toBe('closed'); // 4 of 10 = 40 %
    await subject.fail(); // 5 of 11 = 45.5 %
    expect(subject.breaker.state).toBe('closed');
    await subject.fail(); // 6 of 12 = 50 %
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('opened: 6 of 12 calls failed (50%) ≥ 50% within the last 20 calls');
  });

  it('should judge a time window and say so in the reason', async () => {
    const subject = setup({ window: { kind: 'time', ms: 10_000, buckets: 10 }, minimumCalls: 20 });
    for (let i = 0; i < 8; i++) {
      await subject.succeed();
      subject.clock.advance(500);
    }
    for (let i = 0; i < 12; i++) await subject.fail();
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('opened: 12 of 20 calls failed (60%) ≥ 50% within 10 s');
  });

  it('should forget calls that fell out of the time window before judging', async () => {
    const subject = setup({ window: { kind: 'time', ms: 10_000, buckets: 10 }, minimumCalls: 10 });
    for (let i = 0; i < 9; i++) await subject.fail();
    subject.clock.advance(10_000);
    await subject.fail();
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().window).toMatchObject({ calls: 1, failures: 1 });
  });

  it('should reject without calling the downstream while open and report retryAfterMs', async () => {
    const subject = setup();
    await trip(subject);
    const before = subject.calls();
    subject.clock.advance(10_000);
    const error = await subject.breaker.execute(async () => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, state: 'open', retryAfterMs: 20_000, breaker: 'payment-provider' });
    expect(subject.calls()).toBe(before);
    expect(subject.inspection.of('breaker.rejected')).toEqual([
      { type: 'breaker.rejected', at: START + 10_000, source: 'payment', breaker: 'payment-provider', state: 'open', retryAfterMs: 20_000 },
    ]);
    expect(subject.breaker.stats().rejected).toBe(1);
  });

  it('should move to half-open when the wait has elapsed on the clock, not before', async () => {
    const subject = setup();
    await trip(subject);
    subject.clock.advance(29_999);
    expect(subject.breaker.state).toBe('open');
    subject.clock.advance(1);
    expect(subject.breaker.state).toBe('halfOpen');
    expect(subject.breaker.stats().reason).toBe('half-open: 30 s elapsed');
  });

  it('should let exactly K of 100 concurrent calls reach the downstream in half-open', async () => {
    const subject = setup({ halfOpenProbes: 3 });
    await trip(subject);
    subject.clock.advance(30_000);
    const gate = deferred();
    let reached = 0;
    const results = Array.from({ length: 100 }, () =>
      subject.breaker
        .execute(async () => {
          reached++;
          await gate.promise;
          return 'probe ok';
        })
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
    );
    await flush();
    expect(reached).toBe(3);
    gate.resolve();
    const settled = await Promise.all(results);
    expect(settled.filter((r) => 'value' in r)).toHaveLength(3);
    const rejected = settled.filter((r) => 'error' in r).map((r) => (r as { error: unknown }).error);
    expect(rejected).toHaveLength(97);
    for (const error of rejected) expect(error).toMatchObject({ name: 'CircuitOpenError', state: 'halfOpen', retryAfterMs: 0 });
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().reason).toBe('closed: 3 of 3 probes succeeded');
  });

  it('should reopen on a failed probe and wait again', async () => {
    const subject = setup();
    await trip(subject);
    subject.clock.advance(30_000);
    await subject.fail(new Error('still down'));
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('reopened: probe failed (Error: still down)');
    subject.clock.advance(29_999);
    expect(subject.breaker.state).toBe('open');
    subject.clock.advance(1);
    expect(subject.breaker.state).toBe('halfOpen');
  });

  it('should close after K good probes and judge a fresh window afterwards', async () => {
    const subject = setup();
    await trip(subject);
    subject.clock.advance(30_000);
    await subject.succeed();
    await subject.succeed();
    expect(subject.breaker.state).toBe('halfOpen');
    expect(subject.breaker.stats().probes).toEqual({ mode: 'first-failure', permitted: 3, admitted: 2, succeeded: 2, failed: 0, slow: 0 });
    await subject.succeed();
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().window).toMatchObject({ calls: 0, failures: 0 });
    for (let i = 0; i < 9; i++) await subject.fail();
    expect(subject.breaker.state).toBe('closed');
  });

  it('should grow the open wait on repeated trips when configured, up to its maximum, and start over after closing', async () => {
    const subject = setup({ openWait: { initialMs: 1_000, multiplier: 2, maxMs: 3_000 } });
    await trip(subject);
    const waits = [subject.breaker.stats().waitMs];
    for (let i = 0; i < 3; i++) {
      subject.clock.advance(waits.at(-1)! - 1);
      expect(subject.breaker.state).toBe('open');
      subject.clock.advance(1);
      expect(subject.breaker.state).toBe('halfOpen');
      await subject.fail();
      waits.push(subject.breaker.stats().waitMs);
    }
    expect(waits).toEqual([1_000, 2_000, 3_000, 3_000]);
    expect(subject.inspection.of('breaker.transition').filter((e) => e.to === 'open').map((e) => e.waitMs)).toEqual(waits);
    subject.clock.advance(3_000);
    for (let i = 0; i < 3; i++) await subject.succeed();
    expect(subject.breaker.state).toBe('closed');
    await trip(subject);
    expect(subject.breaker.stats().waitMs).toBe(1_000);
  });

  it('should hold forced-open until reset, rejecting every call and never probing', async () => {
    const subject = setup();
    subject.breaker.forceOpen();
    expect(subject.breaker.state).toBe('forcedOpen');
    expect(subject.breaker.stats().reason).toBe('forced open by operator');
    const error = await subject.breaker.execute(async () => 'never').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'CircuitOpenError', state: 'forcedOpen', retryAfterMs: 30_000 });
    subject.clock.advance(10 * 60_000);
    expect(subject.breaker.state).toBe('forcedOpen');
    expect(subject.calls()).toBe(0);
    subject.breaker.reset();
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().reason).toBe('closed: reset by operator');
    await subject.succeed();
    expect(subject.calls()).toBe(1);
  });

  it('should carry an operator note in the reason', () => {
    const subject = setup();
    subject.breaker.forceOpen('provider maintenance until 14:00');
    expect(subject.breaker.stats().reason).toBe('forced open by operator: provider maintenance until 14:00');
  });

  it('should pass every call and record nothing while disabled', async () => {
    const subject = setup();
    subject.breaker.disable();
    expect(subject.breaker.stats().reason).toBe('disabled by operator');
    for (let i = 0; i < 50; i++) await subject.fail();
    expect(subject.breaker.state).toBe('disabled');
    expect(subject.calls()).toBe(50);
    expect(subject.breaker.stats().window.calls).toBe(0);
    subject.breaker.reset();
    expect(subject.breaker.state).toBe('closed');
  });

  it('should count slow calls and open on the slow-call rate', async () => {
    const subject = setup({ slowCallDurationMs: 2_000, slowCallRateThreshold: 80 });
    for (let i = 0; i < 10; i++) {
      const gate = deferred();
      const call = subject.breaker.execute(() => gate.promise);
      subject.clock.advance(i < 8 ? 2_000 : 1_999);
      gate.resolve();
      await call;
    }
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('opened: 8 of 10 calls took ≥ 2 s (80%) ≥ 80% within the last 20 calls');
    const transition = subject.inspection.of('breaker.transition').at(-1)!;
    expect(transition).toMatchObject({ calls: 10, failureRate: 0, slowCallRate: 80 });
  });

  it('should reopen when a probe answers but too slowly', async () => {
    const subject = setup({ slowCallDurationMs: 2_000 });
    await trip(subject);
    subject.clock.advance(30_000);
    const gate = deferred();
    const probe = subject.breaker.execute(() => gate.promise);
    subject.clock.advance(3_200);
    gate.resolve();
    await probe;
    expect(subject.breaker.state).toBe('open');
    expect(subject.breaker.stats().reason).toBe('reopened: probe took 3.2 s ≥ 2 s');
  });

  it('should not count 4xx input errors against the dependency, but count 5xx and 429', async () => {
    const subject = setup();
    for (let i = 0; i < 20; i++) await subject.fail(new TerminalError('unknown SKU', { status: 404 }));
    for (let i = 0; i < 20; i++) await subject.fail(Object.assign(new Error('bad input'), { status: 422 }));
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().window).toMatchObject({ calls: 20, failures: 0 });
    for (let i = 0; i < 5; i++) await subject.fail(new UpstreamStatusError('payment-provider', 503));
    for (let i = 0; i < 5; i++) await subject.fail(Object.assign(new Error('slow down'), { status: 429 }));
    expect(subject.breaker.state).toBe('open');
  });

  it('should ignore bulkhead rejections and calls our own caller aborted', async () => {
    const subject = setup({ minimumCalls: 1 });
    for (let i = 0; i < 5; i++) await subject.fail(new BulkheadRejectedError('payment-provider', 'queue-full'));
    const controller = new AbortController();
    controller.abort();
    await subject.breaker.execute(() => Promise.reject(new Error('aborted')), controller.signal).catch(() => {});
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().window.calls).toBe(0);
  });

  it('should give a probe permit back when the probe is ignored, so half-open cannot get stuck', async () => {
    const subject = setup({ halfOpenProbes: 1 });
    await trip(subject);
    subject.clock.advance(30_000);
    await subject.fail(new BulkheadRejectedError('payment-provider', 'queue-full'));
    expect(subject.breaker.stats().probes.admitted).toBe(0);
    await subject.succeed();
    expect(subject.breaker.state).toBe('closed');
  });

  it('should let a call that started in an earlier state report nothing into a later one', async () => {
    const subject = setup({ halfOpenProbes: 1 });
    // Started while closed, finishes after the breaker has been through open and half-open and closed again.
    const lateClosed = deferred();
    const late = subject.breaker.execute(() => lateClosed.promise).catch(() => {});
    await trip(subject);
    subject.clock.advance(30_000);
    await subject.succeed();
    expect(subject.breaker.state).toBe('closed');
    lateClosed.reject(new Error('late failure'));
    await late;
    expect(subject.breaker.stats().window.calls).toBe(0);
    // A probe still running when an operator resets the breaker.
    await trip(subject);
    subject.clock.advance(30_000);
    const probeGate = deferred();
    const probe = subject.breaker.execute(() => probeGate.promise).catch(() => {});
    subject.breaker.reset();
    probeGate.reject(new Error('late probe failure'));
    await probe;
    expect(subject.breaker.state).toBe('closed');
    expect(subject.breaker.stats().window.calls).toBe(0);
  });

  it('should not let a probe of an earlier half-open period decide a later one', async () => {
    const subject = setup({ halfOpenProbes: 3 });
    await trip(subject);
    subject.clock.advance(30_000);
    const oldFailure = deferred();
    const oldSuccess = deferred();
    const old = [oldFailure, oldSuccess].map((gate) => subject.breaker.execute(() => gate.promise).catch(() => {}));
    await subject.fail(new Error('first probe failed'));
    subject.clock.advance(30_000);
    expect(subject.breaker.state).toBe('halfOpen');
    oldFailure.reject(new Error('stale probe failed'));
    oldSuccess.resolve();
    await Promise.all(old);
    expect(subject.breaker.state).toBe('halfOpen');
    expect(subject.breaker.stats().probes).toEqual({ mode: 'first-failure', permitted: 3, admitted: 0, succeeded: 0, failed: 0, slow: 0 });
    await subject.succeed();
    await subject.succeed();
    expect(subject.breaker.state).toBe('halfOpen');
    await subject.succeed();
    await subject.succeed();
    expect(subject.breaker.state).toBe('closed');
  });

  it('should report every transition as an inspection event and to subscribers, until they unsubscribe', async () => {
    const subject = setup();
    const heard: string[] = [];
    const stop = subject.breaker.subscribe((event) => heard.push(event.type === 'breaker.transition' ? `${event.from}→${event.to}` : 'rejected'));
    await trip(subject);
    await subject.breaker.execute(async () => 1).catch(() => {});
    subject.clock.advance(30_000);
    stop();
    subject.breaker.forceOpen();
    expect(heard).toEqual(['closed→open', 'rejected', 'open→halfOpen']);
    expect(subject.inspection.of('breaker.transition')).toEqual([
      {
        type: 'breaker.transition',
        at: START,
        source: 'payment',
        breaker: 'payment-provider',
        from: 'closed',
        to: 'open',
        reason: 'opened: 10 of 10 calls failed (100%) ≥ 50% within the last 20 calls',
        calls: 10,
        failureRate: 100,
        slowCallRate: 0,
        waitMs: 30_000,
      },
      {
        type: 'breaker.transition',
        at: START + 30_000,
        source: 'payment',
        breaker: 'payment-provider',
        from: 'open',
        to: 'halfOpen',
        reason: 'half-open: 30 s elapsed',
      },
      {
        type: 'breaker.transition',
        at: START + 30_000,
        source: 'payment',
        breaker: 'payment-provider',
        from: 'halfOpen',
        to: 'forcedOpen',
        reason: 'forced open by operator',
      },
    ]);
  });

  it('should keep a listener that throws from breaking the breaker', async () => {
    const subject = setup();
    const originalError = console.error;
    const reported: unknown[] = [];
    console.error = (...args: unknown[]) => void reported.push(args);
    try {
      subject.breaker.subscribe(() => {
        throw new Error('listener bug');
      });
      await trip(subject);
    } finally {
      console.error = originalError;
    }
    expect(subject.breaker.state).toBe('open');
    expect(reported).toHaveLength(1);
  });

  it('should expose state, window, thresholds and the last trips with reasons and times in stats()', async () => {
    const subject = setup();
    await trip(subject);
    subject.clock.advance(5_000);
    const stats = subject.breaker.stats();
    expect(stats).toMatchObject({
      name: 'payment-provider',
      state: 'open',
      since: START,
      retryAfterMs: 25_000,
      window: { calls: 10, failures: 10, failureRate: 100, description: 'within the last 20 calls' },
      thresholds: { minimumCalls: 10, failureRateThreshold: 50 },
      trips: 1,
      lastTrips: [{ from: 'closed', to: 'open', at: START, reason: 'opened: 10 of 10 calls failed (100%) ≥ 50% within the last 20 calls' }],
    });
    expect(stats.transitions).toHaveLength(1);
  });

  it('should follow its machine: events sent straight to the actor change what callers see', async () => {
    const subject = setup();
    subject.breaker.actor.send({ type: 'operator.forceOpen' });
    expect(await rejectionOf(subject.breaker.execute(async () => 1))).toBeInstanceOf(CircuitOpenError);
    subject.breaker.actor.send({ type: 'operator.reset' });
    expect(await subject.breaker.execute(async () => 1)).toBe(1);
  });

  it('should let through exactly the calls its machine allows, whatever happens (property)', async () => {
    type Step = 'succeed' | 'fail' | 'slow' | 'advance' | 'forceOpen' | 'disable' | 'reset';
    const step = fc.constantFrom<Step>('succeed', 'fail', 'fail', 'slow', 'advance', 'forceOpen', 'disable', 'reset');
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80 }), async (steps) => {
        const { breaker, clock } = setup({ minimumCalls: 4, openWait: 5_000, halfOpenProbes: 2, slowCallDurationMs: 1_000, slowCallRateThreshold: 50 });
        for (const s of steps) {
          if (s === 'advance') clock.advance(2_500);
          else if (s === 'forceOpen' || s === 'disable' || s === 'reset') breaker[s]();
          else {
            const machineState = breaker.actor.getSnapshot().value;
            let reached = 0;
            const gate = deferred();
            const call = breaker
              .execute(async () => {
                reached++;
                await gate.promise;
                if (s === 'fail') throw new Error('down');
              })
              .then(
                () => 'passed',
                (error: unknown) => (error instanceof CircuitOpenError ? 'rejected' : 'passed'),
              );
            if (s === 'slow') clock.advance(1_000);
            gate.resolve();
            const outcome = await call;
            // Open and forced-open never let a call through; closed and disabled always do; half-open as its permits say.
            if (machineState === 'open' || machineState === 'forcedOpen') expect([outcome, reached]).toEqual(['rejected', 0]);
            else if (machineState === 'closed' || machineState === 'disabled') expect([outcome, reached]).toEqual(['passed', 1]);
            else expect(reached).toBe(outcome === 'passed' ? 1 : 0);
          }
          const { probes } = breaker.stats();
          expect(probes.admitted).toBeLessThanOrEqual(probes.permitted);
        }
        breaker.dispose();
      }),
      { numRuns: 200 },
    );
  });
});
