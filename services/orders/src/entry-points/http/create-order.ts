import { Type } from 'typebox';
import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
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
        operationId: 'createOrder',
        summary: 'Reserve a ticket: creates an order that expires unless paid',
        tags: ['orders'],
        security: SESSION_REQUIRED,
        body: Body,
        response: {
          201: success(
            OrderJson,
            'The order, holding the ticket until `expiresAt`; `order:created` is published',
          ),
          ...errorResponses({
            400: '"Ticket is already reserved", "You cannot order your own ticket", or an invalid ticketId',
            401: 'Not signed in',
            404: 'No ticket has this id (a ticket listed a moment ago may not have reached orders yet)',
          }),
        },
      },
    },
    async (request, reply) => {
      const buyer = requireUser(request);
      const order = await createOrder(database, buyer, request.body.ticketId, settings);
      return reply.status(201).send(orderJson(order));
    },
  );
}
