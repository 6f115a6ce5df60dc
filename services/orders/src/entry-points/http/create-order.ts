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
        operationId: 'createOrder',
        summary:
          'Reserve a ticket: creates an order (status created) that the tickets service confirms (awaiting:payment) or rejects, and that expires unless paid',
        tags: ['orders'],
        security: SESSION_REQUIRED,
        body: Body,
        response: {
          201: success(
            OrderJson,
            'The order (`created`), priced from the replica of the ticket; `order:created` is published, and the tickets service confirms it (`awaiting:payment`) or rejects it within milliseconds',
          ),
          ...errorResponses({
            400: '"Ticket is already reserved", "You cannot order your own ticket", "This event has already started", an invalid ticketId, or (field price) a price that is not the ticket\'s: "The price of this ticket changed from 10.00 to 55.00; check it and order again"',
            401: 'Not signed in',
            404: 'No ticket has this id (a ticket listed a moment ago may not have reached orders yet)',
          }),
        },
      },
    },
    async (request, reply) => {
      const buyer = requireUser(request);
      const order = await createOrder(database, buyer, request.body, settings);
      return reply.status(201).send(orderJson(order));
    },
  );
}
