import { defineListener, OrderStatus } from '@ticketing/common';
import { replicateOrderStatus } from '../../domain/payments.ts';

/** The tickets service holds the order's ticket at its price: the order can be paid from now on. */
export const orderConfirmedListener = defineListener('order:confirmed', async ({ tx, data }) => {
  await replicateOrderStatus(tx, data, OrderStatus.AwaitingPayment);
});
