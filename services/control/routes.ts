/**
 * The control API in one plugin, under `/control`: security first (CORS for the panel's origins, the bearer token
 * on every mutating call), then one controller per concern. Tests mount it on a service app with their own
 * context and token, exactly as `main.ts` does.
 */
import { Elysia } from 'elysia';
import { actorRoutes } from './actor-routes.ts';
import { breakerRoutes } from './breaker-routes.ts';
import { chaosRoutes } from './chaos-routes.ts';
import type { ControlContext } from './context.ts';
import { deadLetterRoutes } from './deadletter-routes.ts';
import { eventRoutes } from './event-routes.ts';
import { loadRoutes } from './load-routes.ts';
import { notificationRoutes } from './notification-routes.ts';
import { sagaRoutes } from './saga-routes.ts';
import { controlSecurity } from './security.ts';
import { stranglerRoutes } from './strangler-routes.ts';
import { topologyRoutes } from './topology-routes.ts';
import { otlpRoutes, overviewRoutes, traceRoutes } from './trace-routes.ts';

/**
 * @example
 * startProcess({ name: 'control', …, routes: controlRoutes(ctx, { token, origins: panelOrigins() }) });
 */
export function controlRoutes(ctx: ControlContext, options: { token: string; origins: readonly string[]; exposed?: boolean; ingestToken?: string }) {
  return new Elysia({ name: 'control:routes' })
    .use(controlSecurity(options))
    .group('/control', (app) =>
      app
        .use(topologyRoutes(ctx))
        .use(actorRoutes(ctx))
        .use(sagaRoutes(ctx))
        .use(notificationRoutes(ctx))
        .use(breakerRoutes(ctx))
        .use(deadLetterRoutes(ctx))
        .use(chaosRoutes(ctx))
        .use(loadRoutes(ctx))
        .use(stranglerRoutes(ctx))
        .use(eventRoutes(ctx))
        .use(overviewRoutes(ctx))
        .use(traceRoutes(ctx)),
    )
    // The OTLP receiver sits where an exporter looks for it: `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`.
    .use(otlpRoutes(ctx));
}
