/**
 * `bun run bench request [--json] [--rounds 5] [--requests 5000]`: what one JSON request through a service's HTTP
 * frame costs — `createServiceApp` (the body's size cap and parse, TypeBox validation of the body and the response,
 * metrics, the error handler) on the order service's own create schemas, a body like the gateway's — next to the floor
 * under it: `Bun.serve` answering the same request with `JSON.parse` and `Response.json`, nothing checked. Over a real
 * socket with `fetch` (keep-alive), client and server in this one process: prints the median CPU µs per request over
 * the rounds (client included, the same on both rows) and the ratio. Each service answers a few such requests per saga
 * (the gateway's create, the charge at the provider).
 */
import { Elysia, type Static } from 'elysia';
import { createServiceApp } from '../../runtime/http/index.ts';
import { CreateOrderBodySchema } from '../../services/order/protocol.ts';
import { EXAMPLE, OrderViewSchema, type OrderView } from '../../services/shared/shop-vocabulary.ts';

type CreateOrderBody = Static<typeof CreateOrderBodySchema>;
import { numberFlag } from './_kit.ts';

const JSON_OUT = process.argv.includes('--json');
const rounds = numberFlag('rounds', 5);
const requests = numberFlag('requests', 5_000);

const body: CreateOrderBody = {
  orderId: EXAMPLE.orderId,
  customer: { ...EXAMPLE.customer },
  lines: [
    { sku: 'BOX-M', qty: 2, price: 299 },
    { sku: 'TAPE-50', qty: 1, price: 450 },
  ],
  address: { ...EXAMPLE.address },
};
const text = JSON.stringify(body);
const view = (b: CreateOrderBody): OrderView => ({ ...b, orderId: b.orderId!, state: 'pending', total: 1048, createdAt: 1, updatedAt: 1 });

const frame = createServiceApp({ name: 'bench', description: 'bench request', checks: {} }).use(
  new Elysia().post(
    '/orders',
    ({ body, set }) => {
      set.status = 201;
      return view(body);
    },
    { body: CreateOrderBodySchema, response: { 201: OrderViewSchema } },
  ),
);
const servers = {
  frame: Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => frame.handle(r) }),
  floor: Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (r) => Response.json(view(JSON.parse(await r.text())), { status: 201 }) }),
};

async function post(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    if (res.status !== 201) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<keyof typeof servers, number[]> = { frame: [], floor: [] };
for (const server of Object.values(servers)) await post(`http://127.0.0.1:${server.port}/orders`, 2_000); // warm
for (let r = 0; r < rounds; r++) {
  for (const [name, server] of Object.entries(servers) as [keyof typeof servers, ReturnType<typeof Bun.serve>][]) {
    const since = process.cpuUsage();
    await post(`http://127.0.0.1:${server.port}/orders`, requests);
    const used = process.cpuUsage(since);
    results[name].push((used.user + used.system) / requests);
  }
}
for (const server of Object.values(servers)) server.stop(true);

const frameUs = median(results.frame);
const floorUs = median(results.floor);
console.log(`CPU µs per request (client and server in one process), median of ${rounds} rounds of ${requests}`);
console.log(`service frame (createServiceApp, order's schemas)  ${frameUs.toFixed(1).padStart(7)}   (${results.frame.map((x) => x.toFixed(1)).join(' ')})`);
console.log(`floor: Bun.serve, JSON.parse, Response.json        ${floorUs.toFixed(1).padStart(7)}   (${results.floor.map((x) => x.toFixed(1)).join(' ')})`);
console.log(`frame / floor = ${(frameUs / floorUs).toFixed(2)}×`);
if (JSON_OUT) console.log(JSON.stringify({ bench: 'request', rounds, requests, frameUs: +frameUs.toFixed(2), floorUs: +floorUs.toFixed(2), ratio: +(frameUs / floorUs).toFixed(3) }));
