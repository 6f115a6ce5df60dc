/**
 * The event contract of the marketplace: every event's name, its payload schema and its type,
 * from one TypeBox schema each, so that what is validated on the way in is exactly what the
 * compiler checks on the way out. Documented in docs/events.md.
 *
 * Money travels as integer cents (`price`), never as floating point.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { currentTraceparent } from '../observability/tracing.ts';

export const OrderStatus = {
  /** The order exists; the ticket is reserved for it until it expires or is paid. */
  Created: 'created',
  /** Cancelled by its buyer or expired before payment; the ticket is released. */
  Cancelled: 'cancelled',
  /** Reserved, waiting for the payment to settle (kept from the original course app's lifecycle). */
  AwaitingPayment: 'awaiting:payment',
  /** Paid: the ticket is sold for good. */
  Complete: 'complete',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

const Id = Type.String({ format: 'uuid' });
const Version = Type.Integer({ minimum: 0 });
const Cents = Type.Integer({ minimum: 1 });
const Timestamp = Type.String({ format: 'date-time' });
export const OrderStatusSchema = Type.Union([
  Type.Literal('created'),
  Type.Literal('cancelled'),
  Type.Literal('awaiting:payment'),
  Type.Literal('complete'),
]);

export const TicketCreated = Type.Object({
  id: Id,
  version: Version,
  title: Type.String({ minLength: 1 }),
  price: Cents,
  userId: Id,
});

export const TicketUpdated = Type.Object({
  id: Id,
  version: Version,
  title: Type.String({ minLength: 1 }),
  price: Cents,
  userId: Id,
  /** The order holding the ticket; absent when the ticket is free. */
  orderId: Type.Optional(Id),
});

export const OrderCreated = Type.Object({
  id: Id,
  version: Version,
  status: OrderStatusSchema,
  userId: Id,
  expiresAt: Timestamp,
  ticket: Type.Object({ id: Id, price: Cents }),
});

export const OrderCancelled = Type.Object({
  id: Id,
  version: Version,
  ticket: Type.Object({ id: Id }),
});

/** An order was paid: replicas of orders move it to `complete` at this version. */
export const OrderCompleted = Type.Object({
  id: Id,
  version: Version,
  ticket: Type.Object({ id: Id }),
});

export const ExpirationComplete = Type.Object({ orderId: Id });

export const PaymentCreated = Type.Object({
  id: Id,
  orderId: Id,
  providerChargeId: Type.String({ minLength: 1 }),
});

/** Every event of the system, by its name (a past-tense fact). */
export const EventSchemas = {
  'ticket:created': TicketCreated,
  'ticket:updated': TicketUpdated,
  'order:created': OrderCreated,
  'order:cancelled': OrderCancelled,
  'order:completed': OrderCompleted,
  'expiration:complete': ExpirationComplete,
  'payment:created': PaymentCreated,
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
