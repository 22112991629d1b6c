/**
 * The inventory service process: a runtime node hosting the `sku` and `reservation` actors, the inventory routes on
 * the service frame (health, Swagger UI at /swagger), and the catalogue seeded on start — idempotently, so every
 * restart and every replica may do it.
 */
import { admissionBoundsFromEnv, createNode, onShutdown } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { SHOP_PARTITIONS } from '../config.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { seedCatalogue } from './catalogue.ts';
import { INVENTORY_API, SERVICE } from './protocol.ts';
import { reservation } from './reservation.machine.ts';
import { inventoryRoutes } from './routes.ts';
import { sku } from './sku.machine.ts';

// Asks from its routes are refused (429) while the service is too far behind (MAILROOM_ADMISSION_*).
const admission = admissionBoundsFromEnv();
const node = await createNode({ service: SERVICE, actors: [sku, reservation], redis: redisUrlOf(), admission, defaultPartitions: SHOP_PARTITIONS, ...registryEntry('inventory') });
startProcess({
  name: 'inventory',
  ...INVENTORY_API,
  redis: true,
  admission: admission !== null,
  routes: inventoryRoutes(node), chaos: node.chaos,
});
onShutdown(() => node.stop());

// Keep trying until the catalogue is in: a store with no products is no use, and seeding twice is harmless.
for (let attempt = 1; ; attempt++) {
  try {
    await seedCatalogue(node);
    console.log('inventory catalogue seeded');
    break;
  } catch (error) {
    console.error(`inventory: seeding the catalogue failed (attempt ${attempt}), retrying in 2 s: ${error instanceof Error ? error.message : String(error)}`);
    await Bun.sleep(2_000);
  }
}
