import { index, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';

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
