/** The ticket as clients see it: money in currency units (35.5), never cents. */
import { Type, type Static } from 'typebox';
import { fromCents } from '@ticketing/common';
import type { Ticket } from '../../data-access/tickets-repository.ts';
import { MAX_PRICE, MAX_TITLE_LENGTH, maxPriceCents, type ListingRules } from '../../domain/tickets.ts';

/** A price as the API takes and gives it: the rules of `parseTicketInput`, in the schema. */
export const Price = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE, multipleOf: 0.01, description });

/** A named schema (`Ticket` in the OpenAPI document): routes refer to it with `ref(TicketJson)`. */
export const TicketJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1, maxLength: MAX_TITLE_LENGTH }),
    price: Price('The asking price, in currency units.'),
    faceValue: Price('The price printed on the ticket, in currency units; fixed once it has been sold.'),
    maxPrice: Type.Number({
      exclusiveMinimum: 0,
      multipleOf: 0.01,
      description:
        'The highest price it may be listed at: its face value plus the markup the marketplace allows.',
    }),
    userId: Type.String({
      format: 'uuid',
      description: 'The owner: the seller who listed it, then each buyer.',
    }),
    listed: Type.Boolean({ description: 'For sale. Only its owner sees a ticket that is not listed.' }),
    timesSold: Type.Integer({ minimum: 0, description: 'How many times it changed hands.' }),
    version: Type.Integer({ minimum: 0, description: 'Bumped by every change, reservations included.' }),
    orderId: Type.Optional(
      Type.String({ format: 'uuid', description: 'The order holding the ticket; absent when none does.' }),
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
      description: 'Stored trimmed; one of whitespace only is refused. Fixed once the ticket has been sold.',
    }),
    price: Price('In currency units, with at most 2 decimals; at most `maxPrice`.'),
    faceValue: Type.Optional(
      Price(
        'The price printed on the ticket, in currency units; the price when omitted. Fixed once the ticket has been sold: then omit it, or send the face value it has.',
      ),
    ),
  },
  { additionalProperties: false },
);

export const TicketParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function ticketJson(ticket: Ticket, rules: ListingRules): Static<typeof TicketJson> {
  return {
    id: ticket.id,
    title: ticket.title,
    price: fromCents(ticket.priceCents),
    faceValue: fromCents(ticket.faceValueCents),
    maxPrice: fromCents(maxPriceCents(ticket.faceValueCents, rules)),
    userId: ticket.userId,
    listed: ticket.listed,
    timesSold: ticket.timesSold,
    version: ticket.version,
    ...(ticket.orderId ? { orderId: ticket.orderId } : {}),
    createdAt: new Date(ticket.createdAt).toISOString(),
  };
}
