import { defineListener } from '@ticketing/common';
import { replicateNewTicket } from '../../domain/orders.ts';

/** A ticket was listed: keep a copy, same id and version, so orders can reserve it. */
export const ticketCreatedListener = defineListener('ticket:created', async ({ tx, data }) => {
  await replicateNewTicket(tx, data);
});
