/**
 * The payment service process: one `payment` actor per order, charging and refunding through the payment provider.
 * For now an Elysia app that answers `/health` and reports Redis; the services issue fills it in.
 */
import { startProcess } from '../shared/start-process.ts';

startProcess({ name: 'payment', description: 'Charges and refunds per order.', redis: true });
