/**
 * What every e2e test shares: the running system's addresses and token, a page that fails the test on any console
 * error or uncaught exception (known, expected ones can be allowed per test), the panel opened with its token, and
 * screenshots saved under tests/e2e/artifacts/ for a reviewer to look at.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { ARTIFACTS, systemInfo, type SystemInfo } from './system.ts';

type Fixtures = {
  system: SystemInfo;
  /** After every test: no chaos rule and no load left for the next one. */
  cleanup: void;
  /** Console messages that are expected in this test (e.g. the 401 a tokenless action gets). */
  allowConsole: (pattern: RegExp) => void;
  consoleErrors: string[];
};

export const test = base.extend<Fixtures>({
  system: async ({}, use) => {
    await use(systemInfo());
  },
  cleanup: [
    async ({ system }, use) => {
      await use();
      await controlSend(system, 'DELETE', '/control/chaos/rules').catch(() => {});
      await controlSend(system, 'DELETE', '/control/load').catch(() => {});
    },
    { auto: true },
  ],
  consoleErrors: async ({}, use) => {
    await use([]);
  },
  allowConsole: async ({}, use) => {
    await use(() => {});
  },
  page: async ({ page, consoleErrors }, use, testInfo) => {
    const allowed: RegExp[] = [];
    (testInfo as unknown as { allowed: RegExp[] }).allowed = allowed;
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    await use(page);
    const unexpected = consoleErrors.filter((line) => !allowed.some((re) => re.test(line)));
    expect(unexpected, 'console errors in the panel').toEqual([]);
  },
});

/** Allows console errors matching `pattern` in the current test. */
export function allowConsoleErrors(pattern: RegExp): void {
  const info = test.info() as unknown as { allowed?: RegExp[] };
  info.allowed?.push(pattern);
}

/** Opens the panel the way a person does: the URL `bun run dev` printed, token included. */
export async function openPanel(page: Page, system: SystemInfo, hash = ''): Promise<void> {
  await page.goto(`${system.panelUrl}${hash}`);
  await expect(page.locator('[data-testid="live-status"]')).toHaveAttribute('data-status', 'live', { timeout: 20_000 });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** GETs a control-plane URL from the test (no token needed to read). */
export async function controlGet<T>(system: SystemInfo, path: string): Promise<T> {
  const res = await fetch(`${system.control}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Moves within the panel without reloading it (a reload would drop the live events it has gathered). */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** POSTs (or PUTs/DELETEs) to the control plane from the test, with the token unless told otherwise. */
export async function controlSend(system: SystemInfo, method: string, path: string, body?: unknown, token: string | null = system.token): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${system.control}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Every saga the control plane lists (all pages). */
export async function allSagas(system: SystemInfo): Promise<{ orderId: string; status: string; startedAt: number }[]> {
  const out: { orderId: string; status: string; startedAt: number }[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: { orderId: string; status: string; startedAt: number }[]; cursor: string | null } = await controlGet(system, `/control/sagas?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

/** Blocks (and collects) every request the page makes that leaves the machine: what must work with no internet. */
export async function offline(page: Page): Promise<string[]> {
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
    outside.push(url.href);
    return route.abort('internetdisconnected');
  });
  return outside;
}

/**
 * Places one order of BOX-S from the panel's Orders view and waits until its saga completed; answers its row and id.
 * Assumes the panel is open.
 */
export async function placeOrderFromPanel(page: Page): Promise<{ row: ReturnType<Page['locator']>; orderId: string }> {
  await page.locator('[data-nav="orders"]').click();
  await expect(page.locator('[data-testid="order-sku"] option').first()).toBeAttached();
  await page.locator('[data-testid="order-sku"]').selectOption('BOX-S');
  await page.locator('[data-testid="place-order"]').click();
  const row = page.locator('[data-testid="placed-orders"] tr[data-order]').first();
  await expect(row).toBeVisible();
  const orderId = (await row.getAttribute('data-order'))!;
  await expect(row.locator('[data-testid="saga-status"] [data-state]')).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  return { row, orderId };
}

export { expect };
