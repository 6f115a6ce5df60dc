/**
 * The rules of tickets. A ticket has an owner: the seller who listed it, then each buyer in turn.
 * Its owner lists it for sale (at most its face value plus the deployment's markup), edits it or
 * withdraws it while no order holds it. It is held by at most one order at a time, at the price,
 * title and owner that order was priced from; released by the cancellation of that same order;
 * handed to the buyer when that order is paid, unlisted, with a new credential for the door.
 *
 * Every change bumps the version and queues `ticket:updated` in the same statement.
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  fromCents,
  NotAuthorizedError,
  NotFoundError,
  publishEvent,
  RejectionReason,
  RetryLater,
  toCents,
  UnprocessableEvent,
  ValidationError,
  type CurrentUser,
  type Database,
  type ErrorItem,
  type EventData,
  type Executor,
  type Transaction,
} from '@ticketing/common';
import {
  findTicket,
  findTicketByCredential,
  findTransfer,
  insertTicket,
  insertTransfer,
  isCancelledOrder,
  listTicketsOwnedBy,
  lockTicket,
  rememberCancelledOrder,
  saveTicketAndPublish,
  searchTicketsForSale,
  StaleTicketError,
  storeCredential,
  type PageCursor,
  type Ticket,
  type TicketChanges,
  type TicketEdit,
  type TicketSearch,
} from '../data-access/tickets-repository.ts';
import { credentialCode, credentialHash, newCredential, normaliseCode } from './credentials.ts';
import { refusedTitleCharacter, refusedTitleMessage } from './title-characters.ts';

export const MAX_TITLE_LENGTH = 200;
export const MAX_VENUE_LENGTH = 200;
export const MAX_CITY_LENGTH = 100;
export const MAX_PRICE = 1_000_000;
/** A price as a decimal string: digits, then at most 2 decimals ("20", "20.5", "20.00"). */
export const PRICE_TEXT = /^\d{1,9}(?:\.\d{1,2})?$/;

export const EVENT_STARTED = 'This event has already started';

/** Whether the ticket's event has started (at `now`): its listing has ended, no order may hold it. */
export const hasStarted = (ticket: Pick<Ticket, 'startsAt'>, now = Date.now()): boolean =>
  ticket.startsAt !== null && Date.parse(ticket.startsAt) <= now;

/** The deployment's rules for listings. */
export interface ListingRules {
  /** How far above its face value a ticket may be listed, in percent (0: at most its face value). */
  markupPercent: number;
}

/** The highest price, in cents, a ticket of this face value may be listed at. */
export const maxPriceCents = (faceValueCents: number, rules: ListingRules): number =>
  Math.floor((faceValueCents * (100 + rules.markupPercent)) / 100);

const money = (cents: number) => fromCents(cents).toFixed(2);

/** Refuses a price above the cap, saying the cap. */
function checkCap(priceCents: number, faceValueCents: number, rules: ListingRules): void {
  const cap = maxPriceCents(faceValueCents, rules);
  if (priceCents <= cap) return;
  const rule =
    rules.markupPercent === 0
      ? `its face value, ${money(faceValueCents)}`
      : `${rules.markupPercent}% above its face value of ${money(faceValueCents)}`;
  throw new ValidationError([{ message: `price must be at most ${money(cap)}: ${rule}`, field: 'price' }]);
}

/** The cents of a decimal string, exactly (no floating point on the way); undefined if it is not one. */
function centsOfText(text: string): number | undefined {
  if (!PRICE_TEXT.test(text)) return undefined;
  const [units, decimals = ''] = text.split('.');
  return Number(units) * 100 + Number(decimals.padEnd(2, '0'));
}

/**
 * Validates a price (currency units, at most 2 decimals; a number, or a decimal string as
 * "20.00") of the field `field` into cents.
 */
