import { defineListener } from '@ticketing/common';
import { completeOrder } from '../../domain/orders.ts';

/** The order was paid: complete it, and tell the replicas (order:completed, new version). */
export const paymentCreatedListener = defineListener('payment:created', async ({ tx, data, log }) => {
  await completeOrder(tx, data.orderId, log);
});
