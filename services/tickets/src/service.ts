/**
 * The tickets service: the source of truth for tickets, their owners and their credentials.
 * Publishes `ticket:created`, `ticket:updated` and `ticket:reservation-rejected`; listens to
 * orders to hold and release tickets, and to hand a paid ticket to its buyer, and to expiration
 * to end a listing when its event starts; records
 * `session:revoked` to refuse signed-out sessions.
 */
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import {
  loadConfig,
  NodeEnv,
  resolveSecret,
  sessionRevokedListener,
  type ServiceModule,
  type WindowLimit,
} from '@ticketing/common';
import { createTicketRoute } from './entry-points/http/create-ticket.ts';
import { listTicketsRoute } from './entry-points/http/list-tickets.ts';
import { showTicketRoute } from './entry-points/http/show-ticket.ts';
import { updateTicketRoute } from './entry-points/http/update-ticket.ts';
import { ticketReadCaches } from './entry-points/http/read-caches.ts';
import { TicketJson } from './entry-points/http/ticket-json.ts';
import { orderCreatedListener } from './entry-points/events/order-created.listener.ts';
import { orderCancelledListener } from './entry-points/events/order-cancelled.listener.ts';
import { orderCompletedListener } from './entry-points/events/order-completed.listener.ts';
import { eventStartedListener } from './entry-points/events/event-started.listener.ts';
import { listingRoutes } from './entry-points/http/listing.ts';
import { myTicketsRoute } from './entry-points/http/my-tickets.ts';
import { credentialRoutes } from './entry-points/http/credential.ts';
import type { ListingRules } from './domain/tickets.ts';

const TicketsConfig = Type.Object({
  /**
   * How long another replica may serve a ticket or a page from its cache when the announcement of
   * a change is lost (normally the change shows within milliseconds). 0 turns the caches off.
   */
  TICKETS_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000 }),
  /** How far above its face value a ticket may be listed, in percent; 0 caps it at face value. */
  RESALE_MARKUP_PERCENT: Type.Integer({ minimum: 0, maximum: 1_000, default: 0 }),
  /** The key the door credentials are derived with (generated in DATA_DIR outside production). */
  TICKET_CREDENTIAL_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Credential checks (`POST /api/tickets/verify`) per client address. */
  VERIFY_LIMIT_MAX: Type.Integer({ minimum: 1, default: 300 }),
  VERIFY_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  NODE_ENV: NodeEnv,
  DATA_DIR: Type.String({ default: './.data' }),
});

export interface TicketsSettings extends ListingRules {
  cacheTtlMs: number;
  /** The key credentials are derived with: changing it changes every ticket's code. */
  credentialKey: string;
  /** Credential checks per client address. */
  verifyPerAddress: WindowLimit;
}

export function ticketsSettingsFromEnv(
  env: Record<string, string | undefined> = process.env,
): TicketsSettings {
  const config = loadConfig(TicketsConfig, env);
  return {
    cacheTtlMs: config.TICKETS_CACHE_TTL_MS,
    markupPercent: config.RESALE_MARKUP_PERCENT,
    credentialKey: resolveSecret({
      name: 'TICKET_CREDENTIAL_KEY',
      file: 'ticket-credential-key',
      value: config.TICKET_CREDENTIAL_KEY,
      nodeEnv: config.NODE_ENV,
      dataDir: config.DATA_DIR,
    }),
    verifyPerAddress: { max: config.VERIFY_LIMIT_MAX, windowSeconds: config.VERIFY_LIMIT_WINDOW_SECONDS },
  };
}

/** The service, with its settings from the environment but for those given. */
export function ticketsService(overrides: Partial<TicketsSettings> = {}): ServiceModule {
  const settings = { ...ticketsSettingsFromEnv(), ...overrides };
  return {
    name: 'tickets',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      // The named schemas of its routes (components of the OpenAPI document).
      app.addSchema(TicketJson);
      const caches = ticketReadCaches(context.database.changes, settings.cacheTtlMs);
      app.addHook('onClose', async () => {
        caches.tickets.close();
        caches.pages.close();
      });
      await createTicketRoute(app, context, settings);
      await listTicketsRoute(app, context, caches.pages, settings);
      await myTicketsRoute(app, context, settings);
      await showTicketRoute(app, context, caches.tickets, settings);
      await updateTicketRoute(app, context, settings);
      await listingRoutes(app, context, settings);
      await credentialRoutes(app, context, settings);
    },
    listeners: [
      orderCreatedListener,
      orderCancelledListener,
      orderCompletedListener,
      eventStartedListener,
      sessionRevokedListener,
    ],
  };
}
