/** The ticket as clients see it: price in currency units (35.5), never cents. */
import { Type, type Static } from 'typebox';
import { fromCents } from '@ticketing/common';
import type { Ticket } from '../../data-access/tickets-repository.ts';

export const TicketJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    price: Type.Number(),
    userId: Type.String({ format: 'uuid' }),
    version: Type.Integer(),
    orderId: Type.Optional(Type.String({ format: 'uuid' })),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Ticket' },
);

export const TicketBody = Type.Object(
  {
    title: Type.String({ maxLength: 1000, description: 'Trimmed; 1 to 200 characters.' }),
    price: Type.Number({
      description: 'In currency units: greater than 0, at most 1,000,000, with at most 2 decimals.',
    }),
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
