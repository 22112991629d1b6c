/**
 * The shipping service as its own process (`services/shipping/main.ts`) on real Redis: it answers health, documents
 * its routes in OpenAPI, schedules a shipment, and stops cleanly on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { startChild } from '../helpers/processes.ts';
import { cleanupPrefix, freePort, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('shipping-process');
afterAll(() => cleanupPrefix(prefix));

describe('shipping process', () => {
  it('should start, document its routes, schedule a shipment and stop on SIGTERM', async () => {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = startChild('services/shipping/main.ts', { REDIS_URL: SHARED_REDIS, MAILROOM_PREFIX: prefix, MAILROOM_PORT_SHIPPING: String(port) });
    await waitFor('shipping to be healthy', async () => (await fetch(`${base}/health`).catch(() => null))?.ok, 10_000);
    const spec = (await (await fetch(`${base}/swagger/json`)).json()) as { paths: Record<string, object> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/shipments', '/shipments/{orderId}', '/shipments/{orderId}/cancel']));
    const body = { orderId: 'proc-ship-1', address: { name: 'Ada', line1: '1 Main St', city: 'Boston', country: 'US' }, lines: [{ sku: 'BOX-S', qty: 1 }] };
    const res = await fetch(`${base}/shipments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ orderId: 'proc-ship-1', state: 'scheduled', carrier: 'USPS' });
    child.proc.kill('SIGTERM');
    expect(await child.proc.exited).toBe(0);
  }, 15_000);
});
