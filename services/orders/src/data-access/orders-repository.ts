/** Reads and writes of orders and of the ticket replica; plain objects in and out. */
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import {
  prepareWriteAndPublish,
  type Database,
  type CancelledBy,
  type EventData,
  type Executor,
  OrderStatus,
  type StatementTarget,
} from '@ticketing/common';
import { holdsItsTicket, orders, tickets, type OrderRow, type TicketRow } from './schema.ts';

export type Ticket = TicketRow;
export type Order = OrderRow;
/** An order as it is placed: not yet created in the database, and not cancelled by anyone. */
export type NewOrder = Omit<Order, 'createdAt' | 'cancelledBy' | 'cancelReason' | 'completedAt'>;
export type OrderWithTicket = Order & { ticket: Ticket };

export async function findTicket(db: Executor, id: string): Promise<Ticket | undefined> {
  const [row] = await db.select().from(tickets).where(eq(tickets.id, id));
  return row;
}

/**
 * The ticket and whether an active order holds it (or its owner sold it already), in one query: most buyers in a rush for one
 * ticket are refused here, without a transaction. (The unique index still decides the race.)
 * Prepared once per database handle: the busiest query of a rush is neither rebuilt by drizzle nor
 * planned again by Postgres on each request.
 */
export async function findTicketToOrder(
  db: Database,
  id: string,
): Promise<{ ticket: Ticket; reserved: boolean } | undefined> {
  let query = ticketToOrderQueries.get(db);
  if (!query) ticketToOrderQueries.set(db, (query = prepareTicketToOrder(db)));
  const [row] = await query.execute({ id });
  return row && { ticket: row.ticket, reserved: row.activeOrderId !== null };
}

// A join, so that every column is named with its table: in a one-table select drizzle leaves
// them bare, and a bare "id" inside a subquery on orders would be the order's.
const prepareTicketToOrder = (db: Database) =>
  db
    .select({ ticket: tickets, activeOrderId: orders.id })
    .from(tickets)
    .leftJoin(
      orders,
      and(
        eq(orders.ticketId, tickets.id),
        eq(orders.ticketTimesSold, tickets.timesSold),
        holdsItsTicket(orders.status),
      ),
    )
    .where(eq(tickets.id, sql.placeholder('id')))
    .prepare('orders_find_ticket_to_order');

const ticketToOrderQueries = new WeakMap<Database, ReturnType<typeof prepareTicketToOrder>>();

/** Inserts the first version of a replicated ticket; a duplicate or older event changes nothing. */
export async function insertTicket(db: Executor, ticket: Ticket): Promise<void> {
  await db.insert(tickets).values(ticket).onConflictDoNothing();
}

/**
 * Applies version `ticket.version` over any older one (each version is the whole ticket); false
 * when the replica already has it or a newer one, or has no such ticket yet.
 */
export async function applyTicketVersion(db: Executor, ticket: Ticket): Promise<boolean> {
  const rows = await db
    .update(tickets)
    .set({
      title: ticket.title,
      priceCents: ticket.priceCents,
      sellerId: ticket.sellerId,
      listed: ticket.listed,
      timesSold: ticket.timesSold,
      startsAt: ticket.startsAt,
      version: ticket.version,
    })
    .where(and(eq(tickets.id, ticket.id), lt(tickets.version, ticket.version)))
    .returning({ id: tickets.id });
  return rows.length === 1;
}

// The busiest write of a rush, prepared (see prepareWriteAndPublish); built with a query builder
// that has no connection, since it only renders SQL.
const insertOrderAndQueue = prepareWriteAndPublish<'order:created', NewOrder, { created_at: Date }>(
  'orders_insert_unless_held',
  'order:created',
  drizzle
    .mock()
    .insert(orders)
    .values({
      id: sql.placeholder('id'),
      userId: sql.placeholder('userId'),
      ticketId: sql.placeholder('ticketId'),
      status: sql.placeholder('status'),
      priceCents: sql.placeholder('priceCents'),
      sellerId: sql.placeholder('sellerId'),
      ticketTimesSold: sql.placeholder('ticketTimesSold'),
      expiresAt: sql.placeholder('expiresAt'),
      version: sql.placeholder('version'),
    })
    .onConflictDoNothing({
      target: [orders.ticketId, orders.ticketTimesSold],
      where: holdsItsTicket(orders.status),
    })
    .returning({ createdAt: orders.createdAt }),
);

