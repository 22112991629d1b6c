/**
 * The gateway's routes in one plugin: its controllers for orders, sagas, the catalogue and operators, over one
 * resilient client to the services and one strangler dial. Tests build it with their own client and dial.
 */
import { Elysia, t } from 'elysia';
import { answers } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { type Admission, type InFlightLimit } from '../../runtime/index.ts';
import { gatewayAdminRoutes } from './admin-routes.ts';
import { gatewayCatalogueRoutes } from './catalogue-routes.ts';
import { gatewayOrderRoutes } from './order-routes.ts';
import { gatewaySagaRoutes } from './saga-routes.ts';
import type { Strangler } from './strangler.ts';

/**
 * `admission`: the routes that start work refuse it (429) while a service it would queue for is too far behind.
 * `ordersInFlight`: orders are also refused (429) while as many sagas as it allows are running.
 *
 * @example
 * startProcess({ name: 'gateway', description: '…', redis: true, routes: gatewayRoutes({ http, strangler }) });
 */
export function gatewayRoutes({ http, strangler, admission, ordersInFlight }: { http: HttpClient; strangler: Strangler; admission?: Pick<Admission, 'gate'>; ordersInFlight?: InFlightLimit }) {
  return new Elysia({ name: 'gateway:routes' })
    .get('/api/health', () => ({ status: 'ok' as const, service: 'gateway', pid: process.pid }), {
      response: { 200: t.Object({ status: t.Literal('ok'), service: t.String(), pid: t.Integer() }) },
      detail: { summary: 'The gateway answers (for clients behind the /api prefix)', tags: ['health'], responses: answers({ 200: 'The gateway is up' }) },
    })
    .use(gatewayOrderRoutes(http, admission, undefined, ordersInFlight))
    .use(gatewaySagaRoutes(http))
    .use(gatewayCatalogueRoutes(http, strangler, admission))
    .use(gatewayAdminRoutes(http, strangler));
}
