/**
 * The provider's HTTP API, one controller: card requests (`/charges`, `/refunds`, `/voids`) that pass the fault gate
 * before they touch the ledger, the ledger itself for tests and the panel (`/ledger`), and the failure-injection rules
 * (`/faults`).
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError } from '../../runtime/http/index.ts';
import type { FaultInjector } from './faults.ts';
import type { Ledger } from './ledger.ts';
import {
  ChargeRequestSchema,
  ChargeSchema,
  FaultRulesInputSchema,
  FaultRulesSchema,
  LedgerQuerySchema,
  LedgerSchema,
  MAX_LEDGER_LIMIT,
  ProviderErrorCode,
  RefundRequestSchema,
  RefundSchema,
  VoidRequestSchema,
  VoidSchema,
} from './protocol.ts';

export type ProviderRoutesOptions = { ledger: Ledger; faults: FaultInjector };

const card = ['card requests'];

/**
 * @example
 * createServiceApp({ name: 'provider' }).use(providerRoutes({ ledger, faults }));
 */
export function providerRoutes({ ledger, faults }: ProviderRoutesOptions) {
  return new Elysia({ name: 'provider:routes' })
    .post(
      '/charges',
      async ({ body, set }) => {
        await faults.gate('charges');
        const result = await ledger.charge(body);
        switch (result.kind) {
          case 'created':
          case 'existing':
            set.status = result.kind === 'created' ? 201 : 200;
            return result.charge;
          case 'declined':
            throw new HttpError(402, ProviderErrorCode.CardDeclined, result.reason, { amount: body.amount });
          case 'voided':
            throw new HttpError(
              409,
              ProviderErrorCode.ChargeVoided,
              `idempotency key "${body.idempotencyKey}" was voided (POST /voids), so it can never be charged; use a new key for a new charge`,
            );
          case 'conflict':
            throw new HttpError(
              409,
              ProviderErrorCode.IdempotencyConflict,
              `idempotency key "${body.idempotencyKey}" already charged ${result.charge.amount} cents for order ${result.charge.orderId}; ` +
                `a charge of ${body.amount} cents for order ${body.orderId} needs its own key`,
              { charge: result.charge },
            );
        }
      },
      {
        body: ChargeRequestSchema,
        response: { 200: ChargeSchema, 201: ChargeSchema, 402: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Charge a card once per idempotency key (201; 200 with the same charge on a repeat; 402 above 1,000,000 cents)',
          tags: card,
          responses: answers({
            200: 'This key charged already: the same charge',
            201: 'Charged',
            402: 'CARD_DECLINED: above 1,000,000 cents (trying again will not help)',
            409: 'CHARGE_VOIDED: the key was voided; IDEMPOTENCY_CONFLICT: the key charged a different amount or order (details.charge)',
            503: 'INJECTED_FAULT: failure injection (PUT /faults) answered before the ledger was touched; retry with the same key',
          }),
        },
      },
    )
    .post(
      '/refunds',
      async ({ body, set }) => {
        await faults.gate('refunds');
        const result = await ledger.refund(body);
        switch (result.kind) {
          case 'created':
          case 'existing':
            set.status = result.kind === 'created' ? 201 : 200;
            return result.refund;
          case 'chargeNotFound':
            throw new HttpError(404, ProviderErrorCode.ChargeNotFound, `no charge ${body.chargeId}; refund a chargeId that POST /charges returned`);
          case 'exceeds':
            throw new HttpError(
              409,
              ProviderErrorCode.RefundExceedsCharge,
              `refunding ${body.amount} cents of charge ${body.chargeId} would exceed it: it charged ${result.charged} cents ` +
                `and ${result.alreadyRefunded} are refunded already, so at most ${result.charged - result.alreadyRefunded} remain`,
              { charged: result.charged, alreadyRefunded: result.alreadyRefunded, requested: body.amount },
            );
          case 'conflict':
            throw new HttpError(
              409,
              ProviderErrorCode.IdempotencyConflict,
              `idempotency key "${body.idempotencyKey}" already refunded ${result.refund.amount} cents of charge ${result.refund.chargeId}; ` +
                'a different refund needs its own key',
              { refund: result.refund },
            );
        }
      },
      {
        body: RefundRequestSchema,
        response: { 200: RefundSchema, 201: RefundSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Refund (part of) a charge once per idempotency key, never more than it charged',
          tags: card,
          responses: answers({
            200: 'This key refunded already: the same refund',
            201: 'Refunded',
            404: 'CHARGE_NOT_FOUND: no charge with this chargeId',
            409: 'REFUND_EXCEEDS_CHARGE (details.charged, alreadyRefunded, requested) or IDEMPOTENCY_CONFLICT: the key refunded something else',
            503: 'INJECTED_FAULT: failure injection (PUT /faults) answered before the ledger was touched; retry with the same key',
          }),
        },
      },
    )
    .post(
      '/voids',
      async ({ body, set }) => {
        await faults.gate('voids');
        const { created, outcome } = await ledger.void(body.idempotencyKey);
        set.status = created ? 201 : 200;
        return outcome;
      },
      {
        body: VoidRequestSchema,
        response: { 200: VoidSchema, 201: VoidSchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Settle a charge key of unknown outcome: its charge if it holds one, otherwise block it for good (201)',
          tags: card,
          responses: answers({ 200: 'This key was settled already: the same outcome', 201: 'Settled now: voided, or the charge the key holds', 503: 'INJECTED_FAULT: failure injection (PUT /faults) answered before the ledger was touched; retry with the same key' }),
        },
      },
    )
    .get(
      '/ledger',
      async ({ query }) => {
        if (query.limit !== undefined && (query.limit < 1 || query.limit > MAX_LEDGER_LIMIT)) {
          const message = `query.limit is invalid: expected an integer from 1 to ${MAX_LEDGER_LIMIT}, got ${query.limit}`;
          throw validationError('query.limit', message);
        }
        const [view, requests] = await Promise.all([ledger.view(query), faults.counts()]);
        return { ...view, requests };
      },
      {
        query: LedgerQuerySchema,
        response: { 200: LedgerSchema, 422: ErrorBodySchema },
        detail: {
          summary: 'Charges and refunds (newest, or one order’s), totals, and the card requests received',
          tags: ['ledger'],
          responses: answers({ 200: 'The ledger', 422: 'VALIDATION: limit outside 1–1000, or orderId is not an order id' }),
        },
      },
    )
    .get('/faults', () => faults.rules(), {
      response: { 200: FaultRulesSchema },
      detail: { summary: 'The failure-injection rules in force', tags: ['faults'], responses: answers({ 200: 'The rules (active: false when none)' }) },
    })
    .put('/faults', ({ body }) => faults.set(body), {
      body: FaultRulesInputSchema,
      response: { 200: FaultRulesSchema, 422: ErrorBodySchema },
      detail: {
        summary: 'Inject failures into card requests: an error rate, latency, an expiry',
        tags: ['faults'],
        responses: answers({ 200: 'The rules now in force', 422: 'INVALID_FAULTS: the rules make no sense (latency min above max)' }),
      },
    })
    .delete('/faults', () => faults.clear(), {
      response: { 200: FaultRulesSchema },
      detail: { summary: 'Stop injecting failures', tags: ['faults'], responses: answers({ 200: 'No rules in force any more' }) },
    });
}
