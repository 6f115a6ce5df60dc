/**
 * The rules of orders. An order reserves one ticket for a limited window; the database lets only
 * one order at a time hold a ticket (created, awaiting payment or complete). Cancelling releases
 * the ticket; a completed order cannot be cancelled; cancelling twice changes nothing.
 *
 * Every change bumps the order's version and queues its event in the same transaction (a creation,
 * in the same statement).
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  NotAuthorizedError,
  NotFoundError,
  publishEvent,
  RetryLater,
  UnprocessableEvent,
  type CurrentUser,
  type Database,
  type EventData,
  type Executor,
  type ServiceDatabase,
} from '@ticketing/common';
import {
  applyTicketVersion,
  findOrder,
  findTicket,
  findTicketToOrder,
  insertOrderUnlessHeld,
  insertTicket,
  listOrdersOf,
  lockOrder,
  transitionOrder,
  type CancelledBy,
  type OrderWithTicket,
} from '../data-access/orders-repository.ts';

export interface OrdersSettings {
  /** How long an unpaid order holds its ticket. */
  expirationSeconds: number;
}

export async function createOrder(
  database: Pick<ServiceDatabase, 'db' | 'pool'>,
  buyer: CurrentUser,
  ticketId: string,
  settings: OrdersSettings,
): Promise<OrderWithTicket> {
  const found = await findTicketToOrder(database.db, ticketId);
  if (!found) throw new NotFoundError('Ticket not found');
  const { ticket } = found;
  if (ticket.sellerId === buyer.id) throw new BadRequestError('You cannot order your own ticket', 'ticketId');
  if (found.reserved) throw new BadRequestError('Ticket is already reserved', 'ticketId');
  // Buyers who got this far at the same time race for the ticket; the database decides.
  const order = {
    id: randomUUID(),
    userId: buyer.id,
    ticketId: ticket.id,
    status: 'created' as const,
    priceCents: ticket.priceCents,
    expiresAt: new Date(Date.now() + settings.expirationSeconds * 1000),
    version: 0,
  };
  const created = await insertOrderUnlessHeld(database, order, {
    id: order.id,
    version: order.version,
    status: order.status,
    userId: order.userId,
    expiresAt: order.expiresAt.toISOString(),
    ticket: { id: ticket.id, price: order.priceCents },
  });
  if (!created) throw new BadRequestError('Ticket is already reserved', 'ticketId');
  return { ...created, ticket };
}

export async function getOwnOrder(db: Executor, user: CurrentUser, id: string): Promise<OrderWithTicket> {
  const order = await findOrder(db, id);
  if (!order) throw new NotFoundError('Order not found');
  if (order.userId !== user.id) throw new NotAuthorizedError();
  return order;
}

export const listOwnOrders = (db: Executor, user: CurrentUser) => listOrdersOf(db, user.id);

/** The buyer cancels: idempotent for a cancelled order, refused for a completed one. */
export async function cancelOrder(db: Database, user: CurrentUser, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const order = await lockOrder(tx, id);
    if (!order) throw new NotFoundError('Order not found');
    if (order.userId !== user.id) throw new NotAuthorizedError();
    if (order.status === 'cancelled') return;
    if (order.status === 'complete') throw new BadRequestError('Cannot cancel a completed order');
    await cancelAndPublish(tx, id, 'buyer');
  });
}

/** Cancels an order that is still open; false (and nothing published) when it was not open. */
async function cancelAndPublish(tx: Executor, id: string, by: CancelledBy): Promise<boolean> {
  const cancelled = await transitionOrder(tx, id, ['created', 'awaiting:payment'], 'cancelled', by);
  if (!cancelled) return false;
  await publishEvent(tx, 'order:cancelled', {
    id: cancelled.id,
    version: cancelled.version,
    ticket: { id: cancelled.ticketId },
  });
  return true;
}

/**
 * On `expiration:complete`: the window closed. An open order is cancelled (its ticket released);
 * a cancelled or completed one is left as it is, and nothing is published.
 */
export async function expireOrder(tx: Executor, orderId: string): Promise<void> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw new UnprocessableEvent(`unknown order ${orderId}`);
  await cancelAndPublish(tx, orderId, 'expiry');
}

/**
 * On `payment:created`: the order is paid; it completes and its ticket stays sold. A payment that
 * arrives for an order already cancelled changes nothing here: the payments service refunds it
 * when it learns of the cancellation.
 */
export async function completeOrder(
  tx: Executor,
  orderId: string,
  log: { warn(o: object, m: string): void },
): Promise<void> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw new UnprocessableEvent(`unknown order ${orderId}`);
  const completed = await transitionOrder(tx, orderId, ['created', 'awaiting:payment'], 'complete');
  if (completed) {
    await publishEvent(tx, 'order:completed', {
      id: completed.id,
      version: completed.version,
      ticket: { id: completed.ticketId },
    });
  } else if (order.status === 'cancelled') {
    log.warn({ orderId }, 'payment received for a cancelled order; the payments service refunds it');
  }
}

/** On `ticket:created`: the first version of the replica. */
export async function replicateNewTicket(tx: Executor, data: EventData<'ticket:created'>): Promise<void> {
  await insertTicket(tx, {
    id: data.id,
    title: data.title,
    priceCents: data.price,
    sellerId: data.userId,
    version: data.version,
  });
}

/**
 * On `ticket:updated`: apply version v only on top of v-1. An older version was applied already
 * (acknowledge, no effect); a newer one than expected arrived early (retry shortly).
 */
export async function replicateTicketUpdate(tx: Executor, data: EventData<'ticket:updated'>): Promise<void> {
  const applied = await applyTicketVersion(tx, {
    id: data.id,
    title: data.title,
    priceCents: data.price,
    sellerId: data.userId,
    version: data.version,
  });
  if (applied) return;
  const current = await findTicket(tx, data.id);
  if (current && current.version >= data.version) return;
  throw new RetryLater(
    `ticket ${data.id} version ${data.version} arrived before version ${current ? current.version + 1 : 0}`,
  );
}
