/**
 * The inventory actors' message protocol as the order saga will use it: commands carry `replyTo` (an actor
 * address) and `commandId`; the answer arrives at that actor as a message carrying `orderId` and `commandId`. A
 * probe actor in another service stands in for the saga and records everything it receives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { assign, setup } from 'xstate';
import { createNode, defineActor, type MailroomEvent, type MailroomNode } from '../../runtime/index.ts';
import { seedCatalogue } from '../../services/inventory/catalogue.ts';
import { reservationAddress, SERVICE, skuAddress, type ReservationContext, type SkuContext } from '../../services/inventory/protocol.ts';
import { reservation } from '../../services/inventory/reservation.machine.ts';
import { sku } from '../../services/inventory/sku.machine.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

/** Records every message it receives, in order. */
const probe = defineActor(
  'probe',
  setup({ types: {} as { context: { got: MailroomEvent[] }; events: MailroomEvent } }).createMachine({
    context: { got: [] },
    on: { '*': { actions: assign({ got: ({ context, event }) => [...context.got, event] }) } },
  }),
);

const prefix = testPrefix('inventory-protocol');
let inventory: MailroomNode;
let saga: MailroomNode;

beforeAll(async () => {
  // The probe's service first, so its partition count is registered before anything is told to it.
  saga = await createNode({ service: 'probe', actors: [probe], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  inventory = await createNode({ service: SERVICE, actors: [sku, reservation], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4 });
});
afterAll(async () => {
  await Promise.all([inventory.stop(), saga.stop()]);
  await cleanupPrefix(prefix);
});

const probeAddress = (name: string) => `probe/probe/${name}`;
const received = async (name: string) => (await saga.read<{ got: MailroomEvent[] }>(probeAddress(name)))?.context.got ?? [];
/** Waits until the probe holds a message of `type` with `commandId`, and returns it. */
const replyOf = (name: string, type: string, commandId: string) =>
  waitFor(`${name} to receive ${type} for ${commandId}`, async () => (await received(name)).find((m) => m.type === type && m.commandId === commandId), 5_000);
const skuOf = async (code: string) => (await inventory.read<SkuContext>(skuAddress(code)))!.context;
const reservedFor = async (code: string, orderId: string) => (await skuOf(code)).reserved[orderId] ?? 0;
const seed = (code: string, stock: number) => seedCatalogue(inventory, [{ sku: code, name: code, price: 250, stock }]);

describe('inventory protocol (saga-facing)', () => {
  it('should keep a listed SKU’s price for good: seeding it again with another price changes nothing (the gateway’s price book relies on it)', async () => {
    await seedCatalogue(inventory, [{ sku: 'P-FIXED', name: 'fixed', price: 250, stock: 1 }]);
    await seedCatalogue(inventory, [{ sku: 'P-FIXED', name: 'fixed', price: 999, stock: 7 }]);
    expect(await skuOf('P-FIXED')).toMatchObject({ price: 250, onHand: 1 });
  });

  it('should tell replyTo inventory.reserved with orderId, commandId and the merged lines', async () => {
    await seed('P-OK-A', 5);
    await seed('P-OK-B', 5);
    await saga.send(reservationAddress('po-1'), {
      type: 'reserve',
      orderId: 'po-1',
      lines: [{ sku: 'P-OK-A', qty: 1 }, { sku: 'P-OK-B', qty: 2 }, { sku: 'P-OK-A', qty: 1 }],
      replyTo: probeAddress('s1'),
      commandId: 'cmd-reserve-1',
    });
    const reply = await replyOf('s1', 'inventory.reserved', 'cmd-reserve-1');
    expect(reply).toEqual({ type: 'inventory.reserved', orderId: 'po-1', commandId: 'cmd-reserve-1', lines: [{ sku: 'P-OK-A', qty: 2 }, { sku: 'P-OK-B', qty: 2 }] });
    expect(await reservedFor('P-OK-A', 'po-1')).toBe(2);
  });

  it('should tell replyTo inventory.rejected with a reason naming the short SKU, requested and available, and hold nothing', async () => {
    await seed('P-NO-A', 5);
    await seed('P-NO-B', 1);
    await saga.send(reservationAddress('po-2'), {
      type: 'reserve',
      orderId: 'po-2',
      lines: [{ sku: 'P-NO-A', qty: 3 }, { sku: 'P-NO-B', qty: 4 }],
      replyTo: probeAddress('s2'),
      commandId: 'cmd-reserve-2',
    });
    const reply = await replyOf('s2', 'inventory.rejected', 'cmd-reserve-2');
    expect(reply).toMatchObject({ orderId: 'po-2', commandId: 'cmd-reserve-2', reason: 'not enough stock of SKU P-NO-B: 4 requested, 1 available' });
    await waitFor('P-NO-A to be given back', async () => (await skuOf('P-NO-A')).onHand === 5, 5_000);
    expect(await reservedFor('P-NO-A', 'po-2')).toBe(0);
    expect((await skuOf('P-NO-B')).onHand).toBe(1);
  });

  it('should apply a duplicate reserve (same message id) once, while a new command id gets its own answer', async () => {
    await seed('P-DUP', 10);
    const command = { type: 'reserve', orderId: 'po-3', lines: [{ sku: 'P-DUP', qty: 3 }], replyTo: probeAddress('s3'), commandId: 'c1' };
    await saga.send(reservationAddress('po-3'), command, { id: 'msg-reserve-po-3' });
    await replyOf('s3', 'inventory.reserved', 'c1');
    // Redelivered with the same id (a retried send after a crash): dropped by the runtime, no second answer.
    await saga.send(reservationAddress('po-3'), command, { id: 'msg-reserve-po-3' });
    // A retry under a new command id is answered again with the same outcome, and holds nothing more.
    await saga.send(reservationAddress('po-3'), { ...command, commandId: 'c2' }, { id: 'msg-reserve-po-3-retry' });
    await replyOf('s3', 'inventory.reserved', 'c2');
    const got = await received('s3');
    expect(got.filter((m) => m.commandId === 'c1')).toHaveLength(1);
    expect(got.filter((m) => m.commandId === 'c2')).toHaveLength(1);
    const c = await skuOf('P-DUP');
    expect(c.reserved).toEqual({ 'po-3': 3 });
    expect(c.onHand).toBe(7);
  });

  it('should release with inventory.released, idempotently, giving the stock back once', async () => {
    await seed('P-REL', 10);
    await saga.send(reservationAddress('po-4'), { type: 'reserve', orderId: 'po-4', lines: [{ sku: 'P-REL', qty: 4 }], replyTo: probeAddress('s4'), commandId: 'r' });
    await replyOf('s4', 'inventory.reserved', 'r');
    for (const id of ['rel-1', 'rel-2']) {
      await saga.send(reservationAddress('po-4'), { type: 'release', orderId: 'po-4', replyTo: probeAddress('s4'), commandId: id });
      expect(await replyOf('s4', 'inventory.released', id)).toEqual({ type: 'inventory.released', orderId: 'po-4', commandId: id });
    }
    await waitFor('P-REL back to 10', async () => (await skuOf('P-REL')).onHand === 10, 5_000);
    const c = await skuOf('P-REL');
    expect(c).toMatchObject({ onHand: 10, reserved: {}, shipped: 0 });
  });

  it('should commit with inventory.committed, idempotently, and refuse a release after it', async () => {
    await seed('P-COM', 10);
    await saga.send(reservationAddress('po-5'), { type: 'reserve', orderId: 'po-5', lines: [{ sku: 'P-COM', qty: 2 }], replyTo: probeAddress('s5'), commandId: 'r' });
    await replyOf('s5', 'inventory.reserved', 'r');
    for (const id of ['com-1', 'com-2']) {
      await saga.send(reservationAddress('po-5'), { type: 'commit', orderId: 'po-5', replyTo: probeAddress('s5'), commandId: id });
      expect(await replyOf('s5', 'inventory.committed', id)).toEqual({ type: 'inventory.committed', orderId: 'po-5', commandId: id });
    }
    await saga.send(reservationAddress('po-5'), { type: 'release', orderId: 'po-5', replyTo: probeAddress('s5'), commandId: 'late-release' });
    const refused = await replyOf('s5', 'inventory.releaseFailed', 'late-release');
    expect(String(refused.reason)).toContain('committed');
    await waitFor('P-COM shipped', async () => (await skuOf('P-COM')).shipped === 2, 5_000);
    expect(await skuOf('P-COM')).toMatchObject({ onHand: 8, reserved: {}, shipped: 2 });
  });

  it('should answer a release for an order never reserved, and refuse a reserve that arrives after it', async () => {
    await seed('P-LATE', 10);
    await saga.send(reservationAddress('po-6'), { type: 'release', orderId: 'po-6', replyTo: probeAddress('s6'), commandId: 'rel' });
    await replyOf('s6', 'inventory.released', 'rel');
    await saga.send(reservationAddress('po-6'), { type: 'reserve', orderId: 'po-6', lines: [{ sku: 'P-LATE', qty: 1 }], replyTo: probeAddress('s6'), commandId: 'res' });
    const refused = await replyOf('s6', 'inventory.rejected', 'res');
    expect(String(refused.reason)).toContain('was released');
    expect((await skuOf('P-LATE')).onHand).toBe(10);
  });

  it('should end released with the stock back when a release arrives while still holding', async () => {
    await seed('P-RACE-A', 10);
    await seed('P-RACE-B', 10);
    const address = reservationAddress('po-7');
    await saga.send(address, { type: 'reserve', orderId: 'po-7', lines: [{ sku: 'P-RACE-A', qty: 2 }, { sku: 'P-RACE-B', qty: 3 }], replyTo: probeAddress('s7'), commandId: 'res' });
    await saga.send(address, { type: 'release', orderId: 'po-7', replyTo: probeAddress('s7'), commandId: 'rel' });
    await replyOf('s7', 'inventory.released', 'rel');
    const outcome = (await received('s7')).find((m) => m.commandId === 'res');
    expect(['inventory.reserved', 'inventory.rejected']).toContain(String(outcome?.type));
    expect((await inventory.read<ReservationContext>(address))!.state).toBe('released');
    await waitFor('P-RACE-* back to 10', async () => (await skuOf('P-RACE-A')).onHand === 10 && (await skuOf('P-RACE-B')).onHand === 10, 5_000);
  });

  it('should answer sku.hold to its replyTo with sku.held once per order, and sku.short for an unknown SKU', async () => {
    await seed('P-HOLD', 3);
    await saga.send(skuAddress('P-HOLD'), { type: 'sku.hold', orderId: 'ph-1', qty: 2, replyTo: probeAddress('s8') });
    await saga.send(skuAddress('P-HOLD'), { type: 'sku.hold', orderId: 'ph-1', qty: 2, replyTo: probeAddress('s8') });
    await saga.send(skuAddress('NOT-SEEDED'), { type: 'sku.hold', orderId: 'ph-1', qty: 1, replyTo: probeAddress('s8') });
    const got = await waitFor('three answers', async () => {
      const all = await received('s8');
      return all.length >= 3 ? all : null;
    }, 5_000);
    expect(got.filter((m) => m.type === 'sku.held')).toEqual([
      { type: 'sku.held', sku: 'P-HOLD', orderId: 'ph-1', qty: 2 },
      { type: 'sku.held', sku: 'P-HOLD', orderId: 'ph-1', qty: 2 },
    ]);
    expect(got.find((m) => m.type === 'sku.short')).toEqual({ type: 'sku.short', sku: 'NOT-SEEDED', orderId: 'ph-1', requested: 1, available: 0, reason: 'unknown SKU NOT-SEEDED' });
    expect(await skuOf('P-HOLD')).toMatchObject({ onHand: 1, reserved: { 'ph-1': 2 } });
  });

  it('should still reserve, and keep its partition flowing, when replyTo is not an actor address', async () => {
    await seed('P-BADREPLY', 5);
    const res = await saga.ask<ReservationContext>(reservationAddress('po-9'), { type: 'reserve', orderId: 'po-9', lines: [{ sku: 'P-BADREPLY', qty: 1 }], replyTo: 'not an address', commandId: 'x' });
    expect(res.state).toBe('holding');
    const view = await inventory.waitFor<ReservationContext>(reservationAddress('po-9'), (v) => v.state !== 'holding');
    expect(view.state).toBe('reserved');
    const released = await saga.ask(reservationAddress('po-9'), { type: 'release', orderId: 'po-9', replyTo: 'also/bad', commandId: 'y' });
    expect(released.reply).toEqual({ type: 'inventory.released', orderId: 'po-9', commandId: 'y' });
  });
});
