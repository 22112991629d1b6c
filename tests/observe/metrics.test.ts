/**
 * `GET /metrics` on every process: the six shop processes and the control plane run as real processes (free
 * ports, a test key prefix), one order goes through the gateway, and then each process's answer must pass
 * `promtool check metrics` (Prometheus' own linter: names, types, units, `_total` only on counters) and carry the
 * numbers that order moved — turns per actor type, saga outcomes, HTTP requests by route pattern, breaker state,
 * mailbox backlog per partition. No label may hold an order id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { DEFAULT_PORTS, SHOP_PARTITIONS } from '../../services/config.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';
import { startShop, SHOP_PROCESSES, type Shop } from '../helpers/shop.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import v8 from 'node:v8';

const prefix = testPrefix('metrics');
let shop: Shop;
let control: ReturnType<typeof Bun.spawn> | undefined;
const controlUrl = (path: string) => `http://127.0.0.1:${DEFAULT_PORTS.control + shop.offset}${path}`;

beforeAll(async () => {
  shop = await startShop(prefix);
  control = Bun.spawn(['bun', 'services/control/main.ts'], {
    env: { ...process.env, MAILROOM_PORT_OFFSET: String(shop.offset), MAILROOM_PREFIX: prefix, REDIS_URL: SHARED_REDIS, MAILROOM_SUPERVISOR_PID: '', MAILROOM_CONTROL_TOKEN: 'metrics-test' },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  await waitFor('the control plane to answer /health', async () => (await fetch(controlUrl('/health')).catch(() => null))?.status === 200, 20_000, 50);
}, 40_000);
afterAll(async () => {
  control?.kill('SIGTERM');
  await control?.exited;
  await shop?.close();
  await cleanupPrefix(prefix);
});

/** `promtool check metrics` on a scrape: its exit code and what it said. */
async function promtool(text: string): Promise<{ code: number; said: string }> {
  const proc = Bun.spawn(['promtool', 'check', 'metrics'], { stdin: new TextEncoder().encode(text), stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, said: (out + err).trim() };
}

/** A sample's value, or undefined: `name{a="x",…}` matched on the labels given (any others may be there). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('GET /metrics', () => {
  it('should fail promtool on a malformed exposition (the check can fail)', async () => {
    const bad = await promtool('# TYPE mailroom_things gauge\nmailroom_things_total 1\nmailroom_widgets_total{x="1"} 2\n# TYPE mailroom_widgets_total gauge\n');
    expect(bad.code).not.toBe(0);
  });

  it('should count requests by route pattern and status in-process', async () => {
    const app = createServiceApp({ name: 'metrics-demo' }).get('/things/:id', ({ params }) => ({ id: params.id }));
    for (const id of ['a1', 'b2', 'c3']) expect((await app.handle(new Request(`http://localhost/things/${id}`))).status).toBe(200);
    expect((await app.handle(new Request('http://localhost/nowhere'))).status).toBe(404);
    await Bun.sleep(20); // after-response hooks run once the response is out
    const res = await app.handle(new Request('http://localhost/metrics'));
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'mailroom_http_requests_total', { service: 'metrics-demo', route: '/things/:id', status: '200' })).toBe(3);
    expect(sample(text, 'mailroom_http_requests_total', { service: 'metrics-demo', route: '(unmatched)', status: '404' })).toBe(1);
    expect(sample(text, 'mailroom_http_request_duration_seconds_count', { service: 'metrics-demo', route: '/things/:id' })).toBe(3);
    expect(text).not.toContain('a1');
  });

  it('should not walk the heap on a scrape, and still report its size', async () => {
    // Bun answers v8.getHeapSpaceStatistics() by walking the heap (100 ms with a million objects): no scrape may call it.
    const original = v8.getHeapSpaceStatistics;
    let walked = 0;
    v8.getHeapSpaceStatistics = (() => {
      walked++;
      return original();
    }) as typeof original;
    try {
      const text = await (await createServiceApp({ name: 'metrics-heap' }).handle(new Request('http://localhost/metrics'))).text();
      expect(text).not.toContain('nodejs_heap_space_size');
      expect(sample(text, 'nodejs_heap_size_used_bytes', {})).toBeGreaterThan(0);
    } finally {
      v8.getHeapSpaceStatistics = original;
    }
    expect(walked).toBe(0);
  });

  it('should answer Prometheus text that promtool accepts on every process, with the numbers an order moved', async () => {
    const placed = await fetch(shop.url('gateway', '/api/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${prefix}-1` },
      body: JSON.stringify({ customer: { name: 'Ada', email: 'ada@example.com' }, lines: [{ sku: 'BOX-M', qty: 1 }], address: { name: 'Ada', line1: '1 Sq', city: 'London', country: 'GB' } }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    await waitFor('the order to be confirmed', async () => ((await (await fetch(shop.url('gateway', `/api/orders/${orderId}`))).json()) as any).saga?.status === 'completed', 15_000, 50);

    const scrapes: Record<string, string> = {};
    for (const name of SHOP_PROCESSES) scrapes[name] = await (await fetch(shop.url(name, '/metrics'))).text();
    scrapes.control = await (await fetch(controlUrl('/metrics'))).text();

    for (const [name, text] of Object.entries(scrapes)) {
      const { code, said } = await promtool(text);
      // On failure the diff shows what promtool said.
      expect({ name, code, said }).toEqual({ name, code: 0, said: expect.any(String) });
      expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(text).not.toContain(orderId);
    }

    const order = scrapes.order!;
    expect(sample(order, 'mailroom_turns_total', { service: 'order', actor_type: 'fulfillment' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_turns_total', { service: 'order', actor_type: 'order' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_sagas_total', { saga: 'fulfillment', outcome: 'started' })).toBe(1);
    expect(sample(order, 'mailroom_sagas_total', { saga: 'fulfillment', outcome: 'completed' })).toBe(1);
    expect(sample(order, 'mailroom_saga_step_duration_seconds_count', { saga: 'fulfillment', phase: 'succeeded' })).toBeGreaterThanOrEqual(4);
    expect(sample(order, 'mailroom_commits_total', { service: 'order', outcome: 'committed' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_commit_duration_seconds_count', { service: 'order' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_batch_size_count', { service: 'order' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_timers_armed_total', { service: 'order' })).toBeGreaterThan(0);
    expect(sample(order, 'mailroom_partitions_owned', { service: 'order' })).toBe(SHOP_PARTITIONS);
    expect(sample(order, 'mailroom_nodes', { service: 'order' })).toBe(1);
    expect(sample(order, 'mailroom_lease_moves_total', { service: 'order', direction: 'acquired' })).toBe(SHOP_PARTITIONS);
    // A backlog gauge for each owned partition, read at scrape time.
    for (let p = 0; p < SHOP_PARTITIONS; p++) expect(sample(order, 'mailroom_mailbox_pending_messages', { service: 'order', partition: String(p) })).toBe(0);
    expect(sample(order, 'mailroom_mailbox_undelivered_messages', { service: 'order' })).toBe(0);

    expect(sample(scrapes.payment!, 'mailroom_effect_duration_seconds_count', { service: 'payment', outcome: 'done' })).toBeGreaterThan(0);
    expect(sample(scrapes.payment!, 'mailroom_breaker_state', { service: 'payment', state: 'closed' })).toBe(1);
    expect(sample(scrapes.payment!, 'mailroom_breaker_state', { service: 'payment', state: 'open' })).toBe(0);
    expect(sample(scrapes.gateway!, 'mailroom_breaker_state', { service: 'gateway', breaker: 'order', state: 'closed' })).toBe(1);
    expect(sample(scrapes.gateway!, 'mailroom_http_requests_total', { service: 'gateway', method: 'POST', route: '/api/orders', status: '202' })).toBe(1);
    expect(sample(scrapes.gateway!, 'mailroom_http_requests_total', { service: 'gateway', method: 'GET', route: '/api/orders/:id' })).toBeGreaterThan(0);
    expect(sample(scrapes.provider!, 'mailroom_http_requests_total', { service: 'provider', method: 'POST' })).toBeGreaterThan(0);
    expect(sample(scrapes.inventory!, 'mailroom_turns_total', { service: 'inventory', actor_type: 'sku' })).toBeGreaterThan(0);
    expect(sample(scrapes.shipping!, 'mailroom_turns_total', { service: 'shipping', actor_type: 'shipment' })).toBeGreaterThan(0);
  }, 60_000);
});
