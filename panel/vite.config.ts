/**
 * Vite for the panel: the root is `panel/`, the build goes to `panel/dist` (the control plane serves it in
 * `bun run start`), and the dev server binds the panel port on 127.0.0.1 (or `MAILROOM_HOST`), proxying `/control`
 * to the control plane and `/api` to the gateway so the panel talks to one origin.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { hostOf } from '../runtime/config.ts';
import { portOf } from '../services/config.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const host = hostOf();

export default defineConfig({
  root,
  plugins: [svelte()],
  // The supervisor prefixes every line with "panel |"; a cleared screen would wipe the other processes' logs.
  clearScreen: false,
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    host,
    port: portOf('panel'),
    strictPort: true,
    proxy: {
      '/control': `http://${host}:${portOf('control')}`,
      '/api': `http://${host}:${portOf('gateway')}`,
    },
  },
});
