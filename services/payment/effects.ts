/**
 * The payment actor's effects: charge and refund at the payment provider over HTTP, through the resilience kit's
 * client (timeouts, retry with jitter, breaker, bulkhead). Each call carries the provider-side idempotency key the
 * contract names (`charge:<orderId>`, `refund:<orderId>`), not the runtime's per-invocation key, so a retry, a re-run
 * after a crash and a new attempt after `failed` all land on the same provider entry. Errors leave here with their
 * meaning: a declined card or another 4xx refusal is terminal, everything else is "provider unavailable" with a
 * reason a person can act on.
 */
import { BulkheadRejectedError, CircuitOpenError, createHttpClient, NetworkError, TimeoutError, UpstreamStatusError, type BreakerStore, type HttpClient, type HttpClientOptions, type HttpPolicyOptions } from '../../runtime/resilience/index.ts';
import { type Clock, type EffectArgs, type Inspector, type Random } from '../../runtime/index.ts';
import { chargeKeyOf, PaymentDeclinedError, ProviderRejectedError, ProviderUnavailableError, refundKeyOf } from './protocol.ts';

/** The dependency's name in the client, the breaker's stats and its error messages. */
export const PROVIDER = 'provider';

/**
 * How the payment service calls the provider. The breaker judges attempts (retries included) over the last 10 s and
 * opens at half of them failing once it has seen 6; it stays open 10 s, doubling on every trip it does not recover
 * from. A charge gives up after 3 attempts or 4 s, well inside the 8 s an HTTP handler waits for it.
 */
export const providerPolicy = {
  timeoutMs: 4_000,
  attemptTimeoutMs: 1_500,
  retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1_000 },
  circuitBreaker: {
    window: { kind: 'time', ms: 10_000, buckets: 10 },
    minimumCalls: 6,
    failureRateThreshold: 50,
    slowCallDurationMs: 1_000,
    slowCallRateThreshold: 80,
    openWait: { initialMs: 10_000, multiplier: 2, maxMs: 60_000 },
    halfOpenProbes: 2,
  },
  bulkhead: { maxConcurrent: 32, maxQueue: 256, queueTimeoutMs: 1_000 },
} satisfies HttpPolicyOptions;

export type ProviderClientOptions = {
  /** Failure injection (chaos): `node.chaos.forHttpClient('payment')`. */
  faults?: HttpClientOptions['faults'];
  baseUrl: string;
  /** Overrides of `providerPolicy`, layer by layer. */
  policy?: HttpPolicyOptions;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  clock?: Clock;
  random?: Random;
  inspector?: Inspector;
  /** The system's service credential, sent on every call (an exposed provider wants it). */
  serviceToken?: string;
  /** Given (`MAILROOM_SHARED_BREAKERS=1`), the provider's breaker shares its window and state with every replica's. */
  breakerStore?: BreakerStore;
};

/**
 * The client holding the provider's breaker. Create one per process and hand it to every effect, so the breaker
 * sees all the traffic to the provider.
 *
 * @example
 * const provider = createProviderClient({ baseUrl: 'http://127.0.0.1:3005' });
 * provider.stats().provider?.breaker.state; // 'closed'
 */
export function createProviderClient(options: ProviderClientOptions): HttpClient {
  return createHttpClient({
    source: 'payment',
    dependencies: { [PROVIDER]: { baseUrl: options.baseUrl, policy: sharedIf(options.breakerStore, { ...providerPolicy, ...options.policy }) } },
    breakerStore: options.breakerStore,
    fetch: options.fetch,
    clock: options.clock,
    random: options.random,
    inspector: options.inspector,
    faults: options.faults,
    bearerToken: options.serviceToken,
  });
}

/** The policy with its breaker shared when there is a store to share it through. */
function sharedIf(store: BreakerStore | undefined, policy: HttpPolicyOptions): HttpPolicyOptions {
  return store && policy.circuitBreaker !== undefined ? { ...policy, circuitBreaker: { ...policy.circuitBreaker, shared: true } } : policy;
}

