import { defineListener } from '@ticketing/common';
import { replicateNewOrder } from '../../domain/payments.ts';

/** A new order: keep what paying for it needs (buyer, price, window, status, version). */
export const orderCreatedListener = defineListener('order:created', async ({ tx, data }) => {
  await replicateNewOrder(tx, data);
});
