import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import {
  LIVE_PAYMENT_STATUSES,
  ORDER_STATUSES,
  PAYMENT_STATUSES,
  PaymentStatus,
  sqlList,
} from '@ticketing/common';

/** The payments service's replica of orders, version-aware like every replica. */
export const orders = pgTable('orders', {
  id: uuid('id').primaryKey(),
  userId: uuid('user_id').notNull(),
  priceCents: integer('price_cents').notNull(),
  status: text('status', { enum: ORDER_STATUSES }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  version: integer('version').notNull(),
});

/**
 * One row per attempt to pay. A row is `pending` from before the provider is called until its
 * outcome is recorded, so a crash in between leaves a trace the reconciler finishes.
 */
export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    provider: text('provider').notNull(),
    /** What the buyer gave (a test token or a Stripe payment method id); needed to retry the same attempt. */
    token: text('token').notNull(),
    providerChargeId: text('provider_charge_id'),
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // At most one attempt in progress or successful per order: two simultaneous payments for one
    // order cannot both reach the provider. The database decides, not a read-then-write.
    uniqueIndex('payments_one_live_per_order')
      .on(t.orderId)
      .where(sql`${t.status} in (${sqlList(LIVE_PAYMENT_STATUSES)})`),
    index('payments_pending_idx')
      .on(t.createdAt)
      .where(sql`${t.status} = ${sqlList([PaymentStatus.Pending])}`),
    check('payments_status_check', sql`${t.status} in (${sqlList(PAYMENT_STATUSES)})`),
  ],
);

export type OrderRow = typeof orders.$inferSelect;
export type PaymentRow = typeof payments.$inferSelect;
