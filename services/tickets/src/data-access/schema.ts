import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey(),
    title: text('title').notNull(),
    priceCents: integer('price_cents').notNull(),
    userId: uuid('user_id').notNull(),
    /** The order holding the ticket; null while it is for sale. */
    orderId: uuid('order_id'),
    /** +1 on every change; replicas apply version v only on top of v-1. */
    version: integer('version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    // The home page: available tickets, newest first, paged by (created_at, id).
    index('tickets_available_idx')
      .on(t.createdAt.desc(), t.id.desc())
      .where(sql`${t.orderId} is null`),
  ],
);

/**
 * Orders known to be cancelled that did not hold their ticket when the cancellation arrived: a
 * late `order:created` for one of them must not reserve the ticket (events of different types
 * can arrive out of order).
 */
export const cancelledOrders = pgTable('cancelled_orders', {
  orderId: uuid('order_id').primaryKey(),
  cancelledAt: timestamp('cancelled_at', { withTimezone: true }).notNull().defaultNow(),
});

export type TicketRow = typeof tickets.$inferSelect;
