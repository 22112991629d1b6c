/**
 * The skeleton every Mailroom process starts from: a service app on its port (from `services/config.ts`), a Redis
 * connection reported by `/health` where the process uses Redis, and a clean exit on SIGTERM/SIGINT. Each
 * `services/<name>/main.ts` calls it with its own routes; later issues add the runtime node and the actors.
 */
import type { Elysia } from 'elysia';
import { portOf, trustedOrigins, type ProcessName } from '../config.ts';
import { listen } from '../../runtime/http/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { onShutdown } from '../../runtime/index.ts';
import { connectRedis, redisUrlOf } from './redis-connection.ts';
import { openRuleBook, type RuleBook } from '../../runtime/index.ts';
import { type BearerSecurity, type DocumentTag } from '../../runtime/http/index.ts';
import { advertisedAddress } from '../../runtime/discovery/index.ts';
import { accessGuardOf } from './system-access.ts';

// Any route plugin may be mounted, whatever its routes and decorators.
type AnyElysia = Elysia<any, any, any, any, any, any, any>;

export type StartProcessOptions = {
  name: ProcessName;
  /** What the process is for (its OpenAPI document says it first). */
  description: string;
  /** The tags its operations use, with a sentence each. */
  tags?: DocumentTag[];
  /** A bearer token guards its changing requests (declared in its OpenAPI document). */
  bearer?: BearerSecurity;
  /** Whether the process uses Redis (then `/health` reports it). */
  redis: boolean;
  /** The process's own routes, mounted on the service app. */
  routes?: AnyElysia;
  /** Failure-injection rules for its routes: a node's (`node.chaos`), or one opened here when it uses Redis. */
  chaos?: RuleBook;
  /** Its node refuses asks while a service is too far behind (its document lists the 429s). */
  admission?: boolean;
  /**
   * When the process is exposed, the paths anyone may call without the service credential (besides `/health` and
   * `/swagger`): the gateway's shop API, the control plane's own routes (which want the operator token instead).
   */
  publicPaths?: (path: string, method: string) => boolean;
};

/** Requests this process has served (health checks and metric scrapes aside): the traffic the topology shows. */
let requestsServed = 0;

/**
 * What a process writes into its registry entry so callers discover it: its advertised address (from
 * `MAILROOM_HOST` / `MAILROOM_ADVERTISE` and its own port) and, at every heartbeat, the requests it has served.
 *
 * @example
 * const node = await createNode({ service: 'order', actors, ...registryEntry('order') });
 */
export function registryEntry(name: ProcessName) {
  return { advertise: advertisedAddress(portOf(name)), describe: () => ({ requests: String(requestsServed) }) };
}

/**
 * Starts the process and returns its server, app and Redis connection (if any).
 *
 * @example
 * startProcess({ name: 'order', description: 'Orders and their lifecycle', redis: true, routes: orderRoutes });
 */
export function startProcess(options: StartProcessOptions) {
  const redis = options.redis ? connectRedis(options.name) : undefined;
  const chaos = options.chaos ?? (options.redis ? openRuleBook({ source: options.name, redis: redisUrlOf() }) : undefined);
  const app = createServiceApp({
    name: options.name,
    description: options.description,
    tags: options.tags,
    bearer: options.bearer,
    trustedOrigins: trustedOrigins(),
    checks: redis ? { redis: redis.check } : {},
    chaos,
    admission: options.admission,
    access: accessGuardOf(options.publicPaths),
  });
  app.onRequest(({ request }) => {
    const path = request.url.slice(request.url.indexOf('/', 8));
    if (!path.startsWith('/health') && !path.startsWith('/metrics')) requestsServed++;
  });
  if (options.routes) app.use(options.routes);

  const port = portOf(options.name);
  const server = listen(app, port);
  console.log(`${options.name} listening on ${server.url.href}`);

  onShutdown(async () => {
    await server.stop(true);
    if (!options.chaos) chaos?.stop();
    await redis?.close();
  });
  return { app, server, redis };
}
