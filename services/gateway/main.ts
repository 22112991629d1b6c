/**
 * The API gateway process, Mailroom's public face (`/api/*`), its composition root: one resilient client to the
 * services (addresses from `portOf`/`hostOf`), the strangler dial on the process's Redis connection, the routes.
 */
import { onShutdown } from '../../runtime/index.ts';
import type { connectRedis } from '../shared/redis-connection.ts';
import { startProcess } from '../shared/start-process.ts';
import { createDownstreamClient } from './downstreams.ts';
import { gatewayRoutes } from './routes.ts';
import { Strangler } from './strangler.ts';

const http = createDownstreamClient();
// The dial reads through the connection the process opens (and reports in /health); it exists once routes do.
let redis: ReturnType<typeof connectRedis> | undefined;
const strangler = new Strangler({ store: () => redis?.client });

({ redis } = startProcess({ name: 'gateway', description: 'The public API of the shop.', redis: true, routes: gatewayRoutes({ http, strangler }) }));
onShutdown(() => http.dispose());
