import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * Functions of the search (migration 0002): `tickets_fold(text)` is the text lower-cased and
 * without accents ("Café Olympia" → "cafe olympia"), `tickets_search_document(title, venue)` the
 * words a search matches, folded so. Both immutable, so that indexes and generated columns may use
 * them.
 */
const fold = (column: unknown) => sql`tickets_fold(${column})`;

/** Tickets for sale: listed, and held by no order. Every search index covers these rows only. */
const forSale = (t: { listed: unknown; orderId: unknown }) => sql`${t.listed} and ${t.orderId} is null`;

export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey(),
    title: text('title').notNull(),
    /** The asking price. */
    priceCents: integer('price_cents').notNull(),
    /** The price printed on the ticket; fixed once it has been sold. */
    faceValueCents: integer('face_value_cents').notNull(),
    /** The owner: the seller who listed it, then each buyer in turn. */
    userId: uuid('user_id').notNull(),
    /** When the owner came to own it (listed it first, or bought it). */
    acquiredAt: timestamp('acquired_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    /** For sale; a sale unlists it, its new owner may list it again. */
    listed: boolean('listed').notNull().default(true),
    /** How many times it changed hands. */
    timesSold: integer('times_sold').notNull().default(0),
    /** The order holding the ticket; null while nobody does. */
    orderId: uuid('order_id'),
    /**
     * The owner's credential for the door: a random seed, from which the code is derived with the
     * deployment's key, and the code's SHA-256, by which a code is verified. The code itself is not
     * stored. Null until the owner first asks for it; cleared when the ticket changes hands.
     */
    credentialSeed: bytea('credential_seed'),
    credentialHash: bytea('credential_hash'),
    /** +1 on every change; replicas apply version v only on top of v-1. */
    version: integer('version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    /** Where the event takes place, as the seller wrote it; null when not said. */
    venue: text('venue'),
    city: text('city'),
    /** When the event starts: the listing ends then, and no order outlives it. Null when not said. */
    startsAt: timestamp('starts_at', { withTimezone: true, mode: 'string' }),
    /** The words of the title and venue, folded; what `q` searches (never selected: see TICKET_COLUMNS). */
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(sql`tickets_search_document(title, venue)`),
  },
  (t) => [
    // The home page: tickets for sale that no order holds, newest first, paged by (created_at, id).
    index('tickets_for_sale_idx').on(t.createdAt.desc(), t.id.desc()).where(forSale(t)),
    // The same, cheapest first, and soonest first (tickets without a date last).
    index('tickets_for_sale_by_price_idx').on(t.priceCents, t.id).where(forSale(t)),
    index('tickets_for_sale_by_start_idx')
      .on(sql`coalesce(${t.startsAt}, 'infinity'::timestamptz)`, t.id)
      .where(forSale(t)),
    // Words of the title and venue, and the city, whatever the case and accents.
    index('tickets_for_sale_search_idx').using('gin', t.search).where(forSale(t)),
    index('tickets_for_sale_by_city_idx').on(fold(t.city), t.createdAt.desc(), t.id.desc()).where(forSale(t)),
    // My tickets: an owner's tickets, the most recently acquired first.
    index('tickets_by_owner_idx').on(t.userId, t.acquiredAt.desc(), t.id.desc()),
    // A code verifies at most one ticket.
    uniqueIndex('tickets_credential_hash_idx').on(t.credentialHash),
  ],
);

/**
 * Every change of hands: the sale (`orderId`) that moved the ticket from `fromUserId` to
 * `toUserId`. Written in the same transaction as the ticket's new owner, so a redelivered
 * `order:completed` finds its sale done.
 */
export const ticketTransfers = pgTable(
  'ticket_transfers',
  {
    orderId: uuid('order_id').primaryKey(),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => tickets.id),
    fromUserId: uuid('from_user_id').notNull(),
    toUserId: uuid('to_user_id').notNull(),
    priceCents: integer('price_cents').notNull(),
    transferredAt: timestamp('transferred_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('ticket_transfers_by_ticket_idx').on(t.ticketId, t.transferredAt)],
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
