/**
 * The API gateway process, Mailroom's public face (`/api/*`). For now it answers `/health`, and `/api/health` so the
 * panel can reach it through its `/api` proxy; the services issue adds the routes, aggregation and breakers.
 */
import { Elysia } from 'elysia';
import { startProcess } from '../shared/start-process.ts';

const routes = new Elysia({ name: 'gateway:health' }).get(
  '/api/health',
  () => ({ status: 'ok', service: 'gateway', pid: process.pid }),
  { detail: { summary: 'The gateway answers (for clients behind the /api prefix)', tags: ['health'] } },
);

startProcess({ name: 'gateway', description: 'The public API of the shop.', redis: false, routes });
