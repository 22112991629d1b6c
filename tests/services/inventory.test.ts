/**
 * The inventory service in-process against real Redis: every route's input checks and errors (`app.handle`), the
 * seeded catalogue, all-or-nothing reservations, overselling under concurrency, and stock conservation through
 * release, commit and restock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createNode, readEvents, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';
import { CATALOGUE, seedCatalogue, type CatalogueItem } from '../../services/inventory/catalogue.ts';
import { reservationAddress, SERVICE, skuAddress, type SkuContext } from '../../services/inventory/protocol.ts';
import { reservation } from '../../services/inventory/reservation.machine.ts';
import { inventoryRoutes } from '../../services/inventory/routes.ts';
import { sku } from '../../services/inventory/sku.machine.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix, waitFor } from '../helpers/redis.ts';

const prefix = testPrefix('inventory');
let node: MailroomNode;
let app: ReturnType<typeof makeApp>;
const makeApp = (n: MailroomNode) => createServiceApp({ name: 'inventory', log: () => {} }).use(inventoryRoutes(n));

beforeAll(async () => {
  node = await createNode({ service: SERVICE, actors: [sku, reservation], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 4 });
  app = makeApp(node);
  await seedCatalogue(node);
});
afterAll(async () => {
  await node.stop();
  await cleanupPrefix(prefix);
});

type Json = Record<string, any>;
const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await app.handle(new Request(`http://localhost${path}`, init));
  return { status: res.status, body: (await res.json()) as Json };
};
const seed = (items: CatalogueItem[]) => seedCatalogue(node, items);
const skuContext = async (code: string) => (await node.read<SkuContext>(skuAddress(code)))!.context;
const reservedUnits = (c: SkuContext) => Object.values(c.reserved).reduce((n, q) => n + q, 0);
/** onHand + Σreserved + shipped = seeded + restocked, and nothing negative. */
const expectConserved = (c: SkuContext) => {
  expect(c.onHand + reservedUnits(c) + c.shipped).toBe(c.seeded + c.restocked);
  expect(c.onHand).toBeGreaterThanOrEqual(0);
  expect(c.shipped).toBeGreaterThanOrEqual(0);
  for (const q of Object.values(c.reserved)) expect(q).toBeGreaterThan(0);
};
/** Waits until a SKU's stock has settled at the expected numbers (releases and commits arrive as messages). */
const settledAt = (code: string, want: { onHand: number; reserved: number; shipped?: number }) =>
  waitFor(`${code} to settle at ${JSON.stringify(want)}`, async () => {
    const c = await skuContext(code);
    return c.onHand === want.onHand && reservedUnits(c) === want.reserved && (want.shipped === undefined || c.shipped === want.shipped) ? c : null;
  }, 5_000);

