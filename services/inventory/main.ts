/**
 * The inventory service process: one `sku` actor per product (stock, reservations). For now an Elysia app that
 * answers `/health` and reports Redis; the services issue fills it in.
 */
import { startProcess } from '../shared/start-process.ts';

startProcess({ name: 'inventory', description: 'Stock and reservations per SKU.', redis: true });
