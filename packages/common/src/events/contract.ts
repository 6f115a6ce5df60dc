/**
 * The event contract of the marketplace: every event's name, its payload schema and its type,
 * from one TypeBox schema each, so that what is validated on the way in is exactly what the
 * compiler checks on the way out. Documented in docs/events.md.
 *
 * It is also the one place each enumeration the services share is spelled (order statuses, who
 * cancelled an order, why a reservation was rejected, payment statuses): a `const` object naming
 * each value, an `as const` array of them all, and the TypeScript type and TypeBox schema derived
 * from those. HTTP schemas, Drizzle schemas (and the check constraints and partial indexes they
 * declare, through `sqlList`), domain code and the consistency checker import them from here; the
 * web client gets them through the generated OpenAPI types.
 *
 * Money travels as integer cents (`price`), never as floating point.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { currentTraceparent } from '../observability/tracing.ts';

/**
 * An order's life, decided by the orders service alone (docs/events.md draws it):
 * `created` → `awaiting:payment` → `complete`, and `cancelled` from either open status.
 */
export const OrderStatus = {
  /** The order exists and asks the tickets service to hold its ticket at the order's price. */
  Created: 'created',
  /** Ended unpaid: by its buyer, on expiry, or rejected by the tickets service; the ticket is released. */
  Cancelled: 'cancelled',
  /** The tickets service holds the ticket for it at exactly its price: it can be paid until it expires. */
  AwaitingPayment: 'awaiting:payment',
  /** Paid: the ticket is sold, and the tickets service hands it to the buyer. */
  Complete: 'complete',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];
export const ORDER_STATUSES = [
  OrderStatus.Created,
  OrderStatus.Cancelled,
  OrderStatus.AwaitingPayment,
  OrderStatus.Complete,
] as const;
/** The statuses in which an order holds (or asks to hold) its ticket: at most one per ticket. */
export const ACTIVE_ORDER_STATUSES = [
  OrderStatus.Created,
  OrderStatus.AwaitingPayment,
  OrderStatus.Complete,
] as const;
/** Statuses an order can still be paid or cancelled in. */
export const OPEN_ORDER_STATUSES = [OrderStatus.Created, OrderStatus.AwaitingPayment] as const;

/** Who or what cancelled a cancelled order. */
export const CancelledBy = {
  /** Its buyer. */
  Buyer: 'buyer',
  /** Its expiry: it was not paid in time (or its event started first). */
  Expiry: 'expiry',
  /** The tickets service's refusal to hold its ticket (a `RejectionReason` says why). */
  Rejected: 'rejected',
} as const;
export type CancelledBy = (typeof CancelledBy)[keyof typeof CancelledBy];
export const CANCELLED_BY = [CancelledBy.Buyer, CancelledBy.Expiry, CancelledBy.Rejected] as const;

/** Why the tickets service refused to hold a ticket for an order. */
export const RejectionReason = {
  /**
   * The ticket's price, title or owner is no longer the one the order was priced from (the seller
   * edited it before the order reached the tickets service).
   */
  Changed: 'changed',
  /** The ticket is no longer for sale (its owner withdrew it). */
  Withdrawn: 'withdrawn',
  /** The ticket's event has started, and its listing with it. */
  Started: 'started',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];
export const REJECTION_REASONS = [
  RejectionReason.Changed,
  RejectionReason.Withdrawn,
  RejectionReason.Started,
] as const;

/**
 * An attempt to pay, as the payments service records it. Only a `succeeded` payment is ever
 * answered to a client; the others are the service's own bookkeeping (and the consistency
 * checker's).
 */
export const PaymentStatus = {
  /** From before the provider is called until its outcome is recorded. */
  Pending: 'pending',
  /** Charged: it completes its order. */
  Succeeded: 'succeeded',
  /** The provider refused the charge. */
  Failed: 'failed',
  /** Charged, then given back: its order was cancelled. */
  Refunded: 'refunded',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];
