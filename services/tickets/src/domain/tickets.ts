/**
 * The rules of tickets. A ticket is listed by its seller, can be edited by its seller only while
 * no order holds it, and is held by at most one order at a time, at the price and title that order
 * was priced from; released only by the cancellation of that same order.
 *
 * Every change bumps the version and queues `ticket:updated` in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  NotAuthorizedError,
  NotFoundError,
  publishEvent,
  RetryLater,
  toCents,
  UnprocessableEvent,
  ValidationError,
  type CurrentUser,
  type Database,
  type ErrorItem,
  type EventData,
  type Executor,
} from '@ticketing/common';
import {
  editAvailableTicket,
  findTicket,
  insertTicket,
  isCancelledOrder,
  listAvailableTickets,
  lockTicket,
  rememberCancelledOrder,
  saveTicket,
  type PageCursor,
  type Ticket,
} from '../data-access/tickets-repository.ts';

export const MAX_TITLE_LENGTH = 200;
export const MAX_PRICE = 1_000_000;

export interface TicketInput {
  title: string;
  priceCents: number;
}

/** Validates a title and a price (currency units, at most 2 decimals) into storable values. */
export function parseTicketInput(input: { title: string; price: number }): TicketInput {
  const problems: ErrorItem[] = [];
  const title = input.title.trim();
  if (title.length === 0) problems.push({ message: 'title must not be empty', field: 'title' });
  // Characters as a reader counts them (code points): an emoji is one, not two UTF-16 units.
  if ([...title].length > MAX_TITLE_LENGTH) {
    problems.push({ message: `title must be at most ${MAX_TITLE_LENGTH} characters`, field: 'title' });
  }
  const cents = toCents(input.price);
  if (!(input.price > 0)) problems.push({ message: 'price must be greater than 0', field: 'price' });
  else if (input.price > MAX_PRICE)
    problems.push({ message: `price must be at most ${MAX_PRICE}`, field: 'price' });
  else if (cents === undefined) {
    problems.push({ message: 'price must have at most 2 decimals', field: 'price' });
  }
  if (problems.length > 0 || cents === undefined) throw new ValidationError(problems);
  return { title, priceCents: cents };
}

function updatedEvent(ticket: Ticket): EventData<'ticket:updated'> {
  return {
    id: ticket.id,
    version: ticket.version,
    title: ticket.title,
    price: ticket.priceCents,
    userId: ticket.userId,
    ...(ticket.orderId ? { orderId: ticket.orderId } : {}),
  };
}

export async function createTicket(db: Database, seller: CurrentUser, input: TicketInput): Promise<Ticket> {
  return db.transaction(async (tx) => {
    const ticket = await insertTicket(tx, { id: randomUUID(), userId: seller.id, ...input });
    await publishEvent(tx, 'ticket:created', {
      id: ticket.id,
      version: ticket.version,
      title: ticket.title,
      price: ticket.priceCents,
      userId: ticket.userId,
    });
    return ticket;
  });
}

export async function updateTicket(
  db: Database,
  seller: CurrentUser,
  id: string,
  input: TicketInput,
): Promise<Ticket> {
  return db.transaction(async (tx) => {
    // The common case in one round trip; only a refused edit reads the row to say why.
    let saved = await editAvailableTicket(tx, id, seller.id, input);
    if (!saved) {
      const ticket = await lockTicket(tx, id);
      if (!ticket) throw new NotFoundError('Ticket not found');
      if (ticket.userId !== seller.id) throw new NotAuthorizedError();
      if (ticket.orderId) throw new BadRequestError('Cannot edit a reserved ticket');
      saved = await saveTicket(tx, { ...ticket, ...input }); // released in between: edit it now
    }
    await publishEvent(tx, 'ticket:updated', updatedEvent(saved));
    return saved;
  });
}

export async function getTicket(db: Executor, id: string): Promise<Ticket> {
  const ticket = await findTicket(db, id);
  if (!ticket) throw new NotFoundError('Ticket not found');
  return ticket;
}

export async function listTickets(db: Executor, limit: number, cursor?: PageCursor) {
  const page = await listAvailableTickets(db, limit + 1, cursor);
  const items = page.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    next: page.length > limit && last ? { createdAt: last.createdAt, id: last.id } : undefined,
  };
}

/**
 * On `order:created`: hold the ticket for the order, at the price and title the order was priced
 * from, or refuse (`ticket:reservation-rejected`) when the seller changed either before the order
 * got here. Nothing happens for an order already known cancelled, and an order finding the ticket
 * held by another waits until one of the two is cancelled.
 *
 * Compared: price and title, not the version. The version also moves when an earlier order holds
 * and then releases the ticket, which changes nothing the buyer saw; comparing it would refuse
 * orders needlessly. An edit and its reversal (10 → 55 → 10) before the order arrives leaves it
 * held at 10: the price the buyer saw and the price the seller asks again.
 */
export async function reserveTicket(tx: Executor, order: EventData<'order:created'>): Promise<void> {
  const ticketId = order.ticket.id;
  const ticket = await lockTicket(tx, ticketId);
  if (!ticket) throw new UnprocessableEvent(`unknown ticket ${ticketId}`);
  // Asked only once the lock is held, in a statement of its own: a cancellation that held the lock
  // first is committed by then, and a statement sees what was committed before it began. Asked in
  // the locking statement itself, it would be answered from before the wait, and a ticket could go
  // to an order cancelled meanwhile (the fault tests caught that when it was tried).
  if (ticket.orderId === order.id || (await isCancelledOrder(tx, order.id))) return;
  // Held by another order: one of the two was cancelled (orders lets only one be active at a
  // time), and its cancellation is on its way on the other subject. Wait for it rather than guess:
  // letting this order take the lock would, when it is the older one, hand the ticket to a
  // cancelled order and then free it while the newer one still holds it.
  if (ticket.orderId !== null) {
    throw new RetryLater(`ticket ${ticketId} is held by order ${ticket.orderId}; order ${order.id} waits`);
  }
  if (ticket.priceCents !== order.ticket.price || ticket.title !== order.ticket.title) {
    // Remembered like a cancellation: this order never holds the ticket, whatever comes later.
    await rememberCancelledOrder(tx, order.id);
    await publishEvent(tx, 'ticket:reservation-rejected', {
      id: ticketId,
      orderId: order.id,
      reason: 'changed',
    });
    return;
  }
  const saved = await saveTicket(tx, { ...ticket, orderId: order.id });
  await publishEvent(tx, 'ticket:updated', updatedEvent(saved));
}

/**
 * On `order:cancelled`: release the ticket only if this very order holds it. A late cancellation
 * of an older order never frees a ticket that a newer order holds.
 */
export async function releaseTicket(tx: Executor, ticketId: string, orderId: string): Promise<void> {
  const ticket = await lockTicket(tx, ticketId);
  if (!ticket) throw new UnprocessableEvent(`unknown ticket ${ticketId}`);
  await rememberCancelledOrder(tx, orderId);
  if (ticket.orderId !== orderId) return;
  const saved = await saveTicket(tx, { ...ticket, orderId: null });
  await publishEvent(tx, 'ticket:updated', updatedEvent(saved));
}
