/**
 * The tickets service: the source of truth for tickets. Publishes `ticket:created` and
 * `ticket:updated`; listens to orders to lock and release tickets.
 */
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { loadConfig, type ServiceModule } from '@ticketing/common';
import { createTicketRoute } from './entry-points/http/create-ticket.ts';
import { listTicketsRoute, TicketPage } from './entry-points/http/list-tickets.ts';
import { showTicketRoute } from './entry-points/http/show-ticket.ts';
import { updateTicketRoute } from './entry-points/http/update-ticket.ts';
import { ticketReadCaches } from './entry-points/http/read-caches.ts';
import { TicketJson } from './entry-points/http/ticket-json.ts';
import { orderCreatedListener } from './entry-points/events/order-created.listener.ts';
import { orderCancelledListener } from './entry-points/events/order-cancelled.listener.ts';

const TicketsConfig = Type.Object({
  /**
   * How long another replica may serve a ticket or a page from its cache when the announcement of
   * a change is lost (normally the change shows within milliseconds). 0 turns the caches off.
   */
  TICKETS_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000 }),
});

export interface TicketsSettings {
  cacheTtlMs: number;
}

export function ticketsSettingsFromEnv(
  env: Record<string, string | undefined> = process.env,
): TicketsSettings {
  return { cacheTtlMs: loadConfig(TicketsConfig, env).TICKETS_CACHE_TTL_MS };
}

export function ticketsService(settings: TicketsSettings = ticketsSettingsFromEnv()): ServiceModule {
  return {
    name: 'tickets',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      // The named schemas of its routes (components of the OpenAPI document).
      app.addSchema(TicketJson);
      app.addSchema(TicketPage);
      const caches = ticketReadCaches(context.database.changes, settings.cacheTtlMs);
      app.addHook('onClose', async () => {
        caches.tickets.close();
        caches.pages.close();
      });
      await createTicketRoute(app, context);
      await listTicketsRoute(app, context, caches.pages);
      await showTicketRoute(app, context, caches.tickets);
      await updateTicketRoute(app, context);
    },
    listeners: [orderCreatedListener, orderCancelledListener],
  };
}