function parsePrice(input: number | string, field: string, problems: ErrorItem[]): number | undefined {
  if (typeof input === 'string') {
    const cents = centsOfText(input);
    if (cents === undefined) {
      problems.push({
        message: `${field} must be a number with at most 2 decimals, as 20 or "20.00"`,
        field,
      });
      return undefined;
    }
    input = cents / 100;
  }
  const price = input;
  const cents = toCents(price);
  if (!(price > 0)) problems.push({ message: `${field} must be greater than 0`, field });
  else if (price > MAX_PRICE) problems.push({ message: `${field} must be at most ${MAX_PRICE}`, field });
  else if (cents === undefined) problems.push({ message: `${field} must have at most 2 decimals`, field });
  else return cents;
  return undefined;
}

/** A line of text (a title, a venue, a city), trimmed; undefined, with the problem noted, if refused. */
function parseLine(input: string, field: string, maxLength: number, problems: ErrorItem[]) {
  const text = input.trim();
  if (text.length === 0) problems.push({ message: `${field} must not be empty`, field });
  // Characters as a reader counts them (code points): an emoji is one, not two UTF-16 units.
  else if ([...text].length > maxLength) {
    problems.push({ message: `${field} must be at most ${maxLength} characters`, field });
  } else {
    const refused = refusedTitleCharacter(text);
    if (refused === undefined) return text;
    problems.push({ message: refusedTitleMessage(refused, field), field });
  }
  return undefined;
}

/** A start in the future, as ISO-8601 UTC; undefined, with the problem noted, if not. */
function parseStart(input: string, problems: ErrorItem[], now: number): string | undefined {
  const time = Date.parse(input);
  if (Number.isNaN(time)) problems.push({ message: 'startsAt must be a date and time', field: 'startsAt' });
  else if (time <= now) problems.push({ message: 'startsAt must be in the future', field: 'startsAt' });
  else return new Date(time).toISOString();
  return undefined;
}

export interface TicketInput {
  title: string;
  price: number | string;
  faceValue?: number | string;
  venue?: string;
  city?: string;
  startsAt?: string;
}

/**
 * Validates a title, a price, an optional face value and the event's optional place and time into
 * storable values.
 */
export function parseTicketInput(input: TicketInput, now = Date.now()): TicketEdit {
  const problems: ErrorItem[] = [];
  const title = parseLine(input.title, 'title', MAX_TITLE_LENGTH, problems);
  const priceCents = parsePrice(input.price, 'price', problems);
  const faceValueCents =
    input.faceValue === undefined ? undefined : parsePrice(input.faceValue, 'faceValue', problems);
  const venue =
    input.venue === undefined ? undefined : parseLine(input.venue, 'venue', MAX_VENUE_LENGTH, problems);
  const city =
    input.city === undefined ? undefined : parseLine(input.city, 'city', MAX_CITY_LENGTH, problems);
  const startsAt = input.startsAt === undefined ? undefined : parseStart(input.startsAt, problems, now);
  if (problems.length > 0 || priceCents === undefined || title === undefined) {
    throw new ValidationError(problems);
  }
  return {
    title,
    priceCents,
    ...(faceValueCents === undefined ? {} : { faceValueCents }),
    ...(venue === undefined ? {} : { venue }),
    ...(city === undefined ? {} : { city }),
    ...(startsAt === undefined ? {} : { startsAt }),
  };
}

/** Validates the price of a listing into cents. */
export function parseListingPrice(price: number | string): number {
  const problems: ErrorItem[] = [];
  const cents = parsePrice(price, 'price', problems);
  if (cents === undefined) throw new ValidationError(problems);
  return cents;
}

function ticketFacts(ticket: Ticket) {
  return {
    id: ticket.id,
    version: ticket.version,
    title: ticket.title,
    price: ticket.priceCents,
    faceValue: ticket.faceValueCents,
    userId: ticket.userId,
    listed: ticket.listed,
    timesSold: ticket.timesSold,
    ...(ticket.venue === null ? {} : { venue: ticket.venue }),
    ...(ticket.city === null ? {} : { city: ticket.city }),
    ...(ticket.startsAt === null ? {} : { startsAt: new Date(ticket.startsAt).toISOString() }),
  };
}

