/**
 * The provider's ledger in Redis: charges, refunds and voids, each recorded at most once per idempotency key by one
 * Lua script (so two concurrent requests with one key cannot both write), with running totals. It survives restarts
 * of the provider because nothing of it lives in the process.
 */
import type { ProviderKeys } from './keys.ts';
import {
  DECLINE_ABOVE_CENTS,
  type Charge,
  type ChargeRequest,
  type LedgerView,
  type Refund,
  type RefundRequest,
  type Totals,
  type VoidOutcome,
} from './protocol.ts';
import { ScriptCode, scripts, type RedisCall } from './scripts.ts';

export type ChargeResult =
  | { kind: 'created' | 'existing'; charge: Charge }
  /** The key was used for a charge of another order or amount. */
  | { kind: 'conflict'; charge: Charge }
  | { kind: 'declined'; reason: string }
  | { kind: 'voided' };

export type RefundResult =
  | { kind: 'created' | 'existing'; refund: Refund }
  | { kind: 'conflict'; refund: Refund }
  | { kind: 'chargeNotFound' }
  | { kind: 'exceeds'; charged: number; alreadyRefunded: number };

export type VoidResult = { created: boolean; outcome: VoidOutcome };

type Clock = { now(): number };

const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;

export class Ledger {
  constructor(
    private readonly call: RedisCall,
    private readonly keys: ProviderKeys,
    private readonly clock: Clock = Date,
  ) {}

