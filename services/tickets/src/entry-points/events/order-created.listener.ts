import { defineListener } from '@ticketing/common';
import { reserveTicket } from '../../domain/tickets.ts';

/** An order now holds the ticket: lock it against edits and tell the replicas (new version). */
export const orderCreatedListener = defineListener('order:created', async ({ tx, data }) => {
  await reserveTicket(tx, data.ticket.id, data.id);
});
