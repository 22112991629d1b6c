/**
 * The gateway's routes in one plugin: its controllers for orders, sagas, the catalogue and operators, over one
 * resilient client to the services and one strangler dial. Tests build it with their own client and dial.
 */
import { Elysia } from 'elysia';
import type { HttpClient } from '../../runtime/index.ts';
import { gatewayAdminRoutes } from './admin-routes.ts';
import { gatewayCatalogueRoutes } from './catalogue-routes.ts';
import { gatewayOrderRoutes } from './order-routes.ts';
import { gatewaySagaRoutes } from './saga-routes.ts';
import type { Strangler } from './strangler.ts';

/**
 * @example
 * startProcess({ name: 'gateway', description: '…', redis: true, routes: gatewayRoutes({ http, strangler }) });
 */
export function gatewayRoutes({ http, strangler }: { http: HttpClient; strangler: Strangler }) {
  return new Elysia({ name: 'gateway:routes' })
    .get('/api/health', () => ({ status: 'ok', service: 'gateway', pid: process.pid }), {
      detail: { summary: 'The gateway answers (for clients behind the /api prefix)', tags: ['health'] },
    })
    .use(gatewayOrderRoutes(http))
    .use(gatewaySagaRoutes(http))
    .use(gatewayCatalogueRoutes(http, strangler))
    .use(gatewayAdminRoutes(http, strangler));
}
