/** The order as clients see it: with its ticket, at the price the order was placed at (currency units). */
import { Type, type Static } from 'typebox';
import { CANCELLED_BY, fromCents, OrderStatusSchema } from '@ticketing/common';
import type { OrderWithTicket } from '../../data-access/orders-repository.ts';

/** A named schema (`Order` in the OpenAPI document): routes refer to it with `ref(OrderJson)`. */
export const OrderJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: OrderStatusSchema,
    userId: Type.String({ format: 'uuid', description: 'The buyer.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was placed.' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When it is cancelled unless paid.' }),
    completedAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'For a complete order: when its payment completed it.',
      }),
    ),
    cancelledBy: Type.Optional(
      Type.Enum(CANCELLED_BY, {
        description:
          'For a cancelled order: its buyer cancelled it, it expired unpaid, or the tickets service rejected it (the ticket changed before the reservation reached it)',
      }),
    ),
    cancelReason: Type.Optional(
      Type.String({ minLength: 1, description: 'For a rejected order: why, in words for its buyer.' }),
    ),
    version: Type.Integer({ minimum: 0 }),
    ticket: Type.Object({
      id: Type.String({ format: 'uuid' }),
      title: Type.String({ minLength: 1 }),
      price: Type.Number({
        exclusiveMinimum: 0,
        multipleOf: 0.01,
        description: 'What the order costs: the price when it was placed, in currency units.',
      }),
    }),
  },
  { $id: 'Order' },
);

export const OrderParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function orderJson(order: OrderWithTicket): Static<typeof OrderJson> {
  return {
    id: order.id,
    status: order.status,
    userId: order.userId,
    createdAt: order.createdAt.toISOString(),
    expiresAt: order.expiresAt.toISOString(),
    ...(order.completedAt ? { completedAt: order.completedAt.toISOString() } : {}), // only when complete
    ...(order.cancelledBy ? { cancelledBy: order.cancelledBy } : {}), // set only when cancelled
    ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}), // only when rejected
    version: order.version,
    ticket: { id: order.ticket.id, title: order.ticket.title, price: fromCents(order.priceCents) },
  };
}
