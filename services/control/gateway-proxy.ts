/**
 * `/api/*` on the control plane, passed to the gateway: in `bun run start` the built panel is served from the
 * control plane's origin, and its Orders view calls the shop's public API there (in dev, Vite proxies it instead).
 * Only the request's method, path, query, body and content headers go through; nothing of the control plane's own
 * but the service credential (the operator's token stays here: an exposed control plane has checked it already).
 */
import { Elysia } from 'elysia';
import { HttpError } from '../../runtime/http/index.ts';

const PASSED_HEADERS = ['content-type', 'accept', 'idempotency-key'];

/**
 * @example
 * app.use(gatewayProxy(() => originOf('gateway')));
 */
export function gatewayProxy(gatewayOrigin: () => string, serviceToken?: string) {
  return new Elysia({ name: 'control:gateway-proxy' }).all(
    '/api/*',
    async ({ request, body }) => {
      const url = new URL(request.url);
      const headers = new Headers();
      for (const name of PASSED_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers.set(name, value);
      }
      if (serviceToken) headers.set('authorization', `Bearer ${serviceToken}`);
      try {
        const upstream = await fetch(`${gatewayOrigin()}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          // The frame has parsed (and size-checked) the body already: send it on as it came.
          body: request.method === 'GET' || request.method === 'HEAD' || body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
      } catch (error) {
        throw new HttpError(502, 'GATEWAY_UNREACHABLE', `the gateway at ${gatewayOrigin()} did not answer: ${(error as Error).message}`);
      }
    },
    { detail: { hide: true } },
  );
}
