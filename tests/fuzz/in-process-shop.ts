/**
 * The whole shop in this process for the barrage: real nodes for order (with the fulfillment saga), inventory,
 * payment, shipping and notifications (following the order log) on the shared Redis under one test prefix, the payment provider, the gateway and the control
 * plane, each app built on the service frame as its `main.ts` builds it. The services and the provider also listen
 * on free ports on 127.0.0.1, because the gateway and the payment actor reach them over HTTP. Unexpected errors the
 * frame logs are collected, so a test can show none happened.
 */
import { createClient } from 'redis';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Elysia } from 'elysia';
import { createNode, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp, listen, sagaRoutes } from '../../runtime/http/index.ts';
import { openChaosStore } from '../../runtime/ops/index.ts';
import { globalKeys } from '../../runtime/keys.ts';
import { orderFulfillment } from '../../sagas/order-fulfillment.ts';
import { openControlContext } from '../../services/control/context.ts';
import { gatewayProxy } from '../../services/control/gateway-proxy.ts';
import { panelFiles } from '../../services/control/panel-files.ts';
import { controlRoutes } from '../../services/control/routes.ts';
import { CONTROL_API } from '../../services/control/protocol.ts';
import { panelOrigins } from '../../services/control/security.ts';
import { createDownstreamClient } from '../../services/gateway/downstreams.ts';
import { GATEWAY_API } from '../../services/gateway/protocol.ts';
import { gatewayRoutes } from '../../services/gateway/routes.ts';
import { Strangler } from '../../services/gateway/strangler.ts';
import { seedCatalogue } from '../../services/inventory/catalogue.ts';
import { reservation } from '../../services/inventory/reservation.machine.ts';
import { INVENTORY_API } from '../../services/inventory/protocol.ts';
import { inventoryRoutes } from '../../services/inventory/routes.ts';
import { sku } from '../../services/inventory/sku.machine.ts';
import { orderActor } from '../../services/order/machine.ts';
import { ORDER_API } from '../../services/order/protocol.ts';
import { orderRoutes } from '../../services/order/routes.ts';
import { FULFILLMENT_SAGA_WORDS } from '../../services/order/saga-protocol.ts';
import { createProviderClient, providerEffects } from '../../services/payment/effects.ts';
import { definePaymentActor } from '../../services/payment/machine.ts';
import { PAYMENT_API } from '../../services/payment/protocol.ts';
import { paymentRoutes } from '../../services/payment/routes.ts';
import { FaultInjector } from '../../services/payment-provider/faults.ts';
import { providerKeys } from '../../services/payment-provider/keys.ts';
import { Ledger } from '../../services/payment-provider/ledger.ts';
import { PROVIDER_API } from '../../services/payment-provider/protocol.ts';
import { providerRoutes } from '../../services/payment-provider/routes.ts';
import { shipment } from '../../services/shipping/machine.ts';
import { SHIPPING_API } from '../../services/shipping/protocol.ts';
import { shippingRoutes } from '../../services/shipping/routes.ts';
import { noticeActor } from '../../services/notifications/machine.ts';
import { NOTIFICATIONS_API } from '../../services/notifications/protocol.ts';
import { notificationRoutes } from '../../services/notifications/routes.ts';
import { followOrderLog } from '../../services/notifications/subscriber.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

export const APP_NAMES = ['gateway', 'order', 'inventory', 'payment', 'shipping', 'provider', 'notifications', 'control'] as const;
export type AppName = (typeof APP_NAMES)[number];

/**
 * Builds and starts the shop. `close()` stops every server, client and node and removes the prefix's keys.
 *
 * @example
 * const shop = await startInProcessShop();
 * await shop.apps.order.handle(new Request('http://localhost/orders/ord-1'));
 */
