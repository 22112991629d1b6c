/**
 * Starting a service app on its port. Bun listens on every interface unless told otherwise, so the host is always
 * explicit: `hostOf()` (127.0.0.1 unless `MAILROOM_HOST` says otherwise).
 */
import type { Elysia } from 'elysia';
import { hostOf } from '../config.ts';

// Any app will do here, whatever its routes and decorators; Elysia's seven type parameters say nothing useful.
type AnyElysia = Elysia<any, any, any, any, any, any, any>;

/**
 * Listens on `hostOf():port` and returns the Bun server (stop it with `server.stop()`).
 *
 * @example
 * const server = listen(createServiceApp({ name: 'order' }), portOf('order'));
 * console.log(server.url.href); // http://127.0.0.1:3001/
 */
export function listen(app: AnyElysia, port: number, host: string = hostOf()) {
  app.listen({ hostname: host, port });
  const server = app.server;
  if (!server) throw new Error(`could not listen on ${host}:${port}`);
  return server;
}
