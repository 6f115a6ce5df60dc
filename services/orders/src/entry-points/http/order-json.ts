/** The order as clients see it: with its ticket, at the price the order was placed at (currency units). */
import { Type, type Static } from 'typebox';
import { OrderStatusSchema } from '@ticketing/common';
import type { OrderWithTicket } from '../../data-access/orders-repository.ts';

export const OrderJson = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: OrderStatusSchema,
  userId: Type.String({ format: 'uuid' }),
  expiresAt: Type.String({ format: 'date-time' }),
  cancelledBy: Type.Optional(
    Type.Union([Type.Literal('buyer'), Type.Literal('expiry')], {
      description: 'For a cancelled order: its buyer cancelled it, or it expired unpaid',
    }),
  ),
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
    version: order.version,
    ticket: { id: order.ticket.id, title: order.ticket.title, price: order.priceCents / 100 },
  };
}
