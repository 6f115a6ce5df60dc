/**
 * The expiration service: a durable timer per order, firing `expiration:complete` when the order's
 * window closes, and one per ticket whose event has a start, firing `expiration:event-started`
 * then. No HTTP routes besides health.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ticketing/common';
import { ExpirationScheduler, type SchedulerOptions } from './domain/scheduler.ts';
import { orderCreatedListener } from './entry-points/events/order-created.listener.ts';
import {
  orderCancelledListener,
  orderCompletedListener,
} from './entry-points/events/order-settled.listener.ts';
import { ticketCreatedListener, ticketUpdatedListener } from './entry-points/events/ticket-start.listener.ts';

export function expirationService(options: SchedulerOptions = {}): ServiceModule {
  return {
    name: 'expiration',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    listeners: [
      orderCreatedListener,
      orderCancelledListener,
      orderCompletedListener,
      ticketCreatedListener,
      ticketUpdatedListener,
    ],
    background: ({ database, logger }) =>
      new ExpirationScheduler(database, logger.child({ component: 'scheduler' }), options),
  };
}
