/**
 * The payment service's contract, declared before anything uses it: the `payment` actor's address, states and
 * context, the commands it accepts (from HTTP handlers and from the order saga), the replies it tells back, the
 * domain events it publishes, the errors its effects raise and the HTTP schemas. The saga relies on the message
 * shapes here exactly as written.
 */
import { t } from 'elysia';
import { RetryableError, TerminalError } from '../../runtime/resilience/index.ts';
import { type DocumentTag } from '../../runtime/http/index.ts';
import { type Waiter } from '../../runtime/index.ts';
import { OrderId } from '../shared/shop-vocabulary.ts';

export const SERVICE = 'payment';

/** What the payment service's OpenAPI document says first, and its tags. */
export const PAYMENT_API = {
  description: 'Charges and refunds per order, through the payment provider behind a circuit breaker. Each order’s payment is an actor; a charge or refund waits for the provider’s outcome and is idempotent per order.',
  tags: [
    { name: 'payments', description: 'One payment per order: read it, charge it once, refund (or void) it' },
    { name: 'resilience', description: 'The payment provider’s circuit breaker and bulkhead' },
  ] satisfies DocumentTag[],
};
/** Largest amount one payment may ask for, in cents (the provider declines above 1,000,000). */
export const MAX_AMOUNT_CENTS = 1_000_000_000;

export const paymentAddress = (orderId: string) => `${SERVICE}/payment/${orderId}`;

/** The provider-side idempotency keys: stable per order, so no retry, re-run or new attempt can charge twice. */
export const chargeKeyOf = (orderId: string) => `charge:${orderId}`;
export const refundKeyOf = (orderId: string) => `refund:${orderId}`;

// ─── the payment actor: payment/payment/<orderId> ─────────────────────────────────────────────────────────────

export const PAYMENT_STATES = ['idle', 'charging', 'charged', 'declined', 'failed', 'refunding', 'refunded', 'voided'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export type PaymentContext = {
  orderId: string;
  /** Cents; fixed by the first charge (0 until then). */
  amount: number;
  chargeId?: string;
  refundId?: string;
  /** Cents refunded (the amount once refunded; 0 when voided). */
  refunded?: number;
  /** Why it was declined, why the last call failed, or why it was voided. */
  reason?: string;
  /** When the last failure came from an open breaker: how long until it lets a call through. */
  retryAfterMs?: number;
  /** Charge attempts started (a new one after `failed` reuses the same provider key). */
  attempts: number;
  /** `charge` commands waiting for the charge's outcome. */
  chargeWaiters: Waiter[];
  /** `refund` commands waiting for the refund's outcome. */
  refundWaiters: Waiter[];
  /** A refund asked while charging: it runs as soon as the charge lands, so a cancelled order nets to zero. */
  refundPending: boolean;
};

/** The commands the actor accepts. `orderId` is the actor's id; a different one in the command is ignored. */
export type PaymentCommand =
  | { type: 'charge'; orderId: string; amount: number; replyTo?: string; commandId?: string }
  | { type: 'refund'; orderId: string; replyTo?: string; commandId?: string };

/** Why a charge command was refused without reaching the provider, or how it ended. */
export const ChargeFailureCode = {
  /** The provider declined the card (402); charging again will not help. */
  Declined: 'PAYMENT_DECLINED',
  /** The provider could not be reached or failed (breaker open, 5xx after retries, timeout); retry later. */
  Unavailable: 'PROVIDER_UNAVAILABLE',
  /** The order's payment has another amount; one order is charged one amount. */
  AmountMismatch: 'AMOUNT_MISMATCH',
  /** The amount is not a positive whole number of cents (within the limit). */
  InvalidAmount: 'INVALID_AMOUNT',
  /** The payment was voided (refunded before any charge): it can never be charged. */
  Voided: 'PAYMENT_VOIDED',
  /** The payment was charged and refunded (or is being refunded): it is not charged again. */
  Refunded: 'PAYMENT_REFUNDED',
} as const;
export type ChargeFailureCode = (typeof ChargeFailureCode)[keyof typeof ChargeFailureCode];

/**
 * What the actor tells a command's `replyTo` (and answers an `ask` with, once the outcome is known). Every reply
 * echoes the command's `commandId` (the saga's per-attempt id). A retryable failure carries `retryAfterMs` when the
 * provider cannot be called before then (its breaker is open, or it said Retry-After).
 */
export type PaymentReply =
  | { type: 'payment.charged'; orderId: string; commandId?: string; chargeId: string; amount: number }
  | {
      type: 'payment.failed';
      orderId: string;
      commandId?: string;
      reason: string;
      retryable: boolean;
      code: ChargeFailureCode;
      retryAfterMs?: number;
    }
  | { type: 'payment.refunded'; orderId: string; commandId?: string; refundId?: string; amount: number }
  | { type: 'payment.refundFailed'; orderId: string; commandId?: string; reason: string; retryable: boolean; retryAfterMs?: number };

/** The answer to an `ask` whose outcome comes from a later turn (the effect): nobody is told this. */
export type PaymentPending = { type: 'payment.pending'; orderId: string; commandId?: string; state: PaymentState };

/** Domain events on the payment service's log (the runtime adds id, aggregate and time). */
export type PaymentEvent =
  | { type: 'PaymentCharged'; orderId: string; chargeId: string; amount: number; attempts: number }
  | { type: 'PaymentDeclined'; orderId: string; amount: number; reason: string }
  | { type: 'PaymentFailed'; orderId: string; amount: number; reason: string; attempts: number }
  | { type: 'PaymentRefunded'; orderId: string; refundId: string; amount: number }
  | { type: 'PaymentVoided'; orderId: string; reason: string }
  | { type: 'PaymentRefundFailed'; orderId: string; reason: string };

// ─── what the effects raise (it reaches the machine as plain data: name, message, code, status, retryAfterMs) ─

/** The provider declined the card: the payment ends `declined`. */
export class PaymentDeclinedError extends TerminalError {
  override name = 'PaymentDeclinedError';
  readonly code = ChargeFailureCode.Declined;
  constructor(message: string) {
    super(message, { status: 402 });
  }
}

/** The provider refused the request for another reason a retry cannot change (a voided key, a conflict). */
export class ProviderRejectedError extends TerminalError {
  override name = 'ProviderRejectedError';
  readonly code = 'PROVIDER_REJECTED';
  constructor(
    message: string,
    readonly upstreamStatus: number,
  ) {
    super(message, { status: 409 });
  }
}

/** The provider could not be used now (breaker open, 5xx after retries, timeout, bulkhead full). */
export class ProviderUnavailableError extends RetryableError {
  override name = 'ProviderUnavailableError';
  readonly code = ChargeFailureCode.Unavailable;
  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { status: 503, ...options });
  }
}

