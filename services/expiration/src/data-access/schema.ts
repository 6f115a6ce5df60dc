import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';

/** One pending timer per order: fires `expiration:complete` at `expiresAt`. */
export const expirationTimers = pgTable(
  'expiration_timers',
  {
    orderId: uuid('order_id').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('expiration_timers_due_idx').on(t.expiresAt)],
);

/**
 * One timer per ticket whose event has a start: fires `expiration:event-started` at `startsAt`,
 * once (`fired`). Kept after firing with the ticket's `version`, so that an older version of the
 * ticket arriving late neither moves nor re-arms it; a newer version with another start re-arms it.
 */
export const eventStartTimers = pgTable(
  'event_start_timers',
  {
    ticketId: uuid('ticket_id').primaryKey(),
    startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }).notNull(),
    version: integer('version').notNull(),
    fired: boolean('fired').notNull().default(false),
  },
  (t) => [
    index('event_start_timers_due_idx')
      .on(t.startsAt)
      .where(sql`not ${t.fired}`),
  ],
);
