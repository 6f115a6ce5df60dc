/**
 * The tickets service: the source of truth for tickets. Publishes `ticket:created` and
 * `ticket:updated`; listens to orders to lock and release tickets.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ticketing/common';
import { createTicketRoute } from './entry-points/http/create-ticket.ts';
import { listTicketsRoute } from './entry-points/http/list-tickets.ts';
import { showTicketRoute } from './entry-points/http/show-ticket.ts';
import { updateTicketRoute } from './entry-points/http/update-ticket.ts';
import { orderCreatedListener } from './entry-points/events/order-created.listener.ts';
import { orderCancelledListener } from './entry-points/events/order-cancelled.listener.ts';

export function ticketsService(): ServiceModule {
  return {
    name: 'tickets',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      await createTicketRoute(app, context);
      await listTicketsRoute(app, context);
      await showTicketRoute(app, context);
      await updateTicketRoute(app, context);
    },
    listeners: [orderCreatedListener, orderCancelledListener],
  };
}
