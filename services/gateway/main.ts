/**
 * The API gateway process, Mailroom's public face (`/api/*`), its composition root: one resilient client to the
 * services' instances the registry lists (discovery), the strangler dial on the process's Redis connection, the routes.
 */
import { admissionBoundsFromEnv, onShutdown, openAdmission, openInFlight, openInspector, openRuleBook } from '../../runtime/index.ts';
import { announce, openDiscovery } from '../../runtime/discovery/index.ts';
import { redisUrlOf, type connectRedis } from '../shared/redis-connection.ts';
import { registryEntry, startProcess } from '../shared/start-process.ts';
import { serviceTokenOf } from '../shared/system-access.ts';
import { createDownstreamClient } from './downstreams.ts';
import { gatewayRoutes } from './routes.ts';
import { Strangler } from './strangler.ts';
import { DOWNSTREAMS, GATEWAY_API, isPublicPath } from './protocol.ts';
import { openSharedBreakers } from '../shared/shared-breakers.ts';

// Breaker transitions go to the shared inspection stream (the panel's breaker strip); chaos rules reach the client.
const inspector = await openInspector({ source: 'gateway', redis: redisUrlOf() });
const chaos = openRuleBook({ source: 'gateway', redis: redisUrlOf(), inspect: inspector.inspect });
// The services' live instances, from the node registry; refreshed often enough to drop a dead one within its TTL.
const discovery = await openDiscovery({ redis: redisUrlOf(), services: DOWNSTREAMS, refreshMs: 250 });
// With MAILROOM_SHARED_BREAKERS=1 every gateway replica's breaker to an instance shares one state through Redis.
const breakerStore = openSharedBreakers('gateway');
const http = createDownstreamClient({ inspector: inspector.inspect, faults: chaos.forHttpClient('gateway'), discovery, serviceToken: serviceTokenOf(), breakerStore });
// Orders and restocks are refused at the door while a service they would queue for is too far behind.
const bounds = admissionBoundsFromEnv();
const admission = bounds ? await openAdmission({ bounds, redis: redisUrlOf(), onError: (error, where) => console.error(`[gateway] admission: ${where}: ${error instanceof Error ? error.message : String(error)}`) }) : undefined;
// Orders are also refused while as many sagas as the limit allows are running (it adapts to keep them within
// MAILROOM_ADMISSION_TARGET_MS); a saga ends with the order confirmed or cancelled, as the order service's log says.
const ordersInFlight = bounds && bounds.targetMs > 0
  ? openInFlight({
      service: 'order',
      targetMs: bounds.targetMs,
      max: bounds.maxInFlight,
      endedBy: (event) => (event.type === 'OrderConfirmed' || event.type === 'OrderCancelled' ? String(event.orderId) : null),
      redis: redisUrlOf(),
      onError: (error) => console.error(`orders in flight: ${error instanceof Error ? error.message : String(error)}`),
    })
  : undefined;
// The dial reads through the connection the process opens (and reports in /health); it exists once routes do.
let redis: ReturnType<typeof connectRedis> | undefined;
const strangler = new Strangler({ store: () => redis?.client });

({ redis } = startProcess({ name: 'gateway', ...GATEWAY_API, redis: true, routes: gatewayRoutes({ http, strangler, admission, ordersInFlight: ordersInFlight?.limit }), chaos, publicPaths: isPublicPath }));
// In the registry once it listens, so the control plane (and a load balancer) find every gateway instance.
const { advertise, describe } = registryEntry('gateway');
const entry = await announce({ service: 'gateway', address: advertise, describe, redis: redisUrlOf() });
onShutdown(async () => {
  await entry.stop();
  await discovery.close();
  http.dispose();
  breakerStore?.close();
  chaos.stop();
  await admission?.close();
  await ordersInFlight?.close();
  await inspector.close();
});
