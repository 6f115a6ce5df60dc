/** The ticket as clients see it: price in currency units (35.5), never cents. */
import { Type, type Static } from 'typebox';
import { fromCents } from '@ticketing/common';
import type { Ticket } from '../../data-access/tickets-repository.ts';
import { MAX_PRICE, MAX_TITLE_LENGTH } from '../../domain/tickets.ts';

/** A price as the API takes and gives it: the rules of `parseTicketInput`, in the schema. */
const Price = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE, multipleOf: 0.01, description });

/** A named schema (`Ticket` in the OpenAPI document): routes refer to it with `ref(TicketJson)`. */
export const TicketJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1, maxLength: MAX_TITLE_LENGTH }),
    price: Price('In currency units.'),
    userId: Type.String({ format: 'uuid', description: 'The seller.' }),
    version: Type.Integer({ minimum: 0, description: 'Bumped by every change, reservations included.' }),
    orderId: Type.Optional(
      Type.String({ format: 'uuid', description: 'The order holding the ticket; absent when available.' }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Ticket' },
);

export const TicketBody = Type.Object(
  {
    // Characters are code points (an emoji is one), as JSON Schema counts them.
    title: Type.String({
      minLength: 1,
      maxLength: MAX_TITLE_LENGTH,
      description: 'Stored trimmed; one of whitespace only is refused.',
    }),
    price: Price('In currency units, with at most 2 decimals.'),
  },
  { additionalProperties: false },
);

export const TicketParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function ticketJson(ticket: Ticket): Static<typeof TicketJson> {
  return {
    id: ticket.id,
    title: ticket.title,
    price: fromCents(ticket.priceCents),
    userId: ticket.userId,
    version: ticket.version,
    ...(ticket.orderId ? { orderId: ticket.orderId } : {}),
    createdAt: new Date(ticket.createdAt).toISOString(),
  };
}