export async function startInProcessShop() {
  const prefix = testPrefix('fuzz');
  const logged: string[] = [];
  const log = (name: string) => (line: string) => void logged.push(`[${name}] ${line}`);
  const nodeErrors: string[] = [];
  const onError = (error: unknown, where: string) => void nodeErrors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);

  // What to undo, in reverse order: by close(), or at once if building the shop fails half-way (nodes left
  // running would go on writing under the prefix after the test is gone).
  const teardown: (() => unknown)[] = [];
  const undo = async () => {
    for (const step of teardown.reverse()) await Promise.resolve().then(step).catch(() => {});
    await cleanupPrefix(prefix);
  };
  try {
    const redis = createClient({ url: SHARED_REDIS });
    await redis.connect();
    teardown.push(() => redis.quit());
    const check = { redis: async () => void (await redis.ping()) };
    const call = (args: string[]) => redis.sendCommand(args);

    const serve = (app: Parameters<typeof listen>[0]) => {
      const port = freePort();
      const server = listen(app, port, '127.0.0.1');
      teardown.push(() => server.stop(true));
      return port;
    };

    const keys = providerKeys(prefix);
    const faults = new FaultInjector(call, keys);
    const provider = createServiceApp({ name: 'provider', ...PROVIDER_API, log: log('provider'), checks: check }).use(providerRoutes({ ledger: new Ledger(call, keys), faults }));
    const providerPort = serve(provider);

    const common = { keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2, onError } as const;
    const providerClient = createProviderClient({ baseUrl: `http://127.0.0.1:${providerPort}` });
    teardown.push(() => providerClient.dispose());
    const started = async (options: Parameters<typeof createNode>[0]) => {
      const node = await createNode(options);
      teardown.push(() => node.stop());
      return node;
    };
    const nodes: Record<'order' | 'inventory' | 'payment' | 'shipping' | 'notifications', MailroomNode> = {
      order: await started({ service: 'order', actors: [orderActor, orderFulfillment.definition], ...common }),
      inventory: await started({ service: 'inventory', actors: [sku, reservation], ...common }),
      payment: await started({ service: 'payment', actors: [definePaymentActor(providerEffects(providerClient))], ...common }),
      shipping: await started({ service: 'shipping', actors: [shipment], ...common }),
      notifications: await started({ service: 'notifications', actors: [noticeActor], ...common }),
    };
    const following = followOrderLog(nodes.notifications, { redis: SHARED_REDIS, onError: (error) => onError(error, 'notifications subscriber') });
    teardown.push(() => following.stop());
    await seedCatalogue(nodes.inventory);

    // Each app with its own document's description, tags (and bearer), as its main.ts starts it.
    const API = { order: ORDER_API, inventory: INVENTORY_API, payment: PAYMENT_API, shipping: SHIPPING_API, provider: PROVIDER_API, notifications: NOTIFICATIONS_API, gateway: GATEWAY_API, control: CONTROL_API };
    // The four services' documents list admission control's answers as their main.ts's do (the nodes here run
    // without it, so a barrage is never refused for a backlog of its own making).
    const frame = (name: AppName, chaos?: MailroomNode['chaos'], admission = chaos !== undefined) =>
      createServiceApp({ name, ...API[name], log: log(name), checks: check, chaos, trustedOrigins: panelOrigins(), admission });
    const order = frame('order', nodes.order.chaos).use(orderRoutes(nodes.order)).use(sagaRoutes(nodes.order, orderFulfillment, FULFILLMENT_SAGA_WORDS));
    const inventory = frame('inventory', nodes.inventory.chaos).use(inventoryRoutes(nodes.inventory));
    const payment = frame('payment', nodes.payment.chaos).use(paymentRoutes({ node: nodes.payment, provider: providerClient }));
    const shipping = frame('shipping', nodes.shipping.chaos).use(shippingRoutes(nodes.shipping));
    const notifications = frame('notifications', nodes.notifications.chaos, false).use(notificationRoutes(nodes.notifications));
    const ports = { order: serve(order), inventory: serve(inventory), payment: serve(payment), shipping: serve(shipping), notifications: serve(notifications) };

    const env = {
      MAILROOM_HOST: '127.0.0.1',
      MAILROOM_PORT_ORDER: String(ports.order),
      MAILROOM_PORT_INVENTORY: String(ports.inventory),
      MAILROOM_PORT_PAYMENT: String(ports.payment),
      MAILROOM_PORT_SHIPPING: String(ports.shipping),
    };
    const http = createDownstreamClient({ env });
    teardown.push(() => http.dispose());
    const strangler = new Strangler({ store: redis, key: `${prefix}:svc:gateway:strangler` });
    const gateway = frame('gateway').use(gatewayRoutes({ http, strangler }));

    // The control plane as main.ts wires it — its routes behind the token, /api/* passed to the gateway, and a built
    // panel (a stand-in `dist`) —
    // with two differences: its chaos rules go to a prefix of their own, so the rules its barrage adds never reach
    // the shop it is fuzzing at the same time; and a stand-in supervisor (a live flag and a process table in Redis)
    // takes its process commands, which nobody carries out.
    const controlToken = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    const servedPorts: Partial<Record<AppName, number>> = { ...ports, provider: providerPort };
    const opened = await openControlContext({ redis: SHARED_REDIS, keyPrefix: prefix, origins: (name) => `http://127.0.0.1:${servedPorts[name]}` });
    teardown.push(() => opened.close());
    const controlChaos = await openChaosStore({ redis: SHARED_REDIS, keyPrefix: `${prefix}:control-chaos` });
    teardown.push(() => controlChaos.close());
    const controlContext = { ...opened, chaos: controlChaos };
    teardown.push(() => controlContext.load.stop());
    const g = globalKeys(prefix);
    await redis.set(g.supervisorAlive, '1', { EX: 3_600 });
    for (const [seq, name] of APP_NAMES.entries()) {
      await redis.hSet(g.processes, name, JSON.stringify({ name, pid: process.pid, status: 'up', restarts: 0, uptimeMs: 0, url: 'http://127.0.0.1:1', port: 1, paused: false, upSince: Date.now(), updatedAt: Date.now(), seq }));
    }
    const dist = mkdtempSync(join(tmpdir(), 'mailroom-fuzz-dist-'));
    teardown.push(() => rmSync(dist, { recursive: true, force: true }));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>panel</title><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("panel")');
    const control = frame('control').use(
      new Elysia()
        .use(controlRoutes(controlContext, { token: controlToken, origins: panelOrigins() }))
        .use(gatewayProxy(() => `http://127.0.0.1:${servedPorts.gateway}`))
        .use(panelFiles(dist)),
    );
    servedPorts.gateway = serve(gateway);
    servedPorts.control = serve(control);
    const allPorts = servedPorts as Record<AppName, number>;

    return {
      prefix,
      nodes,
      faults,
      /** Where each app listens on 127.0.0.1 (for tests that need a real socket). */
      ports: allPorts,
      apps: { gateway, order, inventory, payment, shipping, provider, notifications, control } satisfies Record<AppName, unknown>,
      /** Lines the frame logged for unexpected errors (500s), and errors the nodes reported. */
      logged,
      nodeErrors,
      control: { token: controlToken, context: controlContext },
      close: undo,
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

export type InProcessShop = Awaited<ReturnType<typeof startInProcessShop>>;
