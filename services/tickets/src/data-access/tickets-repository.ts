/** Reads and writes of the tickets table; plain objects in, plain objects out. */
import { and, asc, eq, getTableColumns, gte, isNull, lte, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { writeAndPublish, type EventData, type Executor } from '@ticketing/common';
import { cancelledOrders, tickets, ticketTransfers, type TicketRow } from './schema.ts';

/** A ticket as read: every column but the search document, which only the database reads. */
export type Ticket = Omit<TicketRow, 'search'>;
const { search: _searchDocument, ...TICKET_COLUMNS } = getTableColumns(tickets);
export type Transfer = typeof ticketTransfers.$inferSelect;

/** Thrown when a ticket changed since it was read: the optimistic concurrency check failed. */
export class StaleTicketError extends Error {
  constructor(id: string, version: number) {
    super(`ticket ${id} is no longer at version ${version}`);
  }
}

export async function insertTicket(
  db: Executor,
  values: Pick<Ticket, 'id' | 'title' | 'priceCents' | 'faceValueCents' | 'userId'> &
    Partial<Pick<Ticket, 'venue' | 'city' | 'startsAt'>>,
): Promise<Ticket> {
  const [row] = await db.insert(tickets).values(values).returning(TICKET_COLUMNS);
  return row!;
}

export async function findTicket(db: Executor, id: string): Promise<Ticket | undefined> {
  const [row] = await db.select(TICKET_COLUMNS).from(tickets).where(eq(tickets.id, id));
  return row;
}

/** Reads the ticket and locks its row until the transaction ends (writers queue behind us). */
export async function lockTicket(db: Executor, id: string): Promise<Ticket | undefined> {
  const [row] = await db.select(TICKET_COLUMNS).from(tickets).where(eq(tickets.id, id)).for('update');
  return row;
}

/** What a save changes in a ticket: any column but its id, version and creation time. */
export type TicketChanges = Partial<Omit<Ticket, 'id' | 'version' | 'createdAt'>>;

/**
 * Saves `changes` to `ticket` as its next version, and queues its `ticket:updated` (`event` of the
 * ticket as saved), in one statement (`writeAndPublish`), provided nobody saved a version since
 * `ticket` was read: optimistic concurrency control, the original course app's `updateIfCurrent`.
 * When somebody did, nothing is saved or queued and StaleTicketError is thrown. Only the columns
 * named in `changes` are written: a column changed outside the versions (a credential issued
 * meanwhile) stays as it is. Answers the ticket as saved. On a transaction it commits with the
 * transaction; on a database handle, by itself.
 */
export async function saveTicketAndPublish(
  executor: Executor,
  ticket: Ticket,
  changes: TicketChanges,
  event: (saved: Ticket) => EventData<'ticket:updated'>,
): Promise<Ticket> {
  const saved = { ...ticket, ...changes, version: ticket.version + 1 };
  const write = executor
    .update(tickets)
    .set({ ...changes, version: saved.version })
    .where(and(eq(tickets.id, ticket.id), eq(tickets.version, ticket.version)))
    .returning({ id: tickets.id });
  if ((await writeAndPublish(executor, write, 'ticket:updated', event(saved))) === 0)
    throw new StaleTicketError(ticket.id, ticket.version);
  return saved;
}

/**
 * An owner's edit: a new title, price and face value, and the event's place and time. An undefined
 * face value is the price, as when a ticket is listed, or once the ticket has been sold, the face
 * value it has; an undefined venue, city or start is left as it is.
 */
export interface TicketEdit {
  title: string;
  priceCents: number;
  faceValueCents?: number;
  venue?: string;
  city?: string;
  startsAt?: string;
}

/** Whether the ticket's event has not started yet (or has no date): it may still be sold. */
export const notStarted = sql`(${tickets.startsAt} is null or ${tickets.startsAt} > now())`;

/** The orders a search can be sorted in, each paged by its own key. */
export const SORTS = ['newest', 'price', 'startsAt'] as const;
export type Sort = (typeof SORTS)[number];

/**
 * Where a page ended: the sort key of its last ticket and its id. The key is the creation time
 * (`newest`), the price in cents (`price`) or the start, `infinity` for none (`startsAt`).
 */
export interface PageCursor {
  sort: Sort;
  key: string | number;
  id: string;
}

/** What a buyer looks for among the tickets for sale; every part optional. */
export interface TicketSearch {
  /** Words, each matching the start of a word of the title or venue (case and accents aside). */
  words?: string[];
  /** The city, case and accents aside. */
  city?: string;
  /** The event starts at or after `from`, and at or before `to`. */
  from?: string;
  to?: string;
  minPriceCents?: number;
  maxPriceCents?: number;
  sort: Sort;
  after?: PageCursor;
}

/**
 * Descending as the indexes are built (`desc nulls last`, drizzle's `.desc()`): a bare `desc` means
 * `desc nulls first` to Postgres, which then cannot read those indexes in order, not-null columns
 * or not, and sorts the whole table instead.
 */
const newestFirst = (column: SQLWrapper) => sql`${column} desc nulls last`;

/** Each sort's key, as an expression its index is on, and its direction. */
const SORT_KEYS = {
  newest: { key: sql`${tickets.createdAt}`, ascending: false },
  price: { key: sql`${tickets.priceCents}`, ascending: true },
  startsAt: { key: sql`coalesce(${tickets.startsAt}, 'infinity'::timestamptz)`, ascending: true },
} satisfies Record<Sort, { key: SQL; ascending: boolean }>;

/**
 * Tickets for sale (listed, held by no order, their event not started), matching `search`, in its
 * sort, after its cursor (keyset pagination: a row comparison on the sort's index, so no page is
 * slower than the first and no ticket shows twice while others come and go).
 */
export async function searchTicketsForSale(
  db: Executor,
  search: TicketSearch,
  limit: number,
): Promise<(Ticket & { sortKey: string | number })[]> {
  const { key, ascending } = SORT_KEYS[search.sort];
  const { after } = search;
  const afterKey =
    after === undefined
      ? undefined
      : search.sort === 'price'
        ? sql`${after.key}::int`
        : sql`${after.key}::timestamptz`;
  const conditions = [
    eq(tickets.listed, true),
    isNull(tickets.orderId),
    notStarted,
    search.words?.length
      ? // Letters and digits only (the caller splits on anything else), so nothing here is syntax.
        sql`${tickets.search} @@ to_tsquery('simple', tickets_fold(${search.words.map((w) => `${w}:*`).join(' & ')}))`
      : undefined,
    search.city === undefined ? undefined : sql`tickets_fold(${tickets.city}) = tickets_fold(${search.city})`,
    search.from === undefined ? undefined : gte(tickets.startsAt, search.from),
    search.to === undefined ? undefined : lte(tickets.startsAt, search.to),
    search.minPriceCents === undefined ? undefined : gte(tickets.priceCents, search.minPriceCents),
    search.maxPriceCents === undefined ? undefined : lte(tickets.priceCents, search.maxPriceCents),
    afterKey === undefined
      ? undefined
      : ascending
        ? sql`(${key}, ${tickets.id}) > (${afterKey}, ${after!.id}::uuid)`
        : sql`(${key}, ${tickets.id}) < (${afterKey}, ${after!.id}::uuid)`,
  ];
  const order = ascending ? asc : newestFirst;
  return db
    .select({ ...TICKET_COLUMNS, sortKey: sql<string | number>`${key}` })
    .from(tickets)
    .where(and(...conditions))
    .orderBy(order(key), order(tickets.id))
    .limit(limit);
}

/** Every ticket `ownerId` owns, the most recently acquired first. */
export async function listTicketsOwnedBy(db: Executor, ownerId: string): Promise<Ticket[]> {
  return db
    .select(TICKET_COLUMNS)
    .from(tickets)
    .where(eq(tickets.userId, ownerId))
    .orderBy(newestFirst(tickets.acquiredAt), newestFirst(tickets.id));
}

/**
 * Stores a first credential for the ticket, provided `ownerId` still owns it and it has none (two
 * first requests at once: one wins, the other reads the winner's). Undefined otherwise.
 */
export async function storeCredential(
  db: Executor,
  id: string,
  ownerId: string,
  credential: { seed: Buffer; hash: Buffer },
): Promise<Ticket | undefined> {
  const [row] = await db
    .update(tickets)
    .set({ credentialSeed: credential.seed, credentialHash: credential.hash })
    .where(and(eq(tickets.id, id), eq(tickets.userId, ownerId), isNull(tickets.credentialSeed)))
    .returning(TICKET_COLUMNS);
  return row;
}

export async function findTicketByCredential(db: Executor, hash: Buffer): Promise<Ticket | undefined> {
  const [row] = await db.select(TICKET_COLUMNS).from(tickets).where(eq(tickets.credentialHash, hash));
  return row;
}

export async function insertTransfer(db: Executor, transfer: Omit<Transfer, 'transferredAt'>): Promise<void> {
  await db.insert(ticketTransfers).values(transfer);
}

export async function findTransfer(db: Executor, orderId: string): Promise<Transfer | undefined> {
  const [row] = await db.select().from(ticketTransfers).where(eq(ticketTransfers.orderId, orderId));
  return row;
}

export async function rememberCancelledOrder(db: Executor, orderId: string): Promise<void> {
  await db.insert(cancelledOrders).values({ orderId }).onConflictDoNothing();
}

export async function isCancelledOrder(db: Executor, orderId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(cancelledOrders)
    .where(eq(cancelledOrders.orderId, orderId));
  return rows.length > 0;
}
