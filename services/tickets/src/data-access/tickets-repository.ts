/** Reads and writes of the tickets table; plain objects in, plain objects out. */
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '@ticketing/common';
import { cancelledOrders, tickets, ticketTransfers, type TicketRow } from './schema.ts';

export type Ticket = TicketRow;
export type Transfer = typeof ticketTransfers.$inferSelect;

/** Thrown when a ticket changed since it was read: the optimistic concurrency check failed. */
export class StaleTicketError extends Error {
  constructor(id: string, version: number) {
    super(`ticket ${id} is no longer at version ${version}`);
  }
}

export async function insertTicket(
  db: Executor,
  values: Pick<Ticket, 'id' | 'title' | 'priceCents' | 'faceValueCents' | 'userId'>,
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
 * Saves `ticket` as the next version, provided nobody saved a version since `ticket` was read:
 * optimistic concurrency control, the original course app's `updateIfCurrent`.
 */
export async function saveTicket(db: Executor, ticket: Ticket): Promise<Ticket> {
  const { id, version, createdAt: _created, ...changes } = ticket;
  const [row] = await db
    .update(tickets)
    .set({ ...changes, version: version + 1 })
    .where(and(eq(tickets.id, id), eq(tickets.version, version)))
    .returning();
  if (!row) throw new StaleTicketError(id, version);
  return row;
}

/**
 * An owner's edit: a new title, price and face value. An undefined face value is the price, as
 * when a ticket is listed, or once the ticket has been sold, the face value it has.
 */
export interface TicketEdit {
  title: string;
  priceCents: number;
  faceValueCents?: number;
}

/**
 * The owner's edit in one statement, when every rule holds: the row is locked, checked (theirs,
 * held by no order, title and face value unchanged once sold, the price within `markupPercent`
 * of the face value) and saved as the next version together. Undefined when any rule fails or the
 * ticket is missing: the caller reads the row to say why.
 */
export async function editTicketIfAllowed(
  db: Executor,
  id: string,
  ownerId: string,
  edit: TicketEdit,
  markupPercent: number,
): Promise<Ticket | undefined> {
  const faceValue =
    edit.faceValueCents ??
    sql`case when ${tickets.timesSold} = 0 then ${edit.priceCents}::int else ${tickets.faceValueCents} end`;
  const [row] = await db
    .update(tickets)
    .set({ ...edit, faceValueCents: faceValue, version: sql`${tickets.version} + 1` })
    .where(
      and(
        eq(tickets.id, id),
        eq(tickets.userId, ownerId),
        isNull(tickets.orderId),
        or(
          eq(tickets.timesSold, 0),
          and(eq(tickets.title, edit.title), eq(tickets.faceValueCents, faceValue)),
        ),
        sql`${edit.priceCents}::int * 100 <= (${faceValue})::int * ${100 + markupPercent}::int`,
      ),
    )
    .returning();
  return row;
}

export interface PageCursor {
  createdAt: string;
  id: string;
}

/** Tickets for sale that no order holds, newest first, after `cursor` (keyset pagination). */
export async function listTicketsForSale(
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
    .where(and(eq(tickets.listed, true), isNull(tickets.orderId), after))
    .orderBy(desc(tickets.createdAt), desc(tickets.id))
    .limit(limit);
}

/** Every ticket `ownerId` owns, the most recently acquired first. */
export async function listTicketsOwnedBy(db: Executor, ownerId: string): Promise<Ticket[]> {
  return db
    .select()
    .from(tickets)
    .where(eq(tickets.userId, ownerId))
    .orderBy(desc(tickets.acquiredAt), desc(tickets.id));
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
    .returning();
  return row;
}

export async function findTicketByCredential(db: Executor, hash: Buffer): Promise<Ticket | undefined> {
  const [row] = await db.select().from(tickets).where(eq(tickets.credentialHash, hash));
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
