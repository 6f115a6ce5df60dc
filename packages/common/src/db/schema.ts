/**
 * The reliability tables every service database has, next to its own: the outbox (events written
 * in the same transaction as the state change), the inbox (ids of events already applied) and the
 * dead letters (events given up on, kept for an operator).
 */
import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const outbox = pgTable(
  'outbox',
  {
    /** Insertion order; the relay publishes in this order. */
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id').notNull().unique(),
    type: text('type').notNull(),
    /** The entity the event is about; events of one entity are published one after another. */
    entityId: text('entity_id').notNull(),
    envelope: jsonb('envelope').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_unsent_idx')
      .on(t.seq)
      .where(sql`${t.sentAt} is null`),
  ],
);

export const inbox = pgTable(
  'inbox',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    consumer: text('consumer').notNull(),
    eventId: text('event_id'),
    type: text('type').notNull(),
    body: jsonb('body'),
    reason: text('reason').notNull(),
    deliveryCount: integer('delivery_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // An event is given up on once per consumer, however many deliveries of it answer late.
  (t) => [uniqueIndex('dead_letters_once_per_consumer').on(t.consumer, t.eventId)],
);

/**
 * The ledger of a consumer's redeliveries, per event: deliveries begun after the first (`started`),
 * those answered with a handler failure (`failures`), with "too early, its predecessor is not
 * applied yet" (`deferrals`, the first at `first_deferred_at`) and with an outage (`outages`).
 * The broker's delivery count is shared by every replica of a consumer; this ledger is too, so the
 * retry budgets see every replica's deliveries and survive restarts, and a delivery that met an
 * outage is not taken for a crash (when even the ledger was unreachable, its process remembers
 * it). Only
 * redeliveries and failures touch it; the first delivery of an event that succeeds reads and
 * writes nothing here. Rows go when their event is settled, or with the inbox purge.
 */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    consumer: text('consumer').notNull(),
    eventId: text('event_id').notNull(),
    started: integer('started').notNull().default(0),
    failures: integer('failures').notNull().default(0),
    deferrals: integer('deferrals').notNull().default(0),
    /** Deliveries whose handler met an outage (the database unreachable), when it could be noted. */
    outages: integer('outages').notNull().default(0),
    firstDeferredAt: timestamp('first_deferred_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

/**
 * Rate-limit counts shared by every replica of a service (`http/rate-limit.ts`): per key (a limit's
 * name and a hash of the address or account it counts), the requests or attempts counted
 * (`hits`) until `expires_at`, and for a backoff the time before which the next attempt is refused
 * (`blocked_until`). UNLOGGED (set in its migration): a write costs no WAL and no flush at commit,
 * and a crash of the database server empties it, which forgets counts that expire within a day
 * anyway.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  hits: integer('hits').notNull(),
  blockedUntil: timestamp('blocked_until', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});
