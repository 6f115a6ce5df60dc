import { defineListener } from '@ticketing/common';
import { reserveTicket } from '../../domain/tickets.ts';

/**
 * An order asks for the ticket: hold it at the order's price (locked against edits, a new version
 * for the replicas), or say why not.
 */
export const orderCreatedListener = defineListener('order:created', async ({ tx, data }) => {
  await reserveTicket(tx, data);
});
