/**
 * The shipping service process: a runtime node hosting the `shipment` actor and the shipping routes on the service
 * frame (health, Swagger UI at /swagger).
 */
import { admissionBoundsFromEnv, createNode, onShutdown } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { SHOP_PARTITIONS } from '../config.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { shipment } from './machine.ts';
import { SERVICE, SHIPPING_API } from './protocol.ts';
import { shippingRoutes } from './routes.ts';

// Asks from its routes are refused (429) while the service is too far behind (MAILROOM_ADMISSION_*).
const admission = admissionBoundsFromEnv();
const node = await createNode({ service: SERVICE, actors: [shipment], redis: redisUrlOf(), admission, defaultPartitions: SHOP_PARTITIONS, ...registryEntry('shipping') });
startProcess({
  name: 'shipping',
  ...SHIPPING_API,
  redis: true,
  admission: admission !== null,
  routes: shippingRoutes(node), chaos: node.chaos,
});
onShutdown(() => node.stop());
