/**
 * The order service process, its composition root: a runtime node hosting the `order` actors, and the HTTP app
 * with the order routes. `OrderCreated` events on its log are where the fulfillment saga starts.
 */
import { createNode, onShutdown } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { startProcess } from '../shared/start-process.ts';
import { orderActor } from './machine.ts';
import { orderRoutes } from './routes.ts';

const node = await createNode({ service: 'order', actors: [orderActor], redis: redisUrlOf() });
startProcess({ name: 'order', description: 'Orders and their lifecycle: pending → confirmed | cancelled.', redis: true, routes: orderRoutes(node) });
onShutdown(() => node.stop());