  /**
   * Charges once per idempotency key; the same key again answers the same charge.
   *
   * @example
   * const result = await ledger.charge({ idempotencyKey: 'charge:o1', orderId: 'o1', amount: 1250 });
   * if (result.kind === 'created') console.log(result.charge.chargeId);
   */
  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (request.amount > DECLINE_ABOVE_CENTS) {
      return {
        kind: 'declined',
        reason: `card declined: ${request.amount} cents is above the limit of ${DECLINE_ABOVE_CENTS} cents for one charge`,
      };
    }
    const k = this.keys;
    const charge: Charge = {
      chargeId: newId('ch'),
      orderId: request.orderId,
      amount: request.amount,
      status: 'succeeded',
      idempotencyKey: request.idempotencyKey,
      createdAt: this.clock.now(),
    };
    const [code, json] = await scripts.createCharge.run(
      this.call,
      [k.chargeKeys, k.charges, k.chargeLog, k.byOrder, k.totals],
      [request.idempotencyKey, charge.chargeId, request.orderId, request.amount, JSON.stringify(charge)],
    );
    switch (code) {
      case ScriptCode.Created:
        return { kind: 'created', charge };
      case ScriptCode.Existing:
        return { kind: 'existing', charge: JSON.parse(json) as Charge };
      case ScriptCode.IdempotencyConflict:
        return { kind: 'conflict', charge: JSON.parse(json) as Charge };
      case ScriptCode.Voided:
        return { kind: 'voided' };
      default:
        throw new Error(`create-charge answered an unknown code ${code}`);
    }
  }

  /**
   * Refunds (part of) a charge once per idempotency key, never more than the charge in all.
   *
   * @example
   * await ledger.refund({ idempotencyKey: 'refund:o1', chargeId, amount: 1250 });
   */
  async refund(request: RefundRequest): Promise<RefundResult> {
    const k = this.keys;
    const [code, payload] = await scripts.createRefund.run(
      this.call,
      [k.refundKeys, k.refunds, k.refundLog, k.charges, k.refunded, k.byOrder, k.totals],
      [request.idempotencyKey, newId('re'), request.chargeId, request.amount, this.clock.now()],
    );
    switch (code) {
      case ScriptCode.Created:
      case ScriptCode.Existing:
        return { kind: code === ScriptCode.Created ? 'created' : 'existing', refund: JSON.parse(payload) as Refund };
      case ScriptCode.IdempotencyConflict:
        return { kind: 'conflict', refund: JSON.parse(payload) as Refund };
      case ScriptCode.ChargeNotFound:
        return { kind: 'chargeNotFound' };
      case ScriptCode.ExceedsCharge: {
        const [charged, alreadyRefunded] = payload.split('|').map(Number) as [number, number];
        return { kind: 'exceeds', charged, alreadyRefunded };
      }
      default:
        throw new Error(`create-refund answered an unknown code ${code}`);
    }
  }

  /**
   * The charge a key holds, or — when it holds none — blocks the key so that it never will.
   *
   * @example
   * const { outcome } = await ledger.void('charge:o1');
   * if (outcome.outcome === 'charged') await ledger.refund({ idempotencyKey: 'refund:o1', chargeId: outcome.charge!.chargeId, amount });
   */
  async void(idempotencyKey: string): Promise<VoidResult> {
    const k = this.keys;
    const voidedAt = this.clock.now();
    const fresh: VoidOutcome = { idempotencyKey, outcome: 'voided', voidedAt };
    const [code, json] = await scripts.voidCharge.run(this.call, [k.chargeKeys, k.charges, k.voids, k.totals], [idempotencyKey, JSON.stringify(fresh)]);
    switch (code) {
      case ScriptCode.Created:
        return { created: true, outcome: fresh };
      case ScriptCode.Existing:
        return { created: false, outcome: JSON.parse(json) as VoidOutcome };
      case ScriptCode.HoldsCharge:
        return { created: false, outcome: { idempotencyKey, outcome: 'charged', charge: JSON.parse(json) as Charge } };
      default:
        throw new Error(`void-charge answered an unknown code ${code}`);
    }
  }

  /**
   * The newest `limit` charges and refunds with the totals over all of them, or one order's entries and totals.
   *
   * @example
   * const { totals } = await ledger.view({ orderId: 'o1' }); // totals.net === 0 for a cancelled order
   */
  async view(options: { limit?: number; orderId?: string } = {}): Promise<Omit<LedgerView, 'requests'>> {
    const k = this.keys;
    const limit = options.limit ?? 100;
    let chargeIds: string[];
    let refundIds: string[];
    if (options.orderId !== undefined) {
      const entries = (await this.call(['HGET', k.byOrder, options.orderId])) as string | null;
      const order = entries ? (JSON.parse(entries) as { charges: string[]; refunds: string[] }) : { charges: [], refunds: [] };
      // Lua's cjson writes an empty list as `{}`: an order with charges but no refund yet has `refunds: {}`.
      chargeIds = Array.isArray(order.charges) ? order.charges : [];
      refundIds = Array.isArray(order.refunds) ? order.refunds : [];
    } else {
      [chargeIds, refundIds] = (await Promise.all([
        this.call(['LRANGE', k.chargeLog, String(-limit), '-1']),
        this.call(['LRANGE', k.refundLog, String(-limit), '-1']),
      ])) as [string[], string[]];
    }
    const [charges, refunds, refundedOf] = await Promise.all([
      this.records<Charge>(k.charges, chargeIds),
      this.records<Refund>(k.refunds, refundIds),
      chargeIds.length ? (this.call(['HMGET', k.refunded, ...chargeIds]) as Promise<(string | null)[]>) : Promise.resolve([]),
    ]);
    const listed = charges.map((charge, i) => ({ ...charge, refunded: Number(refundedOf[i] ?? 0) }));
    const totals = options.orderId !== undefined ? totalsOf(listed, refunds) : await this.totals();
    return { charges: listed, refunds, totals };
  }

  /** The running totals over the whole ledger. */
  async totals(): Promise<Totals> {
    const flat = (await this.call(['HGETALL', this.keys.totals])) as string[] | Record<string, string>;
    const raw = Array.isArray(flat) ? Object.fromEntries(pairs(flat)) : flat;
    const charged = Number(raw.charged ?? 0);
    const refunded = Number(raw.refunded ?? 0);
    return {
      charged,
      refunded,
      net: charged - refunded,
      charges: Number(raw.charges ?? 0),
      refunds: Number(raw.refunds ?? 0),
      voids: Number(raw.voids ?? 0),
    };
  }

  private async records<T>(hash: string, ids: string[]): Promise<T[]> {
    if (ids.length === 0) return [];
    const rows = (await this.call(['HMGET', hash, ...ids])) as (string | null)[];
    return rows.filter((row): row is string => row !== null).map((row) => JSON.parse(row) as T);
  }
}

function totalsOf(charges: Charge[], refunds: Refund[]): Totals {
  const charged = charges.reduce((sum, c) => sum + c.amount, 0);
  const refunded = refunds.reduce((sum, r) => sum + r.amount, 0);
  return { charged, refunded, net: charged - refunded, charges: charges.length, refunds: refunds.length, voids: 0 };
}

function* pairs(flat: string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
}
