import { defineListener, type Listener } from '@ticketing/common';
import { cancelOrderReplica } from '../../domain/payments.ts';
import type { PaymentProvider } from '../../providers/payment-provider.ts';

/**
 * The order is cancelled: it can no longer be paid, and money taken for it goes back. Never
 * batched with other cancellations: a refund is a call to the provider, made inside the
 * transaction.
 */
export const orderCancelledListener = (provider: PaymentProvider): Listener<'order:cancelled'> =>
  defineListener(
    'order:cancelled',
    async ({ tx, data, log }) => {
      await cancelOrderReplica(tx, provider, data, log);
    },
    { batch: false },
  );
