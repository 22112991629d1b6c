/**
 * The control plane's pure parts: rates from heartbeats, saga counters, each actor's transition memory, event
 * filters, chaos rule requests and scenarios, actor id patterns, breaker rows, the process table's rows and
 * commands, the load generator's orders (valid for the real gateway), and the token file.
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ruleProblems } from '../../runtime/ops/index.ts';
import { type ActorTransitionEvent, type SagaStepEvent } from '../../runtime/index.ts';
import { type BreakerStats } from '../../runtime/resilience/index.ts';
import { commandProblems, toProcessRecord } from '../../runtime/supervisor/process-table.ts';
import type { ProcessInfo } from '../../runtime/supervisor/index.ts';
import { ActorHistory } from '../../services/control/actor-history.ts';
import { idPattern } from '../../services/control/actor-routes.ts';
import { breakerRows } from '../../services/control/breaker-routes.ts';
import { describeTarget, ruleRequest } from '../../services/control/chaos-routes.ts';
import { eventFilter } from '../../services/control/event-stream.ts';
import { LoadGenerator } from '../../services/control/load-generator.ts';
import { ratesOver, type NodeCounters } from '../../services/control/rates.ts';
import { percentile, SagaStats } from '../../services/control/saga-stats.ts';
import { SCENARIOS } from '../../services/control/scenarios.ts';
import { panelOrigins } from '../../services/control/security.ts';
import { bearerMatches, ensureControlToken } from '../../services/control/token.ts';
import { PlaceOrderBodySchema } from '../../services/gateway/protocol.ts';
import { panelUrlOf } from '../../services/processes.ts';
import { seededRandom } from '../../runtime/index.ts';

const node = (nodeId: string, service: string, processed: number, at: number, sent: Record<string, number> = {}): NodeCounters => ({ nodeId, service, processed, sent, at });

describe('ratesOver', () => {
  it('should sum per-node deltas per service over the time between heartbeats', () => {
    const rates = ratesOver(
      [
        { at: 0, nodes: [node('o1', 'order', 100, 0, { payment: 10 }), node('o2', 'order', 50, 0)] },
        { at: 1000, nodes: [node('o1', 'order', 110, 1000, { payment: 12 }), node('o2', 'order', 60, 1000)] },
        { at: 2000, nodes: [node('o1', 'order', 140, 2000, { payment: 20 }), node('o2', 'order', 70, 2000)] },
      ],
      10,
      ['order', 'payment'],
    );
    // o1: 40 in 2 s, o2: 20 in 2 s → 30/s; order → payment: 10 in 2 s.
    expect(rates).toEqual({ windowS: 10, services: [{ service: 'order', processedPerSec: 30 }, { service: 'payment', processedPerSec: 0 }], links: [{ from: 'order', to: 'payment', perSec: 5 }] });
  });

  it('should count a restarted counter from zero and ignore samples older than the window', () => {
    const rates = ratesOver(
      [
        { at: 0, nodes: [node('a', 'inventory', 1_000_000, 0)] },
        { at: 20_000, nodes: [node('a', 'inventory', 500, 20_000)] },
        { at: 22_000, nodes: [node('a', 'inventory', 40, 22_000)] },
      ],
      10,
    );
    expect(rates.services).toEqual([{ service: 'inventory', processedPerSec: 20 }]);
  });

  it('should say 0 for a node seen once, and nothing at all without samples', () => {
    expect(ratesOver([{ at: 5, nodes: [node('a', 'shipping', 9, 5)] }], 10).services).toEqual([{ service: 'shipping', processedPerSec: 0 }]);
    expect(ratesOver([], 10, [])).toEqual({ windowS: 10, services: [], links: [] });
  });
});

const step = (sagaId: string, stepName: string, phase: SagaStepEvent['phase'], at: number, durationMs?: number): SagaStepEvent => ({
  type: 'saga.step',
  source: 'order',
  saga: 'fulfillment',
  sagaId,
  step: stepName,
  phase,
  at,
  ...(durationMs === undefined ? {} : { durationMs }),
});

describe('SagaStats', () => {
  it('should count each saga once by its latest status, with orders/s and latency percentiles', () => {
    const stats = new SagaStats();
    const now = 100_000;
    for (let i = 0; i < 10; i++) stats.add(step(`s${i}`, 'createOrder', 'started', now - 5_000));
    for (let i = 0; i < 6; i++) stats.add(step(`s${i}`, 'saga', 'completed', now - 1_000, 100 * (i + 1)));
    stats.add(step('s6', 'chargePayment', 'failed', now - 900));
    stats.add(step('s6', 'undoReserveInventory', 'compensating', now - 800));
    stats.add(step('s6', 'saga', 'compensated', now - 700, 50));
    stats.add(step('s7', 'undoChargePayment', 'parked', now - 600));
    stats.add({ type: 'breaker.transition' });
    expect(stats.snapshot(now)).toEqual({
      sagas: { completed: 6, compensated: 1, parked: 1, running: 2 },
      ordersPerSec: 1,
      sagaLatencyMs: { p50: 300, p99: 600 },
    });
    // The parked saga is resolved by an operator: parked → compensated.
    stats.add(step('s7', 'saga', 'compensated', now - 100, 9_000));
    expect(stats.snapshot(now).sagas).toEqual({ completed: 6, compensated: 2, parked: 0, running: 2 });
    // A minute later the rates and latencies have aged out, the counters have not.
    expect(stats.snapshot(now + 61_000)).toEqual({ sagas: { completed: 6, compensated: 2, parked: 0, running: 2 }, ordersPerSec: 0, sagaLatencyMs: { p50: null, p99: null } });
  });

  it('should take percentiles by nearest rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([...Array(100).keys()].map((i) => i + 1), 99)).toBe(99);
  });
});

describe('ActorHistory', () => {
  const transition = (actor: string, n: number): { id: string; event: ActorTransitionEvent } => ({
    id: `1-0/${n}`,
    event: { type: 'actor.transition', source: 'x', at: n, actor, event: 'e', from: 'a', to: 'b', handled: true, messageId: `m${n}` },
  });

  it('should keep the newest 50 transitions per actor, newest first, and forget the least recently changed actors', () => {
    const history = new ActorHistory(2);
    for (let n = 0; n < 60; n++) history.add(transition('x/a/1', n));
    expect(history.recent('x/a/1')).toHaveLength(50);
    expect(history.recent('x/a/1')[0]!.id).toBe('1-0/59');
    expect(history.recent('x/a/1')[49]!.id).toBe('1-0/10');
    history.add(transition('x/a/2', 1));
    history.add(transition('x/a/1', 61));
    history.add(transition('x/a/3', 1)); // x/a/2 is the least recently changed
    expect([history.has('x/a/1'), history.has('x/a/2'), history.has('x/a/3')]).toEqual([true, false, true]);
    expect(history.recent('nope/a/b')).toEqual([]);
  });
});

describe('eventFilter', () => {
  const e = (type: string, source: string) => ({ type, source, at: 0 }) as never;
  it('should match exact types, families and sources', () => {
    const f = eventFilter('saga.*, breaker.transition', 'order,payment');
    expect([f(e('saga.step', 'order')), f(e('breaker.transition', 'payment')), f(e('breaker.rejected', 'payment')), f(e('saga.step', 'gateway'))]).toEqual([true, true, false, false]);
    expect(eventFilter(undefined, undefined)(e('anything', 'anywhere'))).toBe(true);
    expect(eventFilter('', '')(e('anything', 'anywhere'))).toBe(true);
  });
});

describe('ruleRequest', () => {
  it('should accept a fixed latency as a range and trim empty target fields', () => {
    const { input, problems } = ruleRequest({ kind: 'latency', target: { service: 'inventory', route: ' ' }, probability: 1, latencyMs: 200, durationMs: 30_000 });
    expect(problems).toEqual([]);
    expect(input).toEqual({ kind: 'latency', target: { service: 'inventory' }, probability: 1, latencyMs: { min: 200, max: 200 }, durationMs: 30_000 });
  });

  it('should name every problem at once', () => {
    const { problems } = ruleRequest({ kind: 'explode', target: {}, probability: 2, status: 200, latencyMs: { min: 5, max: 1 }, durationMs: 0 });
    expect(problems).toEqual([
      'kind must be one of error, latency, drop, duplicate, delay, pause, redis',
      'target needs a service or a dependency',
      'probability must be between 0 and 1',
      'status must be an HTTP error status (400–599)',
      'latencyMs applies to latency and delay rules, not this kind',
      'status applies to error rules only',
      'durationMs must be between 1 ms and 24 h (86400000)',
    ]);
  });

  it('should describe targets in words', () => {
    expect(describeTarget({ service: 'payment', dependency: 'provider' })).toBe('payment → provider');
    expect(describeTarget({})).toBe('(nothing)');
  });
});

describe('SCENARIOS', () => {
  it('should be the four named scenarios, each rule valid', () => {
    expect(SCENARIOS.map((s) => s.name)).toEqual(['payment-provider-down', 'slow-inventory', 'crash-shipping', 'drop-10pct']);
    for (const s of SCENARIOS) for (const rule of s.rules) expect(ruleProblems(rule)).toEqual([]);
    expect(SCENARIOS[0]!.rules).toEqual([expect.objectContaining({ kind: 'error', target: { dependency: 'provider' }, probability: 1 })]);
    expect(SCENARIOS[1]!.rules).toEqual([expect.objectContaining({ kind: 'latency', target: { service: 'inventory' }, latencyMs: { min: 300, max: 800 } })]);
    expect(SCENARIOS[2]!.actions).toEqual([{ action: 'kill', process: 'shipping' }]);
    expect(SCENARIOS[3]!.rules.map((r) => [r.kind, r.target.service, r.probability])).toEqual(['order', 'inventory', 'payment', 'shipping'].map((s) => ['drop', s, 0.1]));
  });
});

describe('idPattern', () => {
  it('should treat a plain query as a prefix and a glob as a glob', () => {
    expect([idPattern(undefined), idPattern(''), idPattern('ord-1'), idPattern('*-1?'), idPattern('a[bc]')]).toEqual(['*', '*', 'ord-1*', '*-1?', 'a[bc]']);
  });
});

describe('breakerRows', () => {
  it('should flatten a process’s breaker stats into rows', () => {
    const breaker = {
      name: 'provider',
      state: 'open',
      reason: 'opened: 6 of 6 calls failed (100%) ≥ 50% within 10 s',
      since: 5,
      retryAfterMs: 900,
      window: { calls: 6, failures: 6, slowCalls: 0, failureRate: 100, slowCallRate: 0, description: 'within 10 s' },
      thresholds: { minimumCalls: 6, failureRateThreshold: 50, slowCallRateThreshold: 80, slowCallDurationMs: 1000 },
      waitMs: 10_000,
      trips: 1,
      probes: { mode: 'first-failure', permitted: 3, admitted: 0, succeeded: 0, failed: 0, slow: 0 },
      rejected: 2,
      lastTrips: [{ from: 'closed', to: 'open', reason: 'opened: …', at: 5 }],
      transitions: [{ from: 'closed', to: 'open', reason: 'opened: …', at: 5 }],
    } satisfies BreakerStats;
    const [row] = breakerRows('payment', { provider: { breaker } });
    expect(row).toMatchObject({ process: 'payment', dependency: 'provider', state: 'open', retryAfterMs: 900, lastTrips: [{ at: 5, reason: 'opened: …' }], trips: 1 });
  });
});

describe('process table', () => {
  const info = (over: Partial<ProcessInfo>): ProcessInfo => ({
    name: 'inventory',
    url: 'http://127.0.0.1:3002',
    pid: 42,
    status: 'healthy',
    restarts: 1,
    port: 3002,
    startedAt: 900,
    healthySince: 1_000,
    paused: false,
    lastExit: { code: null, signal: 'SIGKILL', at: 800 },
    ...over,
  });

  it('should map the supervisor’s view to the panel’s statuses', () => {
    expect(toProcessRecord(info({}), undefined, 4_000, 2)).toEqual({
      name: 'inventory',
      pid: 42,
      status: 'up',
      restarts: 1,
      uptimeMs: 3_000,
      url: 'http://127.0.0.1:3002',
      port: 3002,
      lastExit: { code: null, signal: 'SIGKILL', at: 800 },
      paused: false,
      upSince: 1_000,
      updatedAt: 4_000,
      seq: 2,
    });
    expect(toProcessRecord(info({ paused: true }), undefined, 4_000)).toMatchObject({ status: 'down', uptimeMs: 0, detail: 'paused (SIGSTOP) by an operator' });
    expect(toProcessRecord(info({}), 'not answering its health check: no answer within 1000 ms', 4_000)).toMatchObject({ status: 'down' });
    expect(toProcessRecord(info({ status: 'restarting', pid: undefined }), undefined, 4_000)).toMatchObject({ status: 'restarting', pid: null });
    expect(toProcessRecord(info({ status: 'starting' }), undefined, 4_000).status).toBe('starting');
    expect(toProcessRecord(info({ status: 'stopped', pid: undefined }), undefined, 4_000).status).toBe('stopped');
  });

  it('should refuse malformed and stale commands', () => {
    expect(commandProblems({ action: 'kill', process: 'order', at: 1_000 }, 2_000)).toEqual([]);
    expect(commandProblems({ action: 'explode' as never, process: '', signal: 'SIGUSR1' as never, at: 0 }, 20_000)).toEqual([
      'action must be one of kill, restart, stop, start, pause, resume',
      'process must name a process',
      'signal must be one of SIGKILL, SIGTERM, SIGINT, SIGQUIT, SIGHUP',
      'it is 20 s old',
    ]);
  });
});

describe('LoadGenerator.randomOrder', () => {
  it('should make orders the real gateway accepts', () => {
    const load = new LoadGenerator({ gateway: () => 'http://nowhere', random: seededRandom(7) });
    for (let i = 0; i < 200; i++) {
      const order = load.randomOrder();
      expect([...Value.Errors(PlaceOrderBodySchema, order)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
      expect(new Set(order.lines.map((l) => l.sku)).size).toBe(order.lines.length);
    }
  });
});

describe('control token', () => {
  it('should be created once with mode 600, kept across starts, and replaced when the file holds garbage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-token-'));
    try {
      const token = ensureControlToken(join(dir, 'data'));
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(join(dir, 'data', 'control-token')).mode & 0o777).toBe(0o600);
      expect(ensureControlToken(join(dir, 'data'))).toBe(token);
      writeFileSync(join(dir, 'data', 'control-token'), 'short\n');
      expect(ensureControlToken(join(dir, 'data'))).not.toBe(token);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should accept exactly "Bearer <token>"', () => {
    const token = 'a'.repeat(43);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(null, token)).toBe(false);
  });

  it('should go into the panel URL, and the panel origins should cover both hosts of the loopback', () => {
    expect(panelUrlOf(true, {}, 'k3y+/')).toBe('http://127.0.0.1:5173/?token=k3y%2B%2F');
    expect(panelUrlOf(false, {}, 'abc')).toBe('http://127.0.0.1:3100/?token=abc');
    expect(panelOrigins({})).toEqual(['http://127.0.0.1:5173', 'http://localhost:5173', 'http://127.0.0.1:3100', 'http://localhost:3100']);
    expect(panelOrigins({ MAILROOM_HOST: '10.0.0.5', MAILROOM_PORT_OFFSET: '1' })).toEqual(['http://10.0.0.5:5174', 'http://10.0.0.5:3101']);
  });
});
