/**
 * The gateway's operator controller: the strangler fig's weight (read and turned at run time; the control plane
 * drives it) and every dependency's breaker, with its window and last trips.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema } from '../../runtime/http/index.ts';
import { type HttpClient } from '../../runtime/resilience/index.ts';
import { DependencyUnavailableError } from './downstreams.ts';
import { BreakersSchema, StranglerBodySchema, StranglerViewSchema } from './protocol.ts';
import type { Strangler } from './strangler.ts';

/**
 * @example
 * createServiceApp({ name: 'gateway' }).use(gatewayAdminRoutes(http, strangler));
 */
export function gatewayAdminRoutes(http: HttpClient, strangler: Strangler) {
  return new Elysia({ name: 'gateway:admin' })
    .get('/api/admin/strangler', () => strangler.view(), {
      response: { 200: StranglerViewSchema },
      detail: { summary: 'The strangler fig’s weight: percent of catalogue reads served by inventory', tags: ['admin'], responses: answers({ 200: 'The weight (stale: Redis could not be read, this is the last one known)' }) },
    })
    .put(
      '/api/admin/strangler',
      async ({ body, set }) => {
        try {
          return await strangler.set(body.weight);
        } catch (error) {
          const failure = new DependencyUnavailableError('redis', 1_000, `the weight could not be stored (${error instanceof Error ? error.message : String(error)})`, 'unreachable');
          set.headers['retry-after'] = '1';
          throw failure;
        }
      },
      {
        body: StranglerBodySchema,
        response: { 200: StranglerViewSchema, 422: ErrorBodySchema, 503: ErrorBodySchema },
        detail: {
          summary: 'Turn the strangler fig’s weight (0 = all legacy, 100 = all inventory)',
          tags: ['admin'],
          responses: answers({ 200: 'The weight as stored (every replica follows within a second)', 503: 'DEPENDENCY_UNAVAILABLE: Redis could not store the weight (Retry-After: 1)' }),
        },
      },
    )
    .get('/api/breakers', () => http.stats(), {
      response: { 200: BreakersSchema },
      detail: { summary: 'Every dependency’s circuit breaker (state, window, last trips with reasons) and bulkhead', tags: ['admin'], responses: answers({ 200: 'Each dependency’s breaker and bulkhead, by name' }) },
    });
}
