import { defineListener } from '@ticketing/common';
import { expireOrder } from '../../domain/orders.ts';

/** The order's window closed: cancel it unless it was paid or cancelled already. */
export const expirationCompleteListener = defineListener('expiration:complete', async ({ tx, data }) => {
  await expireOrder(tx, data.orderId);
});
