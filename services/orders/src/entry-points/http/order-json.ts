/** The order as clients see it: with its ticket, at the price the order was placed at (currency units). */
import { Type, type Static } from 'typebox';
import { CANCELLED_BY, fromCents, OrderStatusSchema } from '@ticketing/common';
import type { OrderWithTicket } from '../../data-access/orders-repository.ts';

export const OrderJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: OrderStatusSchema,
  userId: Type.String({ format: 'uuid' }),
  expiresAt: Type.String({ format: 'date-time' }),
  cancelledBy: Type.Optional(
    Type.Enum(CANCELLED_BY, {
      description:
        'For a cancelled order: its buyer cancelled it, it expired unpaid, or the tickets service rejected it (the ticket changed before the reservation reached it)',
    }),
  ),
  cancelReason: Type.Optional(Type.String({ description: 'For a rejected order: why, for its buyer' })),
  version: Type.Integer(),
  ticket: Type.Object({
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    price: Type.Number(),
  }),
});

export const OrderParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function orderJson(order: OrderWithTicket): Static<typeof OrderJson> {
  return {
    id: order.id,
    status: order.status,
    userId: order.userId,
    expiresAt: order.expiresAt.toISOString(),
    ...(order.cancelledBy ? { cancelledBy: order.cancelledBy } : {}), // set only when cancelled
    ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}), // only when rejected
    version: order.version,
    ticket: { id: order.ticket.id, title: order.ticket.title, price: fromCents(order.priceCents) },
  };
}
