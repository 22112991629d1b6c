/**
 * 8. Swagger UI changes things, offline, as a new user would use it: on the gateway, "Try it out" → Execute places
 * an order with the document's example (202) and the order completes; on inventory a SKU is restocked; on the
 * control plane, Authorize with the token, add a chaos rule (201), then remove it. Each step asserts the status
 * Swagger UI shows in its response panel and the fact through the API, never a transient state.
 */
import type { Page } from '@playwright/test';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { controlGet, expect, offline, screenshot, test } from './fixtures.ts';

/** Opens one operation (`#operations-<tag>-<operationId>`) and turns on "Try it out". */
async function tryItOut(page: Page, block: string) {
  const op = page.locator(`#${block}`);
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  return op;
}

/** Clicks Execute and returns the status and body Swagger UI shows in the operation's response panel. */
async function execute(op: ReturnType<Page['locator']>): Promise<{ status: string; body: string }> {
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table .response').first();
  await expect(live.locator('.response-col_status')).toHaveText(/\d{3}/);
  const status = (await live.locator('.response-col_status').innerText()).trim();
  const body = await live.locator('.response-col_description pre').first().innerText();
  return { status, body };
}

test('Swagger UI places an order, restocks a SKU and adds then removes a chaos rule, with no internet', async ({ page, system }) => {
  const outside = await offline(page);
  const inventory = `http://127.0.0.1:${DEFAULT_PORTS.inventory + system.offset}`;

  // The gateway: place an order with the example body, as it is.
  await page.goto(`${system.gateway}/swagger`);
  const place = await tryItOut(page, 'operations-orders-postApiOrders');
  await expect(place.locator('textarea.body-param__text')).toHaveValue(/"lines"/);
  const placed = await execute(place);
  expect(placed.status).toBe('202');
  const { orderId } = JSON.parse(placed.body) as { orderId: string };
  await screenshot(page, '08-swagger-order-placed');
  await expect
    .poll(async () => {
      const detail = (await (await fetch(`${system.gateway}/api/orders/${orderId}`)).json()) as { order: { state: string }; saga?: { status: string } | null };
      return `${detail.order.state}/${detail.saga?.status}`;
    }, { timeout: 30_000 })
    .toBe('confirmed/completed');

  // Inventory: restock a SKU with the example body.
  const sku = 'LABEL-A4-100';
  const stockOf = async () => ((await (await fetch(`${inventory}/skus/${sku}`)).json()) as { onHand: number }).onHand;
  const before = await stockOf();
  await page.goto(`${inventory}/swagger`);
  const restock = await tryItOut(page, 'operations-skus-postSkusBySkuRestock');
  await restock.locator('tr[data-param-name="sku"] input').fill(sku);
  await expect(restock.locator('textarea.body-param__text')).toHaveValue(/"qty": 10/);
  const restocked = await execute(restock);
  expect(restocked.status).toBe('200');
  expect(await stockOf()).toBe(before + 10);
  await screenshot(page, '08-swagger-restocked');

  // The control plane: Authorize with the token, add a chaos rule, remove it.
  await page.goto(`${system.control}/swagger`);
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.modal-ux');
  await dialog.locator('input[type="text"], input[type="password"]').first().fill(system.token);
  await dialog.locator('button.modal-btn.auth.authorize').click();
  await dialog.locator('button.modal-btn.auth.btn-done, button.btn-done').first().click();
  await expect(page.locator('.auth-wrapper button.authorize.locked')).toBeVisible();

  const add = await tryItOut(page, 'operations-chaos-postControlChaosRules');
  const added = await execute(add);
  expect(added.status).toBe('201');
  const rule = JSON.parse(added.body) as { id: string; note?: string };
  expect(rule.note).toBe('added from Swagger UI');
  const rules = async () => (await controlGet<{ id: string }[]>(system, '/control/chaos/rules')).map((r) => r.id);
  expect(await rules()).toContain(rule.id);
  await screenshot(page, '08-swagger-chaos-rule-added');

  const remove = await tryItOut(page, 'operations-chaos-deleteControlChaosRulesById');
  await remove.locator('tr[data-param-name="id"] input').fill(rule.id);
  const removed = await execute(remove);
  expect(removed.status).toBe('200');
  expect(await rules()).not.toContain(rule.id);

  expect(outside).toEqual([]);
});
