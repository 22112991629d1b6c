/**
 * Playwright for Mailroom's end-to-end tests: the real system (`bun services/system.ts --dev`, every process on
 * free ports with a private Redis) started once by the global setup, driven through the panel in the Chromium the
 * machine has (Debian's package: Playwright cannot download its own here), one test at a time — they share the
 * system and the later ones break it on purpose. Screenshots go to tests/e2e/artifacts/ (git-ignored).
 */
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.MAILROOM_CHROMIUM || '/usr/bin/chromium';

export default defineConfig({
  testDir: '.',
  testMatch: '*.e2e.ts',
  outputDir: './artifacts/results',
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
