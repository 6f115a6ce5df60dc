/** The order as clients see it: with its ticket, at the price the order was placed at (currency units). */
import { Type, type Static } from 'typebox';
import { OrderStatusSchema } from '@ticketing/common';
import type { OrderWithTicket } from '../../data-access/orders-repository.ts';

/** A named schema (`Order` in the OpenAPI document): routes refer to it with `ref(OrderJson)`. */
export const OrderJson = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: OrderStatusSchema,
    userId: Type.String({ format: 'uuid', description: 'The buyer.' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When it is cancelled unless paid.' }),
    cancelledBy: Type.Optional(
      Type.Union([Type.Literal('buyer'), Type.Literal('expiry')], {
        description: 'For a cancelled order: its buyer cancelled it, or it expired unpaid',
      }),
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
    expiresAt: order.expiresAt.toISOString(),
    ...(order.cancelledBy ? { cancelledBy: order.cancelledBy } : {}), // set only when cancelled
    version: order.version,
    ticket: { id: order.ticket.id, title: order.ticket.title, price: order.priceCents / 100 },
  };
}