describe('inventory routes: bad input', () => {
  it('should reject a malformed SKU code in the path with 422 naming params.sku', async () => {
    for (const path of ['/skus/lowercase', '/skus/A', '/skus/WAY-TOO-LONG-FOR-A-SKU-CODE-123456789']) {
      const res = await call('GET', path);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION');
      expect(res.body.message).toStartWith('params.sku is invalid');
    }
  });

  it('should answer 404 SKU_NOT_FOUND naming an unknown SKU, for reads and restocks', async () => {
    const read = await call('GET', '/skus/NO-SUCH-SKU');
    expect(read.status).toBe(404);
    expect(read.body).toMatchObject({ code: 'SKU_NOT_FOUND', details: { sku: 'NO-SUCH-SKU' } });
    expect(read.body.message).toContain('NO-SUCH-SKU');
    const restock = await call('POST', '/skus/NO-SUCH-SKU/restock', { qty: 5 });
    expect(restock.status).toBe(404);
    expect(restock.body.code).toBe('SKU_NOT_FOUND');
  });

  it('should reject a restock without a quantity, or outside 1..100000, with 422 naming body.qty', async () => {
    const cases: [unknown, string][] = [
      [{}, 'body.qty is required'],
      [{ qty: 0 }, 'body.qty is invalid'],
      [{ qty: 100_001 }, 'body.qty is invalid'],
      [{ qty: 1.5 }, 'body.qty is invalid'],
      [{ qty: 'ten' }, 'body.qty is invalid'],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/skus/BOX-M/restock', body);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION');
      expect(res.body.message).toStartWith(message);
    }
    expect((await call('POST', '/skus/BOX-M/restock', '{"qty": ')).status).toBe(400);
  });

  it('should reject a reservation body that is missing fields or has bad lines, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'body.orderId is required'],
      [{ orderId: 'o-1' }, 'body.lines is required'],
      [{ orderId: 'o 1', lines: [{ sku: 'BOX-M', qty: 1 }] }, 'body.orderId is invalid'],
      [{ orderId: 'o-1', lines: [] }, 'body.lines is invalid'],
      [{ orderId: 'o-1', lines: [{ sku: 'box-m', qty: 1 }] }, 'body.lines.0.sku is invalid'],
      [{ orderId: 'o-1', lines: [{ sku: 'BOX-M', qty: 0 }] }, 'body.lines.0.qty is invalid'],
      [{ orderId: 'o-1', lines: [{ sku: 'BOX-M' }] }, 'body.lines.0.qty is required'],
      [{ orderId: 'o-1', lines: Array.from({ length: 51 }, () => ({ sku: 'BOX-M', qty: 1 })) }, 'body.lines is invalid'],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', '/reservations', body);
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION');
      expect(res.body.message).toStartWith(message);
    }
    // Each line is within bounds, but merged they ask for more than one order may hold.
    const merged = await call('POST', '/reservations', { orderId: 'o-merged', lines: [{ sku: 'BOX-M', qty: 60_000 }, { sku: 'BOX-M', qty: 60_000 }] });
    expect(merged.status).toBe(422);
    expect(merged.body.message).toContain('120000 units of BOX-M');
    expect(await node.read(reservationAddress('o-merged'))).toBeNull();
  });

  it('should answer 404 RESERVATION_NOT_FOUND for an unknown order on read, release and commit, and 422 for a bad order id', async () => {
    for (const [method, path] of [['GET', '/reservations/nobody'], ['POST', '/reservations/nobody/release'], ['POST', '/reservations/nobody/commit']] as const) {
      const res = await call(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'RESERVATION_NOT_FOUND', details: { orderId: 'nobody' } });
    }
    const bad = await call('GET', '/reservations/has%20space');
    expect(bad.status).toBe(422);
    expect(bad.body.message).toStartWith('params.orderId is invalid');
  });

  it('should answer 409 RESERVATION_CONFLICT when an order id is reused for other lines, and keep the first reservation', async () => {
    await seed([{ sku: 'CONF-A', name: 'Conflict A', price: 100, stock: 10 }]);
    const first = await call('POST', '/reservations', { orderId: 'o-conf', lines: [{ sku: 'CONF-A', qty: 2 }] });
    expect(first.status).toBe(200);
    const again = await call('POST', '/reservations', { orderId: 'o-conf', lines: [{ sku: 'CONF-A', qty: 1 }, { sku: 'CONF-A', qty: 1 }] });
    expect(again.status).toBe(200); // the same units, merged: an idempotent repeat
    const other = await call('POST', '/reservations', { orderId: 'o-conf', lines: [{ sku: 'CONF-A', qty: 3 }] });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('RESERVATION_CONFLICT');
    expect(other.body.message).toContain('2 × CONF-A');
    expect(reservedUnits(await skuContext('CONF-A'))).toBe(2);
  });

  it('should refuse to commit a rejected reservation (409 NOT_RESERVED) and to release a committed one (409 RESERVATION_CLOSED)', async () => {
    await seed([{ sku: 'GATE-A', name: 'Gate A', price: 100, stock: 1 }]);
    expect((await call('POST', '/reservations', { orderId: 'o-gate-1', lines: [{ sku: 'GATE-A', qty: 5 }] })).status).toBe(409);
    const commit = await call('POST', '/reservations/o-gate-1/commit');
    expect(commit.status).toBe(409);
    expect(commit.body.code).toBe('NOT_RESERVED');
    expect(commit.body.message).toContain('was rejected');

    expect((await call('POST', '/reservations', { orderId: 'o-gate-2', lines: [{ sku: 'GATE-A', qty: 1 }] })).status).toBe(200);
    expect((await call('POST', '/reservations/o-gate-2/commit')).body).toEqual({ orderId: 'o-gate-2', state: 'committed' });
    const release = await call('POST', '/reservations/o-gate-2/release');
    expect(release.status).toBe(409);
    expect(release.body.code).toBe('RESERVATION_CLOSED');
    expect(release.body.message).toContain('cannot be released');
    const again = await call('POST', '/reservations', { orderId: 'o-gate-2', lines: [{ sku: 'GATE-A', qty: 1 }] });
    expect(again.body).toMatchObject({ orderId: 'o-gate-2', state: 'committed' });
  });
});

