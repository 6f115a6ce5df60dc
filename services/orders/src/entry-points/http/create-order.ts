import { Type } from 'typebox';
import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { createOrder, type OrdersSettings } from '../../domain/orders.ts';
import { OrderJson, orderJson } from './order-json.ts';

const Body = Type.Object(
  {
    ticketId: Type.String({ format: 'uuid' }),
    price: Type.Optional(
      Type.Number({
        description:
          'The price the buyer saw (currency units). When given, an order is placed only at this price: another is refused with 400 (field price).',
      }),
    ),
  },
  { additionalProperties: false },
);

export async function createOrderRoute(
  app: HttpApp,
  { database }: ServiceContext,
  settings: OrdersSettings,
): Promise<void> {
  app.post(
    '/api/orders',
    {
      schema: {
        summary:
          'Reserve a ticket: creates an order (status created) that the tickets service confirms (awaiting:payment) or rejects, and that expires unless paid',
        tags: ['orders'],
        security: [{ session: [] }],
        body: Body,
        response: { 201: OrderJson },
      },
    },
    async (request, reply) => {
      const buyer = requireUser(request);
      const order = await createOrder(database, buyer, request.body, settings);
      return reply.status(201).send(orderJson(order));
    },
  );
}
