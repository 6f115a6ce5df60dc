/**
 * The orders service: reservations of tickets. Keeps a versioned replica of tickets from the
 * tickets service's events; publishes `order:created`, `order:confirmed`, `order:cancelled` and
 * `order:completed`; confirms an order when the tickets service holds its ticket, cancels it when
 * that service rejects it or it expires, and completes it on payment. Records `session:revoked` to
 * refuse signed-out sessions.
 */
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { loadConfig, sessionRevokedListener, type ServiceModule } from '@ticketing/common';
import type { OrdersSettings } from './domain/orders.ts';
import { cancelOrderRoute } from './entry-points/http/cancel-order.ts';
import { createOrderRoute } from './entry-points/http/create-order.ts';
import { listOrdersRoute } from './entry-points/http/list-orders.ts';
import { showOrderRoute } from './entry-points/http/show-order.ts';
import { listSalesRoute } from './entry-points/http/list-sales.ts';
import { orderConfigRoute } from './entry-points/http/order-config.ts';
import { OrderJson } from './entry-points/http/order-json.ts';
import { ticketCreatedListener } from './entry-points/events/ticket-created.listener.ts';
import { ticketUpdatedListener } from './entry-points/events/ticket-updated.listener.ts';
import { ticketReservationRejectedListener } from './entry-points/events/ticket-reservation-rejected.listener.ts';
import { expirationCompleteListener } from './entry-points/events/expiration-complete.listener.ts';
import { paymentCreatedListener } from './entry-points/events/payment-created.listener.ts';

export const OrdersConfig = Type.Object({
  ORDER_EXPIRATION_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
});

export function ordersSettingsFromEnv(env = process.env): OrdersSettings {
  return { expirationSeconds: loadConfig(OrdersConfig, env).ORDER_EXPIRATION_SECONDS };
}

export function ordersService(settings: OrdersSettings = ordersSettingsFromEnv()): ServiceModule {
  return {
    name: 'orders',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      app.addSchema(OrderJson); // a component of the OpenAPI document
      await orderConfigRoute(app, settings);
      await createOrderRoute(app, context, settings);
      await listOrdersRoute(app, context);
      await listSalesRoute(app, context);
      await showOrderRoute(app, context);
      await cancelOrderRoute(app, context);
    },
    listeners: [
      ticketCreatedListener,
      ticketUpdatedListener,
      ticketReservationRejectedListener,
      expirationCompleteListener,
      paymentCreatedListener,
      sessionRevokedListener,
    ],
  };
}
