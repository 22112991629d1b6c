/**
 * The payment provider's contract, declared before anything uses it: what a charge, a refund and a void are, the
 * ledger and failure-injection views, the error codes a caller must handle, and the TypeBox schema of every route.
 * The payment service relies on these shapes exactly as written (it is the provider's only client).
 */
import { t } from 'elysia';
import { pageLimit, type DocumentTag } from '../../runtime/http/index.ts';
import { EXAMPLE, OrderId } from '../shared/shop-vocabulary.ts';

/** What the provider's OpenAPI document says first, and its tags. */
export const PROVIDER_API = {
  description:
    'A simulated external card processor: idempotent charges, refunds and voids recorded once per idempotency key in a ledger, and failure injection. The payment service is its only client.',
  tags: [
    { name: 'card requests', description: 'Charges, refunds and voids, each once per idempotency key' },
    { name: 'ledger', description: 'What was charged and refunded, with totals and the card requests received' },
    { name: 'faults', description: 'Failure injection into card requests: an error rate, latency, an expiry' },
  ] satisfies DocumentTag[],
};

/** A single charge above this many cents is declined (402 `CARD_DECLINED`): the provider's deterministic "no". */
export const DECLINE_ABOVE_CENTS = 1_000_000;
/** Largest amount the API accepts at all, in cents. */
export const MAX_AMOUNT_CENTS = 1_000_000_000;

/** The codes of every error the provider answers with. */
export const ProviderErrorCode = {
  /** 402: the card was declined; trying again will not help. */
  CardDeclined: 'CARD_DECLINED',
  /** 404: no charge with that id. */
  ChargeNotFound: 'CHARGE_NOT_FOUND',
  /** 409: the refunds of a charge would exceed what it charged. */
  RefundExceedsCharge: 'REFUND_EXCEEDS_CHARGE',
  /** 409: the idempotency key was used before for a different request. */
  IdempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  /** 409: the charge's idempotency key was voided, so it can never be charged. */
  ChargeVoided: 'CHARGE_VOIDED',
  /** 422: the failure-injection rules do not make sense (e.g. latency min above max). */
  InvalidFaults: 'INVALID_FAULTS',
  /** 503: a failure injected on purpose (see `PUT /faults`), before the ledger was touched. */
  InjectedFault: 'INJECTED_FAULT',
} as const;

const IdempotencyKey = t.String({
  minLength: 1,
  maxLength: 200,
  description: 'Chosen by the caller; the same key always yields the same outcome and never a second entry',
  examples: ['charge:ord-1'],
});
const Amount = t.Integer({ minimum: 1, maximum: MAX_AMOUNT_CENTS, description: 'In cents' });
const Id = (description: string, example: string) => t.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', description, examples: [example] });

// ─── charges ──────────────────────────────────────────────────────────────────────────────────────────────────

export const ChargeRequestSchema = t.Object(
  { idempotencyKey: IdempotencyKey, orderId: OrderId('The order the charge pays for'), amount: Amount },
  { examples: [{ idempotencyKey: `charge:${EXAMPLE.orderId}`, orderId: EXAMPLE.orderId, amount: 598 }] },
);
export type ChargeRequest = typeof ChargeRequestSchema.static;

export const ChargeSchema = t.Object({
  chargeId: t.String(),
  orderId: t.String(),
  amount: t.Integer(),
  status: t.Literal('succeeded'),
  idempotencyKey: t.String(),
  createdAt: t.Number({ description: 'ms since the epoch' }),
});
export type Charge = typeof ChargeSchema.static;

// ─── refunds ──────────────────────────────────────────────────────────────────────────────────────────────────

export const RefundRequestSchema = t.Object(
  { idempotencyKey: IdempotencyKey, chargeId: Id('The charge to refund (from POST /charges)', 'ch_0123456789abcdef'), amount: Amount },
  { examples: [{ idempotencyKey: `refund:${EXAMPLE.orderId}`, chargeId: 'ch_0123456789abcdef', amount: 598 }] },
);
export type RefundRequest = typeof RefundRequestSchema.static;

