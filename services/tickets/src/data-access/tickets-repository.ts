/** Reads and writes of the tickets table; plain objects in, plain objects out. */
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '@ticketing/common';
import { cancelledOrders, tickets, type TicketRow } from './schema.ts';

export type Ticket = TicketRow;

/** Thrown when a ticket changed since it was read: the optimistic concurrency check failed. */
export class StaleTicketError extends Error {
  constructor(id: string, version: number) {
    super(`ticket ${id} is no longer at version ${version}`);
  }
}

export async function insertTicket(
  db: Executor,
  values: Pick<Ticket, 'id' | 'title' | 'priceCents' | 'userId'>,
): Promise<Ticket> {
  const [row] = await db.insert(tickets).values(values).returning();
  return row!;
}

export async function findTicket(db: Executor, id: string): Promise<Ticket | undefined> {
  const [row] = await db.select().from(tickets).where(eq(tickets.id, id));
  return row;
}

/** Reads the ticket and locks its row until the transaction ends (writers queue behind us). */
export async function lockTicket(db: Executor, id: string): Promise<Ticket | undefined> {
  const [row] = await db.select().from(tickets).where(eq(tickets.id, id)).for('update');
  return row;
}

/**
 * Saves `ticket`'s title, price and orderId as the next version, provided nobody saved a version
 * since `ticket` was read: optimistic concurrency control, the original course app's
 * `updateIfCurrent`.
 */
export async function saveTicket(db: Executor, ticket: Ticket): Promise<Ticket> {
  const [row] = await db
    .update(tickets)
    .set({
      title: ticket.title,
      priceCents: ticket.priceCents,
      orderId: ticket.orderId,
      version: ticket.version + 1,
    })
    .where(and(eq(tickets.id, ticket.id), eq(tickets.version, ticket.version)))
    .returning();
  if (!row) throw new StaleTicketError(ticket.id, ticket.version);
  return row;
}

/**
 * The seller's edit in one statement: the row is locked, checked (theirs, not held by an order)
 * and saved as the next version together. Undefined when it is not theirs, held, or missing.
 */
export async function editAvailableTicket(
  db: Executor,
  id: string,
  sellerId: string,
  values: Pick<Ticket, 'title' | 'priceCents'>,
): Promise<Ticket | undefined> {
  const [row] = await db
    .update(tickets)
    .set({ ...values, version: sql`${tickets.version} + 1` })
    .where(and(eq(tickets.id, id), eq(tickets.userId, sellerId), isNull(tickets.orderId)))
    .returning();
  return row;
}

export interface PageCursor {
  createdAt: string;
  id: string;
}

/** Tickets nobody holds, newest first, after `cursor` (keyset pagination: stable under inserts). */
export async function listAvailableTickets(
  db: Executor,
  limit: number,
  cursor?: PageCursor,
): Promise<Ticket[]> {
  const after = cursor
    ? or(
        lt(tickets.createdAt, cursor.createdAt),
        and(eq(tickets.createdAt, cursor.createdAt), lt(tickets.id, cursor.id)),
      )
    : undefined;
  return db
    .select()
    .from(tickets)
    .where(and(isNull(tickets.orderId), after))
    .orderBy(desc(tickets.createdAt), desc(tickets.id))
    .limit(limit);
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
