import { defineListener } from '@ticketing/common';
import { transferToBuyer } from '../../domain/tickets.ts';

/** The order holding the ticket was paid: the ticket passes to its buyer. */
export const orderCompletedListener = defineListener('order:completed', async ({ tx, data }) => {
  await transferToBuyer(tx, data);
});