function updatedEvent(ticket: Ticket): EventData<'ticket:updated'> {
  return { ...ticketFacts(ticket), ...(ticket.orderId ? { orderId: ticket.orderId } : {}) };
}

/** Saves `changes` as the ticket's next version and queues its `ticket:updated`, in one statement. */
function saveAndPublish(executor: Executor, ticket: Ticket, changes: TicketChanges): Promise<Ticket> {
  return saveTicketAndPublish(executor, ticket, changes, updatedEvent);
}

/** The owner lists a new ticket for sale; its face value is its price unless said otherwise. */
export async function createTicket(
  db: Database,
  seller: CurrentUser,
  input: TicketEdit,
  rules: ListingRules,
): Promise<Ticket> {
  const faceValueCents = input.faceValueCents ?? input.priceCents;
  checkCap(input.priceCents, faceValueCents, rules);
  return db.transaction(async (tx) => {
    const ticket = await insertTicket(tx, { id: randomUUID(), userId: seller.id, ...input, faceValueCents });
    await publishEvent(tx, 'ticket:created', ticketFacts(ticket));
    return ticket;
  });
}

const sameInstant = (a: string, b: string | null) => b !== null && Date.parse(a) === Date.parse(b);

/** Times a change by the owner is decided without a lock before it takes one (`changeOwnTicket`). */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * The owner changes their ticket: `change` applies the rules to the ticket as it is and answers
 * what changes, or undefined when there is nothing to do (or throws the refusal). Missing is 404,
 * another's is 401.
 *
 * Two round trips and no lock: the ticket is read, and its next version saved with its
 * `ticket:updated` in one statement that commits by itself, provided nobody saved a version in
 * between (`saveTicketAndPublish`); if somebody did, it is read and decided again. A change that
 * loses that race OPTIMISTIC_ATTEMPTS times in a row decides under the row's lock, in a
 * transaction, so that it cannot starve.
 */
async function changeOwnTicket(
  db: Database,
  owner: CurrentUser,
  id: string,
  change: (ticket: Ticket) => TicketChanges | undefined,
): Promise<Ticket> {
  const decide = async (executor: Executor, read: typeof findTicket) => {
    const ticket = await read(executor, id);
    if (!ticket) throw new NotFoundError('Ticket not found');
    if (ticket.userId !== owner.id) throw new NotAuthorizedError();
    const changes = change(ticket);
    return changes === undefined ? ticket : saveAndPublish(executor, ticket, changes);
  };
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    try {
      return await decide(db, findTicket);
    } catch (error) {
      if (!(error instanceof StaleTicketError)) throw error;
    }
  }
  return db.transaction((tx) => decide(tx, lockTicket));
}

/**
 * The owner edits title, price and face value while no order holds the ticket. Once it has been
 * sold, its title (it names the event) and its face value are fixed.
 */
export function updateTicket(
  db: Database,
  owner: CurrentUser,
  id: string,
  input: TicketEdit,
  rules: ListingRules,
): Promise<Ticket> {
  return changeOwnTicket(db, owner, id, (ticket) => {
    if (ticket.orderId) throw new BadRequestError('Cannot edit a reserved ticket');
    if (hasStarted(ticket)) throw new BadRequestError(EVENT_STARTED);
    const faceValueCents =
      input.faceValueCents ?? (ticket.timesSold === 0 ? input.priceCents : ticket.faceValueCents);
    if (ticket.timesSold > 0) {
      const problems: ErrorItem[] = [];
      if (input.title !== ticket.title) {
        problems.push({ message: 'The title cannot change once the ticket has been sold', field: 'title' });
      }
      for (const field of ['venue', 'city'] as const) {
        if (input[field] !== undefined && input[field] !== ticket[field]) {
          problems.push({ message: `The ${field} cannot change once the ticket has been sold`, field });
        }
      }
      if (input.startsAt !== undefined && !sameInstant(input.startsAt, ticket.startsAt)) {
        problems.push({
          message: 'The start cannot change once the ticket has been sold',
          field: 'startsAt',
        });
      }
      if (faceValueCents !== ticket.faceValueCents) {
        problems.push({
          message: 'The face value is fixed once the ticket has been sold',
          field: 'faceValue',
        });
      }
      if (problems.length > 0) throw new ValidationError(problems);
    }
    checkCap(input.priceCents, faceValueCents, rules);
    // What the edit leaves out (a venue, a city, a start) stays as it is.
    const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
    return { ...given, faceValueCents };
  });
}

