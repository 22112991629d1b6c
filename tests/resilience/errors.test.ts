import { describe, expect, it } from 'bun:test';
import {
  BulkheadRejectedError,
  CircuitOpenError,
  defaultClassify,
  defaultShouldRetry,
  NetworkError,
  RetryableError,
  TerminalError,
  TimeoutError,
  UpstreamStatusError,
} from '../../runtime/resilience/index.ts';

describe('errors', () => {
  it('should give every HTTP-facing error a literal code, a status and a body a person can act on', () => {
    const open = new CircuitOpenError('payment-provider', 'open', 12_000);
    expect(open).toMatchObject({ name: 'CircuitOpenError', code: 'CIRCUIT_OPEN', status: 503, retryAfterMs: 12_000 });
    expect(JSON.parse(JSON.stringify(open))).toEqual({
      code: 'CIRCUIT_OPEN',
      message: 'circuit "payment-provider" is open; retry after 12000 ms',
      retryAfterMs: 12_000,
    });
    expect(new TimeoutError(2_000, 'overall').toJSON()).toEqual({ code: 'TIMEOUT', message: 'call timed out after 2000 ms' });
    expect(new BulkheadRejectedError('inventory', 'queue-timeout')).toMatchObject({ code: 'BULKHEAD_REJECTED', status: 503 });
    expect(new UpstreamStatusError('inventory', 503, { retryAfterMs: 1_000 }).toJSON()).toEqual({
      code: 'UPSTREAM_STATUS',
      message: 'inventory answered 503',
      retryAfterMs: 1_000,
    });
    const cause = new TypeError('connection refused');
    expect(new NetworkError('inventory', cause)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', status: 502, cause });
  });

  it('should make every kit error that a retry may help a RetryableError, and keep TerminalError apart', () => {
    for (const error of [
      new CircuitOpenError('x', 'open', 1),
      new TimeoutError(1, 'attempt'),
      new BulkheadRejectedError('x', 'queue-full'),
      new UpstreamStatusError('x', 500),
      new NetworkError('x', new Error('reset')),
    ]) {
      expect(error).toBeInstanceOf(RetryableError);
      expect(defaultShouldRetry(error)).toBe(true);
    }
    expect(defaultShouldRetry(new TerminalError('card declined', { status: 402 }))).toBe(false);
    expect(RetryableError.from(new Error('flaky'), { retryAfterMs: 5 })).toMatchObject({ message: 'flaky', retryAfterMs: 5 });
  });

  it('should classify outcomes for a breaker: 4xx are successes, bulkhead rejections are ignored, the rest fail', () => {
    expect(defaultClassify(Object.assign(new Error('not found'), { status: 404 }))).toBe('success');
    expect(defaultClassify(Object.assign(new Error('timeout'), { status: 408 }))).toBe('failure');
    expect(defaultClassify(Object.assign(new Error('throttled'), { status: 429 }))).toBe('failure');
    expect(defaultClassify(new UpstreamStatusError('x', 500))).toBe('failure');
    expect(defaultClassify(new BulkheadRejectedError('x', 'queue-full'))).toBe('ignored');
    expect(defaultClassify(new TypeError('fetch failed'))).toBe('failure');
  });
});
