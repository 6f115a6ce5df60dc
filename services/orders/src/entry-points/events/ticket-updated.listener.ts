import { defineListener } from '@ticketing/common';
import { replicateTicketUpdate } from '../../domain/orders.ts';

/**
 * A ticket changed: apply the new version on top of the previous one, in order; a version held by
 * an order confirms it (`awaiting:payment`).
 */
export const ticketUpdatedListener = defineListener('ticket:updated', async ({ tx, data }) => {
  await replicateTicketUpdate(tx, data);
});
