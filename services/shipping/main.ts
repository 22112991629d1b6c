/**
 * The shipping service process: a runtime node hosting the `shipment` actor and the shipping routes on the service
 * frame (health, Swagger UI at /swagger).
 */
import { createNode, onShutdown } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { shipment } from './machine.ts';
import { SERVICE, SHIPPING_API } from './protocol.ts';
import { shippingRoutes } from './routes.ts';

const node = await createNode({ service: SERVICE, actors: [shipment], redis: redisUrlOf(), ...registryEntry('shipping') });
startProcess({
  name: 'shipping',
  ...SHIPPING_API,
  redis: true,
  routes: shippingRoutes(node), chaos: node.chaos,
});
onShutdown(() => node.stop());
