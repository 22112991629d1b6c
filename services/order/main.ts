/**
 * The order service process, its composition root: a runtime node hosting the `order` actors and their
 * fulfillment sagas (`sagas/order-fulfillment.ts`), and the HTTP app with the order and saga routes.
 */
import { Elysia } from 'elysia';
import { createNode, onShutdown, sagaRoutes } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { startProcess } from '../shared/start-process.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { orderActor } from './machine.ts';
import { orderRoutes } from './routes.ts';
import { FULFILLMENT_SAGA_WORDS } from './saga-protocol.ts';
import { ORDER_API } from './protocol.ts';

const node = await createNode({ service: 'order', actors: [orderActor, orderFulfillment.definition], redis: redisUrlOf() });
startProcess({
  name: 'order',
  ...ORDER_API,
  redis: true,
  routes: new Elysia().use(orderRoutes(node)).use(sagaRoutes(node, orderFulfillment, FULFILLMENT_SAGA_WORDS)),
  chaos: node.chaos,
});
onShutdown(() => node.stop());
