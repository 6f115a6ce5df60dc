import { defineListener, type EventData } from '@ticketing/common';
import { scheduleEventStart } from '../../data-access/timers-repository.ts';

type TicketVersion = EventData<'ticket:created'> | EventData<'ticket:updated'>;

/** A ticket whose event has a start: (re)set the timer that ends its listing then. */
async function scheduleStart(tx: Parameters<typeof scheduleEventStart>[0], ticket: TicketVersion) {
  if (ticket.startsAt === undefined) return;
  await scheduleEventStart(tx, ticket.id, new Date(ticket.startsAt), ticket.version);
}

export const ticketCreatedListener = defineListener('ticket:created', async ({ tx, data }) => {
  await scheduleStart(tx, data);
});

export const ticketUpdatedListener = defineListener('ticket:updated', async ({ tx, data }) => {
  await scheduleStart(tx, data);
});
