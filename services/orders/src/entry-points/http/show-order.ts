import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { getOwnOrder } from '../../domain/orders.ts';
import { OrderJson, OrderParams, orderJson } from './order-json.ts';

export async function showOrderRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.get(
    '/api/orders/:id',
    {
      schema: {
        operationId: 'getOrder',
        summary: 'One of your orders',
        tags: ['orders'],
        security: SESSION_REQUIRED,
        params: OrderParams,
        response: {
          200: success(OrderJson, 'The order, with its ticket'),
          ...errorResponses({
            400: 'The id is not a UUID',
            401: 'Not signed in, or not the buyer of the order',
            404: 'No order has this id',
          }),
        },
      },
    },
    async (request) => orderJson(await getOwnOrder(database.db, requireUser(request), request.params.id)),
  );
}
