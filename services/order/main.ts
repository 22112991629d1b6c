/**
 * The order service process: the `order` actors and their lifecycle (pending → confirmed | cancelled). For now an
 * Elysia app that answers `/health` and reports Redis; the services issue fills it in.
 */
import { startProcess } from '../shared/start-process.ts';

startProcess({ name: 'order', description: 'Orders and their lifecycle.', redis: true });
