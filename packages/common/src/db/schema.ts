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

export const deadLetters = pgTable('dead_letters', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  consumer: text('consumer').notNull(),
  eventId: text('event_id'),
  type: text('type').notNull(),
  body: jsonb('body'),
  reason: text('reason').notNull(),
  deliveryCount: integer('delivery_count').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Events that arrived before the one they build on (a version from the future) and were sent back
 * to wait: how many times, per consumer. The broker's delivery count is shared by every replica of
 * a consumer, this count is too, so waiting is never mistaken for failing. Read and written only
 * on the slow paths (a deferral, or a delivery past `maxDeliver`); purged with the inbox.
 */
export const deferredEvents = pgTable(
  'deferred_events',
  {
    consumer: text('consumer').notNull(),
    eventId: text('event_id').notNull(),
    deferrals: integer('deferrals').notNull().default(1),
    firstDeferredAt: timestamp('first_deferred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);
