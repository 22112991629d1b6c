/**
 * The shipping service against real Redis: every route's input checks and errors in-process (`app.handle`), and
 * the `shipment` actor's message protocol as the order saga will use it — a probe actor in another service stands
 * in for the saga and records the replies it is told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, readEvents, type MailroomEvent, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { trackingIdFor, CARRIERS } from '../../services/shipping/carriers.ts';
import { shipment } from '../../services/shipping/machine.ts';
import { SERVICE, shipmentAddress, type ShipmentContext } from '../../services/shipping/protocol.ts';
import { shippingRoutes } from '../../services/shipping/routes.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

/** Records every message it receives, in order. */
const probe = defineActor(
  'probe',
  setup({ types: {} as { context: { got: MailroomEvent[] }; events: MailroomEvent } }).createMachine({
    context: { got: [] },
    on: { '*': { actions: assign({ got: ({ context, event }) => [...context.got, event] }) } },
  }),
);

const prefix = testPrefix('shipping');
let node: MailroomNode;
let saga: MailroomNode;
let app: ReturnType<typeof makeApp>;
const makeApp = (n: MailroomNode) => createServiceApp({ name: 'shipping', log: () => {} }).use(shippingRoutes(n));

beforeAll(async () => {
  saga = await createNode({ service: 'probe', actors: [probe], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  node = await createNode({ service: SERVICE, actors: [shipment], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4 });
  app = makeApp(node);
});
afterAll(async () => {
  await Promise.all([node.stop(), saga.stop()]);
  await cleanupPrefix(prefix);
});

type Json = Record<string, any>;
const call = async (method: string, path: string, body?: unknown) => {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await app.handle(new Request(`http://localhost${path}`, init));
  return { status: res.status, body: (await res.json()) as Json };
};
const address = (country = 'GB') => ({ name: 'Ada Lovelace', line1: '12 St James’s Square', city: 'London', country });
const lines = [{ sku: 'BOX-M', qty: 2 }];
const probeAddress = (name: string) => `probe/probe/${name}`;
const received = async (name: string) => (await saga.read<{ got: MailroomEvent[] }>(probeAddress(name)))?.context.got ?? [];
const replyOf = (name: string, type: string, commandId: string) =>
  waitFor(`${name} to receive ${type} for ${commandId}`, async () => (await received(name)).find((m) => m.type === type && m.commandId === commandId), 5_000);

describe('shipping routes: bad input', () => {
  it('should reject a schedule body that is missing fields or malformed, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'body.orderId is required'],
      [{ orderId: 's-1', lines }, 'body.address is required'],
      [{ orderId: 's-1', address: address() }, 'body.lines is required'],
      [{ orderId: 's-1', address: { ...address(), city: '' }, lines }, 'body.address.city is invalid'],
      [{ orderId: 's-1', address: { name: 'A', line1: 'B', city: 'C' }, lines }, 'body.address.country is required'],
      [{ orderId: 's-1', address: address('gb'), lines }, 'body.address.country is invalid'],
      [{ orderId: 's-1', address: address('GBR'), lines }, 'body.address.country is invalid'],
      [{ orderId: 's-1', address: address(), lines: [] }, 'body.lines is invalid'],
      [{ orderId: 's-1', address: address(), lines: [{ sku: 'BOX-M', qty: 0 }] }, 'body.lines.0.qty is invalid'],
      [{ orderId: 'has space', address: address(), lines }, 'body.orderId is invalid'],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/shipments', body);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION');
      expect(res.body.message).toStartWith(message);
    }
    expect((await call('POST', '/shipments', '{"orderId":')).status).toBe(400);
    expect(await node.read(shipmentAddress('s-1'))).toBeNull();
  });

  it('should answer 404 SHIPMENT_NOT_FOUND for an unknown order on read and cancel, and 422 for a bad order id', async () => {
    for (const [method, path] of [['GET', '/shipments/nobody'], ['POST', '/shipments/nobody/cancel']] as const) {
      const res = await call(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'SHIPMENT_NOT_FOUND', message: 'no shipment for order nobody', details: { orderId: 'nobody' } });
    }
    const bad = await call('GET', '/shipments/-leading-dash');
    expect(bad.status).toBe(422);
    expect(bad.body.message).toStartWith('params.orderId is invalid');
  });

  it('should answer 409 SHIPPING_UNAVAILABLE naming a country no carrier serves', async () => {
    const res = await call('POST', '/shipments', { orderId: 's-far', address: address('AQ'), lines });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SHIPPING_UNAVAILABLE');
    expect(res.body.message).toBe('cannot ship order s-far: no carrier serves country AQ');
    expect((await call('GET', '/shipments/s-far')).body).toEqual({ orderId: 's-far', state: 'rejected', reason: 'no carrier serves country AQ' });
  });

  it('should answer 409 SHIPMENT_CANCELLED to a schedule after a cancel', async () => {
    expect((await call('POST', '/shipments', { orderId: 's-cx', address: address('DE'), lines })).status).toBe(200);
    expect((await call('POST', '/shipments/s-cx/cancel')).body.state).toBe('cancelled');
    const res = await call('POST', '/shipments', { orderId: 's-cx', address: address('DE'), lines });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SHIPMENT_CANCELLED');
  });
});

