import { Type } from 'typebox';
import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { cancelOrder } from '../../domain/orders.ts';
import { OrderParams } from './order-json.ts';

export async function cancelOrderRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.delete(
    '/api/orders/:id',
    {
      schema: {
        operationId: 'cancelOrder',
        summary: 'Cancel one of your orders (releases its ticket)',
        tags: ['orders'],
        security: SESSION_REQUIRED,
        params: OrderParams,
        response: {
          204: success(
            Type.Null(),
            'Cancelled, now or before; `order:cancelled` is published the first time',
          ),
          ...errorResponses({
            400: '"Cannot cancel a completed order", or an id that is not a UUID',
            401: 'Not signed in, or not the buyer of the order',
            404: 'No order has this id',
          }),
        },
      },
    },
    async (request, reply) => {
      await cancelOrder(database.db, requireUser(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