/** How a failed effect's error data reads: a 4xx means the provider answered "no", anything else "not now". */
export type EffectErrorData = { name?: string; message?: string; code?: string; status?: number; retryAfterMs?: number };

export function isRefusal(error: EffectErrorData | undefined): boolean {
  const status = error?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

// ─── HTTP ─────────────────────────────────────────────────────────────────────────────────────────────────────

export const OrderIdParamsSchema = t.Object({ orderId: OrderId('The order the payment belongs to') });

export const ChargeBodySchema = t.Object(
  { amount: t.Integer({ minimum: 1, maximum: MAX_AMOUNT_CENTS, description: 'In cents; above 1,000,000 the provider declines' }) },
  { examples: [{ amount: 598 }] },
);

export const PaymentViewSchema = t.Object({
  orderId: OrderId(),
  state: t.UnionEnum(PAYMENT_STATES),
  amount: t.Integer({ description: 'Cents' }),
  chargeId: t.Optional(t.String()),
  refundId: t.Optional(t.String()),
  refunded: t.Optional(t.Integer({ description: 'Cents refunded' })),
  reason: t.Optional(t.String()),
  attempts: t.Integer({ description: 'Charge attempts started' }),
});
export type PaymentView = typeof PaymentViewSchema.static;

/** HTTP error codes of the payment routes, besides the frame's VALIDATION / MALFORMED_JSON. */
export const PaymentErrorCode = {
  NotFound: 'PAYMENT_NOT_FOUND',
  Declined: ChargeFailureCode.Declined,
  Unavailable: ChargeFailureCode.Unavailable,
  AmountMismatch: ChargeFailureCode.AmountMismatch,
  Voided: ChargeFailureCode.Voided,
  Refunded: ChargeFailureCode.Refunded,
  /** The outcome did not arrive in time (the payment node is down or overloaded): the command stays queued. */
  Pending: 'PAYMENT_PENDING',
} as const;

const TransitionSchema = t.Object({ from: t.String(), to: t.String(), reason: t.String(), at: t.Number() });

export const BreakerStatsSchema = t.Object({
  name: t.String(),
  state: t.String({ description: 'closed, open, halfOpen, forcedOpen or disabled' }),
  reason: t.String(),
  since: t.Number(),
  retryAfterMs: t.Optional(t.Number()),
  window: t.Object({
    calls: t.Number(),
    failures: t.Number(),
    slowCalls: t.Number(),
    failureRate: t.Number(),
    slowCallRate: t.Number(),
    description: t.String(),
  }),
  thresholds: t.Object({
    minimumCalls: t.Number(),
    failureRateThreshold: t.Number(),
    slowCallRateThreshold: t.Number(),
    slowCallDurationMs: t.Number(),
  }),
  waitMs: t.Number(),
  trips: t.Number(),
  probes: t.Object({ permitted: t.Number(), admitted: t.Number(), succeeded: t.Number() }),
  rejected: t.Number(),
  lastTrips: t.Array(TransitionSchema),
  transitions: t.Array(TransitionSchema),
});

export const BreakersSchema = t.Record(
  t.String(),
  t.Object({
    baseUrl: t.String(),
    breaker: BreakerStatsSchema,
    bulkhead: t.Optional(
      t.Object({
        name: t.String(),
        active: t.Number(),
        queued: t.Number(),
        maxConcurrent: t.Number(),
        maxQueue: t.Number(),
        rejected: t.Object({ queueFull: t.Number(), queueTimeout: t.Number() }),
      }),
    ),
  }),
  { description: 'Per dependency (the payment provider): its breaker and bulkhead, as the resilience kit reports them' },
);
