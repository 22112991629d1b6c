/**
 * The order service process, its composition root: a runtime node hosting the `order` actors and their
 * fulfillment sagas (`sagas/order-fulfillment.ts`), and the HTTP app with the order and saga routes.
 */
import { Elysia } from 'elysia';
import { admissionBoundsFromEnv, createNode, onShutdown } from '../../runtime/index.ts';
import { sagaRoutes } from '../../runtime/http/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { SHOP_PARTITIONS } from '../config.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { orderActor } from './machine.ts';
import { orderRoutes } from './routes.ts';
import { FULFILLMENT_SAGA_WORDS } from './saga-protocol.ts';
import { ORDER_API } from './protocol.ts';

// Asks from its routes are refused (429) while the service is too far behind (MAILROOM_ADMISSION_*).
const admission = admissionBoundsFromEnv();
const node = await createNode({ service: 'order', actors: [orderActor, orderFulfillment.definition], redis: redisUrlOf(), admission, defaultPartitions: SHOP_PARTITIONS, ...registryEntry('order') });
startProcess({
  name: 'order',
  ...ORDER_API,
  redis: true,
  admission: admission !== null,
  routes: new Elysia().use(orderRoutes(node)).use(sagaRoutes(node, orderFulfillment, FULFILLMENT_SAGA_WORDS)),
  chaos: node.chaos,
});
onShutdown(() => node.stop());
