/**
 * The resilience kit's public surface, hand-picked: what services and the gateway use to call dependencies safely,
 * and what the panel needs to draw a breaker (its machine and state names). Everything else is internal.
 */

export { circuitBreakerMachine, breakerStates, openWaitFor } from './circuit-breaker.machine.ts';
export type { BreakerContext, BreakerMachineEvent, BreakerMachineInput, HalfOpenMode, OpenWait } from './circuit-breaker.machine.ts';
export { CircuitBreaker, createCircuitBreaker } from './circuit-breaker.ts';
export type { BreakerEvent, BreakerStats, BreakerTransition, CircuitBreakerOptions } from './circuit-breaker.ts';
export { BreakerStore, createBreakerStore } from './breaker-store.ts';
export type { BreakerInstance, BreakerStoreOptions, SharedCause, SharedView } from './breaker-store.ts';
export { Retry, createRetry } from './retry.ts';
export type { RetryOptions } from './retry.ts';
export { Timeout, createTimeout } from './timeout.ts';
export type { TimeoutOptions } from './timeout.ts';
export { Bulkhead, createBulkhead } from './bulkhead.ts';
export type { BulkheadOptions, BulkheadStats } from './bulkhead.ts';
export { Fallback, createFallback } from './fallback.ts';
export type { FallbackOptions } from './fallback.ts';
export { ResiliencePolicy, createPolicy, policyOrder, wrap } from './policy.ts';
export type { PolicyLayer, PolicyOptions } from './policy.ts';
export { HttpClient, createHttpClient, defaultHttpPolicy, parseRetryAfter } from './http-client.ts';
export type { DependencyOptions, DependencyStats, HttpClientOptions, HttpPolicyOptions } from './http-client.ts';
export {
  BulkheadRejectedError,
  CircuitOpenError,
  NetworkError,
  RetryableError,
  TerminalError,
  TimeoutError,
  UpstreamStatusError,
} from './errors.ts';
export type { ErrorBody } from './errors.ts';
export { defaultClassify, defaultShouldRetry } from './outcomes.ts';
export type { CallOutcome } from './outcomes.ts';
export type { Operation, Policy } from './operation.ts';
export { CountWindow, TimeWindow } from './sliding-window.ts';
export type { WindowConfig, WindowStats } from './sliding-window.ts';