describe('shipping routes', () => {
  it('should schedule with the country’s carrier and a stable tracking id, idempotently', async () => {
    const res = await call('POST', '/shipments', { orderId: 's_ok', address: address('NL'), lines });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ orderId: 's_ok', state: 'scheduled', carrier: 'PostNL', trackingId: trackingIdFor(CARRIERS.NL!, 's_ok') });
    expect(res.body.trackingId).toMatch(/^PN[0-9A-Z]{10}$/);
    const again = await call('POST', '/shipments', { orderId: 's_ok', address: address('NL'), lines });
    expect(again.body).toEqual(res.body);
    expect((await call('GET', '/shipments/s_ok')).body).toEqual(res.body);
    const cancel = await call('POST', '/shipments/s_ok/cancel');
    expect(cancel.body).toEqual({ ...res.body, state: 'cancelled' });
    expect((await call('POST', '/shipments/s_ok/cancel')).body).toEqual(cancel.body);
    const events = await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, aggregate: shipmentAddress('s_ok') });
    expect(events.map((e) => e.type)).toEqual(['ShipmentScheduled', 'ShipmentCancelled']);
  });
});

describe('shipping protocol (saga-facing)', () => {
  it('should tell replyTo shipping.scheduled with orderId, commandId and the tracking id, once per command', async () => {
    const command = { type: 'schedule', orderId: 'sp-1', address: address('US'), lines, replyTo: probeAddress('p1'), commandId: 'sched-1' };
    await saga.send(shipmentAddress('sp-1'), command, { id: 'msg-sched-sp-1' });
    const reply = await replyOf('p1', 'shipping.scheduled', 'sched-1');
    expect(reply).toEqual({ type: 'shipping.scheduled', orderId: 'sp-1', commandId: 'sched-1', trackingId: trackingIdFor(CARRIERS.US!, 'sp-1'), carrier: 'USPS' });
    // The same message again is dropped; a retry under a new command id is answered with the same tracking id.
    await saga.send(shipmentAddress('sp-1'), command, { id: 'msg-sched-sp-1' });
    await saga.send(shipmentAddress('sp-1'), { ...command, commandId: 'sched-2' });
    const retry = await replyOf('p1', 'shipping.scheduled', 'sched-2');
    expect(retry.trackingId).toBe(reply.trackingId);
    const got = await received('p1');
    expect(got.filter((m) => m.commandId === 'sched-1')).toHaveLength(1);
    const scheduled = (await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, aggregate: shipmentAddress('sp-1') })).filter((e) => e.type === 'ShipmentScheduled');
    expect(scheduled).toHaveLength(1);
  });

  it('should tell replyTo shipping.rejected naming the country, and the same again on a repeat', async () => {
    const command = { type: 'schedule', orderId: 'sp-2', address: address('jp'), lines, replyTo: probeAddress('p2'), commandId: 'r1' };
    await saga.send(shipmentAddress('sp-2'), command);
    expect(await replyOf('p2', 'shipping.rejected', 'r1')).toEqual({ type: 'shipping.rejected', orderId: 'sp-2', commandId: 'r1', reason: 'no carrier serves country JP' });
    await saga.send(shipmentAddress('sp-2'), { ...command, commandId: 'r2' });
    expect((await replyOf('p2', 'shipping.rejected', 'r2')).reason).toBe('no carrier serves country JP');
    // Cancelling a rejected shipment is fine and leaves the reason visible.
    await saga.send(shipmentAddress('sp-2'), { type: 'cancel', orderId: 'sp-2', replyTo: probeAddress('p2'), commandId: 'c1' });
    expect(await replyOf('p2', 'shipping.cancelled', 'c1')).toEqual({ type: 'shipping.cancelled', orderId: 'sp-2', commandId: 'c1' });
    expect((await node.read<ShipmentContext>(shipmentAddress('sp-2')))).toMatchObject({ state: 'rejected', context: { reason: 'no carrier serves country JP' } });
  });

  it('should reject a malformed schedule message with a reason instead of failing the turn', async () => {
    await saga.send(shipmentAddress('sp-3'), { type: 'schedule', orderId: 'sp-3', address: { name: 'A' }, lines: [], replyTo: probeAddress('p3'), commandId: 'm' });
    expect((await replyOf('p3', 'shipping.rejected', 'm')).reason).toBe('invalid schedule command: address.line1 is required');
  });

  it('should cancel idempotently, from scheduled and from idle, answering shipping.cancelled each time', async () => {
    await saga.send(shipmentAddress('sp-4'), { type: 'schedule', orderId: 'sp-4', address: address('FR'), lines, replyTo: probeAddress('p4'), commandId: 's' });
    await replyOf('p4', 'shipping.scheduled', 's');
    for (const id of ['c1', 'c2']) {
      await saga.send(shipmentAddress('sp-4'), { type: 'cancel', orderId: 'sp-4', replyTo: probeAddress('p4'), commandId: id });
      await replyOf('p4', 'shipping.cancelled', id);
    }
    const cancelledEvents = (await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, aggregate: shipmentAddress('sp-4') })).filter((e) => e.type === 'ShipmentCancelled');
    expect(cancelledEvents).toHaveLength(1);

    // A cancel that overtakes its schedule (saga timeout, then compensation): the late schedule is refused.
    await saga.send(shipmentAddress('sp-5'), { type: 'cancel', orderId: 'sp-5', replyTo: probeAddress('p5'), commandId: 'c' });
    await replyOf('p5', 'shipping.cancelled', 'c');
    await saga.send(shipmentAddress('sp-5'), { type: 'schedule', orderId: 'sp-5', address: address('GB'), lines, replyTo: probeAddress('p5'), commandId: 's' });
    expect((await replyOf('p5', 'shipping.rejected', 's')).reason).toContain('was cancelled');
    expect((await node.read(shipmentAddress('sp-5')))!.state).toBe('cancelled');
  });
});
