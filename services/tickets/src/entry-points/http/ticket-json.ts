/** The ticket as clients see it: money in currency units (35.5), never cents. */
import { Type, type Static } from 'typebox';
import { fromCents } from '@ticketing/common';
import type { Ticket } from '../../data-access/tickets-repository.ts';
import {
  MAX_CITY_LENGTH,
  MAX_PRICE,
  MAX_TITLE_LENGTH,
  MAX_VENUE_LENGTH,
  maxPriceCents,
  PRICE_TEXT,
  type ListingRules,
} from '../../domain/tickets.ts';

/** A price as the API gives it: the rules of `parseTicketInput`, in the schema. */
export const Price = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE, multipleOf: 0.01, description });

/**
 * A price as the API takes it: a number, or the exact decimal text (`"20.00"`), as the original
 * course app's client sends it. The same rules either way; the text's are checked with the others
 * (`parseTicketInput`), so that a malformed one is told in words, not as a pattern.
 */
export const PriceInput = (description: string) =>
  Type.Union([
    Price(description),
    Type.String({
      maxLength: 20,
      description: `${description} As text: digits, then at most 2 decimals (\`${PRICE_TEXT.source}\`).`,
    }),
  ]);

const Venue = Type.String({ minLength: 1, maxLength: MAX_VENUE_LENGTH, description: 'Where the event is.' });
const City = Type.String({ minLength: 1, maxLength: MAX_CITY_LENGTH, description: 'The city it is in.' });
const StartsAt = (description: string) => Type.String({ format: 'date-time', description });

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
    venue: Type.Optional(Venue),
    city: Type.Optional(City),
    startsAt: Type.Optional(
      StartsAt('When the event starts; its listing ends then. Absent when the seller did not say.'),
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
    price: PriceInput('In currency units, with at most 2 decimals; at most `maxPrice`.'),
    faceValue: Type.Optional(
      PriceInput(
        'The price printed on the ticket, in currency units; the price when omitted. Fixed once the ticket has been sold: then omit it, or send the face value it has.',
      ),
    ),
    venue: Type.Optional(Venue),
    city: Type.Optional(City),
    startsAt: Type.Optional(
      StartsAt(
        'When the event starts, in the future. On an edit, each of `venue`, `city` and `startsAt` left out stays as it is; all three are fixed once the ticket has been sold.',
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
    ...(ticket.venue === null ? {} : { venue: ticket.venue }),
    ...(ticket.city === null ? {} : { city: ticket.city }),
    ...(ticket.startsAt === null ? {} : { startsAt: new Date(ticket.startsAt).toISOString() }),
    createdAt: new Date(ticket.createdAt).toISOString(),
  };
}