export const RefundSchema = t.Object({
  refundId: t.String(),
  chargeId: t.String(),
  orderId: t.String(),
  amount: t.Integer(),
  idempotencyKey: t.String(),
  createdAt: t.Number(),
});
export type Refund = typeof RefundSchema.static;

// ─── voids ────────────────────────────────────────────────────────────────────────────────────────────────────

export const VoidRequestSchema = t.Object({ idempotencyKey: IdempotencyKey }, { examples: [{ idempotencyKey: `charge:${EXAMPLE.orderId}` }] });

/**
 * A void settles a charge whose outcome the caller never learnt (its call timed out): if the key holds a charge, the
 * answer is that charge (refund it); otherwise the key is blocked for good, so a charge still in flight can never land.
 */
export const VoidSchema = t.Object({
  idempotencyKey: t.String(),
  outcome: t.Union([t.Literal('voided'), t.Literal('charged')]),
  charge: t.Optional(ChargeSchema),
  voidedAt: t.Optional(t.Number()),
});
export type VoidOutcome = typeof VoidSchema.static;

// ─── ledger ───────────────────────────────────────────────────────────────────────────────────────────────────

export const MAX_LEDGER_LIMIT = 1000;

export const LedgerQuerySchema = t.Object({
  // The range is checked by the route: Elysia reports a coerced query number out of range without naming the field.
  limit: pageLimit({ min: 1, max: MAX_LEDGER_LIMIT, default: 100 }, 'Newest entries listed (totals cover all)'),
  orderId: t.Optional(OrderId('Only this order’s charges and refunds; totals then cover just them')),
});

export const TotalsSchema = t.Object({
  charged: t.Integer({ description: 'Cents charged' }),
  refunded: t.Integer({ description: 'Cents refunded' }),
  net: t.Integer({ description: 'charged − refunded' }),
  charges: t.Integer(),
  refunds: t.Integer(),
  voids: t.Integer({ description: 'Keys voided; counted over the whole ledger only (0 in one order’s view)' }),
});
export type Totals = typeof TotalsSchema.static;

/** Card requests (charges, refunds, voids) that reached the provider, counted before any fault is injected. */
export const RequestCountsSchema = t.Object({
  total: t.Integer(),
  charges: t.Integer(),
  refunds: t.Integer(),
  voids: t.Integer(),
  injectedFaults: t.Integer({ description: 'Requests answered with an injected 503' }),
});
export type RequestCounts = typeof RequestCountsSchema.static;

export const LedgerSchema = t.Object({
  charges: t.Array(t.Composite([ChargeSchema, t.Object({ refunded: t.Integer({ description: 'Cents refunded of it' }) })])),
  refunds: t.Array(RefundSchema),
  totals: TotalsSchema,
  requests: RequestCountsSchema,
});
export type LedgerView = typeof LedgerSchema.static;

// ─── failure injection ────────────────────────────────────────────────────────────────────────────────────────

const LatencyMs = t.Integer({ minimum: 0, maximum: 60_000 });

export const FaultRulesInputSchema = t.Object(
  {
    errorRate: t.Number({ minimum: 0, maximum: 1, description: 'Share of card requests answered 503 INJECTED_FAULT' }),
    latencyMs: t.Optional(t.Object({ min: LatencyMs, max: LatencyMs }, { description: 'Added to every card request, uniform in [min, max]' })),
    durationMs: t.Optional(t.Integer({ minimum: 1, maximum: 86_400_000, description: 'The rules expire after this long' })),
  },
  { examples: [{ errorRate: 0.1, latencyMs: { min: 0, max: 50 }, durationMs: 60_000 }] },
);
export type FaultRulesInput = typeof FaultRulesInputSchema.static;

export const FaultRulesSchema = t.Object({
  active: t.Boolean({ description: 'Whether failures are being injected' }),
  errorRate: t.Number(),
  latencyMs: t.Optional(t.Object({ min: t.Integer(), max: t.Integer() })),
  setAt: t.Optional(t.Number()),
  expiresAt: t.Optional(t.Number({ description: 'ms since the epoch; absent: until DELETE /faults' })),
});
export type FaultRules = typeof FaultRulesSchema.static;

export const NO_FAULTS: FaultRules = { active: false, errorRate: 0 };
