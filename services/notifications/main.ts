/**
 * The notifications process, its composition root: a runtime node hosting the `notice` actors, the subscriber that
 * follows the order service's event log (consumer group `notifications`) and hands each order event to its order's
 * notice actor, and the outbox routes on the service frame (health, Swagger UI at /swagger).
 */
import { createNode, onShutdown } from '../../runtime/index.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { SHOP_PARTITIONS } from '../config.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { noticeActor } from './machine.ts';
import { NOTIFICATIONS_API, SERVICE } from './protocol.ts';
import { notificationRoutes } from './routes.ts';
import { followOrderLog } from './subscriber.ts';

const node = await createNode({ service: SERVICE, actors: [noticeActor], redis: redisUrlOf(), defaultPartitions: SHOP_PARTITIONS, ...registryEntry('notifications') });
startProcess({ name: 'notifications', ...NOTIFICATIONS_API, redis: true, routes: notificationRoutes(node), chaos: node.chaos });

let waitingSaid = false;
const following = followOrderLog(node, {
  redis: redisUrlOf(),
  onWaiting: (error) => {
    if (!waitingSaid) console.log(`waiting for the order service's event log: ${error.message}`);
    waitingSaid = true;
  },
  onError: (error) => console.error(`order log subscriber: ${error instanceof Error ? error.message : String(error)}`),
});
void following.ready.then((subscription) => subscription && console.log(`following the order service's event log (group notifications)`));
// The subscription first: an event it is handing on finishes (or stays pending) before the node goes.
onShutdown(async () => {
  await following.stop();
  await node.stop();
});
