/**
 * The simulated external card processor (the thing that fails): a separate process the payment service calls over
 * HTTP through a breaker. It stands outside Mailroom's actors, but keeps its ledger and failure rules in Redis under
 * `…:svc:provider:…` so both survive a restart.
 */
import { createServiceApp, listen } from '../../runtime/http/index.ts';
import { keyPrefixOf } from '../../runtime/config.ts';
import { onShutdown } from '../../runtime/index.ts';
import { commitReplicasFromEnv, ReplicasUnconfirmedError } from '../../runtime/index.ts';
import { portOf, trustedOrigins } from '../config.ts';
import { connectRedis } from '../shared/redis-connection.ts';
import { accessGuardOf } from '../shared/system-access.ts';
import { FaultInjector } from './faults.ts';
import { providerKeys } from './keys.ts';
import { Ledger } from './ledger.ts';
import { providerRoutes } from './routes.ts';
import { PROVIDER_API } from './protocol.ts';

const redis = connectRedis('provider');
const call = redis.call;
const keys = providerKeys(keyPrefixOf());
// With MAILROOM_COMMIT_REPLICAS the ledger waits for its replicas too, as a card processor never forgets a charge it
// confirmed: a write (a script) no replica has within the timeout fails the request, and the caller's retry with
// the same idempotency key finds it (or writes it again).
const { replicas, timeoutMs } = commitReplicasFromEnv();
const ledgerCall = async (args: string[]): Promise<unknown> => {
  const result = await call(args);
  if (replicas > 0 && (args[0] === 'EVALSHA' || args[0] === 'EVAL')) {
    const confirmed = Number(await call(['WAIT', String(replicas), String(timeoutMs)], keys.chargeKeys));
    if (confirmed < replicas) throw new ReplicasUnconfirmedError('a ledger write', confirmed, replicas, timeoutMs);
  }
  return result;
};

const app = createServiceApp({
  name: 'provider',
  ...PROVIDER_API,
  trustedOrigins: trustedOrigins(),
  checks: { redis: redis.check },
  // Exposed, its whole API (charges, refunds, /faults, the ledger) wants the service credential.
  access: accessGuardOf(),
}).use(providerRoutes({ ledger: new Ledger(ledgerCall, keys), faults: new FaultInjector(call, keys) }));

const server = listen(app, portOf('provider'));
console.log(`provider listening on ${server.url.href}`);

onShutdown(async () => {
  await server.stop(true);
  await redis.close();
});