/** The owner puts a ticket they own up for sale at `priceCents` (listed already: a new price). */
export function listTicket(
  db: Database,
  owner: CurrentUser,
  id: string,
  priceCents: number,
  rules: ListingRules,
): Promise<Ticket> {
  return changeOwnTicket(db, owner, id, (ticket) => {
    if (ticket.orderId) throw new BadRequestError('An order holds this ticket; it cannot change now');
    if (hasStarted(ticket)) throw new BadRequestError(EVENT_STARTED);
    checkCap(priceCents, ticket.faceValueCents, rules);
    if (ticket.listed && ticket.priceCents === priceCents) return undefined; // as asked already
    return { listed: true, priceCents };
  });
}

/** The owner takes a ticket off sale; refused while an order holds it, nothing to do if unlisted. */
export async function withdrawTicket(db: Database, owner: CurrentUser, id: string): Promise<void> {
  await changeOwnTicket(db, owner, id, (ticket) => {
    if (ticket.orderId) throw new BadRequestError('An order holds this ticket; it cannot be withdrawn now');
    return ticket.listed ? { listed: false } : undefined;
  });
}

/** Whether `viewer` may see the ticket: anyone while it is listed or held, else only its owner. */
export const isVisibleTo = (ticket: Pick<Ticket, 'listed' | 'orderId' | 'userId'>, viewerId?: string) =>
  ticket.listed || ticket.orderId !== null || ticket.userId === viewerId;

export async function getTicket(db: Executor, id: string): Promise<Ticket> {
  const ticket = await findTicket(db, id);
  if (!ticket) throw new NotFoundError('Ticket not found');
  return ticket;
}

export const listOwnTickets = (db: Executor, owner: CurrentUser) => listTicketsOwnedBy(db, owner.id);

/** A page of the tickets for sale matching `search`, and where the next page starts (none: the last). */
export async function searchTickets(db: Executor, search: TicketSearch, limit: number) {
  const page = await searchTicketsForSale(db, search, limit + 1);
  const items = page.slice(0, limit);
  const last = items.at(-1);
  const next: PageCursor | undefined =
    page.length > limit && last ? { sort: search.sort, key: last.sortKey, id: last.id } : undefined;
  return { items, next };
}

/**
 * The owner's credential for the door, issued on the first request after the ticket came to them
 * (nothing to issue for a ticket nobody asks about). Another's ticket is 401.
 */
export async function getCredential(db: Database, owner: CurrentUser, id: string, key: string) {
  for (;;) {
    const ticket = await getTicket(db, id);
    if (ticket.userId !== owner.id) throw new NotAuthorizedError();
    if (ticket.credentialSeed) return { code: credentialCode(key, ticket.id, ticket.credentialSeed) };
    const credential = newCredential(key, ticket.id);
    if (await storeCredential(db, ticket.id, owner.id, credential)) return { code: credential.code };
    // Another first request stored one, or the ticket changed hands meanwhile: read it again.
  }
}

/** A door scanner's question; the answer has the same shape whatever the code. */
export async function verifyCredential(db: Executor, text: string) {
  const code = normaliseCode(text);
  const ticket = code === undefined ? undefined : await findTicketByCredential(db, credentialHash(code));
  return ticket
    ? { valid: true as const, ticketId: ticket.id, title: ticket.title }
    : { valid: false as const };
}