export const PAYMENT_STATUSES = [
  PaymentStatus.Pending,
  PaymentStatus.Succeeded,
  PaymentStatus.Failed,
  PaymentStatus.Refunded,
] as const;
/** The statuses of an attempt that counts: at most one per order is in progress or successful. */
export const LIVE_PAYMENT_STATUSES = [PaymentStatus.Pending, PaymentStatus.Succeeded] as const;

const Id = Type.String({ format: 'uuid' });
const Version = Type.Integer({ minimum: 0 });
const Cents = Type.Integer({ minimum: 1 });
const Timestamp = Type.String({ format: 'date-time' });
export const OrderStatusSchema = Type.Enum(ORDER_STATUSES);
export const RejectionReasonSchema = Type.Enum(REJECTION_REASONS);

/** A ticket as the tickets service announces each version of it. */
const TicketFields = {
  id: Id,
  version: Version,
  title: Type.String({ minLength: 1 }),
  /** The asking price. */
  price: Cents,
  /** The price printed on the ticket: what a resale is capped by. */
  faceValue: Cents,
  /** The owner: the seller who listed it, then each buyer in turn. */
  userId: Id,
  /** For sale. A ticket can be ordered only while listed and held by no order. */
  listed: Type.Boolean(),
  /** How many times it changed hands: 0 until first sold. An order is placed for one such owner. */
  timesSold: Type.Integer({ minimum: 0 }),
  /** Where the event takes place, when the seller said. */
  venue: Type.Optional(Type.String({ minLength: 1 })),
  city: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * When the event starts, when the seller said: the listing ends then, and no order is placed or
   * kept past it.
   */
  startsAt: Type.Optional(Timestamp),
};

export const TicketCreated = Type.Object(TicketFields);

export const TicketUpdated = Type.Object({
  ...TicketFields,
  /** The order holding the ticket; absent when the ticket is free. */
  orderId: Type.Optional(Id),
});

/**
 * A new order, and what it was priced from: the ticket as the orders service's replica had it
 * (`version`, `price`, `title`, and its owner, `sellerId`). The tickets service holds the ticket
 * for the order only while it is listed and its price, title and owner are still those.
 */
export const OrderCreated = Type.Object({
  id: Id,
  version: Version,
  status: OrderStatusSchema,
  /** The buyer. */
  userId: Id,
  expiresAt: Timestamp,
  ticket: Type.Object({
    id: Id,
    price: Cents,
    version: Version,
    title: Type.String({ minLength: 1 }),
    sellerId: Id,
  }),
});

/** The tickets service refused to hold a ticket for an order (its ticket is unchanged). */
export const TicketReservationRejected = Type.Object({
  /** The ticket. */
  id: Id,
  orderId: Id,
  reason: RejectionReasonSchema,
});

/**
 * The tickets service holds the order's ticket at the order's price: the order is
 * `awaiting:payment` at this version, and can be paid.
 */
export const OrderConfirmed = Type.Object({
  id: Id,
  version: Version,
  ticket: Type.Object({ id: Id }),
});

export const OrderCancelled = Type.Object({
  id: Id,
  version: Version,
  ticket: Type.Object({ id: Id }),
});

/**
 * An order was paid: replicas of orders move it to `complete` at this version, and the tickets
 * service hands the ticket to its buyer (`userId`).
 */
export const OrderCompleted = Type.Object({
  id: Id,
  version: Version,
  userId: Id,
  ticket: Type.Object({ id: Id }),
});

export const ExpirationComplete = Type.Object({ orderId: Id });

/**
 * A ticket's event starts (`startsAt`, the start the timer was set for): the tickets service ends
 * its listing, unless its start has moved since.
 */
export const ExpirationEventStarted = Type.Object({ ticketId: Id, startsAt: Timestamp });

export const PaymentCreated = Type.Object({
  id: Id,
  orderId: Id,
  providerChargeId: Type.String({ minLength: 1 }),
});