/**
 * Inserts `order` and queues its `order:created`, in one statement that commits on its own,
 * unless an active order holds the ticket: then the unique index makes the insert do nothing, no
 * event is queued, and the answer is undefined. The loser of a race for a ticket costs one round
 * trip, no transaction to roll back, no error in the server's log.
 */
export async function insertOrderUnlessHeld(
  database: StatementTarget,
  order: NewOrder,
  event: EventData<'order:created'>,
): Promise<Order | undefined> {
  const [row] = await insertOrderAndQueue(database, order, event);
  return (
    row && { ...order, cancelledBy: null, cancelReason: null, completedAt: null, createdAt: row.created_at }
  );
}

export async function findOrder(db: Executor, id: string): Promise<OrderWithTicket | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .innerJoin(tickets, eq(orders.ticketId, tickets.id))
    .where(eq(orders.id, id));
  return row && { ...row.orders, ticket: row.tickets };
}

export async function lockOrder(db: Executor, id: string): Promise<Order | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

export async function listOrdersOf(db: Executor, userId: string): Promise<OrderWithTicket[]> {
  const rows = await db
    .select()
    .from(orders)
    .innerJoin(tickets, eq(orders.ticketId, tickets.id))
    .where(eq(orders.userId, userId))
    .orderBy(desc(orders.createdAt), desc(orders.id));
  return rows.map((row) => ({ ...row.orders, ticket: row.tickets }));
}

/** A completed sale: the order, and the ticket's title. */
export interface Sale {
  order: Order;
  title: string;
}

/** The completed sales of `sellerId`, the most recent first. */
export async function listSalesOf(db: Executor, sellerId: string): Promise<Sale[]> {
  const rows = await db
    .select({ order: orders, title: tickets.title })
    .from(orders)
    .innerJoin(tickets, eq(orders.ticketId, tickets.id))
    .where(and(eq(orders.sellerId, sellerId), eq(orders.status, OrderStatus.Complete)))
    .orderBy(desc(orders.completedAt), desc(orders.id));
  return rows;
}

/** Who cancelled an order, and for a rejection why. */
export interface Cancellation {
  by: CancelledBy;
  reason?: string;
}

/**
 * Moves an order from one of `from` to `to`, bumping its version (and recording who cancelled it,
 * and why, for a cancellation); undefined when it was not in `from`.
 */
export async function transitionOrder(
  db: Executor,
  id: string,
  from: readonly OrderStatus[],
  to: OrderStatus,
  cancellation?: Cancellation,
): Promise<Order | undefined> {
  const [row] = await db
    .update(orders)
    .set({
      status: to,
      version: sql`${orders.version} + 1`,
      ...(cancellation ? { cancelledBy: cancellation.by, cancelReason: cancellation.reason ?? null } : {}),
      ...(to === OrderStatus.Complete ? { completedAt: sql`now()` } : {}),
    })
    .where(and(eq(orders.id, id), inArray(orders.status, [...from])))
    .returning();
  return row;
}

/** The version of an order once confirmed: its second. */
export const CONFIRMED_VERSION = 1;

/**
 * The write that confirms a `created` order for `ticketId` (`awaiting:payment`), for
 * `writeAndPublish`: it returns the order's id, or nothing when the order is not `created`. A
 * created order is at its first version, 0 (a change of status is its only change, and none leads
 * back to `created`), so its confirmation is version 1, known before the write; the statement says
 * so rather than trust it.
 */
export const confirmation = (db: Executor, id: string, ticketId: string) =>
  db
    .update(orders)
    .set({ status: OrderStatus.AwaitingPayment, version: CONFIRMED_VERSION })
    .where(
      and(
        eq(orders.id, id),
        eq(orders.ticketId, ticketId),
        eq(orders.status, OrderStatus.Created),
        eq(orders.version, CONFIRMED_VERSION - 1),
      ),
    )
    .returning({ id: orders.id });
