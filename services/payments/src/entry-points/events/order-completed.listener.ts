import { defineListener, OrderStatus } from '@ticketing/common';
import { replicateOrderStatus } from '../../domain/payments.ts';

/** The order is paid and complete: the replica follows, at the same version. */
export const orderCompletedListener = defineListener('order:completed', async ({ tx, data }) => {
  await replicateOrderStatus(tx, data, OrderStatus.Complete);
});
