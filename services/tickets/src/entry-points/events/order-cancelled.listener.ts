import { defineListener } from '@ticketing/common';
import { releaseTicket } from '../../domain/tickets.ts';

/** The order is gone: release the ticket if, and only if, that order is the one holding it. */
export const orderCancelledListener = defineListener('order:cancelled', async ({ tx, data }) => {
  await releaseTicket(tx, data.ticket.id, data.id);
});
