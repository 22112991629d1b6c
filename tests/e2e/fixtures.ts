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
  /** Console messages that are expected in this test (e.g. the 401 a tokenless action gets). */
  allowConsole: (pattern: RegExp) => void;
  consoleErrors: string[];
};

export const test = base.extend<Fixtures>({
  system: async ({}, use) => {
    await use(systemInfo());
  },
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

export { expect };
