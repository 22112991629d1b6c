/**
 * The simulated external card processor (the thing that fails): a separate process the payment service calls over
 * HTTP through a breaker. It is "outside" Mailroom, so it keeps no Redis connection. For now it answers `/health`;
 * the services issue adds its ledger and failure rules.
 */
import { startProcess } from '../shared/start-process.ts';

startProcess({ name: 'provider', description: 'A simulated external card processor.', redis: false });
