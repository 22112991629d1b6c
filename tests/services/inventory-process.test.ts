/**
 * The inventory service as its own process (`services/inventory/main.ts`) on real Redis: it seeds the catalogue on
 * start, publishes its routes in OpenAPI, stops cleanly on SIGTERM, and seeding again on restart leaves the stock
 * that orders moved alone.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { startChild, type Child } from '../helpers/processes.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

const prefix = testPrefix('inventory-process');
afterAll(() => cleanupPrefix(prefix));

async function start(port: number): Promise<Child> {
  const child = startChild('services/inventory/main.ts', { REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: prefix, MAILROOM_PORT_INVENTORY: String(port) });
  await child.waitLine('the catalogue to be seeded', (l) => l.text === 'inventory catalogue seeded', 10_000);
  return child;
}

describe('inventory process', () => {
  it('should seed a dozen SKUs on start, serve and document its routes, and keep moved stock across a restart', async () => {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = await start(port);
    const skus = (await (await fetch(`${base}/skus`)).json()) as { items: { sku: string; onHand: number }[] };
    expect(skus.items).toHaveLength(12);
    const spec = (await (await fetch(`${base}/swagger/json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/skus', '/skus/{sku}', '/skus/{sku}/restock', '/reservations', '/reservations/{orderId}', '/reservations/{orderId}/release']));
    expect((await fetch(`${base}/swagger`)).status).toBe(200);

    const reserve = await fetch(`${base}/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId: 'proc-1', lines: [{ sku: 'SCALE-5KG', qty: 4 }] }) });
    expect(reserve.status).toBe(200);

    child.proc.kill('SIGTERM');
    expect(await child.proc.exited).toBe(0);
    child = await start(port);
    const scale = (await (await fetch(`${base}/skus/SCALE-5KG`)).json()) as Record<string, number>;
    expect(scale).toMatchObject({ onHand: 1, reserved: 4, shipped: 0 });
    const short = await fetch(`${base}/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId: 'proc-2', lines: [{ sku: 'SCALE-5KG', qty: 2 }] }) });
    expect(short.status).toBe(409);
    expect(((await short.json()) as { message: string }).message).toContain('SCALE-5KG: 2 requested, 1 available');
    child.proc.kill('SIGTERM');
    expect(await child.proc.exited).toBe(0);
  }, 20_000);
});
