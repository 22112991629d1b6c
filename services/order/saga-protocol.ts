/**
 * How the order service's operator API speaks of the sagas it hosts (`order/fulfillment/<orderId>`): a saga is
 * identified by its order id — there is one fulfillment saga per order — and its documents name the order's steps.
 * The routes themselves (list by status, read with the log, retry, resolve) are the runtime's, for any saga.
 */
import type { SagaPage, SagaRoutesWords, SagaSummary, SagaView } from '../../runtime/http/index.ts';
import { OrderId } from '../shared/shop-vocabulary.ts';

/** What names a fulfillment saga in its routes and answers. */
const ID = 'orderId';

/** A fulfillment saga as the order service answers it (and the gateway and the control plane pass it on). */
export type FulfillmentSagaView = SagaView<typeof ID>;
export type FulfillmentSagaSummary = SagaSummary<typeof ID>;
export type FulfillmentSagaPage = SagaPage<typeof ID>;

export const FULFILLMENT_SAGA_WORDS: SagaRoutesWords = {
  id: { name: ID, schema: OrderId('The order the saga fulfils') },
  noun: 'order',
  notFound: 'not placed, or not started yet',
  exampleStep: 'chargePayment',
  data: 'What the saga carries: the order, and what steps returned (chargeId, trackingId)',
  completion: 'commit',
  completionExample: 'the stock commit',
};
