/**
 * The shipping service process: one `shipment` actor per order (schedule, cancel). For now an Elysia app that
 * answers `/health` and reports Redis; the services issue fills it in.
 */
import { startProcess } from '../shared/start-process.ts';

startProcess({ name: 'shipping', description: 'Shipments per order.', redis: true });
