/**
 * The rules of orders, the one place that decides an order's status. An order reserves one ticket
 * for a limited window, at the price the orders service's replica had when it was placed:
 * `created`, it asks the tickets service to hold the ticket at that price; `awaiting:payment` once
 * the tickets service holds it (the order can be paid); `complete` once paid; `cancelled` by its
 * buyer, its expiry, or the tickets service's refusal (`rejected`). The database lets only one
 * order at a time hold a ticket (created, awaiting payment or complete). Cancelling releases the
 * ticket; a completed order cannot be cancelled; cancelling twice changes nothing.
 *
 * Every change bumps the order's version and queues its event in the same transaction (a creation,
 * in the same statement).
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  CancelledBy,
  NotAuthorizedError,
  NotFoundError,
  publishEvent,
  RetryLater,
  writeAndPublish,
  UnprocessableEvent,
  fromCents,
  OPEN_ORDER_STATUSES,
  OrderStatus,
  toCents,
  ValidationError,
  type CurrentUser,
  type Database,
  type EventData,
  type Executor,
  RejectionReason,
  type ServiceDatabase,
} from '@ticketing/common';
import {
  applyTicketVersion,
  confirmation,
  CONFIRMED_VERSION,
  findOrder,
  findTicket,
  findTicketToOrder,
  insertOrderUnlessHeld,
  insertTicket,
  listOrdersOf,
  listSalesOf,
  lockOrder,
  transitionOrder,
  type Cancellation,
  type OrderWithTicket,
} from '../data-access/orders-repository.ts';

export interface OrdersSettings {
  /** How long an unpaid order holds its ticket. */
  expirationSeconds: number;
}

/** What a buyer orders: a ticket, and optionally the price they saw (currency units). */
export interface OrderRequest {
  ticketId: string;
  price?: number;
}

const money = (cents: number) => fromCents(cents).toFixed(2);

export const EVENT_STARTED = 'This event has already started';

/** The price a buyer names, in cents; refused when it cannot be a ticket's price at all. */
function seenPriceCents(price: number): number {
  const cents = toCents(price);
  if (!(price > 0) || cents === undefined) {
    throw new ValidationError([
      { message: 'price must be greater than 0, with at most 2 decimals', field: 'price' },
    ]);
  }
  return cents;
}

/**
 * Places an order at the price of the replica's ticket, and queues `order:created` with what it
 * was priced from. A buyer who names the price they saw is refused before any order exists when
 * the replica's price is another.
 */
