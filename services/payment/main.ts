/**
 * The payment service process: one `payment` actor per order, charging and refunding through the payment provider.
 * The provider client — and so its breaker and bulkhead — is created once here and shared by every effect of the
 * process, so the breaker judges all the traffic to the provider.
 */
import { createNode, onShutdown, type MailroomNode } from '../../runtime/index.ts';
import { hostOf } from '../../runtime/config.ts';
import { admissionBoundsFromEnv } from '../../runtime/index.ts';
import { portOf, SHOP_PARTITIONS } from '../config.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { openSharedBreakers } from '../shared/shared-breakers.ts';
import { serviceTokenOf } from '../shared/system-access.ts';
import { createProviderClient, PROVIDER, providerEffects } from './effects.ts';
import { definePaymentActor } from './machine.ts';
import { paymentRoutes } from './routes.ts';
import { PAYMENT_API } from './protocol.ts';

// The client exists before the node (the node's actor needs its effects): it reaches the node's chaos rules and
// inspection stream through this reference once the node is up.
let node: MailroomNode | undefined;
const breakerStore = openSharedBreakers('payment');
const provider = createProviderClient({
  baseUrl: `http://${hostOf()}:${portOf('provider')}`,
  inspector: (event) => node?.inspect(event),
  faults: (dependency) => node?.chaos.forHttpClient('payment')(dependency) ?? null,
  serviceToken: serviceTokenOf(),
  // With MAILROOM_SHARED_BREAKERS=1 every payment replica's breaker to the provider shares one state through Redis.
  breakerStore,
});
provider.breaker(PROVIDER).subscribe((event) => {
  if (event.type === 'breaker.transition') console.log(`[payment] breaker "${PROVIDER}" ${event.from} → ${event.to}: ${event.reason}`);
});

// Asks from its routes are refused (429) while the service is too far behind (MAILROOM_ADMISSION_*).
const admission = admissionBoundsFromEnv();
node = await createNode({ service: 'payment', actors: [definePaymentActor(providerEffects(provider))], redis: redisUrlOf(), admission, defaultPartitions: SHOP_PARTITIONS, ...registryEntry('payment') });

startProcess({
  name: 'payment',
  ...PAYMENT_API,
  redis: true,
  admission: admission !== null,
  routes: paymentRoutes({ node, provider }),
  chaos: node.chaos,
});
onShutdown(async () => {
  await node?.stop();
  provider.dispose();
  breakerStore?.close();
});