/**
 * On `order:created`: hold the ticket for the order, at the price, title and owner the order was
 * priced from, or refuse (`ticket:reservation-rejected`) when the owner withdrew the ticket or
 * changed any of those before the order got here. Nothing happens for an order already known cancelled, and an order finding the ticket
 * held by another waits until one of the two is cancelled.
 *
 * Compared: price and title, not the version. The version also moves when an earlier order holds
 * and then releases the ticket, which changes nothing the buyer saw; comparing it would refuse
 * orders needlessly. An edit and its reversal (10 → 55 → 10) before the order arrives leaves it
 * held at 10: the price the buyer saw and the price the seller asks again.
 */
export async function reserveTicket(tx: Transaction, order: EventData<'order:created'>): Promise<void> {
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
  const reason = hasStarted(ticket)
    ? RejectionReason.Started
    : !ticket.listed
      ? RejectionReason.Withdrawn
      : ticket.priceCents !== order.ticket.price ||
          ticket.title !== order.ticket.title ||
          ticket.userId !== order.ticket.sellerId
        ? RejectionReason.Changed
        : undefined;
  if (reason) {
    // Remembered like a cancellation: this order never holds the ticket, whatever comes later.
    await rememberCancelledOrder(tx, order.id);
    await publishEvent(tx, 'ticket:reservation-rejected', { id: ticketId, orderId: order.id, reason });
    return;
  }
  await saveAndPublish(tx, ticket, { orderId: order.id });
}

/**
 * On `order:cancelled`: release the ticket only if this very order holds it. A late cancellation
 * of an older order never frees a ticket that a newer order holds.
 */
export async function releaseTicket(tx: Transaction, ticketId: string, orderId: string): Promise<void> {
  const ticket = await lockTicket(tx, ticketId);
  if (!ticket) throw new UnprocessableEvent(`unknown ticket ${ticketId}`);
  await rememberCancelledOrder(tx, orderId);
  if (ticket.orderId !== orderId) return;
  // Released after its event started (the order expired at the start): no longer for sale.
  await saveAndPublish(tx, ticket, { orderId: null, listed: ticket.listed && !hasStarted(ticket) });
}

/**
 * On `expiration:event-started`: the ticket's event starts, and its listing ends. Nothing to do for
 * a ticket no longer listed, or whose start moved since the timer was set (the new start has a
 * timer of its own). An order holding it is cancelled at the same moment by its own expiry, which
 * never runs past the start; the release then leaves the ticket unlisted.
 */
export async function endListing(tx: Transaction, started: EventData<'expiration:event-started'>) {
  const ticket = await lockTicket(tx, started.ticketId);
  if (!ticket) throw new UnprocessableEvent(`unknown ticket ${started.ticketId}`);
  if (!ticket.listed || !sameInstant(started.startsAt, ticket.startsAt)) return;
  await saveAndPublish(tx, ticket, { listed: false });
}

/**
 * On `order:completed`: the order holding the ticket was paid, and the ticket passes to its buyer,
 * unlisted, held by nobody, its old credential void (the buyer's is issued when they first ask).
 * The transfer is recorded under the order's id, so a redelivered completion finds it done. A
 * completion that finds the ticket not yet held for its order waits for that hold (it is on its way:
 * an order is paid only once it is held).
 */
export async function transferToBuyer(tx: Transaction, order: EventData<'order:completed'>): Promise<void> {
  if (await findTransfer(tx, order.id)) return;
  const ticket = await lockTicket(tx, order.ticket.id);
  if (!ticket) throw new UnprocessableEvent(`unknown ticket ${order.ticket.id}`);
  if (ticket.orderId !== order.id) {
    throw new RetryLater(`ticket ${ticket.id} is not held for the completed order ${order.id} yet`);
  }
  await insertTransfer(tx, {
    orderId: order.id,
    ticketId: ticket.id,
    fromUserId: ticket.userId,
    toUserId: order.userId,
    priceCents: ticket.priceCents,
  });
  await saveAndPublish(tx, ticket, {
    userId: order.userId,
    acquiredAt: new Date().toISOString(),
    listed: false,
    orderId: null,
    timesSold: ticket.timesSold + 1,
    credentialSeed: null,
    credentialHash: null,
  });
}