/**
 * Sessions the auth service ended before their time: every service refuses their tokens from now
 * on. With `sessionId`, that one session (a sign-out); without, every session of `userId` that
 * began before `revokedAt` (a sign-out everywhere). `expiresAt` is when every token it names is
 * past its absolute lifetime anyway: after it, the revocation may be forgotten.
 */
export const SessionRevoked = Type.Object({
  userId: Id,
  sessionId: Type.Optional(Id),
  revokedAt: Timestamp,
  expiresAt: Timestamp,
});

/** Every event of the system, by its name (a past-tense fact). */
export const EventSchemas = {
  'ticket:created': TicketCreated,
  'ticket:updated': TicketUpdated,
  'ticket:reservation-rejected': TicketReservationRejected,
  'order:created': OrderCreated,
  'order:confirmed': OrderConfirmed,
  'order:cancelled': OrderCancelled,
  'order:completed': OrderCompleted,
  'expiration:complete': ExpirationComplete,
  'expiration:event-started': ExpirationEventStarted,
  'payment:created': PaymentCreated,
  'session:revoked': SessionRevoked,
} as const satisfies Record<string, TSchema>;

export type EventType = keyof typeof EventSchemas;
export type EventData<T extends EventType> = Static<(typeof EventSchemas)[T]>;
export const EVENT_TYPES = Object.keys(EventSchemas) as EventType[];

/** What travels on the bus: the payload plus the facts every consumer needs about it. */
export interface EventEnvelope<T extends EventType = EventType> {
  /** Unique per event; the broker's de-duplication key and the consumers' inbox key. */
  id: string;
  type: T;
  occurredAt: string;
  data: EventData<T>;
  /**
   * W3C trace context (`00-<trace id>-<span id>-<flags>`) of the span that published the event, so
   * the consumers' handling continues its trace. Optional: absent when tracing was off, and an
   * envelope without it is as valid as before.
   */
  traceparent?: string;
}

const EnvelopeShape = Type.Object({
  id: Id,
  type: Type.String(),
  occurredAt: Timestamp,
  data: Type.Unknown(),
  // Not checked further: a malformed one is ignored (the handling starts a new trace), never fatal.
  traceparent: Type.Optional(Type.String()),
});
const envelopeValidator = Compile(EnvelopeShape);
const dataValidators = new Map(
  EVENT_TYPES.map((type) => [type, Compile(EventSchemas[type] as TSchema)] as const),
);

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EventSchemas, value);
}

export type ParseResult<T extends EventType> =
  { ok: true; event: EventEnvelope<T> } | { ok: false; reason: string };

/**
 * Validates an untrusted message body as an envelope of the expected type. A body that fails is a
 * poison message: the caller dead-letters it with `reason` instead of retrying it.
 */
export function parseEvent<T extends EventType>(body: unknown, expected: T): ParseResult<T> {
  if (!envelopeValidator.Check(body)) {
    return { ok: false, reason: `invalid envelope: ${describeErrors(envelopeValidator.Errors(body))}` };
  }
  if (body.type !== expected) {
    return { ok: false, reason: `expected an event of type ${expected}, got ${body.type}` };
  }
  const validator = dataValidators.get(expected)!;
  if (!validator.Check(body.data)) {
    return {
      ok: false,
      reason: `invalid ${expected} payload: ${describeErrors(validator.Errors(body.data))}`,
    };
  }
  return { ok: true, event: body as EventEnvelope<T> };
}

function describeErrors(errors: { instancePath: string; message: string }[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}

/**
 * Builds an envelope with a fresh id; validation happens at the consumer, the trust boundary.
 * While tracing is on, it carries the `traceparent` of the span it is made in (so an event that
 * `publishEvent` writes to the outbox continues the trace of the request or handler writing it).
 */
export function makeEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  now = new Date(),
): EventEnvelope<T> {
  const event: EventEnvelope<T> = { id: crypto.randomUUID(), type, occurredAt: now.toISOString(), data };
  const traceparent = currentTraceparent(); // undefined while tracing is off
  if (traceparent !== undefined) event.traceparent = traceparent;
  return event;
}
