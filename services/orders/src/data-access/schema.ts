import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { ACTIVE_ORDER_STATUSES, CANCELLED_BY, ORDER_STATUSES, OrderStatus, sqlList } from '@ticketing/common';

/**
 * The orders service's replica of tickets, fed by ticket:created / ticket:updated. `version` is
 * the tickets service's version: an update is applied over any older version (each carries the
 * whole ticket), never over a newer one.
 */
export const tickets = pgTable('tickets', {
  id: uuid('id').primaryKey(),
  title: text('title').notNull(),
  priceCents: integer('price_cents').notNull(),
  /** Its owner: who sells it while it is listed. */
  sellerId: uuid('seller_id').notNull(),
  /** For sale: only a listed ticket can be ordered. */
  listed: boolean('listed').notNull().default(true),
  /** How many times it changed hands: which owner an order is placed with. */
  timesSold: integer('times_sold').notNull().default(0),
  /** When its event starts: it cannot be ordered from then on, and no order outlives it. */
  startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }),
  version: integer('version').notNull(),
});

/**
 * An order in these statuses holds its ticket (or, complete, has bought it from that owner): the
 * condition of the one-active-order index, and of the inserts that name that index as their
 * conflict target (they must match it exactly).
 */
export const holdsItsTicket = (status: AnyColumn): SQL =>
  sql`${status} in (${sqlList(ACTIVE_ORDER_STATUSES)})`;

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    /** The price the order was placed at: a fact of the order, whatever the ticket costs later. */
    priceCents: integer('price_cents').notNull(),
    /** Who sells: the ticket's owner when the order was placed. */
    sellerId: uuid('seller_id').notNull(),
    /**
     * The ticket's `timesSold` when the order was placed: the order buys it from that owner. A
     * ticket resold changes owner, and its next order has the next number.
     */
    ticketTimesSold: integer('ticket_times_sold').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    /**
     * Who or what cancelled a cancelled order: its buyer, its expiry, or the tickets service's
     * refusal to hold the ticket at the order's price (`rejected`).
     */
    cancelledBy: text('cancelled_by', { enum: CANCELLED_BY }),
    /** For a rejected order: why, in words for its buyer. */
    cancelReason: text('cancel_reason'),
    version: integer('version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** When it was paid; null until then. */
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // "One active order per ticket and owner" is the database's job: of many simultaneous orders
    // for one ticket exactly one insert succeeds, the others hit this index. A completed order
    // keeps its place: the ticket is sold by that owner, and only its next owner's listing (the
    // next `timesSold`) can be ordered again.
    uniqueIndex('orders_one_active_per_ticket')
      .on(t.ticketId, t.ticketTimesSold)
      .where(holdsItsTicket(t.status)),
    index('orders_by_user_idx').on(t.userId, t.createdAt),
    index('orders_sales_by_seller_idx')
      .on(t.sellerId, t.completedAt)
      .where(sql`${t.status} = ${sqlList([OrderStatus.Complete])}`),
    check('orders_status_check', sql`${t.status} in (${sqlList(ORDER_STATUSES)})`),
    check('orders_cancelled_by_check', sql`${t.cancelledBy} in (${sqlList(CANCELLED_BY)})`),
  ],
);

export type TicketRow = typeof tickets.$inferSelect;
export type OrderRow = typeof orders.$inferSelect;
