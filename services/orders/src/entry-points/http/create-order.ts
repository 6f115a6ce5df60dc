import { Type } from 'typebox';
import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { createOrder, type OrdersSettings } from '../../domain/orders.ts';
import { OrderJson, orderJson } from './order-json.ts';

const Body = Type.Object({ ticketId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export async function createOrderRoute(
  app: HttpApp,
  { database }: ServiceContext,
  settings: OrdersSettings,
): Promise<void> {
  app.post(
    '/api/orders',
    {
      schema: {
        summary: 'Reserve a ticket: creates an order that expires unless paid',
        tags: ['orders'],
        security: [{ session: [] }],
        body: Body,
        response: { 201: OrderJson },
      },
    },
    async (request, reply) => {
      const buyer = requireUser(request);
      const order = await createOrder(database, buyer, request.body.ticketId, settings);
      return reply.status(201).send(orderJson(order));
    },
  );
}
