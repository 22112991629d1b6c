/**
 * Every Redis key the payment provider writes, in one place. The ledger's keys share the hash tag `{ledger}` so each
 * Lua script touches one Redis Cluster slot; the fault rules sit at the address the control plane will write to.
 */
import { keyPrefixOf } from '../../runtime/config.ts';

export type ProviderKeys = ReturnType<typeof providerKeys>;

/**
 * @example
 * providerKeys('mr').faults; // 'mr:svc:provider:faults'
 */
export function providerKeys(prefix: string = keyPrefixOf()) {
  const base = `${prefix}:svc:provider`;
  const ledger = `${base}:{ledger}`;
  return {
    /** Hash: idempotency key of a charge → charge id, or `void` once the key was voided. */
    chargeKeys: `${ledger}:charge-keys`,
    /** Hash: charge id → charge JSON. */
    charges: `${ledger}:charges`,
    /** List of charge ids, oldest first. */
    chargeLog: `${ledger}:charge-log`,
    /** Hash: idempotency key of a refund → refund id. */
    refundKeys: `${ledger}:refund-keys`,
    /** Hash: refund id → refund JSON. */
    refunds: `${ledger}:refunds`,
    /** List of refund ids, oldest first. */
    refundLog: `${ledger}:refund-log`,
    /** Hash: charge id → cents refunded of it so far. */
    refunded: `${ledger}:refunded`,
    /** Hash: voided idempotency key → void JSON. */
    voids: `${ledger}:voids`,
    /** Hash: order id → JSON `{ charges: [ids], refunds: [ids] }`. */
    byOrder: `${ledger}:by-order`,
    /** Hash: charged, refunded (cents); charges, refunds, voids (counts). */
    totals: `${ledger}:totals`,
    /** Hash: card requests received, by kind, and injected faults. */
    requests: `${base}:requests`,
    /** String: the failure-injection rules as JSON, with a TTL when they expire. */
    faults: `${base}:faults`,
  };
}