describe('inventory catalogue', () => {
  it('should list the dozen seeded SKUs with names, prices in cents and stock', async () => {
    const res = await call('GET', '/skus');
    expect(res.status).toBe(200);
    const items = res.body.items as Json[];
    for (const item of CATALOGUE) {
      const listed = items.find((i) => i.sku === item.sku);
      expect(listed).toMatchObject({ sku: item.sku, name: item.name, price: item.price });
    }
    expect(CATALOGUE.length).toBe(12);
    const one = await call('GET', '/skus/TAPE-48');
    expect(one.body).toEqual({ sku: 'TAPE-48', name: 'Packing tape, 48 mm × 66 m', price: 399, onHand: 600, reserved: 0, shipped: 0 });
    expect(items.map((i) => i.sku)).toEqual([...items.map((i) => i.sku)].sort());
  });

  it('should change nothing when seeded again, even after orders moved stock', async () => {
    expect((await call('POST', '/reservations', { orderId: 'o-seed', lines: [{ sku: 'BOX-S', qty: 7 }] })).status).toBe(200);
    const before = await Promise.all(CATALOGUE.map((c) => node.read<SkuContext>(skuAddress(c.sku))));
    const listedBefore = (await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, count: 10_000 })).filter((e) => e.type === 'SkuListed');
    await seedCatalogue(node);
    await seedCatalogue(node, CATALOGUE.map((c) => ({ ...c, stock: 1, price: 1 })));
    const after = await Promise.all(CATALOGUE.map((c) => node.read<SkuContext>(skuAddress(c.sku))));
    expect(after.map((v) => v!.context)).toEqual(before.map((v) => v!.context));
    expect((await skuContext('BOX-S')).onHand).toBe(493);
    const listedAfter = (await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, count: 10_000 })).filter((e) => e.type === 'SkuListed');
    expect(listedAfter.length).toBe(listedBefore.length);
  });

  it('should restock a SKU once per Idempotency-Key', async () => {
    await seed([{ sku: 'RST-A', name: 'Restock A', price: 100, stock: 3 }]);
    const first = await call('POST', '/skus/RST-A/restock', { qty: 10 }, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ sku: 'RST-A', name: 'Restock A', price: 100, onHand: 13, reserved: 0, shipped: 0 });
    expect((await call('POST', '/skus/RST-A/restock', { qty: 10 }, { 'idempotency-key': 'k-1' })).body.onHand).toBe(13);
    expect((await call('POST', '/skus/RST-A/restock', { qty: 10 })).body.onHand).toBe(23);
    expectConserved(await skuContext('RST-A'));
  });
});