export type ChargeInput = { orderId: string; amount: number };
export type ChargeOutput = { chargeId: string; amount: number };
/** Without `chargeId` (the charge's outcome is unknown), the refund first settles the charge key (`POST /voids`). */
export type RefundInput = { orderId: string; chargeId?: string; amount: number };
/** No `refundId` and amount 0: nothing had been charged, and the charge key is voided for good. */
export type RefundOutput = { refundId?: string; chargeId?: string; amount: number };

export type PaymentEffects = {
  charge(args: EffectArgs<ChargeInput>): Promise<ChargeOutput>;
  refund(args: EffectArgs<RefundInput>): Promise<RefundOutput>;
};

/**
 * The effects, calling the provider through `http`.
 *
 * @example
 * const payment = definePaymentActor(providerEffects(createProviderClient({ baseUrl })));
 */
export function providerEffects(http: HttpClient): PaymentEffects {
  async function post(path: string, idempotencyKey: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    try {
      // The idempotency-key header also tells the client the POST is safe to retry.
      return await http.request(PROVIDER, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ idempotencyKey, ...body }),
        signal,
      });
    } catch (error) {
      throw unavailable(error);
    }
  }

  return {
    async charge({ input, signal }) {
      const response = await post('/charges', chargeKeyOf(input.orderId), { orderId: input.orderId, amount: input.amount }, signal);
      if (!response.ok) throw await refusal(response);
      const charge = (await response.json()) as { chargeId: string; amount: number };
      return { chargeId: charge.chargeId, amount: charge.amount };
    },

    async refund({ input, signal }) {
      let { chargeId, amount } = input;
      if (chargeId === undefined) {
        const settled = await post('/voids', chargeKeyOf(input.orderId), {}, signal);
        if (!settled.ok) throw await refusal(settled);
        const outcome = (await settled.json()) as { outcome: 'voided' | 'charged'; charge?: { chargeId: string; amount: number } };
        if (outcome.outcome === 'voided' || outcome.charge === undefined) return { amount: 0 };
        ({ chargeId, amount } = outcome.charge);
      }
      const response = await post('/refunds', refundKeyOf(input.orderId), { chargeId, amount }, signal);
      if (!response.ok) throw await refusal(response);
      const refund = (await response.json()) as { refundId: string; amount: number };
      return { refundId: refund.refundId, chargeId, amount: refund.amount };
    },
  };
}

/** A 4xx the provider answered: a declined card, or a refusal no retry can change. */
async function refusal(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  if (response.status === 402) return new PaymentDeclinedError(body.message ?? 'card declined by the payment provider');
  return new ProviderRejectedError(
    `payment provider refused the request (${response.status}${body.code ? ` ${body.code}` : ''}): ${body.message ?? 'no reason given'}`,
    response.status,
  );
}

/** Whatever the resilience kit threw, as "provider unavailable" with the cause in words. */
function unavailable(error: unknown): ProviderUnavailableError {
  const because = (why: string, retryAfterMs?: number) =>
    new ProviderUnavailableError(`payment provider unavailable: ${why}`, { retryAfterMs, cause: error });
  if (error instanceof CircuitOpenError) {
    return error.state === 'halfOpen'
      ? because('circuit half-open and its probe calls are taken; retry in a moment', error.retryAfterMs)
      : because(`circuit ${error.state === 'forcedOpen' ? 'forced open' : 'open'}, retry in ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))} s`, error.retryAfterMs);
  }
  if (error instanceof TimeoutError) {
    return because(error.scope === 'attempt' ? `no answer within ${error.timeoutMs} ms` : `no success within ${error.timeoutMs} ms, retries included`);
  }
  if (error instanceof UpstreamStatusError) {
    const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(error.message)?.[1];
    return because(`it answered ${error.upstreamStatus}${code ? ` ${code}` : ''} after retrying`, error.retryAfterMs);
  }
  if (error instanceof NetworkError) return because(`it could not be reached (${error.cause instanceof Error ? error.cause.message : String(error.cause)})`);
  if (error instanceof BulkheadRejectedError) return because('too many calls to it in flight; retry in a moment');
  return because(error instanceof Error ? error.message : String(error));
}