export async function createOrder(
  database: Pick<ServiceDatabase, 'db' | 'pool'>,
  buyer: CurrentUser,
  request: OrderRequest,
  settings: OrdersSettings,
): Promise<OrderWithTicket> {
  const seen = request.price === undefined ? undefined : seenPriceCents(request.price);
  const found = await findTicketToOrder(database.db, request.ticketId);
  if (!found) throw new NotFoundError('Ticket not found');
  const { ticket } = found;
  if (!ticket.listed) throw new NotFoundError('Ticket not found'); // its owner's alone to see
  if (ticket.sellerId === buyer.id) throw new BadRequestError('You cannot order your own ticket', 'ticketId');
  if (found.reserved) throw new BadRequestError('Ticket is already reserved', 'ticketId');
  const now = Date.now();
  if (ticket.startsAt !== null && ticket.startsAt.getTime() <= now) {
    throw new BadRequestError(EVENT_STARTED, 'ticketId');
  }
  if (seen !== undefined && seen !== ticket.priceCents) {
    throw new BadRequestError(
      `The price of this ticket changed from ${money(seen)} to ${money(ticket.priceCents)}; check it and order again`,
      'price',
    );
  }
  // Buyers who got this far at the same time race for the ticket; the database decides.
  const order = {
    id: randomUUID(),
    userId: buyer.id,
    ticketId: ticket.id,
    status: OrderStatus.Created,
    priceCents: ticket.priceCents,
    sellerId: ticket.sellerId,
    ticketTimesSold: ticket.timesSold,
    // Never past the event's start: an order unpaid when the event starts is cancelled then.
    expiresAt: new Date(
      Math.min(now + settings.expirationSeconds * 1000, ticket.startsAt?.getTime() ?? Infinity),
    ),
    version: 0,
  };
  const created = await insertOrderUnlessHeld(database, order, {
    id: order.id,
    version: order.version,
    status: order.status,
    userId: order.userId,
    expiresAt: order.expiresAt.toISOString(),
    ticket: {
      id: ticket.id,
      price: order.priceCents,
      version: ticket.version,
      title: ticket.title,
      sellerId: ticket.sellerId,
    },
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

/** The user's completed sales, the most recent first. */
export const listOwnSales = (db: Executor, user: CurrentUser) => listSalesOf(db, user.id);

/** The buyer cancels: idempotent for a cancelled order, refused for a completed one. */
export async function cancelOrder(db: Database, user: CurrentUser, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const order = await lockOrder(tx, id);
    if (!order) throw new NotFoundError('Order not found');
    if (order.userId !== user.id) throw new NotAuthorizedError();
    if (order.status === OrderStatus.Cancelled) return;
    if (order.status === OrderStatus.Complete) throw new BadRequestError('Cannot cancel a completed order');
    await cancelAndPublish(tx, id, { by: CancelledBy.Buyer });
  });
}

/**
 * Cancels an order that is still open (only a `created` one for a rejection: an order the tickets
 * service holds was not rejected); false, and nothing published, when it was not.
 */
async function cancelAndPublish(tx: Executor, id: string, cancellation: Cancellation): Promise<boolean> {
  const from =
    cancellation.by === CancelledBy.Rejected ? ([OrderStatus.Created] as const) : OPEN_ORDER_STATUSES;
  const cancelled = await transitionOrder(tx, id, from, OrderStatus.Cancelled, cancellation);
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
  await cancelAndPublish(tx, orderId, { by: CancelledBy.Expiry });
}

/** What the buyer of a rejected order is told. */
export const REJECTION_MESSAGES: Record<RejectionReason, string> = {
  [RejectionReason.Changed]: 'The seller changed this ticket before your reservation reached it',
  [RejectionReason.Withdrawn]: 'The seller took this ticket off sale before your reservation reached it',
  [RejectionReason.Started]: EVENT_STARTED,
};

/**
 * On `ticket:reservation-rejected`: the tickets service will not hold the ticket for this order.
 * A `created` order is cancelled as `rejected`, with the reason, and `order:cancelled` goes out as
 * for any cancellation; an order cancelled meanwhile stays as it is.
 */
export async function rejectOrder(
  tx: Executor,
  data: EventData<'ticket:reservation-rejected'>,
): Promise<void> {
  const order = await lockOrder(tx, data.orderId);
  if (!order) throw new UnprocessableEvent(`unknown order ${data.orderId}`);
  await cancelAndPublish(tx, data.orderId, {
    by: CancelledBy.Rejected,
    reason: REJECTION_MESSAGES[data.reason],
  });
}

/**
 * The tickets service holds the ticket for this order (a `ticket:updated` naming it): a `created`
 * order can now be paid. It moves to `awaiting:payment` and `order:confirmed` tells the payments
 * service, in one statement; an order cancelled meanwhile stays cancelled (its cancellation
 * releases the ticket).
 */
async function confirmOrder(tx: Executor, orderId: string, ticketId: string): Promise<void> {
  await writeAndPublish(tx, confirmation(tx, orderId, ticketId), 'order:confirmed', {
    id: orderId,
    version: CONFIRMED_VERSION,
    ticket: { id: ticketId },
  });
}

/**
 * On `payment:created`: the order is paid; it completes, and the tickets service hands the ticket
 * to its buyer when it learns of it (`order:completed`). The payments
 * service charges only an order it knows as `awaiting:payment`, so only such an order completes. A
 * payment that arrives for an order already cancelled changes nothing here: the payments service
 * refunds it when it learns of the cancellation.
 */
export async function completeOrder(
  tx: Executor,
  orderId: string,
  log: { warn(o: object, m: string): void },
): Promise<void> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw new UnprocessableEvent(`unknown order ${orderId}`);
  const completed = await transitionOrder(tx, orderId, [OrderStatus.AwaitingPayment], OrderStatus.Complete);
  if (completed) {
    await publishEvent(tx, 'order:completed', {
      id: completed.id,
      version: completed.version,
      userId: completed.userId,
      ticket: { id: completed.ticketId },
    });
  } else if (order.status === OrderStatus.Cancelled) {
    log.warn({ orderId }, 'payment received for a cancelled order; the payments service refunds it');
  } else if (order.status === OrderStatus.Created) {
    // Cannot happen: payments learns an order is payable only from order:confirmed.
    throw new UnprocessableEvent(`payment for order ${orderId}, which is not confirmed yet`);
  }
}

/** On `ticket:created`: the first version of the replica. */
export async function replicateNewTicket(tx: Executor, data: EventData<'ticket:created'>): Promise<void> {
  await insertTicket(tx, {
    id: data.id,
    title: data.title,
    priceCents: data.price,
    sellerId: data.userId,
    listed: data.listed,
    timesSold: data.timesSold,
    startsAt: data.startsAt === undefined ? null : new Date(data.startsAt),
    version: data.version,
  });
}

/**
 * On `ticket:updated`: apply version v over any older one; an older or equal version changes
 * nothing (acknowledge). A version that names an order holding the ticket confirms that order, in
 * the same transaction.
 *
 * Versions may be skipped. Each carries the whole ticket, so the replica after v is the same
 * whatever came before it; and a skipped version's only other effect, confirming the order it
 * named, is never owed: an order that held the ticket at v-k and no longer does at v was either
 * cancelled (its release is what followed) or completed, which needs its payment, which needs it
 * confirmed first, here. Waiting for every version in turn instead made one lost delivery (a
 * broker node lost with it) hold back every later version of the ticket, each coming back only on
 * its own retry.
 */
export async function replicateTicketUpdate(tx: Executor, data: EventData<'ticket:updated'>): Promise<void> {
  const applied = await applyTicketVersion(tx, {
    id: data.id,
    title: data.title,
    priceCents: data.price,
    sellerId: data.userId,
    listed: data.listed,
    timesSold: data.timesSold,
    startsAt: data.startsAt === undefined ? null : new Date(data.startsAt),
    version: data.version,
  });
  if (applied) {
    if (data.orderId) await confirmOrder(tx, data.orderId, data.id);
    return;
  }
  if (await findTicket(tx, data.id)) return;
  throw new RetryLater(`ticket ${data.id} version ${data.version} arrived before the ticket was created`);
}