describe('inventory reservations', () => {
  it('should reserve all of an order’s lines, merging repeated SKUs', async () => {
    await seed([
      { sku: 'ALL-A', name: 'A', price: 100, stock: 10 },
      { sku: 'ALL-B', name: 'B', price: 100, stock: 10 },
    ]);
    const res = await call('POST', '/reservations', { orderId: 'o_all', lines: [{ sku: 'ALL-A', qty: 1 }, { sku: 'ALL-B', qty: 4 }, { sku: 'ALL-A', qty: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ orderId: 'o_all', state: 'reserved', lines: [{ sku: 'ALL-A', qty: 3 }, { sku: 'ALL-B', qty: 4 }] });
    expect((await call('GET', '/skus/ALL-A')).body).toMatchObject({ onHand: 7, reserved: 3 });
    expect((await call('GET', '/reservations/o_all')).body).toEqual(res.body);
  });

  it('should hold nothing anywhere when one SKU is short, and name it with requested and available units', async () => {
    await seed([
      { sku: 'AON-A', name: 'A', price: 100, stock: 10 },
      { sku: 'AON-B', name: 'B', price: 100, stock: 10 },
      { sku: 'AON-C', name: 'C', price: 100, stock: 1 },
    ]);
    const res = await call('POST', '/reservations', { orderId: 'o-aon', lines: [{ sku: 'AON-A', qty: 2 }, { sku: 'AON-B', qty: 3 }, { sku: 'AON-C', qty: 2 }] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('INSUFFICIENT_STOCK');
    expect(res.body.message).toBe('cannot reserve order o-aon: not enough stock of SKU AON-C: 2 requested, 1 available');
    expect(res.body.details.shortages).toEqual([{ sku: 'AON-C', requested: 2, available: 1, reason: 'not enough stock of SKU AON-C: 2 requested, 1 available' }]);
    for (const code of ['AON-A', 'AON-B']) await settledAt(code, { onHand: 10, reserved: 0 });
    await settledAt('AON-C', { onHand: 1, reserved: 0 });
    const view = await call('GET', '/reservations/o-aon');
    expect(view.body).toMatchObject({ orderId: 'o-aon', state: 'rejected', reason: 'not enough stock of SKU AON-C: 2 requested, 1 available' });
    // A repeat answers the same and holds nothing.
    const again = await call('POST', '/reservations', { orderId: 'o-aon', lines: [{ sku: 'AON-A', qty: 2 }, { sku: 'AON-B', qty: 3 }, { sku: 'AON-C', qty: 2 }] });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(res.body.message);
    await settledAt('AON-A', { onHand: 10, reserved: 0 });
  });

  it('should reject an order with an unknown SKU, naming it, and hold nothing', async () => {
    await seed([{ sku: 'UNK-A', name: 'A', price: 100, stock: 10 }]);
    const res = await call('POST', '/reservations', { orderId: 'o-unk', lines: [{ sku: 'UNK-A', qty: 1 }, { sku: 'NEVER-LISTED', qty: 1 }] });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('unknown SKU NEVER-LISTED');
    await settledAt('UNK-A', { onHand: 10, reserved: 0 });
    expect((await call('GET', '/skus/NEVER-LISTED')).status).toBe(404);
    expect(((await call('GET', '/skus')).body.items as Json[]).some((i) => i.sku === 'NEVER-LISTED')).toBe(false);
  });

  it('should let exactly as many of 20 concurrent orders reserve the last units as there is stock, never going negative', async () => {
    await seed([{ sku: 'LAST-1', name: 'Last units', price: 100, stock: 7 }]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', '/reservations', { orderId: `o-last-${i}`, lines: [{ sku: 'LAST-1', qty: 1 }] })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(13);
    for (const r of refused) expect(r.body.message).toContain('not enough stock of SKU LAST-1: 1 requested, 0 available');
    const c = await skuContext('LAST-1');
    expect(c).toMatchObject({ onHand: 0, shipped: 0 });
    expect(reservedUnits(c)).toBe(7);
    expectConserved(c);
    const held = (await readEvents({ service: SERVICE, keyPrefix: prefix, redis: SHARED_REDIS, aggregate: skuAddress('LAST-1') })).filter((e) => e.type === 'StockHeld');
    expect(held).toHaveLength(7);
    for (const e of held) expect((e.data as { onHand: number }).onHand).toBeGreaterThanOrEqual(0);
  });

  it('should keep all-or-nothing under concurrency: 20 orders over a scarce and a plentiful SKU', async () => {
    // Plenty for every order: with fewer units than orders, the holds of orders the scarce SKU then rejects could
    // leave a later order short of the plentiful one too, and how many win would depend on the interleaving.
    await seed([
      { sku: 'PAIR-X', name: 'Scarce', price: 100, stock: 5 },
      { sku: 'PAIR-Y', name: 'Plenty', price: 100, stock: 20 },
    ]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', '/reservations', { orderId: `o-pair-${i}`, lines: [{ sku: 'PAIR-Y', qty: 1 }, { sku: 'PAIR-X', qty: 1 }] })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(15);
    await settledAt('PAIR-X', { onHand: 0, reserved: 5 });
    const y = await settledAt('PAIR-Y', { onHand: 15, reserved: 5 });
    const winners = results.flatMap((r, i) => (r.status === 200 ? [`o-pair-${i}`] : [])).sort();
    expect(Object.keys(y.reserved).sort()).toEqual(winners);
    expect(Object.keys((await skuContext('PAIR-X')).reserved).sort()).toEqual(winners);
  });

  it('should keep onHand + reserved + shipped = seeded + restocked through repeated releases, commits and restocks', async () => {
    const skus = ['CONS-A', 'CONS-B', 'CONS-C'];
    await seed(skus.map((s) => ({ sku: s, name: s, price: 100, stock: 20 })));
    const lines = [{ sku: 'CONS-A', qty: 2 }, { sku: 'CONS-B', qty: 3 }, { sku: 'CONS-C', qty: 1 }];
    for (let i = 0; i < 6; i++) expect((await call('POST', '/reservations', { orderId: `o-cons-${i}`, lines })).status).toBe(200);
    // 0, 1 committed (twice each); 2, 3 released (twice each); 4, 5 stay reserved.
    for (const i of [0, 1, 0, 1]) expect((await call('POST', `/reservations/o-cons-${i}/commit`)).body.state).toBe('committed');
    for (const i of [2, 3, 2, 3]) expect((await call('POST', `/reservations/o-cons-${i}/release`)).body.state).toBe('released');
    expect((await call('POST', '/skus/CONS-B/restock', { qty: 5 })).status).toBe(200);
    // A released order cannot be reserved again: it would hold stock nobody will release.
    const late = await call('POST', '/reservations', { orderId: 'o-cons-2', lines });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('RESERVATION_CLOSED');

    await settledAt('CONS-A', { onHand: 20 - 4 * 2, reserved: 2 * 2, shipped: 2 * 2 });
    await settledAt('CONS-B', { onHand: 20 - 4 * 3 + 5, reserved: 2 * 3, shipped: 2 * 3 });
    await settledAt('CONS-C', { onHand: 20 - 4 * 1, reserved: 2 * 1, shipped: 2 * 1 });
    for (const s of skus) {
      const c = await skuContext(s);
      expectConserved(c);
      expect(Object.keys(c.reserved).sort()).toEqual(['o-cons-4', 'o-cons-5']);
    }
    expect((await call('GET', '/skus/CONS-B')).body).toMatchObject({ onHand: 13, reserved: 6, shipped: 6 });
  });
});
